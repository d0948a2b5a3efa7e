"""Doing one thing for many items at once: results keep the items' order, errors surface."""

from __future__ import annotations

import threading

import pytest

from tasks.engine.parallel import WORKERS, Once, each


def test_results_keep_the_order_of_the_items() -> None:
    release = threading.Barrier(3)

    def slow_first(n: int) -> int:
        release.wait(timeout=10)  # all three run at once, or this times out
        return n * 10

    assert each(slow_first, [3, 1, 2]) == [30, 10, 20]
    assert each(str, []) == [] and each(str, [7]) == ["7"]


@pytest.mark.parametrize("count", [2, WORKERS])
def test_two_items_and_as_many_as_there_are_workers_all_run_at_once(count: int) -> None:
    together = threading.Barrier(count)
    assert each(lambda n: together.wait(timeout=10) >= 0 and n, range(count)) == list(range(count))


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


def test_once_computes_each_key_once_while_others_wait() -> None:
    once: Once[str, int] = Once()
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow() -> int:
        calls.append("slow")
        started.set()
        release.wait(10)
        return 7

    first = threading.Thread(target=lambda: once.get("a", slow))
    first.start()
    assert started.wait(10)
    second: list[int] = []
    waiting = threading.Thread(target=lambda: second.append(once.get("a", lambda: 8)))
    waiting.start()
    waiting.join(0.2)
    assert waiting.is_alive() and second == []  # waits for the first, computes nothing
    release.set()
    first.join(10)
    waiting.join(10)
    assert second == [7] and calls == ["slow"]
    assert once.get("b", lambda: 9) == 9 and once.get("b", lambda: 10) == 9


def test_once_hands_the_first_error_to_every_caller() -> None:
    once: Once[str, int] = Once()

    def fails() -> int:
        raise ValueError("no answer")

    for compute in (fails, lambda: 1):
        with pytest.raises(ValueError, match="no answer"):
            once.get("k", compute)
