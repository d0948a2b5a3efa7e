"""Which verdict a check gets for a service that is not running: the decision alone."""

from __future__ import annotations

import pytest

from tasks.engine import verify
from tasks.engine.status import ServiceStatus
from tasks.engine.verify import FAIL, PASS, SKIP, Check, Verifier


def _verifier(not_exercised: dict[str, str]) -> Verifier:
    verifier = Verifier.__new__(Verifier)
    verifier.not_exercised = not_exercised
    verifier.running = {}
    return verifier


def test_a_service_the_profile_runs_fails_when_it_is_down() -> None:
    check = _verifier({}).absent("health", "postgres-db", "postgres-db")
    assert check.status == FAIL and "postgres-db is not running" in check.detail


def test_a_service_the_profile_leaves_out_is_not_exercised_with_why() -> None:
    reason = "behind compose profile grafana (not enabled)"
    check = _verifier({"grafana": reason}).absent("monitoring", "nginx /grafana", "grafana")
    assert check.status == SKIP and check.detail == reason


def test_a_service_that_fell_over_during_verification_fails_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verifier = _verifier({})
    verifier.running = {n: ServiceStatus(n, "running", "healthy") for n in ("db", "mcp", "web")}
    verifier.client, verifier.network = None, "net"  # type: ignore[assignment]
    after = {
        "db": ServiceStatus("db", "exited", "unhealthy"),
        "mcp": ServiceStatus("mcp", "running", "unhealthy"),
        "web": ServiceStatus("web", "running", "none"),
    }
    monkeypatch.setattr(verify, "statuses", lambda client, network: after)
    check = verifier.stayed_up()
    assert check.status == FAIL and check.detail == "db is exited; mcp is unhealthy"
    monkeypatch.setattr(verify, "statuses", lambda client, network: verifier.running)
    assert verifier.stayed_up() == Check("stack", "every service stayed up", PASS, "3 services")


def test_a_command_for_a_service_with_no_container_is_refused_before_docker() -> None:
    verifier = _verifier({})
    verifier.client = None  # type: ignore[assignment]
    verifier.running = {"web": ServiceStatus("web", "running", "none", container="")}
    assert verifier.exec("db", ["true"]) == (False, "db is not running")
    assert verifier.exec("web", ["true"]) == (False, "web is not running")
