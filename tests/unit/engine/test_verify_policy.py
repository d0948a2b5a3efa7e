"""Which verdict a check gets for a service that is not running, and when the engine's own
healthcheck answers for a probe: the decisions alone."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tasks.engine import verify
from tasks.engine.parallel import Once
from tasks.engine.status import ServiceStatus
from tasks.engine.verify import FAIL, PASS, SKIP, Check, Verifier
from tasks.model.compose import Healthcheck


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


def _probing(
    healthcheck: Healthcheck | None, passed_at: float | None, running: bool = True
) -> tuple[Verifier, list[str]]:
    """A verifier whose stack has one service, `app`, probed by `check-python`; `passed_at`:
    when the engine's latest healthcheck passed (read at 1000.0). Records each exec."""
    verifier = _verifier({})
    spec = SimpleNamespace(healthcheck=healthcheck, verify=SimpleNamespace(probe=("check-python",)))
    verifier.stack = SimpleNamespace(compose=SimpleNamespace(services={"app": spec}))  # type: ignore[assignment]
    status = ServiceStatus("app", "running", "healthy", container="c1", passed_check_at=passed_at)
    verifier.running = {"app": status} if running else {}
    verifier.read_at = 1000.0
    verifier.probed = Once()
    ran: list[str] = []

    def exec(service: str, command: list[str]) -> tuple[bool, str]:
        ran.append(" ".join([service, *command]))
        return False, "exit 1"

    verifier.exec = exec  # type: ignore[method-assign]
    return verifier, ran


SAME = Healthcheck(("check-python",), False, {})


@pytest.mark.parametrize(
    ("passed_at", "detail"),
    [
        (997.0, "passed in the engine's healthcheck 3.0s earlier"),
        (1000.0 - verify.FRESH_CHECK_SECONDS, "passed in the engine's healthcheck 10.0s earlier"),
        (1000.4, "passed in the engine's healthcheck 0.0s earlier"),  # the engine's clock ahead
    ],
)
def test_a_fresh_pass_of_the_same_command_by_the_engine_answers_the_probe(
    passed_at: float, detail: str
) -> None:
    verifier, ran = _probing(SAME, passed_at)
    assert verifier.probe("app") == (True, detail)
    assert ran == []
    assert verifier._health("app") == Check("health", "app", PASS, f"check-python: {detail}")


@pytest.mark.parametrize(
    ("healthcheck", "passed_at", "running"),
    [
        (SAME, 1000.0 - verify.FRESH_CHECK_SECONDS - 0.1, True),  # too old
        (SAME, None, True),  # the latest run failed
        (Healthcheck(("check-python", "-v"), False, {}), 999.0, True),
        (Healthcheck(("check-python",), False, {}, shell=True), 999.0, True),
        (Healthcheck(("check-python",), True, {}), 999.0, True),
        (None, 999.0, True),
        (SAME, 999.0, False),
    ],
)
def test_otherwise_the_probe_runs_in_the_container_once(
    healthcheck: Healthcheck | None, passed_at: float | None, running: bool
) -> None:
    verifier, ran = _probing(healthcheck, passed_at, running)
    assert verifier.probe("app") == (False, "exit 1")
    assert verifier.probe("app") == (False, "exit 1")
    assert ran == ["app check-python"]
    assert verify.FRESH_CHECK_SECONDS == 10.0


def test_a_read_back_value_is_compared_without_the_padding_of_a_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """psql without -A right-aligns a count in its column: the value still reads back."""
    verifier = _verifier({})
    verifier.running = {"db": ServiceStatus("db", "running", "healthy", container="c1")}
    answers = {"read": "count\n-------\n     1\n", "other": " 2 \n"}

    def execute(container: str, command: list[str], tty: bool) -> str:
        assert container == "c1" and not tty
        return answers[command[0]]

    verifier.client = SimpleNamespace(container=SimpleNamespace(execute=execute))  # type: ignore[assignment]
    assert verifier._read_back("db", ["read"], "1") == (True, "     1")
    assert verifier._read_back("db", ["other"], "1") == (False, "read '2', expected '1'")
