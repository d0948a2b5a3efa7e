"""When waiting for the stack counts as settled: the decision alone, over scripted statuses."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from tasks.engine import stack
from tasks.engine.stack import wait_healthy
from tasks.engine.status import ServiceStatus, per_service
from tasks.errors import EngineError


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


def test_the_wait_ends_when_compose_returns_not_at_the_next_poll(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Compose decides (`up --wait`); the last poll follows its return at once."""
    done: list[bool] = []

    def up(client: object, services: list[str], timeout: float) -> None:
        time.sleep(0.2)
        done.append(True)

    def statuses(client: object, network: str) -> dict[str, ServiceStatus]:
        health = "healthy" if done else "starting"
        return {"db": ServiceStatus("db", "running", health)}

    monkeypatch.setattr(stack, "up", up)
    monkeypatch.setattr(stack, "statuses", statuses)
    monkeypatch.setattr(stack, "POLL_SECONDS", 60.0)
    began = time.monotonic()
    result, error = stack.up_and_wait(None, ["db"], "net", 120, lambda rows: None)  # type: ignore[arg-type]
    assert result["db"].ready and error == ""
    assert time.monotonic() - began < 30, "waited for a poll interval after compose returned"


def test_a_failed_up_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def up(client: object, services: list[str], timeout: float) -> None:
        raise EngineError("docker compose up failed: container db is unhealthy", "fix")

    monkeypatch.setattr(stack, "up", up)
    monkeypatch.setattr(
        stack, "statuses", lambda c, n: {"db": ServiceStatus("db", "running", "unhealthy")}
    )
    monkeypatch.setattr(stack, "POLL_SECONDS", 0.0)
    result, error = stack.up_and_wait(None, ["db"], "net", 120, lambda rows: None)  # type: ignore[arg-type]
    assert result["db"].failed and "container db is unhealthy" in error


def test_compose_that_never_returns_is_reported_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def up(client: object, services: list[str], timeout: float) -> None:
        time.sleep(3)

    monkeypatch.setattr(stack, "up", up)
    monkeypatch.setattr(
        stack, "statuses", lambda c, n: {"db": ServiceStatus("db", "running", "starting")}
    )
    monkeypatch.setattr(stack, "POLL_SECONDS", 0.05)
    monkeypatch.setattr(stack, "GRACE_SECONDS", 0.2)
    result, error = stack.up_and_wait(None, ["db"], "net", 0.3, lambda rows: None)  # type: ignore[arg-type]
    assert not result["db"].ready
    assert error == "docker compose up --wait had not returned after 0 s"


def test_the_newest_container_stands_for_its_service() -> None:
    recreated = ServiceStatus("db", "created", container="new")
    renamed = ServiceStatus("db", "running", "healthy", container="old")
    other = ServiceStatus("web", "running", container="web")
    found = per_service([recreated, other, renamed])
    assert found["db"].container == "new" and found["web"].container == "web"


def test_without_a_start_the_wait_counts_from_its_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """verify's waits: no progress to show, seconds and timeout from the call itself."""
    _script(monkeypatch, [{"db": ServiceStatus("db", "running", "healthy")}])
    ticks = iter([100.0, 100.5])
    monkeypatch.setattr(stack, "time", SimpleNamespace(monotonic=lambda: next(ticks)))
    found = wait_healthy(None, ["db"], "net", 5)  # type: ignore[arg-type]
    assert found["db"].seconds_to_healthy == 0.5
