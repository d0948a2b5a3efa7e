"""Which verdict a check gets for a service that is not running: the decision alone."""

from __future__ import annotations

from tasks.engine.verify import FAIL, SKIP, Verifier


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
