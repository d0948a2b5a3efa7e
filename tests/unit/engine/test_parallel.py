"""Doing one thing for many items at once: results keep the items' order, errors surface."""

from __future__ import annotations

import threading

import pytest

from tasks.engine.parallel import WORKERS, each


def test_results_keep_the_order_of_the_items() -> None:
    release = threading.Barrier(3)

    def slow_first(n: int) -> int:
        release.wait(timeout=10)  # all three run at once, or this times out
        return n * 10

    assert each(slow_first, [3, 1, 2]) == [30, 10, 20]
    assert each(str, []) == [] and each(str, [7]) == ["7"]


def test_the_first_error_is_raised() -> None:
    def fails_on_two(n: int) -> int:
        if n == 2:
            raise ValueError("two")
        return n

    with pytest.raises(ValueError, match="two"):
        each(fails_on_two, [1, 2, 3])


def test_at_most_so_many_run_at_once() -> None:
    running, most = 0, 0
    lock = threading.Lock()
    step = threading.Event()

    def work(_: int) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        step.wait(0.05)
        with lock:
            running -= 1

    each(work, range(WORKERS * 2))
    assert 1 < most <= WORKERS == 8
