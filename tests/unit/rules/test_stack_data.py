"""Stack knowledge read from the stack's own files: `x-verify` in the compose file, the GPU
service, phase 5's servers and the docs' MCP servers table from the manifests, and a sixth
server added as one folder."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tasks.engine import verify
from tasks.engine.parallel import Once
from tasks.engine.status import ServiceStatus, env_value
from tasks.engine.verify import FAIL, PASS, SKIP, Check, Verifier
from tasks.errors import EngineError, StackError
from tasks.model.compose import load_compose
from tasks.model.stack import load_stack
from tasks.phases.catalog import build_phases
from tasks.phases.steps import CopyFiles, JsonKeys
from tasks.rules.catalog import run_rules
from tasks.servers.docstable import BEGIN, END, blocks, table
from tasks.servers.specs import probe_specs, substitute
from tests.clirun import REPO, invoke, invoke_json
from tests.ministack import MiniStack, copy_repo

COMPOSE = "docker-compose.mcp.yml"


# ---------------------------------------------------------------- x-verify: the repo's data


@pytest.mark.parametrize("service", ["postgres-db", "mariadb"])
def test_the_persistence_check_stays_in_a_scratch_database(service: str) -> None:
    """10.5 writes only into `mcp_verify`, which it creates and drops; never into the user's
    database `mcp`, and no password is on a command line."""
    persist = load_stack(REPO).compose.services[service].verify.persist
    assert persist is not None
    write, read = persist.commands("t0k3n")
    words = [*write, *read, *persist.drop]
    assert "CREATE DATABASE mcp_verify" in " ".join(write)
    assert "DROP DATABASE IF EXISTS mcp_verify" in persist.drop[-1]
    assert not [w for w in words if re.search(r"\bmcp\b", w)]
    assert not [w for w in words if re.search(r"(^|\s)(-p|--password)", w)]


def test_mariadb_reads_its_password_into_the_environment_only() -> None:
    persist = load_stack(REPO).compose.services["mariadb"].verify.persist
    assert persist is not None
    script = persist.drop[2]
    assert persist.drop[:2] == ("sh", "-c") and persist.drop[3:4] == ("sh",)
    assert script == (
        'export MYSQL_PWD="$(cat /run/secrets/mariadb_root_password)"; '
        'exec mariadb -uroot -N -e "$1"'
    )


def test_every_service_of_the_repo_declares_its_probe() -> None:
    services = load_stack(REPO).compose.services
    assert all(service.verify.probe for service in services.values())
    postgres = services["postgres-db"].verify
    assert postgres.probe == ("pg_isready", "-U", "postgres", "-h", "127.0.0.1")
    assert postgres.port == 5432 and postgres.no_gpu
    assert postgres.persist is not None and postgres.persist.expect == "1"
    write, read = postgres.persist.commands("t0k3n")
    assert "VALUES ('t0k3n')" in write[-1] and "token = 't0k3n'" in read[-1]
    assert {n: s.verify.port for n, s in services.items() if s.verify.port} == {
        "postgres-db": 5432,
        "mariadb": 3306,
        "postgres-mcp": 8000,
        "mariadb-mcp": 8000,
        "buildkit": 1234,
        "prometheus": 9090,
        "grafana": 3000,
        "nginx": 80,
    }


def test_the_gil_probe_is_written_once_and_shared_by_both_free_threaded_images() -> None:
    services = load_stack(REPO).compose.services
    free = {n: s.verify.probe for n, s in services.items() if s.verify.free_threaded}
    assert set(free) == {"python-experimental", "devcontainer"}
    assert set(free.values()) == {("check-python",)}
    for service in free:
        assert services[service].raw["healthcheck"]["test"] == ["CMD", "check-python"]
    assert "_is_gil_enabled" not in (REPO / ".devcontainer" / COMPOSE).read_text()


# ---------------------------------------------------------------- x-verify: bad input


def _compose_with(tmp_path: Path, service: str, change: Callable[[dict[str, Any]], object]) -> Path:
    mini = MiniStack(tmp_path)
    mini.edit_yaml(COMPOSE, lambda d: change(d["services"][service]))
    return mini.folder / COMPOSE


BAD: list[tuple[str, Any, str]] = [
    ("not a mapping", [5432], "services.db.x-verify"),
    ("port as a string", {"port": "5432"}, "services.db.x-verify.port"),
    ("port out of range", {"port": 70000}, "services.db.x-verify.port"),
    ("probe as a string", {"probe": "pg_isready"}, "services.db.x-verify.probe"),
    ("probe with a number", {"probe": ["pg_isready", 5]}, "services.db.x-verify.probe"),
    ("unknown key", {"ports": 5432}, "services.db.x-verify.ports"),
    ("flag as a string", {"no-gpu": "yes"}, "services.db.x-verify.no-gpu"),
    (
        "persist without expect",
        {"persist": {"write": ["w", "{token}"], "read": ["r", "{token}"]}},
        "services.db.x-verify.persist",
    ),
    (
        "persist read as a string",
        {"persist": {"write": ["w", "{token}"], "read": "r {token}", "expect": "1", "drop": ["d"]}},
        "services.db.x-verify.persist.read",
    ),
    (
        "persist without the token",
        {"persist": {"write": ["w"], "read": ["r", "{token}"], "expect": "1", "drop": ["d"]}},
        "services.db.x-verify.persist.write",
    ),
    (
        "expect as a number",
        {
            "persist": {
                "write": ["w", "{token}"],
                "read": ["r", "{token}"],
                "expect": 1,
                "drop": ["d"],
            }
        },
        "services.db.x-verify.persist.expect",
    ),
    (
        "persist that leaves its scratch data behind (no drop)",
        {"persist": {"write": ["w", "{token}"], "read": ["r", "{token}"], "expect": "1"}},
        "services.db.x-verify.persist",
    ),
    (
        "drop as a string",
        {
            "persist": {
                "write": ["w", "{token}"],
                "read": ["r", "{token}"],
                "expect": "1",
                "drop": "d",
            }
        },
        "services.db.x-verify.persist.drop",
    ),
    ("free-threaded without a probe", {"free-threaded": True}, "services.db.x-verify"),
    ("routes without a port", {"routes": {"/x": "db"}}, "services.db.x-verify.port"),
    ("route to a missing service", {"port": 80, "routes": {"/x": "nope"}}, "services.db.x-verify"),
    ("targets not a path", {"port": 9090, "targets": 5}, "services.db.x-verify.targets"),
    ("metrics as a string", {"metrics": "9100"}, "services.db.x-verify.metrics"),
]


@pytest.mark.parametrize(("case", "value", "key"), BAD, ids=[b[0] for b in BAD])
def test_wrong_types_in_x_verify_name_file_line_and_key(
    tmp_path: Path, case: str, value: Any, key: str
) -> None:
    path = _compose_with(tmp_path, "db", lambda s: s.update({"x-verify": value}))
    with pytest.raises(StackError) as raised:
        load_compose(path, {})
    error = raised.value
    assert error.path == path and error.line and error.fix, case
    assert error.key is not None and error.key.startswith(key), (case, error.key)


@pytest.mark.parametrize("as_json", [False, True])
def test_bad_x_verify_exits_2_with_file_line_and_key(tmp_path: Path, as_json: bool) -> None:
    _compose_with(tmp_path, "db", lambda s: s.update({"x-verify": {"port": "5432"}}))
    args = ("check", "--root", str(tmp_path), *(("--json",) if as_json else ()))
    result = invoke(*args, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    if as_json:
        error = json.loads(result.stdout)["error"]
        assert error["file"].endswith(COMPOSE) and error["line"], error
        assert error["key"] == "services.db.x-verify.port" and error["fix"], error
    else:
        text = " ".join(result.stderr.split())
        assert f"{COMPOSE}:" in text and "[services.db.x-verify.port]" in text, text


# ---------------------------------------------------------------- the verifier reads the data


class FakeVerifier(Verifier):
    """The real stack, these services running, and every command recorded and answered."""

    def __init__(self, running: list[str], answers: dict[str, tuple[bool, str]]) -> None:
        self.stack = load_stack(REPO)
        self.client, self.network = None, "mcp-cluster"  # type: ignore[assignment]
        self.not_exercised = {}
        self.running = {
            n: ServiceStatus(n, "running", "healthy", ports=f"127.0.0.1:1{p}->{p}/tcp")
            for n, p in ((n, self.stack.compose.services[n].verify.port or 0) for n in running)
        }
        self.answers = answers
        self.ran: list[tuple[str, list[str]]] = []
        self.restart_databases = False
        self.probed = Once()
        self.environment: dict[str, list[str]] = {}

    def variable(self, service: str, name: str) -> str | None:
        return env_value(self.environment.get(service, []), name)

    def exec(self, service: str, command: list[str]) -> tuple[bool, str]:
        self.ran.append((service, command))
        for key in (" ".join(command), command[0]):
            if key in self.answers:
                return self.answers[key]
        return True, ""


def test_health_runs_each_service_s_declared_probe() -> None:
    verifier = FakeVerifier(["postgres-db", "runner"], {})
    checks = {c.name: c for c in verifier.health()}
    assert sorted(verifier.ran) == [  # run at once, in whichever order the threads take
        ("postgres-db", ["pg_isready", "-U", "postgres", "-h", "127.0.0.1"]),
        ("runner", ["sh", "-c", "grep -qs Runner.Listener /proc/[0-9]*/cmdline"]),
    ]
    assert checks["postgres-db"].status == PASS and checks["mariadb"].status == FAIL


def _reaching(
    answer: tuple[bool, str], running: tuple[str, ...] = ("devcontainer", "postgres-db", "nginx")
) -> tuple[FakeVerifier, dict[str, Check]]:
    """The network checks with `running` running, the dev container's connection script
    answering `answer`."""
    verifier = FakeVerifier(list(running), {"python3": answer})
    verifier.client = SimpleNamespace(network=SimpleNamespace(inspect=lambda name: None))  # type: ignore[assignment]
    return verifier, {c.name: c for c in verifier.network_checks() if "->" in c.name}


def test_the_dev_container_reaches_each_declared_port_in_one_exec() -> None:
    answer = json.dumps({"postgres-db:5432": "", "nginx:80": "[Errno 111] Connection refused"})
    verifier, checks = _reaching((True, answer))
    assert verifier.ran == [
        ("devcontainer", ["python3", "-c", verify.REACH, "postgres-db:5432", "nginx:80"])
    ]
    assert checks["devcontainer -> postgres-db:5432"] == Check(
        "network", "devcontainer -> postgres-db:5432", PASS, "connected"
    )
    assert checks["devcontainer -> nginx:80"] == Check(
        "network", "devcontainer -> nginx:80", FAIL, "[Errno 111] Connection refused"
    )
    # the services the profile runs but are not running, in the compose file's order
    assert list(checks)[:3] == [
        "devcontainer -> postgres-db:5432",
        "devcontainer -> mariadb",
        "devcontainer -> postgres-mcp",
    ]
    assert checks["devcontainer -> mariadb"].detail == (
        "mariadb is not running (the selected profile runs it)"
    )


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        ((False, "python3: not found"), "python3: not found"),
        ((True, "Traceback (most recent call last):"), "Traceback (most recent call last):"),
        ((True, "[]"), "[]"),
        ((True, json.dumps({"nginx:80": ""})), "no answer"),
        ((True, ""), "no answer"),
    ],
)
def test_a_connection_script_that_does_not_answer_for_a_port_fails_it(
    answer: tuple[bool, str], detail: str
) -> None:
    _, checks = _reaching(answer)
    assert checks["devcontainer -> postgres-db:5432"] == Check(
        "network", "devcontainer -> postgres-db:5432", FAIL, detail
    )


def test_without_the_dev_container_no_port_is_tried() -> None:
    verifier, reach = _reaching((True, "{}"), ("postgres-db",))
    assert verifier.ran == []
    assert {c.detail for c in reach.values()} == {
        "devcontainer is not running (the selected profile runs it)"
    }


def test_the_connection_script_reports_each_port(tmp_path: Path) -> None:
    """The script itself, run here: a port that listens and one that refuses."""
    import socket
    import subprocess
    import sys

    with socket.socket() as listening, socket.socket() as closed:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        closed.bind(("127.0.0.1", 0))
        targets = [f"127.0.0.1:{s.getsockname()[1]}" for s in (listening, closed)]
        out = subprocess.run(
            [sys.executable, "-c", verify.REACH, *targets],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    found = json.loads(out)
    assert found[targets[0]] == ""
    assert "refused" in found[targets[1]]


def _persisting(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeVerifier, list[str]]:
    verifier = FakeVerifier(["postgres-db"], {"psql": (True, "1")})
    verifier.stack = _without_volumes(verifier.stack)
    restarted: list[str] = []
    monkeypatch.setattr(verify, "restart", lambda client, service: restarted.append(service))
    monkeypatch.setattr(verify, "wait_healthy", lambda *args: {})
    monkeypatch.setattr(secrets, "token_hex", lambda n: "f00d")
    return verifier, restarted


def test_persistence_stays_in_a_scratch_database_and_restarts_nothing_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verifier, restarted = _persisting(monkeypatch)
    checks = {c.name: c for c in verifier.persistence()}
    assert checks["postgres-db stores data"] == Check(
        "volumes",
        "postgres-db stores data",
        PASS,
        "token written and read back in a scratch database",
    )
    assert checks["postgres-db data survives restart"] == Check(
        "volumes", "postgres-db data survives restart", SKIP,
        "restarts postgres-db: only with --persistence",
    )  # fmt: skip
    assert checks["mariadb stores data"].status == FAIL  # the profile runs it
    assert restarted == []
    persist = verifier.stack.compose.services["postgres-db"].verify.persist
    assert persist is not None
    write, read = persist.commands("f00d")
    assert [command for _, command in verifier.ran] == [write, read, list(persist.drop)]


def test_persistence_restarts_only_when_asked_and_always_drops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verifier, restarted = _persisting(monkeypatch)
    verifier.restart_databases = True
    checks = {c.name: c for c in verifier.persistence()}
    assert checks["postgres-db data survives restart"].status == PASS
    assert restarted == ["postgres-db"]
    assert [c[-1] for _, c in verifier.ran][-1].startswith("DROP DATABASE IF EXISTS mcp_verify")
    assert len(verifier.ran) == 4  # write, read, read after the restart, drop
    verifier.answers["psql"] = (True, "0")
    failed = {c.name: c for c in verifier.persistence()}
    assert failed["postgres-db stores data"].detail == "read '0', expected '1'"
    assert "postgres-db data survives restart" not in failed  # nothing stored: no restart
    assert restarted == ["postgres-db"]


def test_persistence_drops_its_scratch_database_even_when_a_step_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verifier, _ = _persisting(monkeypatch)
    persist = verifier.stack.compose.services["postgres-db"].verify.persist
    assert persist is not None
    verifier.answers[" ".join(persist.drop)] = (False, "database is being accessed")
    checks = {c.name: c for c in verifier.persistence()}
    assert checks["postgres-db scratch database dropped"] == Check(
        "volumes", "postgres-db scratch database dropped", FAIL, "database is being accessed"
    )
    verifier.restart_databases = True

    def refuse(client: object, service: str) -> None:
        raise EngineError("docker compose restart postgres-db failed: refused")

    monkeypatch.setattr(verify, "restart", refuse)
    verifier.ran.clear()
    with pytest.raises(EngineError):
        verifier.persistence()
    assert verifier.ran[-1] == ("postgres-db", list(persist.drop))


def _without_volumes(stack: Any) -> Any:
    return replace(stack, compose=replace(stack.compose, volumes={}))


def test_gpu_checks_name_the_gpu_service_and_the_no_gpu_services() -> None:
    verifier = FakeVerifier(["k8s-plugin", "devcontainer", "postgres-db", "nginx"], {})
    verifier.answers["sh"] = (False, "")
    checks = verifier.gpu(True, [])
    assert [(c.name, c.status) for c in checks] == [
        ("only k8s-plugin reserves a GPU", PASS),
        ("k8s-plugin sees a GPU", PASS),
        ("postgres-db sees no GPU", PASS),
        ("devcontainer sees no GPU", PASS),
    ]
    assert verifier.ran[0] == ("k8s-plugin", ["nvidia-smi", "-L"])
    runtime_missing = verifier.gpu(False, ["service x reserves a GPU"])
    assert runtime_missing[0].status == FAIL
    assert runtime_missing[1] == Check(
        "gpu", "k8s-plugin sees a GPU", SKIP, "no NVIDIA runtime on this host"
    )


# When verification begins in these tests, and a scrape just after it and one just before.
BEGAN = 1796644800.0  # 2026-12-07T12:00:00Z
AFTER, BEFORE = "2026-12-07T13:00:00.5+01:00", "2026-12-07T11:59:59.999999999Z"


def _targets_body(*targets: tuple[str, str, str], scraped: str = AFTER) -> str:
    """Prometheus's targets API answer: (job, instance, health) of each active target, each
    last scraped at `scraped`."""
    active = [
        {
            "labels": {"job": job, "instance": instance},
            "health": health,
            "lastError": "connection refused" if health == "down" else "",
            "lastScrape": scraped,
        }
        for job, instance, health in targets
    ]
    return json.dumps({"status": "success", "data": {"activeTargets": active}})


def test_monitoring_reads_targets_routes_and_what_serves_metrics() -> None:
    verifier = FakeVerifier(["prometheus", "nginx", "devcontainer", "mcp-exporter"], {})
    verifier.running["mcp-exporter"].ip = "172.20.0.77"
    urls: list[str] = []
    body = _targets_body(
        ("prometheus", "prometheus:9090", "up"),
        ("grafana", "172.20.0.72:3000", "down"),
        ("mcp-exporter", "mcp-exporter:9464", "down"),
    )

    def http(url: str) -> tuple[int, str]:
        urls.append(url)
        return 200, body

    checks = {c.name: c for c in verifier.monitoring(http, wall=lambda: BEGAN)}
    assert urls == [
        "http://127.0.0.1:19090/api/v1/targets",
        "http://127.0.0.1:180/prometheus/-/healthy",
    ]
    assert checks["target prometheus"] == Check(
        "monitoring", "target prometheus", PASS, "up (prometheus:9090)"
    )
    # a discovered target of grafana, which is not running though the profile runs it
    assert checks["target grafana"] == Check(
        "monitoring",
        "target grafana",
        FAIL,
        "grafana is not running (the selected profile runs it)",
    )
    assert checks["target mcp-exporter"] == Check(
        "monitoring", "target mcp-exporter", FAIL, "down: connection refused"
    )
    assert checks["prometheus scraped"].detail == "job prometheus, prometheus:9090"
    assert checks["mcp-exporter scraped"].status == PASS
    assert "grafana scraped" not in checks  # only running services must be scraped
    assert checks["nginx /prometheus/-/healthy"].status == PASS
    assert checks["nginx /grafana/api/health"].status == FAIL
    assert FakeVerifier([], {}).monitoring(http) == [
        Check("monitoring", "prometheus", FAIL, "prometheus is not running (the selected "
              "profile runs it)")
    ]  # fmt: skip


def test_a_running_service_with_metrics_that_prometheus_lacks_fails() -> None:
    verifier = FakeVerifier(["prometheus", "postgres-exporter"], {})
    verifier.not_exercised = {"grafana": "behind compose profile grafana (not enabled)"}
    body = _targets_body(
        ("prometheus", "prometheus:9090", "up"), ("grafana", "172.20.0.72:3000", "down")
    )
    checks = {c.name: c for c in verifier.monitoring(lambda url: (200, body), wall=lambda: BEGAN)}
    assert checks["postgres-exporter scraped"] == Check(
        "monitoring",
        "postgres-exporter scraped",
        FAIL,
        "Prometheus has no target postgres-exporter:9187: add a scrape job for it",
    )
    assert checks["target grafana"].status == SKIP


class _Clock:
    """Time that passes only when the code under test pauses."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def _targets_answering(*healths: str) -> Callable[[str], tuple[int, str]]:
    """Prometheus's targets API answering each health in turn (the last one from then on);
    `none` is Prometheus not answering yet, and a health ending in `-before` is one scraped
    before verification began."""
    answers = list(healths)

    def http(url: str) -> tuple[int, str]:
        if not url.endswith("/api/v1/targets"):
            return 200, ""
        health = answers.pop(0) if len(answers) > 1 else answers[0]
        if health == "none":
            return 0, ""
        health, before, _ = health.partition("-before")
        target = ("prometheus", "prometheus:9090", health)
        return 200, _targets_body(target, scraped=BEFORE if before else AFTER)

    return http


def _monitor(
    verifier: Verifier, http: Callable[[str], tuple[int, str]], clock: _Clock
) -> dict[str, Check]:
    """The monitoring checks by name, run on `clock`, verification beginning at BEGAN."""
    checks = verifier.monitoring(http, clock.pause, lambda: clock.now, lambda: BEGAN)
    return {c.name: c for c in checks}


def test_monitoring_waits_for_the_first_scrape_after_a_start() -> None:
    verifier = FakeVerifier(["prometheus", "nginx", "devcontainer"], {})
    clock = _Clock()
    http = _targets_answering("none", "unknown", "unknown", "up")
    checks = _monitor(verifier, http, clock)
    assert checks["target prometheus"] == Check(
        "monitoring", "target prometheus", PASS, "up (prometheus:9090)"
    )
    assert clock.pauses == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ("unknown", "unknown"),
        ("down-before", "unknown (before verification began: down: connection refused)"),
    ],
)
def test_a_target_not_scraped_since_verification_began_fails_after_the_interval_and_a_margin(
    answer: str, why: str
) -> None:
    """Never scraped, or last scraped (down) before verification began: the repo's Prometheus
    configuration scrapes every 15s, so 15s + 10s, then its last error."""
    verifier = FakeVerifier(["prometheus", "nginx", "devcontainer"], {})
    clock = _Clock()
    checks = _monitor(verifier, _targets_answering(answer), clock)
    assert checks["target prometheus"] == Check(
        "monitoring",
        "target prometheus",
        FAIL,
        f"{why}: no scrape within 15s (scrape interval) + 10s",
    )
    assert clock.now == 25.0


def test_a_target_that_is_down_fails_without_waiting() -> None:
    verifier = FakeVerifier(["prometheus", "nginx", "devcontainer"], {})
    clock = _Clock()
    checks = _monitor(verifier, _targets_answering("down"), clock)
    assert checks["target prometheus"].detail == "down: connection refused"
    assert clock.pauses == []


def test_a_target_down_before_verification_began_is_waited_for() -> None:
    """Its container may have started after that scrape: the next one decides."""
    verifier = FakeVerifier(["prometheus", "nginx", "devcontainer"], {})
    clock = _Clock()
    checks = _monitor(verifier, _targets_answering("down-before", "down-before", "up"), clock)
    assert checks["target prometheus"].status == PASS
    assert clock.pauses == [1.0, 1.0]
    clock = _Clock()
    checks = _monitor(verifier, _targets_answering("down-before", "down"), clock)
    assert checks["target prometheus"].detail == "down: connection refused"
    assert clock.pauses == [1.0]


def test_an_up_target_passes_however_long_ago_it_was_scraped() -> None:
    verifier = FakeVerifier(["prometheus", "nginx", "devcontainer"], {})
    clock = _Clock()
    checks = _monitor(verifier, _targets_answering("up-before"), clock)
    assert checks["target prometheus"].status == PASS
    assert clock.pauses == []


@pytest.mark.parametrize(
    ("stamp", "seconds"),
    [
        (AFTER, BEGAN + 0.5),
        (BEFORE, BEGAN - 0.000001),
        ("0001-01-01T00:00:00Z", -62135596800.0),  # never scraped
        (None, 0.0),
        ("yesterday", 0.0),
    ],
)
def test_when_a_target_was_last_scraped(stamp: str | None, seconds: float) -> None:
    body = json.dumps({"data": {"activeTargets": [{"labels": {"job": "j"}, "lastScrape": stamp}]}})
    assert verify.parse_targets(body)[0].last_scrape == pytest.approx(seconds, abs=1e-6)


def _free_threaded(gil: list[str]) -> FakeVerifier:
    verifier = FakeVerifier(["python-experimental", "devcontainer"], {})
    verifier.environment = {name: ["PATH=/usr/bin", *gil] for name in verifier.running}
    return verifier


def test_freethreading_runs_the_shared_probe_in_each_free_threaded_service() -> None:
    verifier = _free_threaded(["PYTHON_GIL=0"])
    checks = verifier.freethreading()
    assert [(c.name, c.status, c.detail) for c in checks] == [
        ("python-experimental", PASS, "Py_GIL_DISABLED=1, GIL off, PYTHON_GIL=0"),
        ("devcontainer", PASS, "Py_GIL_DISABLED=1, GIL off, PYTHON_GIL=0"),
    ]
    assert verifier.ran == [
        ("python-experimental", ["check-python"]),
        ("devcontainer", ["check-python"]),
    ]


def test_health_and_freethreading_share_each_probe_run() -> None:
    verifier = _free_threaded(["PYTHON_GIL=0"])
    verifier.health()
    verifier.freethreading()
    assert sorted(verifier.ran) == [
        ("devcontainer", ["check-python"]),
        ("python-experimental", ["check-python"]),
    ]


@pytest.mark.parametrize(
    ("gil", "probe"),
    [([], True), (["PYTHON_GIL=1"], True), (["PYTHON_GIL=0 "], True), (["PYTHON_GIL=0"], False)],
)
def test_freethreading_fails_without_pythongil_0_or_its_probe(gil: list[str], probe: bool) -> None:
    verifier = _free_threaded(gil)
    verifier.answers = {"check-python": (probe, "GIL is on")}
    assert {(c.status, c.detail) for c in verifier.freethreading()} == {
        (FAIL, "GIL is on or the build is not free-threaded")
    }


# ---------------------------------------------------------------- the GPU service


def _gpu(service: dict[str, Any]) -> None:
    device = {"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}
    service["deploy"] = {"resources": {"reservations": {"devices": [device]}}}


def test_the_gpu_service_is_the_one_that_reserves_a_gpu(tmp_path: Path) -> None:
    assert load_stack(REPO).compose.gpu_service == "k8s-plugin"
    mini = MiniStack(tmp_path)
    assert load_stack(mini.root).compose.gpu_service is None
    mini.edit_yaml(COMPOSE, lambda d: d["services"]["devcontainer"].update(gpus="all"))
    assert load_stack(mini.root).compose.gpu_service == "devcontainer"
    mini.edit_yaml(COMPOSE, lambda d: _gpu(d["services"]["db"]))
    stack = load_stack(mini.root)
    assert stack.compose.gpu_service == "db"
    hits = run_rules(stack, {"CMP008"})
    assert [h.message for h in hits] == ["service devcontainer reserves a GPU (gpus:)"]
    assert "reserve GPUs only for db" in hits[0].fix


# ---------------------------------------------------------------- phase 5 and the docs table


def test_phase_5_lists_the_client_servers_of_the_manifests() -> None:
    manifests = load_stack(REPO).manifests.values()
    names = sorted(m.name for m in manifests if m.transport == "stdio" or m.remote)
    assert "python-experimental" not in names and "bridge" not in names
    steps = build_phases(REPO)[5].steps
    keys = next(s for s in steps if isinstance(s, JsonKeys) and s.path == ".mcp.json").set_keys
    assert keys == tuple(("mcpServers", name) for name in names)


def test_the_docs_table_ends_at_the_first_end_marker_after_its_begin(mini: MiniStack) -> None:
    readme = mini.folder / "docs/README.md"
    text = readme.read_text()
    mini.put("docs/README.md", f"{END}\n\n{text}")
    [block] = blocks(load_stack(mini.root))
    begin = text.splitlines().index(f"{BEGIN} -->") + 2
    assert block.line == begin + 1 and block.current == block.wanted
    mini.put("docs/README.md", f"{END}\n{BEGIN} -->\n| stale |\n")
    [open_block] = blocks(load_stack(mini.root))
    assert (open_block.line, open_block.current, open_block.terminated) == (
        2,
        ("| stale |",),
        False,
    )
    with pytest.raises(StackError) as refused:
        open_block.text()
    assert (refused.value.path, refused.value.line) == (readme, 2)
    assert refused.value.fix == f"put {END} on its own line after the table"


def test_the_docs_table_is_generated_from_the_manifests() -> None:
    stack = load_stack(REPO)
    found = blocks(stack)
    assert [b.doc.path.name for b in found] == ["mcp-servers-reference.md"]
    block = found[0]
    assert block.current == block.wanted
    rows = list(block.wanted[2:])
    served = [m.name for m in stack.manifests.values() if m.transport == "stdio" or m.remote]
    assert [row.split("]")[0].removeprefix("| [") for row in rows] == sorted(served)
    github = next(r for r in rows if r.startswith("| [github](../../mcp/github/README.md)"))
    assert "`GITHUB_PERSONAL_ACCESS_TOKEN`" in github and "`mcp-github:latest`" in github
    postgres = next(r for r in rows if r.startswith("| [postgres](../../mcp/postgres/README.md)"))
    assert "| `http://postgres-mcp:8000/sse` | mcp-cluster |" in postgres
    git = next(r for r in rows if r.startswith("| [git]"))
    assert (
        "workspace at /workspace (.git/hooks/, .git/config, .vscode/, .devcontainer/ read-only)"
        in git
    )
    assert table([], block.doc.path) == block.wanted[:2]


def test_mcp_config_writes_the_docs_table(mini: MiniStack) -> None:
    readme = mini.folder / "docs/README.md"
    text = readme.read_text()
    mini.put("docs/README.md", text.split(BEGIN)[0] + f"{BEGIN} -->\n| stale |\n{END}\nafter\n")
    assert invoke("mcp.config", "--dry-run", "--root", str(mini.root)).returncode == 1
    assert invoke("mcp.config", "--root", str(mini.root)).returncode == 0
    assert readme.read_text() == text.rstrip("\n") + "\nafter\n"


# ---------------------------------------------------------------- a sixth server: one folder

TIME_MANIFEST = """\
# MCP server manifest: the single source of this server's client configuration.
name: time
description: Current time and time-zone conversions
image: mcp-time:latest
build:
  context: ../..
  dockerfile: time/Dockerfile
  args:
    BASE_IMAGE: ${PYTHON_BASE_IMAGE:-python:3.13-slim-trixie}
transport: stdio
network: none
labels:
  dev.mcp-cluster.server: time
probe: {tool: get_current_time, arguments: {timezone: UTC}, expect: UTC}
"""


def test_a_sixth_server_is_one_folder_and_mcp_config(tmp_path: Path) -> None:
    copy_repo(tmp_path)
    fetch = tmp_path / ".devcontainer/mcp/fetch"
    server = tmp_path / ".devcontainer/mcp/time"
    (server / "config").mkdir(parents=True)
    for name in ("Dockerfile", "README.md"):
        text = (fetch / name).read_text().replace("fetch", "time").replace("FETCH", "TIME")
        (server / name).write_text(text)
    (server / "config/time.yml").write_text(TIME_MANIFEST)

    code, data = invoke_json("check", "--root", str(tmp_path))
    assert code == 1
    assert {"MCP009", "MCP010", "DOC004"} <= {f["rule"] for f in data["findings"]}

    result = invoke("mcp.config", "--root", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    code, data = invoke_json("check", "--root", str(tmp_path))
    assert code == 0, data["findings"]
    assert [f for f in data["findings"] if f["severity"] != "info"] == []

    stack = load_stack(tmp_path)
    assert "time" in stack.devcontainer.servers
    for name, key in ((".vscode/mcp.json", "servers"), (".mcp.json", "mcpServers")):
        servers = json.loads((tmp_path / name).read_text())[key]
        assert "mcp-time:latest" in json.dumps(servers.pop("time"))
    docs = (tmp_path / ".devcontainer/docs/services/mcp-servers-reference.md").read_text()
    assert "| [time](../../mcp/time/README.md) | Current time and time-zone conversions |" in docs

    specs, skipped = probe_specs(stack, ("time",), tmp_path, "http://127.0.0.1:1/", 5)
    assert skipped == [] and len(specs) == 1
    spec = specs[0]
    assert spec.command == "python3" and "mcp-time:latest" in spec.args
    assert spec.args[0] == f"{tmp_path}/.devcontainer/mcp/runtime/mcp_launch.py"
    assert spec.call is not None and spec.call.tool == "get_current_time"
    assert spec.call.arguments == {"timezone": "UTC"} and spec.call.expect == "UTC"

    phase5 = build_phases(tmp_path)[5].steps
    copied = next(s for s in phase5 if isinstance(s, CopyFiles))
    assert ".devcontainer/mcp/time/" in copied.prefixes
    assert all(
        ("customizations", "vscode", "mcp", "servers", "time") in s.set_keys
        for s in phase5
        if isinstance(s, JsonKeys) and s.path.endswith("devcontainer.json")
    )


def test_a_probe_launches_the_server_with_its_manifests_probe_only_arguments() -> None:
    stack = load_stack(REPO)
    specs, _ = probe_specs(stack, ("fetch", "memory"), REPO, "http://127.0.0.1:1/p", 5)
    by_name = {s.name: s for s in specs}
    fetch, memory = list(by_name["fetch"].args), list(by_name["memory"].args)
    run = fetch.index("run")
    container = by_name["fetch"].container
    assert container.startswith("mcp-probe-fetch-")
    assert fetch[run + 1 : run + 5] == ["--name", container, "--network", "host"]
    assert fetch[-2:] == ["mcp-fetch:latest", "--allow-private-ips"]
    assert by_name["fetch"].call is not None
    assert by_name["fetch"].call.arguments == {"url": "http://127.0.0.1:1/p"}
    assert by_name["fetch"].env["MCP_ORIGIN"] == "probe"
    configured = [substitute(a, REPO) for a in stack.devcontainer.servers["memory"].args]
    at = configured.index("run") + 1
    assert memory == [*configured[:at], "--name", by_name["memory"].container, *configured[at:]]
    assert memory[0] == f"{REPO}/.devcontainer/mcp/runtime/mcp_launch.py"
    assert "host" not in memory and "--allow-private-ips" not in memory
