"""When waiting for the stack counts as settled: the decision alone, over scripted statuses."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tasks.engine import stack
from tasks.engine.stack import ServiceStatus, wait_healthy


def _script(monkeypatch: pytest.MonkeyPatch, polls: list[dict[str, ServiceStatus]]) -> None:
    sequence: Iterator[dict[str, ServiceStatus]] = iter(polls)
    last: list[dict[str, ServiceStatus]] = []

    def statuses(client: object, network: str) -> dict[str, ServiceStatus]:
        last[:] = [next(sequence, last[0] if last else {})]
        return last[0]

    monkeypatch.setattr(stack, "statuses", statuses)
    monkeypatch.setattr(stack, "POLL_SECONDS", 0.0)


def _wait(starting: list[bool]) -> dict[str, ServiceStatus]:
    def still_starting() -> bool:
        return starting.pop(0) if starting else False

    return wait_healthy(
        None,  # type: ignore[arg-type]
        ["db"],
        "net",
        timeout=5,
        on_tick=lambda rows: None,
        started=time.monotonic(),
        starting=still_starting,
    )


def test_a_container_stopped_before_up_is_not_a_failure_while_compose_starts_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stale = {"db": ServiceStatus("db", "exited", "unhealthy")}
    fresh = {"db": ServiceStatus("db", "running", "healthy")}
    _script(monkeypatch, [stale, stale, fresh])
    assert _wait([True, True, False])["db"].ready


def test_a_failure_after_compose_has_started_everything_settles_the_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _script(monkeypatch, [{"db": ServiceStatus("db", "exited", "unhealthy")}])
    assert _wait([])["db"].failed
