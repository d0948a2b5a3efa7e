"""The workflows behind the tasks, run in this process on a mini stack, with the engine's calls
replaced by recorded answers: what each shows people (every table cell), what it returns under
`--json`, and when it fails with which exit code."""

from __future__ import annotations

import io
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NoReturn

import pytest
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from tasks.engine import volumes as engine_volumes
from tasks.engine.bake import ImageResult
from tasks.engine.prerequisites import Facts, Wanted
from tasks.engine.status import ServiceStatus
from tasks.engine.verify import FAIL, PASS, SKIP, Check, http_get
from tasks.engine.volumes import VolumeInfo
from tasks.errors import EngineError, Failure, StackError, UsageError
from tasks.images import plan as plan_module
from tasks.images.announce import Announcer
from tasks.images.plan import CA_VARIABLE, Unavailable
from tasks.images.progress import BuildLog
from tasks.model.imagelock import LOCK_FILE, lock_document
from tasks.model.localenv import PROFILE_KEY, block_values
from tasks.model.stack import PROFILES_DIR, load_stack
from tasks.outcome import Outcome
from tasks.rules import context as rules_context
from tasks.rules.base import RULES
from tasks.rules.context import Setting
from tasks.selection import TIER_LABEL, Selection
from tasks.servers.inside import remote_settings
from tasks.servers.probe import ProbeResult, Reach
from tasks.servers.specs import ProbeSpec, Skipped
from tasks.workflows import build as build_workflow
from tasks.workflows import check as check_workflow
from tasks.workflows import doctor as doctor_workflow
from tasks.workflows import env as env_workflow
from tasks.workflows import envinit
from tasks.workflows import generate as generate_workflow
from tasks.workflows import probe as probe_workflow
from tasks.workflows import profile as profile_module
from tasks.workflows import stack as stack_workflow
from tasks.workflows import up as up_workflow
from tasks.workflows import verify as verify_workflow
from tasks.workflows import volumes as volumes_workflow
from tasks.workflows.build import BuildRequest
from tasks.workflows.counted import ClientCalls
from tasks.workflows.profile import Profiled, split_profiles
from tasks.workflows.secrets import data_volumes_of, require_secrets, secret_status
from tasks.workflows.views import build_progress, build_summary, failed_builds, services_table
from tests.clirun import REPO
from tests.ministack import MiniStack

COMPOSE = "docker-compose.mcp.yml"


def cells(table: Table) -> list[tuple[str, ...]]:
    """Every row of a rich table, cell by cell."""
    columns = [list(map(str, column._cells)) for column in table.columns]
    return list(zip(*columns, strict=True))


def headers(table: Table) -> tuple[str, ...]:
    return tuple(str(column.header) for column in table.columns)


# ---------------------------------------------------------------- views


def test_build_progress_shows_queued_running_and_finished_images() -> None:
    times = iter([10.0, 12.6, 20.0, 22.5, 30.0, 30.0])
    log = BuildLog(clock=lambda: next(times))
    log.new_round(("alpha", "beta"))
    for line in ("#1 [alpha 1/2] RUN a", "#1 DONE 0.1s", "#2 [alpha 2/2] RUN b"):
        log.feed(line)
    table = build_progress(log, ["alpha", "gamma"])
    assert table.title == "building"
    assert headers(table) == ("image", "status", "steps", "seconds")
    # (rendering reads each image's time as of now)
    assert cells(table) == [("alpha", "building", "1/2", "12"), ("gamma", "queued", "", "")]
    log.image("delta")
    assert cells(build_progress(log, ["delta"])) == [("delta", "building", "", "0")]


def result(tag: str, status: str, **changes: Any) -> ImageResult:
    values: dict[str, Any] = {
        "name": tag.partition(":")[0],
        "tag": tag,
        "status": status,
        "seconds": 12.34,
        "cached_steps": 3,
        "total_steps": 5,
        "size_bytes": 123_456_789,
        "error": None,
        "log_tail": (),
    }
    return ImageResult(**{**values, **changes})


def test_the_build_summary_has_a_row_per_image_and_per_image_not_buildable_here() -> None:
    results = [
        result("mcp-a:latest", "built"),
        result("mcp-b:latest", "cached", size_bytes=None, seconds=0.05),
        result("mcp-c:latest", "failed", size_bytes=0),
        result("mcp-d:latest", "building"),
    ]
    unavailable = [Unavailable("gpu", "mcp-gpu:latest", "needs [the] NVIDIA base")]
    table = build_summary(results, unavailable, 61.25)
    assert table.title == "build summary (61.2 s)"
    assert headers(table) == ("image", "status", "seconds", "cached/total steps", "size")
    assert cells(table) == [
        ("mcp-a:latest", "[green]built[/]", "12.3", "3/5", "123 MB"),
        ("mcp-b:latest", "[cyan]cached[/]", "0.1", "3/5", ""),
        ("mcp-c:latest", "[red]failed[/]", "12.3", "3/5", ""),
        ("mcp-d:latest", "[yellow]building[/]", "12.3", "3/5", "123 MB"),
        ("gpu", "[yellow]not buildable here[/]", "", "", "needs \\[the] NVIDIA base"),
    ]


def test_a_failed_build_shows_its_error_and_its_last_twelve_lines() -> None:
    tail = tuple(f"step [s{n}]" for n in range(15))
    results = [
        result("mcp-a:latest", "built", log_tail=("unseen",)),
        result("mcp-c:latest", "failed", error="RUN [x] failed", log_tail=tail),
        result("mcp-e:latest", "failed", error=None, log_tail=()),
    ]
    assert failed_builds(results) == [
        "[red]mcp-c:latest failed:[/] RUN \\[x] failed",
        *[f"  step \\[s{n}]" for n in range(3, 15)],
        "[red]mcp-e:latest failed:[/] ",
    ]


@pytest.fixture
def tiered(mini: MiniStack) -> MiniStack:
    def change(data: dict[str, Any]) -> None:
        data["services"]["db"]["labels"] = {TIER_LABEL: "1"}
        data["services"]["devcontainer"]["labels"] = {TIER_LABEL: "2"}
        data["services"]["web"] = {"image": "busybox:1", "restart": "unless-stopped"}

    mini.edit_yaml(COMPOSE, change)
    return mini


def test_services_are_shown_tier_by_tier(tiered: MiniStack) -> None:
    stack = load_stack(tiered.root)
    rows = {
        "web": ServiceStatus("web", "running", "none", "172.20.0.9", "", 0.04),
        "db": ServiceStatus("db", "running", "starting", "172.20.0.20", "127.0.0.1:5432->5432"),
        "devcontainer": ServiceStatus("devcontainer", "exited", "unhealthy"),
    }
    table = services_table(stack, rows, "stack (3.0 s)")
    assert table.title == "stack (3.0 s)"
    assert headers(table) == ("tier", "service", "state", "health", "IP", "ports", "s to healthy")
    assert cells(table) == [
        ("1", "db", "running", "[yellow]starting[/]", "172.20.0.20", "127.0.0.1:5432->5432", ""),
        ("2", "devcontainer", "exited", "[red]unhealthy[/]", "", "", ""),
        ("4", "web", "running", "[green]none[/]", "172.20.0.9", "", "0.0"),
    ]


# ---------------------------------------------------------------- up


def outcome(ok: bool = True, code: int = 1) -> Callable[[], Outcome]:
    return lambda: Outcome({"ok": ok}, [f"step says {ok}"], ok=ok, code=code)


def test_up_runs_its_steps_in_order_with_the_profile_for_env_init_only() -> None:
    names = [step.name for step in up_workflow.steps("offline", True, quiet=True)]
    assert names == [
        "check",
        "env.init --profile offline",
        "build.all --parallel",
        "stack.up",
        "verify.all --persistence",
        "mcp.probe --repeat 1",
    ]
    plain = [step.name for step in up_workflow.steps("", False, quiet=False)]
    assert plain[1] == "env.init" and plain[4] == "verify.all"


@pytest.mark.parametrize(
    ("error", "code", "shown"),
    [
        (UsageError("--tier [five] is not a tier"), 2, "--tier \\[five] is not a tier"),
        (StackError(Path("x.yml"), "broken", "fix it", line=4), 2, "x.yml:4: broken. Fix: fix it"),
        (EngineError("docker is down", "start it"), 1, "docker is down. Fix: start it"),
        (Failure("the build failed"), 1, "the build failed"),
    ],
)
def test_a_steps_error_is_its_failed_outcome(error: Exception, code: int, shown: str) -> None:
    def fail() -> Outcome:
        raise error

    failed = up_workflow.attempt(up_workflow.Step("x", fail))
    assert (failed.ok, failed.code) == (False, code)
    assert failed.views == [f"[bold red]error:[/] {shown}"]
    assert failed.data["ok"] is False and "problem" in failed.data["error"]


def test_a_bug_in_a_step_is_not_hidden() -> None:
    def broken() -> Outcome:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        up_workflow.attempt(up_workflow.Step("x", broken))


def test_up_stops_at_the_first_failed_step_with_its_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[str] = []

    def step(name: str, made: Callable[[], Outcome]) -> up_workflow.Step:
        def run() -> Outcome:
            ran.append(name)
            return made()

        return up_workflow.Step(name, run)

    planned = [
        step("check", outcome()),
        step("build", outcome(False, code=2)),
        step("stack.up", outcome()),
        step("verify", outcome()),
    ]
    monkeypatch.setattr(up_workflow, "steps", lambda profile, persistence, quiet: planned)
    done = up_workflow.up(as_json=True)
    assert ran == ["check", "build"]
    assert (done.ok, done.code) == (False, 2)
    assert [(r["step"], r["ok"], r["exit"]) for r in done.data["steps"]] == [
        ("check", True, 0),
        ("build", False, 2),
    ]
    assert done.data["not_run"] == ["stack.up", "verify"] and done.data["ok"] is False
    [table] = done.views
    assert table.title == "invoke up" and headers(table) == ("step", "result", "seconds")
    assert [row[:2] for row in cells(table)] == [
        ("check", "[green]ok[/]"),
        ("build", "[red]failed (exit 2)[/]"),
        ("stack.up", "[yellow]not run (an earlier step failed)[/]"),
        ("verify", "[yellow]not run (an earlier step failed)[/]"),
    ]
    assert cells(table)[0][2] == "0.0" and cells(table)[2][2] == ""
    out, err = capsys.readouterr()
    assert out == "" and "step says True" in err and "step says False" in err


def test_up_passes_when_every_step_does(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    planned = [up_workflow.Step("check", outcome()), up_workflow.Step("build", outcome())]
    monkeypatch.setattr(up_workflow, "steps", lambda profile, persistence, quiet: planned)
    done = up_workflow.up()
    assert (done.ok, done.code, done.data["not_run"]) == (True, 0, [])
    out, err = capsys.readouterr()
    assert "invoke check" in out and "step says True" in out and err == ""


def test_up_tells_its_steps_the_profile_persistence_and_whether_to_stay_quiet(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[tuple[str, bool, bool]] = []

    def steps(profile: str, persistence: bool, quiet: bool) -> list[up_workflow.Step]:
        asked.append((profile, persistence, quiet))
        return [up_workflow.Step("check", outcome())]

    monkeypatch.setattr(up_workflow, "steps", steps)
    up_workflow.up("offline", persistence=True)
    up_workflow.up(as_json=True)
    assert asked == [("offline", True, False), ("", False, True)]


# ---------------------------------------------------------------- stack.up and restart


class Engine:
    """Recorded answers of the engine's compose calls for stack.up and stack.restart."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, result: dict[str, ServiceStatus]) -> None:
        self.result = result
        self.calls: list[tuple[Any, ...]] = []
        self.up_error = ""
        for name in ("up_and_wait", "last_logs", "health_output", "restart", "wait_healthy"):
            monkeypatch.setattr(stack_workflow, name, getattr(self, name))
        monkeypatch.setattr(Profiled, "client", "client")

    def up_and_wait(
        self, client: Any, services: list[str], network: str, timeout: float, tick: Any
    ) -> tuple[dict[str, ServiceStatus], str]:
        self.calls.append(("up", client, services, network, timeout))
        tick(self.result)
        return self.result, self.up_error

    def last_logs(self, client: Any, service: str) -> list[str]:
        assert client == "client"
        return [f"{service} log [one]", f"{service} log 2"]

    def health_output(self, client: Any, container: str) -> str:
        assert client == "client"
        return f"probe of {container} failed" if container != "quiet" else ""

    def restart(self, client: Any, service: str) -> None:
        self.calls.append(("restart", client, service))

    def wait_healthy(
        self, client: Any, services: list[str], network: str, timeout: float, tick: Any, t: float
    ) -> dict[str, ServiceStatus]:
        self.calls.append(("wait", client, services, network, timeout))
        return {name: self.result[name] for name in services}


@pytest.fixture
def provided(mini: MiniStack, monkeypatch: pytest.MonkeyPatch) -> Profiled:
    monkeypatch.setenv("DB_PASSWORD", "x")
    return Profiled.load("", mini.root)


def test_stack_up_starts_the_selected_services_and_reports_each(
    provided: Profiled, monkeypatch: pytest.MonkeyPatch
) -> None:
    healthy = {
        "db": ServiceStatus("db", "running", "healthy", "172.20.0.20", container="c1"),
        "devcontainer": ServiceStatus("devcontainer", "running", "none", container="c2"),
    }
    engine = Engine(monkeypatch, healthy)
    done = stack_workflow.stack_up(provided, timeout=42, quiet=True)
    assert engine.calls == [("up", "client", ["db", "devcontainer"], "mcp-cluster", 42)]
    assert done.ok and done.data["ok"] is True and done.data["error"] == ""
    assert [s["service"] for s in done.data["services"]] == ["db", "devcontainer"]
    assert done.data["logs"] == {} and done.data["healthchecks"] == {}
    assert done.data["pulled"] == [] and done.data["not_exercised"] == {}
    assert len(done.views) == 1 and str(done.views[0].title).startswith("stack (")


def test_stack_up_shows_each_unhealthy_service_with_its_check_and_logs(
    provided: Profiled, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = {
        "db": ServiceStatus("db", "running", "unhealthy", container="c1"),
        "devcontainer": ServiceStatus("devcontainer", "exited", "", container="quiet"),
    }
    engine = Engine(monkeypatch, result)
    engine.up_error = "compose said [no]"
    done = stack_workflow.stack_up(provided, quiet=True)
    assert not done.ok and done.data["error"] == "compose said [no]"
    assert done.data["healthchecks"] == {"db": "probe of c1 failed", "devcontainer": ""}
    assert done.data["logs"]["db"] == ["db log [one]", "db log 2"]
    assert done.views[1:] == [
        "[red]compose said \\[no][/]",
        "[red]db is unhealthy:[/] probe of c1 failed",
        "[red]db is unhealthy[/]; last logs:",
        "  db log \\[one]",
        "  db log 2",
        "[red]devcontainer is exited[/]; last logs:",
        "  devcontainer log \\[one]",
        "  devcontainer log 2",
    ]


def test_stack_up_fails_when_compose_fails_even_with_every_service_ready(
    provided: Profiled, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready = {name: ServiceStatus(name, "running", "healthy") for name in ("db", "devcontainer")}
    Engine(monkeypatch, ready).up_error = "docker compose up --wait had not returned"
    done = stack_workflow.stack_up(provided, quiet=True)
    assert not done.ok and done.data["ok"] is False


def test_stack_up_needs_its_secrets_first(mini: MiniStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DB_PASSWORD", raising=False)
    engine = Engine(monkeypatch, {})
    with pytest.raises(UsageError) as refused:
        stack_workflow.stack_up(Profiled.load("", mini.root), quiet=True)
    assert str(refused.value) == (
        "secrets not provided: DB_PASSWORD. Fix: export them, or run `invoke env.init` to "
        "write random ones to .devcontainer/.env"
    )
    assert engine.calls == []


def test_a_tier_starts_only_the_services_up_to_it(
    tiered: MiniStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_PASSWORD", "x")
    engine = Engine(monkeypatch, {"db": ServiceStatus("db", "running", "healthy")})
    done = stack_workflow.stack_up(Profiled.load("", tiered.root), tier=1, quiet=True)
    assert engine.calls[0][2] == ["db"]
    assert done.data["not_exercised"] == {
        "devcontainer": "tier 2 is above --tier 1",
        "web": "tier 4 is above --tier 1",
    }
    assert done.views[1:] == [
        "[yellow]not exercised:[/] devcontainer: tier 2 is above --tier 1",
        "[yellow]not exercised:[/] web: tier 4 is above --tier 1",
    ]


def test_a_restart_waits_for_the_service_again(
    provided: Profiled, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = Engine(monkeypatch, {"db": ServiceStatus("db", "running", "healthy")})
    done = stack_workflow.restart_service(provided, "db")
    assert engine.calls == [
        ("restart", "client", "db"),
        ("wait", "client", ["db"], "mcp-cluster", 120),
    ]
    assert done.ok and done.data["services"][0]["service"] == "db"
    assert done.views[0].title == "restart db"
    engine.result["db"] = ServiceStatus("db", "running", "starting")
    assert not stack_workflow.restart_service(provided, "db").ok
    with pytest.raises(UsageError, match="no service 'dbx'"):
        stack_workflow.restart_service(provided, "dbx")


# ---------------------------------------------------------------- mcp.probe


@pytest.mark.parametrize(("repeat", "concurrency"), [(0, 1), (1, 0), (1001, 1), (500, 3)])
def test_the_probe_refuses_counts_out_of_range(repeat: int, concurrency: int) -> None:
    with pytest.raises(UsageError) as refused:
        probe_workflow.probe_servers(repeat=repeat, concurrency=concurrency)
    assert str(refused.value) == (
        "--repeat and --concurrency must be >= 1 and their product at most 1000"
    )


def test_the_probe_refuses_a_server_that_is_not_one() -> None:
    with pytest.raises(UsageError) as refused:
        probe_workflow.probe_servers("gti")
    names = ", ".join(sorted(load_stack(REPO).manifests))
    assert str(refused.value) == f"no MCP server 'gti'; choose one of {names}"


class Probes:
    """The probe's sessions, answered from a script."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, results: list[ProbeResult]) -> None:
        self.results = results
        self.asked: list[tuple[list[str], int, int]] = []
        monkeypatch.setattr(probe_workflow, "run_probes", self.run_probes)
        monkeypatch.setattr(probe_workflow, "reachable", self.reachable)
        monkeypatch.setattr(probe_workflow, "probe_specs", self.probe_specs)
        self.unreachable: list[Skipped] = []
        self.refused: list[Skipped] = []
        self.names: list[tuple[str, ...]] = []
        self.roots: list[Path] = []

    def probe_specs(
        self, stack: Any, names: tuple[str, ...], workspace: Path, url: str, timeout: float
    ) -> tuple[list[ProbeSpec], list[Skipped]]:
        assert workspace == REPO and url.startswith("http://127.0.0.1:")
        self.names.append(names)
        picked = [r.name for r in self.results if not names or r.name in names]
        specs = [ProbeSpec(name, "python3", timeout=timeout) for name in picked]
        return specs, list(self.refused)

    def run_probes(
        self, specs: list[ProbeSpec], repeat: int, concurrency: int, reach: Reach
    ) -> list[ProbeResult]:
        self.asked.append(([f"{s.name} {s.timeout:g}" for s in specs], repeat, concurrency))
        return [r for r in self.results if r.name in {s.name for s in specs}]

    def reachable(
        self, stack: Any, specs: list[ProbeSpec]
    ) -> tuple[list[ProbeSpec], list[Skipped], Reach]:
        self.roots.append(stack.root)
        return specs, list(self.unreachable), Reach()


def test_the_probe_reports_each_server_and_passes_when_all_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    git = ProbeResult("git", True, "git", "1.2", "2025-06-18", 7, 812.4, [10.0, 30.0])
    probes = Probes(monkeypatch, [git])
    done = probe_workflow.probe_servers("git", repeat=2, concurrency=3, timeout=9)
    assert probes.asked == [(["git 9"], 2, 3)] and probes.names == [("git",)]
    assert probes.roots == [REPO]
    assert done.ok and done.data["ok"] is True
    assert (done.data["repeat"], done.data["concurrency"]) == (2, 3)
    assert done.data["servers"] == [git.to_json()] and done.data["not_exercised"] == []
    [table] = done.views
    assert table.title == "MCP probe (3 x 2 requests)"
    assert cells(table) == [
        ("git", "[green]yes[/]", "git 1.2", "2025-06-18", "7", "812", "20", "30")
    ]


def test_a_failed_server_or_a_refused_launch_fails_the_probe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = ProbeResult("git", False, error="git did not answer [in] time")
    probes = Probes(monkeypatch, [broken])
    probes.refused = [Skipped("evil", "--privileged is not allowed", refused=True)]
    probes.unreachable = [Skipped("postgres", "served [on] the network")]
    done = probe_workflow.probe_servers()
    assert not done.ok and done.data["ok"] is False
    assert done.views[1:] == [
        "[red]git:[/] git did not answer \\[in] time",
        "[red]evil:[/] --privileged is not allowed",
        "[yellow]not exercised:[/] postgres: served \\[on] the network",
    ]
    assert done.data["not_exercised"] == [
        {"name": "evil", "reason": "--privileged is not allowed", "refused": True},
        {"name": "postgres", "reason": "served [on] the network", "refused": False},
    ]


def test_a_server_not_exercised_fails_only_when_it_was_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    probes = Probes(monkeypatch, [ProbeResult("git", True)])
    probes.unreachable = [Skipped("postgres", "served on the network")]
    assert probe_workflow.probe_servers().ok
    assert not probe_workflow.probe_servers("postgres").ok
    assert probe_workflow.probe_servers(repeat=1, concurrency=1000).ok
    assert probe_workflow.probe_servers(repeat=1000, concurrency=1).ok


def test_url_servers_wait_for_the_dev_container(monkeypatch: pytest.MonkeyPatch) -> None:
    stack = load_stack(REPO)
    reached: list[tuple[str, str]] = []

    def reach_for(container: str, user: str) -> Reach:
        reached.append((container, user))
        return Reach()

    monkeypatch.setattr(probe_workflow, "reach_for", reach_for)
    stdio, url = ProbeSpec("git", "python3"), ProbeSpec("postgres", url="http://p:8000/sse")
    monkeypatch.setattr(probe_workflow, "dev_container", lambda stack: "")
    kept, skipped, _ = probe_workflow.reachable(stack, [stdio, url])
    assert kept == [stdio]
    assert skipped == [
        Skipped(
            "postgres",
            f"served on the cluster network: start the dev container ({stack.dev_service})",
        )
    ]
    monkeypatch.setattr(probe_workflow, "dev_container", lambda stack: "c0ffee")
    assert probe_workflow.reachable(stack, [stdio, url])[:2] == ([stdio, url], [])
    user = remote_settings(stack).user
    assert reached == [("", user), ("c0ffee", user)]
    monkeypatch.setattr(probe_workflow, "dev_container", lambda stack: pytest.fail("asked"))
    assert probe_workflow.reachable(stack, [stdio])[:2] == ([stdio], [])
    assert reached[-1] == ("", user)


# ---------------------------------------------------------------- verify


class FakeVerifier:
    """The sections' checks, as scripted; records what the workflow set and asked."""

    def __init__(self, stack: Any = None) -> None:
        self.stack = stack
        self.restart_databases = False
        self.not_exercised: dict[str, str] = {}
        self.running: dict[str, ServiceStatus] = {}
        self.gpu_args: tuple[Any, ...] = ()
        self.monitored: Any = None

    def health(self) -> list[Check]:
        return [Check("health", "db", PASS, "pg_isready: ok"), Check("health", "web", SKIP, "x")]

    def logs(self) -> list[Check]:
        return [Check("logs", "db", FAIL, "FATAL [boom]")]

    def stayed_up(self) -> Check:
        return Check("stack", "every service stayed up", PASS, "2 services")

    def gpu(self, has_nvidia: bool, violations: list[str]) -> list[Check]:
        self.gpu_args = (has_nvidia, violations)
        return []

    def monitoring(self, get: Any) -> list[Check]:
        self.monitored = get
        return []


@pytest.fixture
def verifier(monkeypatch: pytest.MonkeyPatch) -> FakeVerifier:
    made = FakeVerifier()

    class Loaded:
        @staticmethod
        def load(profile: str) -> Any:
            assert profile == "offline"
            return type("P", (), {"verifier": lambda self: made})()

    monkeypatch.setattr(verify_workflow, "Profiled", Loaded)
    sections = {"health": FakeVerifier.health, "logs": FakeVerifier.logs}
    monkeypatch.setattr(verify_workflow, "sections", lambda calls=None: sections)
    return made


def test_the_sections_in_the_order_verify_all_runs_them() -> None:
    assert list(verify_workflow.sections()) == [
        "health",
        "logs",
        "network",
        "volumes",
        "gpu",
        "monitoring",
        "freethreading",
        "client",
    ]


def test_one_section_runs_alone_and_fails_on_a_failed_check(verifier: FakeVerifier) -> None:
    done = verify_workflow.verify(["logs"], "offline")
    assert not done.ok and done.data["ok"] is False
    assert done.data["summary"] == {"pass": 0, "fail": 1, "not exercised": 0}
    assert done.data["checks"] == [
        {"section": "logs", "name": "db", "status": "fail", "detail": "FATAL [boom]"}
    ]
    table, summary = done.views
    assert table.title == "verify"
    assert headers(table) == ("section", "check", "result", "detail")
    assert cells(table) == [("logs", "db", "[bold red]fail[/]", "FATAL \\[boom]")]
    assert summary == "0 passed, 1 failed, 0 not exercised"
    assert verifier.restart_databases is False


def test_several_sections_end_with_every_service_still_up(verifier: FakeVerifier) -> None:
    done = verify_workflow.verify(["health"], "offline", persistence=True)
    assert done.ok and len(done.data["checks"]) == 2 and verifier.restart_databases is True
    done = verify_workflow.verify(["health", "health"], "offline")
    assert done.ok and done.data["summary"] == {"pass": 3, "fail": 0, "not exercised": 2}
    assert done.data["checks"][-1]["name"] == "every service stayed up"
    assert [row[2] for row in cells(done.views[0])] == [
        "[green]pass[/]",
        "[yellow]not exercised[/]",
        "[green]pass[/]",
        "[yellow]not exercised[/]",
        "[green]pass[/]",
    ]
    assert done.views[1] == "3 passed, 0 failed, 2 not exercised"


def test_the_persistence_check_runs_alone_after_the_other_sections(
    verifier: FakeVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[tuple[str, threading.Thread]] = []

    given: list[Any] = []

    def section(name: str) -> Callable[[Any], list[Check]]:
        def run(checked: Any) -> list[Check]:
            given.append(checked)
            ran.append((name, threading.current_thread()))
            return [Check(name, name, PASS, "")]

        return run

    named = {name: section(name) for name in ("health", "logs", "volumes")}
    monkeypatch.setattr(verify_workflow, "sections", lambda calls=None: named)
    done = verify_workflow.verify(["volumes", "health", "logs"], "offline", persistence=True)
    assert [check["section"] for check in done.data["checks"][:3]] == ["volumes", "health", "logs"]
    assert {name for name, _ in ran[:2]} == {"health", "logs"}
    assert ran[2] == ("volumes", threading.current_thread())
    assert given == [verifier] * 3  # every section checks the one stack the workflow loaded
    ran.clear()
    verify_workflow.verify(["volumes", "health", "logs"], "offline")
    assert ("volumes", threading.current_thread()) not in ran


def test_the_gpu_section_is_told_the_runtime_and_the_compose_findings(
    monkeypatch: pytest.MonkeyPatch, mini: MiniStack
) -> None:
    stack = load_stack(mini.root)
    monkeypatch.setattr(verify_workflow, "docker_client", lambda: "client")
    monkeypatch.setattr(verify_workflow, "runtimes", lambda client: ["runc", "nvidia"])
    fake = FakeVerifier(stack)
    assert verify_workflow.sections()["gpu"](fake) == []  # type: ignore[arg-type]
    assert fake.gpu_args == (True, [])
    monkeypatch.setattr(verify_workflow, "runtimes", lambda client: ["runc", "nvidia-x"])
    verify_workflow.sections()["gpu"](fake)  # type: ignore[arg-type]
    assert fake.gpu_args == (False, [])
    verify_workflow.sections()["monitoring"](fake)  # type: ignore[arg-type]
    assert fake.monitored is http_get


def test_the_client_section_waits_for_the_dev_container(mini: MiniStack) -> None:
    stack = load_stack(mini.root)
    fake = FakeVerifier(stack)
    names = sorted(stack.devcontainer.servers)
    fake.not_exercised = {"devcontainer": "behind compose profile dev (not enabled)"}
    assert verify_workflow.client_checks(fake) == [  # type: ignore[arg-type]
        Check("client", name, SKIP, "behind compose profile dev (not enabled)") for name in names
    ]
    fake.not_exercised = {}
    down = [
        Check("client", name, FAIL, "dev container (devcontainer) is not running") for name in names
    ]
    assert verify_workflow.client_checks(fake) == down  # type: ignore[arg-type]
    fake.running = {"devcontainer": ServiceStatus("devcontainer", "running", "healthy")}
    assert verify_workflow.client_checks(fake) == down  # type: ignore[arg-type]


def test_the_client_section_probes_each_server_inside_the_dev_container(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = load_stack(mini.root)
    fake = FakeVerifier(stack)
    fake.running = {"devcontainer": ServiceStatus("devcontainer", "running", container="c0ffee")}
    asked: list[Any] = []

    def inside_specs(
        stack: Any, remote: Any, container: str, url: str, timeout: float, origin: str
    ) -> tuple[list[ProbeSpec], list[Skipped]]:
        assert url.startswith("http://127.0.0.1:") and stack is fake.stack
        asked.append((remote.user, container, timeout, origin))
        skipped = [
            Skipped("github", "GITHUB_PERSONAL_ACCESS_TOKEN is not set"),
            Skipped("evil", "no", True),
        ]
        return [ProbeSpec("memory")], skipped

    def run_probes(
        specs: list[ProbeSpec],
        repeat: int,
        concurrency: int,
        reach: Any,
        together: bool,
        answered: Callable[[ProbeSpec, ProbeResult], object],
    ) -> list[ProbeResult]:
        assert specs == [ProbeSpec("memory")]
        asked.append((repeat, concurrency, reach, together))
        answered(specs[0], ProbeResult("memory", True))  # nobody is told without `calls`
        return [
            ProbeResult("memory", True, tools=9, cold_start_ms=1234.56),
            ProbeResult("filesystem", False, error="filesystem did not answer"),
        ]

    monkeypatch.setattr(verify_workflow, "inside_specs", inside_specs)
    monkeypatch.setattr(verify_workflow, "run_probes", run_probes)
    monkeypatch.setattr(verify_workflow, "reach_for", lambda container, user: (container, user))
    checks = verify_workflow.client_checks(fake, timeout=7.0)  # type: ignore[arg-type]
    user = remote_settings(stack).user
    assert asked == [(user, "c0ffee", 7.0, "verify"), (1, 1, ("c0ffee", user), True)]
    assert checks == [
        Check(
            "client", "memory", PASS, f"as {user} in devcontainer: 9 tools, probe call ok, 1235 ms"
        ),
        Check("client", "filesystem", FAIL, "filesystem did not answer"),
        Check("client", "github", SKIP, "GITHUB_PERSONAL_ACCESS_TOKEN is not set"),
        Check("client", "evil", FAIL, "no"),
    ]
    asked.clear()
    verify_workflow.client_checks(fake)  # type: ignore[arg-type]
    assert asked[0] == (user, "c0ffee", 60.0, "verify")  # a server gets a minute to answer


def test_the_client_section_calls_once_the_count_is_read_and_tells_each_answer(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeVerifier(load_stack(mini.root))
    fake.running = {"devcontainer": ServiceStatus("devcontainer", "running", container="c0ffee")}
    calls = ClientCalls()
    told: list[Any] = []
    monkeypatch.setattr(calls, "answered", lambda spec, result: told.append((spec, result)))
    monkeypatch.setattr(verify_workflow, "inside_specs", lambda *args: ([ProbeSpec("git")], []))
    monkeypatch.setattr(verify_workflow, "reach_for", lambda container, user: "reach")

    def run_probes(specs: list[ProbeSpec], *args: Any, **options: Any) -> list[ProbeResult]:
        told.append("called")
        options["answered"](specs[0], ProbeResult("git", True))
        return [ProbeResult("git", True)]

    monkeypatch.setattr(verify_workflow, "run_probes", run_probes)
    client = threading.Thread(target=lambda: verify_workflow.client_checks(fake, calls=calls))  # type: ignore[arg-type]
    client.start()
    client.join(timeout=0.2)
    assert client.is_alive() and told == []  # the count is not read yet
    calls.read()
    client.join(timeout=5.0)
    assert told == ["called", (ProbeSpec("git"), ProbeResult("git", True))]


def test_the_client_section_ends_the_count_s_wait_however_it_ends(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeVerifier(load_stack(mini.root))
    calls = ClientCalls()
    verify_workflow.client_checks(fake, calls=calls)  # type: ignore[arg-type]
    assert calls.call() is False  # the dev container is not running: nothing was called
    fake.running = {"devcontainer": ServiceStatus("devcontainer", "running", container="c0ffee")}
    monkeypatch.setattr(verify_workflow, "inside_specs", lambda *args: 1 / 0)
    calls = ClientCalls()
    with pytest.raises(ZeroDivisionError):
        verify_workflow.client_checks(fake, calls=calls)  # type: ignore[arg-type]
    assert calls.call() is False


def test_verify_shares_the_client_calls_only_when_both_sections_run(
    verifier: FakeVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    given: list[Any] = []

    def sections(calls: ClientCalls | None = None) -> dict[str, Any]:
        given.append(calls)
        return {name: lambda v: [] for name in ("monitoring", "client", "logs")}

    monkeypatch.setattr(verify_workflow, "sections", sections)
    verify_workflow.verify(["monitoring", "logs"], "offline")
    verify_workflow.verify(["client"], "offline")
    verify_workflow.verify(["client", "monitoring"], "offline")
    assert given[:2] == [None, None] and isinstance(given[2], ClientCalls)


def test_the_client_section_is_given_the_calls_to_share(monkeypatch: pytest.MonkeyPatch) -> None:
    given: list[Any] = []
    checks = [Check("client", "git", PASS, "")]

    def client_checks(verifier: Any, calls: Any) -> list[Check]:
        given.append((verifier, calls))
        return checks

    monkeypatch.setattr(verify_workflow, "client_checks", client_checks)
    fake, calls = FakeVerifier(), ClientCalls()
    assert verify_workflow.sections(calls)["client"](fake) is checks  # type: ignore[arg-type]
    assert verify_workflow.sections()["client"](fake) is checks  # type: ignore[arg-type]
    assert given == [(fake, calls), (fake, None)]


def test_the_monitoring_section_counts_while_its_other_checks_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    both = threading.Barrier(2, timeout=5.0)
    fake = FakeVerifier()
    counting: list[Any] = []

    def monitoring(get: Any) -> list[Check]:
        both.wait()
        return [Check("monitoring", "targets", PASS, "")]

    def counted_call(verifier: Any, get: Any, calls: Any) -> list[Check]:
        both.wait()
        counting.append((verifier, get, calls))
        return [Check("monitoring", "counted", PASS, "")]

    monkeypatch.setattr(fake, "monitoring", monitoring)
    monkeypatch.setattr(verify_workflow, "counted_call", counted_call)
    calls = ClientCalls()
    checks = verify_workflow.sections(calls)["monitoring"](fake)  # type: ignore[arg-type]
    assert [c.name for c in checks] == ["targets", "counted"]
    assert counting == [(fake, http_get, calls)]


def test_the_client_section_first_waits_for_services_still_starting(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeVerifier(load_stack(mini.root))
    fake.client, fake.network = "client", "net"  # type: ignore[attr-defined]
    fake.running = {
        "devcontainer": ServiceStatus("devcontainer", "running", "healthy", container="c0ffee"),
        "db-mcp": ServiceStatus("db-mcp", "running", "starting"),
        "cache": ServiceStatus("cache", "running", "starting"),
        "web": ServiceStatus("web", "running", "none"),
    }
    waited: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        verify_workflow,
        "wait_healthy",
        lambda client, names, network, timeout: waited.append((client, names, network, timeout)),
    )
    monkeypatch.setattr(verify_workflow, "inside_specs", lambda *args: ([], []))
    monkeypatch.setattr(verify_workflow, "run_probes", lambda *args, **kwargs: [])
    assert verify_workflow.client_checks(fake, timeout=9.0) == []  # type: ignore[arg-type]
    assert waited == [("client", ["cache", "db-mcp"], "net", 9.0)]
    fake.running = {"devcontainer": fake.running["devcontainer"]}
    verify_workflow.client_checks(fake)  # type: ignore[arg-type]
    assert len(waited) == 1  # nothing starting: nothing waited for


# ---------------------------------------------------------------- env.init


@pytest.fixture
def no_volumes(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The engine's answer about the data volumes: none of them exists."""
    asked: list[list[str]] = []

    def describe(client: Any, names: list[str]) -> list[VolumeInfo]:
        asked.append(names)
        return [VolumeInfo(name, False, ()) for name in names]

    monkeypatch.setattr(engine_volumes, "describe", describe)
    monkeypatch.setattr("tasks.engine.client.docker_client", lambda: "client")
    monkeypatch.delenv("DB_PASSWORD", raising=False)
    monkeypatch.delenv("GITHUB_PERSONAL_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv(CA_VARIABLE, "/etc/ssl/certs/ca-certificates.crt")
    return asked


def test_env_init_writes_a_private_password_for_each_missing_secret(
    mini: MiniStack, no_volumes: list[list[str]]
) -> None:
    env = mini.folder / ".env"
    env.write_text("KEEP=me")
    done = env_workflow.init_env(root=str(mini.root))
    assert done.data == {"env": str(env), "profile": None, "generated": ["DB_PASSWORD"]}
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    lines = env.read_text().splitlines()
    assert lines[0] == "KEEP=me" and lines[1].startswith("DB_PASSWORD=") and len(lines) == 2
    assert len(lines[1].removeprefix("DB_PASSWORD=")) == 32
    assert no_volumes == [["db-data"]]
    assert done.views == [".devcontainer/.env: generated DB_PASSWORD"]
    again = env_workflow.init_env(root=str(mini.root))
    assert again.data["generated"] == [] and env.read_text().splitlines() == lines
    assert again.views[-1] == ".devcontainer/.env: every password is already provided"


def test_env_init_adds_the_hosts_ca_bundle_where_debians_is_missing(
    mini: MiniStack, no_volumes: list[list[str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle.pem"
    monkeypatch.setattr(plan_module, "DEFAULT_CA_BUNDLE", str(tmp_path / "none.pem"))
    monkeypatch.setattr(plan_module, "detect_ca_bundle", lambda: bundle)
    env = mini.folder / ".env"
    env.write_text("DB_PASSWORD=kept\n")
    env_workflow.init_env(root=str(mini.root))
    assert env.read_text() == f"DB_PASSWORD=kept\n{CA_VARIABLE}={bundle}\n"
    env_workflow.init_env(root=str(mini.root))
    assert env.read_text() == f"DB_PASSWORD=kept\n{CA_VARIABLE}={bundle}\n"


def test_env_init_refuses_an_env_file_compose_would_refuse_before_writing(
    mini: MiniStack, no_volumes: list[list[str]]
) -> None:
    env = mini.folder / ".env"
    env.write_text("A=1\nbad line\n")
    with pytest.raises(StackError) as refused:
        env_workflow.init_env(root=str(mini.root))
    assert str(refused.value).startswith(f"{env}:2 [bad line]: cannot read 'bad line' as KEY=VALUE")
    assert env.read_text() == "A=1\nbad line\n"


def test_env_init_names_an_env_file_that_is_not_utf8(
    mini: MiniStack, no_volumes: list[list[str]]
) -> None:
    env = mini.folder / ".env"
    env.write_bytes(b"A=1\nB=caf\xe9\n")
    with pytest.raises(StackError) as refused:
        env_workflow.init_env(root=str(mini.root))
    assert str(refused.value).startswith(f"{env}:2: env file is not UTF-8: byte 0xe9 at column 6.")


def test_a_profile_written_before_a_failure_stays_private(
    mini: MiniStack, no_volumes: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    (mini.folder / PROFILES_DIR).mkdir(exist_ok=True)
    (mini.folder / PROFILES_DIR / "lean.env").write_text("BASE_IMAGE=debian:13\n")

    def unreadable(base: Path) -> NoReturn:
        raise StackError(mini.folder / COMPOSE, "unreadable", "fix it")

    monkeypatch.setattr(env_workflow, "load_stack", unreadable)
    with pytest.raises(StackError):
        env_workflow.init_env(profile="lean", root=str(mini.root))
    env = mini.folder / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert block_values(env.read_text()) == {PROFILE_KEY: "lean", "BASE_IMAGE": "debian:13"}


def test_every_password_generated_is_named(
    mini: MiniStack, no_volumes: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CACHE_PASSWORD", raising=False)
    mini.edit_yaml(
        COMPOSE,
        lambda d: d["secrets"].update(cache_password={"environment": "CACHE_PASSWORD"}),
    )
    done = env_workflow.init_env(root=str(mini.root))
    assert sorted(done.data["generated"]) == ["CACHE_PASSWORD", "DB_PASSWORD"]
    assert done.views == [f".devcontainer/.env: generated {', '.join(done.data['generated'])}"]


def test_env_init_prepares_this_repositorys_stack_by_default(
    mini: MiniStack, no_volumes: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(env_workflow, "REPO_ROOT", mini.root)
    assert env_workflow.init_env().data["env"] == str(mini.folder / ".env")


def test_a_credential_from_elsewhere_is_left_to_the_user(
    mini: MiniStack, no_volumes: list[list[str]]
) -> None:
    mini.edit_yaml(COMPOSE, lambda d: d["secrets"].update(gh={"environment": "GITHUB_TOKEN"}))
    done = env_workflow.init_env(root=str(mini.root))
    assert done.data["generated"] == ["DB_PASSWORD"]
    assert "GITHUB_TOKEN" not in (mini.folder / ".env").read_text()
    assert done.views == [
        "GITHUB_TOKEN is a credential from elsewhere (e.g. a GitHub token): set it yourself in "
        ".devcontainer/.env or the shell when you need it",
        ".devcontainer/.env: generated DB_PASSWORD",
    ]


def test_a_password_from_the_shell_is_not_written(
    mini: MiniStack, no_volumes: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_PASSWORD", "from-the-shell")
    monkeypatch.setenv("GITHUB_PERSONAL_ACCESS_TOKEN", "ghp_x")
    done = env_workflow.init_env(root=str(mini.root))
    assert done.data["generated"] == [] and no_volumes == []
    assert (mini.folder / ".env").read_text() == ""
    assert done.views == [".devcontainer/.env: every password is already provided"]


def test_no_password_is_minted_for_data_made_with_another(
    mini: MiniStack, no_volumes: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        engine_volumes, "describe", lambda client, names: [VolumeInfo("db-data", True, ())]
    )
    with pytest.raises(Failure) as refused:
        env_workflow.init_env(root=str(mini.root))
    assert str(refused.value) == (
        "not generating DB_PASSWORD (volume db-data): the data there was created with another "
        "password, which a new one would not open. Fix: restore the .devcontainer/.env that "
        "created it, or back the data up (invoke volumes.backup) and remove it (invoke "
        "stack.down --volumes), then run env.init again"
    )
    assert not (mini.folder / ".env").exists()


def test_every_password_whose_data_exists_is_named(
    mini: MiniStack, no_volumes: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CACHE_PASSWORD", raising=False)

    def change(data: dict[str, Any]) -> None:
        data["secrets"]["cache_password"] = {"environment": "CACHE_PASSWORD"}
        data["volumes"]["cache-data"] = {"name": "cache-data"}
        data["services"]["cache"] = {
            "image": "busybox:1",
            "restart": "unless-stopped",
            "secrets": ["cache_password"],
            "volumes": ["cache-data:/data"],
        }

    mini.edit_yaml(COMPOSE, change)
    monkeypatch.setattr(
        engine_volumes,
        "describe",
        lambda client, names: [VolumeInfo(name, True, ()) for name in names],
    )
    with pytest.raises(Failure) as refused:
        env_workflow.init_env(root=str(mini.root))
    assert str(refused.value).startswith(
        "not generating DB_PASSWORD (volume db-data); CACHE_PASSWORD (volume cache-data): the "
        "data there was created with another password"
    )


def test_without_an_engine_the_volumes_go_unchecked_with_a_note(
    mini: MiniStack, no_volumes: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(client: Any, names: list[str]) -> list[VolumeInfo]:
        raise EngineError("docker does not answer")

    monkeypatch.setattr(engine_volumes, "describe", down)
    done = env_workflow.init_env(root=str(mini.root))
    assert done.views[0] == "[yellow]note:[/] no engine: cannot check for existing database volumes"
    assert done.data["generated"] == ["DB_PASSWORD"]


def test_a_password_goes_after_text_without_a_final_newline(mini: MiniStack) -> None:
    stack = load_stack(mini.root)
    said: list[str] = []
    text, added = envinit.with_passwords(stack, "A=1", {"DB_PASSWORD": ""}, said.append)
    assert added == ["DB_PASSWORD"] and text.startswith("A=1\nDB_PASSWORD=") and text.endswith("\n")
    text, _ = envinit.with_passwords(stack, "A=1\n", {}, said.append)
    assert text.startswith("A=1\nDB_PASSWORD=") and text.count("\n") == 2
    text, _ = envinit.with_passwords(stack, "", {}, said.append)
    assert text.startswith("DB_PASSWORD=") and text.count("\n") == 1
    text, added = envinit.with_passwords(stack, "", {"DB_PASSWORD": "set"}, said.append)
    assert (text, added) == ("", [])


def test_each_missing_password_gets_a_line_of_its_own(
    mini: MiniStack, no_volumes: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CACHE_PASSWORD", raising=False)
    mini.edit_yaml(
        COMPOSE, lambda d: d["secrets"].update(cache_password={"environment": "CACHE_PASSWORD"})
    )
    stack = load_stack(mini.root)
    text, added = envinit.with_passwords(stack, "A=1\n", {}, lambda line: None)
    assert added == ["DB_PASSWORD", "CACHE_PASSWORD"]
    lines = text.splitlines()
    assert lines[0] == "A=1" and len(lines) == 3 and text.endswith("\n")
    assert [line.partition("=")[0] for line in lines[1:]] == added
    assert all(len(line.partition("=")[2]) == 32 for line in lines[1:])  # 24 random bytes


def test_the_ca_bundle_is_written_only_where_debians_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("x")
    assert envinit.ca_line({CA_VARIABLE: "/given.pem"}) == []
    monkeypatch.setattr(plan_module, "DEFAULT_CA_BUNDLE", str(tmp_path / "none.pem"))
    monkeypatch.setattr(plan_module, "detect_ca_bundle", lambda: bundle)
    assert envinit.ca_line({}) == [f"{CA_VARIABLE}={bundle}"]
    monkeypatch.setattr(plan_module, "detect_ca_bundle", lambda: None)
    assert envinit.ca_line({}) == []


def test_a_services_environment_masks_its_secrets(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    mini.put(".env", "DB_PASSWORD=s3cret\n")
    stack = load_stack(mini.root)
    rows = envinit.service_environment(stack, "db")
    assert rows == [
        {
            "variable": "POSTGRES_PASSWORD_FILE",
            "value": "/run/secrets/db_password",
            "source": ".devcontainer/docker-compose.mcp.yml:20",
        },
        {"variable": "/run/secrets/db_password", "value": "****", "source": "compose secret"},
    ]

    def unlined(stack: Any, service: Any) -> dict[str, Setting]:
        return {"TZ": Setting("UTC", stack.compose.path, None)}

    monkeypatch.setattr(rules_context, "effective_env", unlined)
    [row, _] = envinit.service_environment(stack, "db")
    assert row["source"] == ".devcontainer/docker-compose.mcp.yml"  # no line known: the file


# ---------------------------------------------------------------- --profile


@pytest.fixture
def profiled_mini(mini: MiniStack) -> MiniStack:
    for name in ("online", "offline"):
        mini.put(f"profiles/{name}.env", f"# {name}\n")

    def change(data: dict[str, Any]) -> None:
        data["services"]["grafana"] = {
            "image": "busybox:1",
            "restart": "unless-stopped",
            "profiles": ["grafana"],
            "volumes": ["./generated/grafana.ini:/etc/grafana.ini:ro"],
            "x-generated": {"generated/grafana.ini": "invoke monitoring.config"},
        }

    mini.edit_yaml(COMPOSE, change)
    return mini


def test_profile_names_split_into_the_image_profile_and_compose_profiles(
    profiled_mini: MiniStack,
) -> None:
    folder = profiled_mini.folder
    assert split_profiles(folder, "grafana,offline,,x") == ("offline", ("grafana", "x"))
    assert split_profiles(folder, "") == (None, ())
    with pytest.raises(ValueError, match=r"\Achoose one image profile, not online, offline\Z"):
        split_profiles(folder, "online,grafana,offline")
    with pytest.raises(UsageError, match=r"\Achoose one image profile, not offline, online\Z"):
        Profiled.load("offline,online", profiled_mini.root)
    loaded = Profiled.load("grafana,offline", profiled_mini.root)
    assert (loaded.image_profile, loaded.compose_profiles) == ("offline", ("grafana",))


def test_the_network_is_the_dev_containers_first(profiled_mini: MiniStack) -> None:
    assert Profiled.load("", profiled_mini.root).network == "mcp-cluster"

    def change(data: dict[str, Any]) -> None:
        data["networks"]["side"] = {"name": "side-net"}
        data["services"]["devcontainer"]["networks"] = {"side": {}, "mcp-cluster": {}}

    profiled_mini.edit_yaml(COMPOSE, change)
    assert Profiled.load("", profiled_mini.root).network == "side-net"

    def lonely(data: dict[str, Any]) -> None:
        del data["services"]["devcontainer"]["networks"]

    profiled_mini.edit_yaml(COMPOSE, lonely)  # then it is on compose's default network
    assert Profiled.load("", profiled_mini.root).network == "mini_default"


def test_without_its_dev_container_the_network_is_the_stacks_first_one(
    profiled_mini: MiniStack,
) -> None:
    profiled_mini.edit_json("devcontainer.json", lambda data: data.update(service="absent"))
    loaded = Profiled.load("", profiled_mini.root)
    assert loaded.stack.dev_service == "absent"
    assert loaded.network == "mini_default"


def test_an_unknown_compose_profile_is_bad_input(profiled_mini: MiniStack) -> None:
    loaded = Profiled.load("grafna", profiled_mini.root)
    with pytest.raises(UsageError, match=r"\Ano compose profile 'grafna' in docker-compose"):
        loaded.selection()
    with pytest.raises(UsageError, match="no compose profile 'grafna'"):
        loaded.selection(2)
    assert Profiled.load("grafana", profiled_mini.root).selection(4).services[-1] == "grafana"


def test_a_mount_a_task_makes_must_exist_first(profiled_mini: MiniStack) -> None:
    loaded = Profiled.load("grafana", profiled_mini.root)
    loaded.require_generated(["db"])
    with pytest.raises(UsageError) as refused:
        loaded.require_generated(["db", "grafana"])
    assert str(refused.value) == (
        "service grafana mounts generated/grafana.ini, which does not exist yet. "
        "Fix: run `invoke monitoring.config`"
    )
    profiled_mini.put("generated/grafana.ini", "")
    loaded.require_generated(["grafana"])


@pytest.fixture
def pulled(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Each (reference, local tag) the profile pulls, recorded instead of pulled."""
    made: list[tuple[str, str]] = []
    monkeypatch.setattr(profile_module, "pull_as", lambda client, ref, tag: made.append((ref, tag)))
    monkeypatch.setattr(Profiled, "client", "client")
    return made


def test_images_are_pulled_for_the_selected_services_and_every_server(
    profiled_mini: MiniStack, pulled: list[tuple[str, str]]
) -> None:
    loaded = Profiled.load("", profiled_mini.root)
    selection = Selection(("db",), ())
    refs = loaded.pull_images(selection, "127.0.0.1:5000/mcp/")
    assert pulled == [
        (f"127.0.0.1:5000/mcp/{tag.partition(':')[0]}:latest", tag) for _, tag in pulled
    ]
    tags = sorted(tag for _, tag in pulled)
    assert tags == ["mini-db:latest", "mini-filesystem:latest", "mini-memory:latest"]
    assert refs == [ref for ref, _ in pulled]
    with pytest.raises(UsageError) as refused:
        loaded.pull_images(selection, "")
    assert str(refused.value) == (
        "--pull needs a registry: pass --registry PREFIX or set MCP_REGISTRY (in the shell or "
        ".devcontainer/.env)"
    )
    with pytest.raises(UsageError, match="is not a registry prefix"):
        loaded.pull_images(selection, "https://registry")


def test_pulls_take_the_locked_digest_else_the_locks_registry_else_the_given_one(
    profiled_mini: MiniStack, pulled: list[tuple[str, str]]
) -> None:
    pinned = f"127.0.0.1:5000/locked/mini-memory@sha256:{'a' * 64}"
    images = {"memory": ("mini-memory:latest", pinned)}
    profiled_mini.put(LOCK_FILE, lock_document("127.0.0.1:5000/locked", "online", images))
    loaded = Profiled.load("", profiled_mini.root)
    selection = Selection(("devcontainer",), ())
    assert loaded.pull_images(selection, "") == [
        "127.0.0.1:5000/locked/mini-dev:latest",
        "127.0.0.1:5000/locked/mini-filesystem:latest",
        pinned,
    ]
    assert sorted(pulled) == sorted([
        ("127.0.0.1:5000/locked/mini-dev:latest", "mini-dev:latest"),
        ("127.0.0.1:5000/locked/mini-filesystem:latest", "mini-filesystem:latest"),
        (pinned, "mini-memory:latest"),
    ])  # fmt: skip
    refs = loaded.pull_images(selection, "127.0.0.1:5001/mine")
    assert refs[:2] == [
        "127.0.0.1:5001/mine/mini-dev:latest",
        "127.0.0.1:5001/mine/mini-filesystem:latest",
    ]
    assert refs[2] == pinned


# ---------------------------------------------------------------- build


class Builder:
    """The engine's side of a build, recorded: the bake's definition and options, the registry's
    answers, what was pushed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, failed: tuple[str, ...] = ()) -> None:
        self.failed = failed
        self.calls: list[tuple[Any, ...]] = []
        self.present: frozenset[str] | None = frozenset()
        self.definition: dict[str, Any] = {}
        for name in ("docker_client", "require_engine", "builder_driver", "present_refs"):
            monkeypatch.setattr(build_workflow, name, getattr(self, name))
        monkeypatch.setattr(build_workflow, "run_builds", self.run_builds)
        monkeypatch.setattr(build_workflow, "push_images", self.push)
        monkeypatch.setenv(CA_VARIABLE, "/etc/ssl/certs/ca-certificates.crt")

    def docker_client(self) -> str:
        return "client"

    def require_engine(self, client: Any) -> str:
        self.calls.append(("engine", client))
        return "20.10"

    def builder_driver(self, client: Any, builder: str) -> str:
        self.calls.append(("driver", builder))
        return "docker-container" if builder else "docker"

    def present_refs(self, client: Any, refs: list[str], *, required: bool) -> Any:
        self.calls.append(("present", tuple(refs), required))
        return self.present

    def run_builds(self, client: Any, plan: Any, definition: dict[str, Any], **options: Any) -> Any:
        self.definition = definition
        self.calls.append(("bake", tuple(t.name for t in plan.targets), options["parallel"]))
        log = BuildLog()
        log.new_round(tuple(t.name for t in plan.targets))
        for target in plan.targets:
            log.feed(f"#1 [{target.name} 1/1] RUN x\n")
        options["listener"](log)
        return [
            result(t.tag, "failed" if t.name in self.failed else "built", error="boom")
            for t in plan.targets
        ]

    def push(self, client: Any, refs: list[str]) -> None:
        self.calls.append(("push", tuple(refs)))


def test_a_build_of_the_stacks_images_reports_each(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = Builder(monkeypatch)
    done = build_workflow.build(BuildRequest(root=str(mini.root), parallel=True), quiet=True)
    names = ("db", "devcontainer", "filesystem", "memory")
    assert builder.calls == [("engine", "client"), ("bake", names, True), ("push", ())]
    assert done.ok and done.data["ok"] is True
    assert done.data["profile"] == "online" and done.data["parallel"] is True
    assert done.data["ca_bundle"] == "/etc/ssl/certs/ca-certificates.crt"
    assert done.data["registry"] is None and done.data["pushed"] == []
    assert done.data["builder"] == {"name": None, "driver": "docker"}
    assert [i["tag"] for i in done.data["images"]] == [
        "mini-db:latest",
        "mini-dev:latest",
        "mini-filesystem:latest",
        "mini-memory:latest",
    ]
    assert done.data["not_buildable"] == []
    assert len(done.views) == 1 and str(done.views[0].title).startswith("build summary (")
    assert all("output" not in t for t in builder.definition["target"].values())


def test_one_failed_image_fails_the_build_and_shows_why(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    Builder(monkeypatch, failed=("memory",))
    done = build_workflow.build(BuildRequest(root=str(mini.root), name="memory"), quiet=True)
    assert not done.ok and done.data["ok"] is False
    assert done.views[1:] == ["[red]mini-memory:latest failed:[/] boom"]


def test_a_push_tags_for_the_registry_and_pushes_what_built(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = Builder(monkeypatch, failed=("db",))
    builder.present = frozenset({"127.0.0.1:5000/mcp/mini-dev:latest"})
    request = BuildRequest(
        root=str(mini.root), group="containers", registry="127.0.0.1:5000/mcp", push=True
    )
    done = build_workflow.build(request, quiet=True)
    registry = "127.0.0.1:5000/mcp"
    assert builder.calls == [
        ("engine", "client"),
        ("driver", ""),
        ("present", (f"{registry}/mini-db:latest", f"{registry}/mini-dev:latest"), True),
        ("bake", ("db", "devcontainer"), False),
        ("push", (f"{registry}/mini-dev:latest",)),
    ]
    dev = builder.definition["target"]["devcontainer"]
    assert dev["tags"] == ["mini-dev:latest", f"{registry}/mini-dev:latest"]
    assert dev["cache-from"] == [f"type=registry,ref={registry}/mini-dev:latest"]
    assert dev["cache-to"] == ["type=inline"]
    assert "cache-from" not in builder.definition["target"]["db"]
    assert done.data["pushed"] == [f"{registry}/mini-dev:latest"]
    assert done.data["registry"] == registry
    assert done.views[-2] == f"pushed {registry}/mini-dev:latest"
    assert done.views[-1].startswith("[cyan]note:[/] the docker driver embeds cache")


def test_a_builder_of_its_own_loads_its_images_into_the_engine(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = Builder(monkeypatch)
    request = BuildRequest(root=str(mini.root), name="db", builder="remote-kit", no_cache=True)
    done = build_workflow.build(request, quiet=True)
    assert builder.calls[1] == ("driver", "remote-kit")
    assert builder.definition["target"]["db"]["output"] == ["type=docker"]
    assert done.data["builder"] == {"name": "remote-kit", "driver": "docker-container"}
    assert not any(call[0] == "present" for call in builder.calls)


def test_a_registry_that_does_not_answer_builds_without_its_cache(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    builder = Builder(monkeypatch)
    builder.present = None
    request = BuildRequest(root=str(mini.root), name="db", registry="127.0.0.1:5000/mcp")
    done = build_workflow.build(request)
    assert done.ok and "cache-from" not in builder.definition["target"]["db"]
    assert "cache-to" not in builder.definition["target"]["db"]
    out = capsys.readouterr().out
    assert "note: 127.0.0.1:5000/mcp does not answer: building without its cache" in out
    assert "pushing" not in out  # nothing asked to be pushed


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (BuildRequest(name="nope"), "no image named 'nope'; choose from db, devcontainer, "),
        (
            BuildRequest(push=True),
            "--push needs a registry: pass --registry PREFIX or set MCP_REGISTRY",
        ),
        (
            BuildRequest(registry="acme/mcp"),
            "--registry: 'acme/mcp' has no registry host (Docker would read it as a Docker Hub",
        ),
        (BuildRequest(ca_bundle="/nonexistent/ca.pem"), "/nonexistent/ca.pem"),
    ],
)
def test_bad_build_options_are_refused_before_the_engine_is_asked(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch, request_: BuildRequest, message: str
) -> None:
    builder = Builder(monkeypatch)
    with pytest.raises(UsageError) as refused:
        build_workflow.build(replace(request_, root=str(mini.root)), quiet=True)
    assert message in str(refused.value) and builder.calls == []


def recorded_live(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[dict[str, Any]]:
    """The options of each live display `module` draws (rich's own Live draws it)."""
    made: list[dict[str, Any]] = []

    class Recorded(Live):
        def __init__(self, **options: Any) -> None:
            made.append(options)
            super().__init__(**options)

    monkeypatch.setattr(module, "Live", Recorded)
    return made


def test_a_terminal_sees_a_live_table_of_the_images_then_what_is_pushed(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120)
    monkeypatch.setattr(build_workflow, "console", terminal)
    made = recorded_live(monkeypatch, build_workflow)
    Builder(monkeypatch)
    request = BuildRequest(
        root=str(mini.root), group="containers", registry="127.0.0.1:5000/mcp", push=True
    )
    done = build_workflow.build(request)
    assert made == [{"console": terminal, "refresh_per_second": 4}]
    shown = Text.from_ansi(screen.getvalue()).plain
    assert "│ devcontainer │ building │ 0/1" in shown
    assert "pushing 2 image(s) to 127.0.0.1:5000/mcp" in shown
    assert done.data["pushed"] == [
        "127.0.0.1:5000/mcp/mini-db:latest",
        "127.0.0.1:5000/mcp/mini-dev:latest",
    ]
    screen.seek(0)
    screen.truncate(0)
    build_workflow.build(request, quiet=True)
    assert made[1:] == [] and screen.getvalue() == ""


def test_the_offline_profile_builds_on_the_engines_own_builder(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    mini.put("profiles/offline.env", "# offline\n")
    Builder(monkeypatch)
    request = BuildRequest(root=str(mini.root), profile="offline", builder="kit")
    with pytest.raises(UsageError) as refused:
        build_workflow.build(request, quiet=True)
    assert str(refused.value) == (
        "--builder kit: a docker-container builder cannot see the offline profile's stand-in "
        "base images, which live in the engine's image store; build offline on the engine's "
        "own builder"
    )


# ---------------------------------------------------------------- check, mcp.config, volumes


def test_check_runs_the_rules_once_every_file_reads(mini: MiniStack) -> None:
    done = check_workflow.check(str(mini.root))
    assert done.ok and done.data["rules_ran"] is True and done.data["root"] == str(mini.root)
    assert done.views[-1] == f"[bold green]OK[/] check {mini.root}: 0 errors, 0 warnings, 1 notes"
    assert done.data["rules"] == len(RULES) > 50


def test_check_audits_this_repositorys_stack_by_default(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(check_workflow, "REPO_ROOT", mini.root)
    monkeypatch.chdir(tmp_path)
    assert check_workflow.check().data["root"] == str(mini.root)


def test_check_loads_the_stack_with_the_profile_it_is_given(mini: MiniStack) -> None:
    with pytest.raises(StackError) as refused:
        check_workflow.check(str(mini.root), "nosuch")
    assert str(refused.value) == (
        f"{mini.folder}/profiles/nosuch.env [--profile]: no profile 'nosuch'. "
        "Fix: use one of: none defined"
    )


def test_check_reports_every_schema_violation_before_the_rules(mini: MiniStack) -> None:
    mini.edit_yaml(COMPOSE, lambda d: d["services"]["db"].update(restart=5))
    done = check_workflow.check(str(mini.root))
    assert not done.ok and done.data["rules_ran"] is False
    assert (done.data["root"], done.data["rules"]) == (str(mini.root), len(RULES))
    assert done.views[1:] == [
        "[cyan]note:[/] the other rules run once every file matches its schema",
        f"[bold red]FAIL[/] check {mini.root}: 1 errors, 0 warnings, 0 notes",
    ]
    mini.edit_yaml("mcp/memory/config/memory.yml", lambda d: d.update(env=5))
    both = check_workflow.check(str(mini.root))
    assert both.views[-1] == f"[bold red]FAIL[/] check {mini.root}: 2 errors, 0 warnings, 0 notes"


def test_regenerating_writes_or_shows_only_the_files_that_differ(tmp_path: Path) -> None:
    same, stale = tmp_path / "same.txt", tmp_path / "sub" / "stale.txt"
    same.write_text("kept\n")
    views = {same: "kept\n", stale: "new [text]\n"}

    def name(path: Path) -> str:
        return path.relative_to(tmp_path).as_posix()

    shown = generate_workflow.regenerate(views, name, True, "all agree")
    assert (shown.ok, shown.code) == (False, 1)
    assert shown.data == {"changed": ["sub/stale.txt"], "written": False}
    assert shown.views == ["--- sub/stale.txt\n+++ sub/stale.txt\n@@ -0,0 +1 @@\n+new \\[text]\n"]
    assert not stale.exists()
    done = generate_workflow.regenerate(views, name, False, "all agree")
    assert done.ok and done.data == {"changed": ["sub/stale.txt"], "written": True}
    assert done.views == ["wrote sub/stale.txt"] and stale.read_text() == "new [text]\n"
    again = generate_workflow.regenerate(views, name, True, "all agree")
    assert again.ok and again.views == ["all agree"] and again.data["changed"] == []


def test_mcp_config_writes_what_differs_or_shows_the_diff(mini: MiniStack) -> None:
    first = generate_workflow.regenerate_clients(str(mini.root))
    assert first.ok and first.data == {
        "changed": [".vscode/mcp.json", ".mcp.json"],
        "written": True,
    }
    assert first.views == ["wrote .vscode/mcp.json", "wrote .mcp.json"]
    done = generate_workflow.regenerate_clients(str(mini.root), dry_run=True)
    assert done.ok and done.data == {"changed": [], "written": False}
    assert done.views == ["client configs and the docs' table match the manifests"]
    mini.edit_yaml("mcp/memory/config/memory.yml", lambda d: d["env"].update(EXTRA="1"))
    before = (mini.root / ".mcp.json").read_text()
    shown = generate_workflow.regenerate_clients(str(mini.root), dry_run=True)
    assert (shown.ok, shown.code) == (False, 1)
    assert shown.data["changed"] == [
        ".devcontainer/devcontainer.json",
        ".vscode/mcp.json",
        ".mcp.json",
    ]
    assert all("EXTRA=1" in str(view) for view in shown.views)
    assert (mini.root / ".mcp.json").read_text() == before
    written = generate_workflow.regenerate_clients(str(mini.root))
    assert written.ok and written.views == [f"wrote {n}" for n in shown.data["changed"]]
    assert "EXTRA=1" in (mini.root / ".mcp.json").read_text()


def test_the_dashboards_are_written_where_grafana_reads_them(mini: MiniStack) -> None:
    with pytest.raises(Failure) as refused:
        generate_workflow.regenerate_dashboards(str(mini.root))
    assert str(refused.value) == (
        "no service of .devcontainer/docker-compose.mcp.yml mounts a folder at "
        "/var/lib/grafana-dashboards, where Grafana's dashboard provider reads: mount the "
        "dashboards folder there"
    )
    grafana = {
        "image": "busybox:1",
        "restart": "unless-stopped",
        "volumes": ["./dashboards:/var/lib/grafana-dashboards:ro"],
    }
    mini.edit_yaml(COMPOSE, lambda d: d["services"].update(grafana=grafana))
    files = [".devcontainer/dashboards/containers.json", ".devcontainer/dashboards/mcp.json"]
    shown = generate_workflow.regenerate_dashboards(str(mini.root), dry_run=True)
    assert (shown.ok, shown.data) == (False, {"changed": files, "written": False})
    written = generate_workflow.regenerate_dashboards(str(mini.root))
    assert written.views == [f"wrote {name}" for name in files]
    again = generate_workflow.regenerate_dashboards(str(mini.root), dry_run=True)
    assert again.ok and again.views == ["the dashboards match their source"]


def test_a_backup_lists_each_volume_and_where_it_went(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    asked: list[Any] = []

    def backup(client: Any, names: list[str], target: Path) -> dict[str, Any]:
        asked.append((names, target))
        entry = {"bytes": 3_450_000, "sha256": "ab" * 32, "method": "paused db"}
        return {"volumes": {name: entry for name in names}}

    monkeypatch.setattr(volumes_workflow, "backup_volumes", backup)
    monkeypatch.setattr(volumes_workflow, "docker_client", lambda: "client")
    done = volumes_workflow.backup(str(tmp_path / "b"), ["db-data"])
    assert asked == [(["db-data"], tmp_path / "b")]
    assert done.views == [
        f"db-data: 3.5 MB sha256 {'ab' * 6}, paused db",
        f"backup written to {tmp_path / 'b'}",
    ]
    assert done.data["dest"] == str(tmp_path / "b") and "db-data" in done.data["volumes"]
    done = volumes_workflow.backup("", [])
    names, target = asked[-1]
    assert names == load_stack(REPO).compose.volume_names()
    assert target.parent == REPO / "backups" and len(target.name) == len("20261207T104800Z")
    # the folder is named after the UTC time, whatever the host's time zone
    clock = SimpleNamespace(strftime=time.strftime, gmtime=lambda: time.gmtime(1796640480))
    monkeypatch.setattr(volumes_workflow, "time", clock)
    volumes_workflow.backup("", ["db-data"])
    assert asked[-1][1] == REPO / "backups" / "20261207T104800Z"
    with pytest.raises(UsageError) as refused:
        volumes_workflow.backup("", ["bad/name"])
    assert str(refused.value) == (
        "volumes.backup --volume 'bad/name' is not a volume name (letters, digits, _ . -, two "
        "or more, no leading . or -)"
    )


def test_a_restore_names_what_it_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[Any] = []

    def restore(client: Any, src: Path, names: list[str], force: bool, stop: bool) -> list[str]:
        asked.append((src, names, force, stop))
        return ["db-data", "web-data"]

    monkeypatch.setattr(volumes_workflow, "restore_volumes", restore)
    monkeypatch.setattr(volumes_workflow, "docker_client", lambda: "client")
    done = volumes_workflow.restore("backups/x", ["db-data"], True, False)
    assert asked == [(Path("backups/x"), ["db-data"], True, False)]
    assert done.views == ["restored db-data, web-data from backups/x"]
    assert done.data == {"restored": ["db-data", "web-data"], "src": "backups/x"}
    with pytest.raises(UsageError) as refused:
        volumes_workflow.restore("backups/x", ["db-data", "-x"], True, False)
    assert str(refused.value) == (
        "volumes.restore --volume '-x' is not a volume name (letters, digits, _ . -, two or "
        "more, no leading . or -)"
    )
    assert len(asked) == 1


# ---------------------------------------------------------------- doctor, secrets


def test_the_doctor_shows_a_row_per_prerequisite_and_fails_on_a_failed_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[Any] = []
    clients: list[Any] = []

    def gather(client: Any, wanted: Any) -> Facts:
        asked.append(wanted)
        clients.append(client)
        return Facts(engine_error="no [engine] here", free_bytes=50 * 2**30, mmdebstrap=True)

    monkeypatch.setattr(doctor_workflow, "gather_facts", gather)
    monkeypatch.setattr(doctor_workflow, "docker_client", lambda: "client")
    done = doctor_workflow.doctor()
    assert (done.ok, done.data["ok"]) == (False, False) and "unread" not in done.data
    assert asked[0].subnets == ["172.20.0.0/16"] and asked[0].interpreters[-1] == "python3t"
    assert clients == ["client"]
    table = done.views[0]
    assert table.title == "doctor" and headers(table) == ("check", "status", "detail", "fix")
    assert cells(table)[0] == (
        "docker engine",
        "[bold red]fail[/]",
        "no \\[engine] here",
        "scripts/provision-engine.sh (as root)",
    )
    assert cells(table)[3][:2] == ("disk space", "[green]ok[/]")
    assert cells(table)[4][:2] == ("NVIDIA runtime", "[yellow]warn[/]")
    assert done.data["checks"][0]["status"] == "fail" and done.data["facts"]["mmdebstrap"]


def test_the_doctor_still_runs_when_the_stacks_files_do_not_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(doctor_workflow, "REPO_ROOT", tmp_path)
    wanted, unread = doctor_workflow.wanted()
    assert wanted == Wanted() and unread is not None
    assert unread.startswith("the stack's files cannot be read (")
    assert unread.endswith("); `invoke check` names why")
    monkeypatch.setattr(doctor_workflow, "gather_facts", lambda client, wanted: Facts(
        engine_version="20.10", api_version="1.41", buildx_version="v0.29",
        compose_version="Docker Compose version v2.4", free_bytes=20 * 2**30,
    ))  # fmt: skip
    monkeypatch.setattr(doctor_workflow, "docker_client", lambda: "client")
    done = doctor_workflow.doctor()
    assert done.ok and done.data["unread"] == unread
    assert done.views[1] == f"[yellow]note:[/] {escape(unread)}"


def test_each_secret_says_what_provides_it(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DB_PASSWORD", raising=False)
    monkeypatch.delenv("API_TOKEN", raising=False)

    def change(data: dict[str, Any]) -> None:
        data["secrets"]["api"] = {"environment": "API_TOKEN"}
        data["secrets"]["cert"] = {"file": "./certs/cert.pem"}

    mini.edit_yaml(COMPOSE, change)
    stack = load_stack(mini.root)
    assert secret_status(stack) == {
        "db_password": {"variable": "DB_PASSWORD", "file": None, "provided": False},
        "api": {"variable": "API_TOKEN", "file": None, "provided": False},
        "cert": {"variable": None, "file": "./certs/cert.pem", "provided": False},
    }
    mini.put(".env", "DB_PASSWORD=x\nAPI_TOKEN=\n")
    mini.put("certs/cert.pem", "pem")
    provided = {name: item["provided"] for name, item in secret_status(stack).items()}
    assert provided == {"db_password": True, "api": False, "cert": True}
    monkeypatch.setenv("API_TOKEN", "t")
    assert secret_status(stack)["api"]["provided"] is True
    require_secrets(stack, ["db", "devcontainer"])
    monkeypatch.delenv("API_TOKEN")
    (mini.folder / ".env").unlink()
    with pytest.raises(UsageError, match=r"\Asecrets not provided: DB_PASSWORD\. Fix: export"):
        require_secrets(stack, ["devcontainer", "db"])
    require_secrets(stack, ["devcontainer"])


def test_a_secret_set_again_at_every_start_guards_no_data(mini: MiniStack) -> None:
    stack = load_stack(mini.root)
    assert data_volumes_of(stack, "DB_PASSWORD") == ["db-data"]
    assert data_volumes_of(stack, "OTHER") == []
    mini.edit_yaml(COMPOSE, lambda d: d["secrets"]["db_password"].update({"x-set-at-start": True}))
    assert data_volumes_of(load_stack(mini.root), "DB_PASSWORD") == []


def test_each_step_of_up_runs_its_workflow_with_its_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[tuple[Any, ...]] = []

    def record(name: str) -> Callable[..., Outcome]:
        def workflow(*args: Any, **kwargs: Any) -> Outcome:
            ran.append((name, args, kwargs))
            return Outcome({})

        return workflow

    for name in ("check", "init_env", "build", "stack_up", "verify", "probe_servers"):
        monkeypatch.setattr(up_workflow, name, record(name))
    monkeypatch.setattr(Profiled, "load", staticmethod(lambda: "profiled"))
    for step in up_workflow.steps("offline", True, quiet=True):
        step.run()
    assert ran == [
        ("check", (), {}),
        ("init_env", ("offline",), {}),
        ("build", (BuildRequest(parallel=True),), {"quiet": True}),
        ("stack_up", ("profiled",), {"quiet": True}),
        ("verify", (list(verify_workflow.sections()), "", True), {}),
        ("probe_servers", (), {"repeat": 1}),
    ]


def test_progress_is_nothing_when_quiet_lines_in_a_log_or_a_live_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = BuildLog()
    log.new_round(("alpha",))
    log.feed("#1 [alpha 1/1] RUN x\n")
    assert build_workflow._listener(True, None, ["alpha"])(log) is None
    assert isinstance(build_workflow._listener(False, None, ["alpha"]), Announcer)
    screen = io.StringIO()
    monkeypatch.setattr(build_workflow, "console", Console(file=screen, width=20))
    long = BuildLog()
    long.new_round(("a-rather-long-image-name",))
    long.feed("#1 [a-rather-long-image-name 1/1] RUN x\n")
    build_workflow._listener(False, None, ["a-rather-long-image-name"])(long)
    assert screen.getvalue() == "a-rather-long-image-name: started\n"  # never wrapped
    shown: list[Table] = []
    live = type("Live", (), {"update": lambda self, table: shown.append(table)})()
    build_workflow._listener(False, live, ["alpha", "beta"])(log)
    assert cells(shown[0]) == [("alpha", "building", "0/1", "0"), ("beta", "queued", "", "")]


def test_a_terminal_sees_the_services_start(
    provided: Profiled, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120)
    monkeypatch.setattr(stack_workflow, "console", terminal)
    engine = Engine(monkeypatch, {"db": ServiceStatus("db", "running", "healthy", "10.0.0.7")})
    made = recorded_live(monkeypatch, stack_workflow)
    stack_workflow.stack_up(provided, timeout=42)
    assert engine.calls == [("up", "client", ["db", "devcontainer"], "mcp-cluster", 42)]
    assert "starting" in screen.getvalue() and "10.0.0.7" in screen.getvalue()
    assert made == [{"console": terminal, "refresh_per_second": 2}]
    stack_workflow.stack_up(provided, quiet=True)
    assert len(made) == 1


def test_an_offline_build_seeds_the_stand_ins_its_images_and_services_need(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mini.edit_yaml(
        COMPOSE,
        lambda d: d["services"]["db"]["build"]["args"].update(
            BASE_IMAGE="${DB_BASE_IMAGE:-postgres:17}"
        ),
    )
    mini.edit_yaml(
        COMPOSE,
        lambda d: d["services"].update(
            cache={"image": "mcp-offline/redis:7", "restart": "unless-stopped"}
        ),
    )
    mini.put("profiles/offline.env", "DB_BASE_IMAGE=mcp-offline/postgres:17\n")
    builder = Builder(monkeypatch)
    seeded: list[tuple[Any, ...]] = []

    def seed(client: Any, folder: Path, bases: frozenset[str]) -> Any:
        seeded.append((client, folder, bases))
        return type("Seeded", (), {"root": "mcp-offline/root:1", "root_state": "built now"})()

    monkeypatch.setattr(build_workflow, "seed_for_build", seed)
    done = build_workflow.build(BuildRequest(root=str(mini.root), profile="offline"))
    assert seeded == [
        ("client", mini.folder, frozenset({"mcp-offline/postgres:17", "mcp-offline/redis:7"}))
    ]
    assert done.data["profile"] == "offline" and builder.calls[1][1] == ("db",)
    assert "stand-in mcp-offline/root:1: built now" in capsys.readouterr().out
    assert [u["name"] for u in done.data["not_buildable"]] == [
        "devcontainer",
        "filesystem",
        "memory",
    ]
    seeded.clear()
    build_workflow.build(
        BuildRequest(root=str(mini.root), profile="offline", name="db"), quiet=True
    )
    assert seeded[0][2] == frozenset({"mcp-offline/postgres:17"})
    assert capsys.readouterr().out == ""


def test_stack_up_can_pull_its_images_first(
    provided: Profiled, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    Engine(monkeypatch, {"db": ServiceStatus("db", "running", "healthy")})
    pulled: list[Any] = []

    def pull_images(self: Profiled, selection: Selection, registry: str) -> list[str]:
        pulled.append((selection.services, registry))
        return ["127.0.0.1:5000/mcp/mini-db:latest"]

    monkeypatch.setattr(Profiled, "pull_images", pull_images)
    screen = io.StringIO()
    monkeypatch.setattr(stack_workflow, "console", Console(file=screen))
    done = stack_workflow.stack_up(provided, pull=True, registry="127.0.0.1:5000/mcp")
    assert pulled == [(("db", "devcontainer"), "127.0.0.1:5000/mcp")]
    assert done.data["pulled"] == ["127.0.0.1:5000/mcp/mini-db:latest"]
    assert screen.getvalue() == "pulled 1 image(s) from the registry\n"
    stack_workflow.stack_up(provided, pull=True, quiet=True)
    assert screen.getvalue().count("pulled") == 1 and pulled[-1][1] == ""
    quiet = stack_workflow.stack_up(provided, pull=False, quiet=True)
    assert quiet.data["pulled"] == [] and len(pulled) == 2


def test_the_dev_container_is_running_or_nothing(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = load_stack(mini.root)
    states = {"devcontainer": ServiceStatus("devcontainer", "running", container="c0ffee")}
    monkeypatch.setattr(Profiled, "statuses", lambda self: states if self.stack is stack else {})
    assert probe_workflow.dev_container(stack) == "c0ffee"
    states["devcontainer"] = ServiceStatus("devcontainer", "exited", container="c0ffee")
    assert probe_workflow.dev_container(stack) == ""
    states.clear()
    assert probe_workflow.dev_container(stack) == ""


def test_url_servers_are_reached_through_a_relay_in_the_dev_container(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[list[str]] = []
    stopped: list[tuple[Any, str]] = []

    async def opener(host: str, port: int) -> Any:
        return None

    def tunnel(prefix: list[str]) -> Any:
        opened.append(prefix)
        return opener

    monkeypatch.setattr(probe_workflow, "tunnel", tunnel)
    monkeypatch.setattr(probe_workflow, "docker_client", lambda: "client")
    monkeypatch.setattr(
        probe_workflow, "stop_named", lambda client, name: stopped.append((client, name))
    )
    reach = probe_workflow.reach_for("c0ffee", "vscode")
    assert opened == [["docker", "exec", "-i", "-u", "vscode", "c0ffee", "socat", "-"]]
    assert reach.opener is opener
    reach.stop("mcp-probe-git-1")
    assert stopped == [("client", "mcp-probe-git-1")]


def test_env_init_with_a_profile_selects_it_for_every_consumer(
    mini: MiniStack, no_volumes: list[list[str]]
) -> None:
    mini.put("profiles/offline.env", "OFFLINE_ONLY=1\n")
    mini.put("profiles/online.env", "OFFLINE_ONLY=0\n")
    env = mini.folder / ".env"
    env.write_text("MY_KEY=mine\n")
    done = env_workflow.init_env("offline", str(mini.root))
    assert done.data["profile"] == "offline"
    text = env.read_text()
    assert text.startswith("MY_KEY=mine\n\n# >>> image profile")
    assert "MCP_PROFILE=offline\nOFFLINE_ONLY=1\n# <<< image profile\n" in text
    assert done.views == [
        ".devcontainer/.env: image profile offline for every consumer",
        ".devcontainer/.env: generated DB_PASSWORD",
    ]
    assert stat.S_IMODE(env.stat().st_mode) == 0o600


def test_a_profile_gives_the_projects_client_state_and_verifier(
    profiled_mini: MiniStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Any] = []

    def compose_client(stack: Any, image_profile: Any, compose_profiles: Any) -> str:
        made.append((image_profile, compose_profiles))
        return "client"

    monkeypatch.setattr(profile_module, "compose_client", compose_client)
    monkeypatch.setattr(
        profile_module, "statuses", lambda client, network: {"asked": (client, network)}
    )
    monkeypatch.setattr(profile_module, "Verifier", lambda *args: args)
    loaded = Profiled.load("offline,grafana", profiled_mini.root)
    client: Any = loaded.client
    assert client == "client" and loaded.client is client
    assert made == [("offline", ("grafana",))]
    state: Any = loaded.statuses()
    assert state == {"asked": ("client", "mcp-cluster")}
    verifier: Any = loaded.verifier()
    assert verifier == (loaded.stack, "client", "mcp-cluster", loaded.selection().not_exercised)


class Clock:
    """A module's `time`, reading the scripted instants."""

    def __init__(self, *instants: float) -> None:
        self.instants = list(instants)

    def monotonic(self) -> float:
        return self.instants.pop(0)


def test_the_seconds_a_start_took_are_shown_and_kept(
    provided: Profiled, monkeypatch: pytest.MonkeyPatch
) -> None:
    Engine(monkeypatch, {"db": ServiceStatus("db", "running", "healthy")})
    monkeypatch.setattr(stack_workflow, "time", Clock(100.0, 103.456))
    done = stack_workflow.stack_up(provided, quiet=True)
    assert done.data["seconds"] == 3.46 and done.views[0].title == "stack (3.5 s)"


def test_the_seconds_a_build_took_are_shown_and_kept(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    Builder(monkeypatch)
    monkeypatch.setattr(build_workflow, "time", Clock(10.0, 71.256))
    done = build_workflow.build(BuildRequest(root=str(mini.root), name="db"), quiet=True)
    assert done.data["seconds"] == 61.26 and done.views[0].title == "build summary (61.3 s)"


def test_each_step_of_up_shows_its_seconds(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    planned = [up_workflow.Step("check", outcome()), up_workflow.Step("build", outcome())]
    monkeypatch.setattr(up_workflow, "steps", lambda profile, persistence, quiet: planned)
    monkeypatch.setattr(up_workflow, "time", Clock(0.0, 1.26, 2.0, 14.04))
    done = up_workflow.up(as_json=True)
    assert [row["seconds"] for row in done.data["steps"]] == [1.3, 12.0]
    assert [row[2] for row in cells(done.views[0])] == ["1.3", "12.0"]


def test_a_build_without_cache_never_asks_the_registry_for_it(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    builder = Builder(monkeypatch)
    monkeypatch.setattr(build_workflow, "detect_ca_bundle", lambda given: None)
    request = BuildRequest(
        root=str(mini.root), name="db", registry="127.0.0.1:5000/mcp", push=True, no_cache=True
    )
    done = build_workflow.build(request)
    assert [call[0] for call in builder.calls] == ["engine", "driver", "bake", "push"]
    assert "cache-from" not in builder.definition["target"]["db"]
    assert done.data["ca_bundle"] is None
    assert "pushing 1 image(s) to 127.0.0.1:5000/mcp" in capsys.readouterr().out


def test_a_registry_asked_only_for_cache_is_not_required_to_answer(
    mini: MiniStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = Builder(monkeypatch)
    request = BuildRequest(root=str(mini.root), name="db", registry="127.0.0.1:5000/mcp")
    done = build_workflow.build(request, quiet=True)
    assert builder.calls[2] == ("present", ("127.0.0.1:5000/mcp/mini-db:latest",), False)
    assert done.data["pushed"] == [] and builder.calls[-1] == ("push", ())
