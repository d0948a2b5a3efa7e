"""Phase 12's figures: what each measurement turns the library's and the raw tools' output
into (their commands replaced by recorded answers), the plan's targets, and how a figure is
judged, rounded and reported."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from invoke.exceptions import Exit

from tasks.errors import Failure
from tasks.perf import measure, run
from tasks.perf import report as perf_report
from tasks.perf.figures import UNITS, Figure, rounded, to_bytes
from tasks.perf.measure import GOALS, TARGETS
from tasks.perf.report import markdown
from tasks.report import REPO_ROOT
from tests.ministack import MiniStack

ROOT = Path("/repo")
PROFILE = ["--profile", "offline"]


class Calls:
    """The invoke commands a measurement ran, answered from a script."""

    def __init__(self, answers: list[tuple[float, dict[str, Any]]]) -> None:
        self.answers: Iterator[tuple[float, dict[str, Any]]] = iter(answers)
        self.made: list[tuple[str, ...]] = []

    def invoke_json(self, root: Path, *args: str) -> tuple[float, dict[str, Any]]:
        assert root == ROOT
        self.made.append(args)
        return next(self.answers)

    def run_task(self, root: Path, *args: str) -> str:
        assert root == ROOT
        self.made.append(("run", *args))
        return ""


def test_the_plans_targets_and_the_librarys_goals() -> None:
    assert TARGETS == {
        "build_cold_s": 300.0,
        "build_cached_s": 10.0,
        "build_parallel_s": 90.0,
        "start_s": 30.0,
        "mcp_ms": 500.0,
        "memory_mb": 8000.0,
    }
    assert GOALS == {"cached build / raw bake": 1.3, "stack start / compose up --wait": 1.05}
    assert measure.PROJECT_LABEL == "label=com.docker.compose.project=mcp-cluster"


def test_cached_builds_are_the_median_beside_the_raw_bake(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls([(9.9, {}), (4.0, {}), (2.0, {}), (3.0, {})])
    monkeypatch.setattr(measure, "invoke_json", calls.invoke_json)
    raws = iter([2.5, 1.0, 2.0])
    baked: list[tuple[Path, list[str]]] = []

    def raw_bake(root: Path, profile: list[str]) -> float:
        baked.append((root, profile))
        return next(raws)

    monkeypatch.setattr(measure, "raw_bake", raw_bake)
    why = "pass --cold: it rebuilds every image without cache (minutes)"
    assert measure.builds(ROOT, PROFILE, cold=False, repeat=3) == [
        Figure("cold build, parallel", "s", None, 300.0, why),
        Figure("parallel build (cold)", "s", None, 90.0, why),
        Figure("cached build", "s", 3.0, 10.0),
        Figure("raw docker buildx bake", "s", 2.0),
        Figure("cached build / raw bake", "x", 1.5, why="the library's goal: <= 1.3"),
    ]
    # one warm-up build, then the measured ones, all of the profile's images in parallel
    assert calls.made == [("build.all", "--parallel", *PROFILE)] * 4
    assert baked == [(ROOT, PROFILE)] * 3


def test_cold_builds_run_in_parallel_then_one_by_one_without_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls([(120.5, {}), (250.25, {}), (1.0, {}), (1.2, {})])
    monkeypatch.setattr(measure, "invoke_json", calls.invoke_json)
    monkeypatch.setattr(measure, "raw_bake", lambda root, profile: 1.0)
    found = measure.builds(ROOT, PROFILE, cold=True, repeat=1)
    assert found[:4] == [
        Figure("cold build, parallel", "s", 120.5, 300.0),
        Figure("parallel build (cold)", "s", 120.5, 90.0),
        Figure("cold build, sequential", "s", 250.25, 300.0),
        Figure("cached build", "s", 1.2, 10.0),
    ]
    assert calls.made[:2] == [
        ("build.all", "--parallel", "--no-cache", *PROFILE),
        ("build.all", "--no-cache", *PROFILE),
    ]
    assert found[-1] == Figure(
        "cached build / raw bake", "x", 1.2, why="the library's goal: <= 1.3"
    )


def test_the_start_is_timed_from_a_stopped_stack_per_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    up = {
        "services": [
            {"service": "db", "seconds_to_healthy": 4.2},
            {"service": "web", "seconds_to_healthy": 31.0},
        ],
        "not_exercised": {"gpu": "no NVIDIA runtime on this host"},
    }
    calls = Calls([(12.34, up)])
    monkeypatch.setattr(measure, "invoke_json", calls.invoke_json)
    monkeypatch.setattr(measure, "run_task", calls.run_task)
    raw: list[tuple[Path, str, list[str]]] = []

    def raw_compose_up(root: Path, profile: str, services: list[str]) -> float:
        raw.append((root, profile, services))
        return 11.0

    monkeypatch.setattr(measure, "raw_compose_up", raw_compose_up)
    assert measure.startup(ROOT, "offline") == [
        Figure("stack start, all healthy", "s", 12.34, 30.0),
        Figure("raw docker compose up --wait", "s", 11.0),
        Figure("stack start / compose up --wait", "x", 1.12, why="the library's goal: <= 1.05"),
        Figure("start db", "s", 4.2, 30.0),
        Figure("start web", "s", 31.0, 30.0),
        Figure("start gpu", "s", None, 30.0, "no NVIDIA runtime on this host"),
    ]
    assert calls.made == [
        ("run", "stack.down", "--profile", "offline"),
        ("stack.up", "--profile", "offline", "--timeout", "300"),
        ("run", "stack.down", "--profile", "offline"),
    ]
    assert raw == [(ROOT, "offline", ["db", "web"])]


def test_the_default_profile_passes_no_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls([(5.0, {"services": []})])
    monkeypatch.setattr(measure, "invoke_json", calls.invoke_json)
    monkeypatch.setattr(measure, "run_task", calls.run_task)
    monkeypatch.setattr(measure, "raw_compose_up", lambda root, profile, services: 5.0)
    assert len(measure.startup(ROOT, "")) == 3
    assert calls.made == [
        ("run", "stack.down"),
        ("stack.up", "--timeout", "300"),
        ("run", "stack.down"),
    ]


def test_mcp_latency_is_each_servers_p95_and_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    probe = {
        "servers": [{"name": "git", "p95_ms": 61.4321, "cold_start_ms": 812.06}],
        "not_exercised": [
            {"name": "github", "reason": "GITHUB_PERSONAL_ACCESS_TOKEN unset"},
            {"name": "x"},
        ],
    }
    calls = Calls([(3.0, probe)])
    monkeypatch.setattr(measure, "invoke_json", calls.invoke_json)
    assert measure.mcp_latency(ROOT) == [
        Figure("MCP git p95", "ms", 61.4, 500.0),
        Figure("MCP git cold start", "ms", 812.1),
        Figure("MCP github p95", "ms", None, 500.0, "GITHUB_PERSONAL_ACCESS_TOKEN unset"),
        Figure("MCP x p95", "ms", None, 500.0, ""),
    ]
    assert calls.made == [("mcp.probe",)]


def fake_docker(answers: dict[str, str]) -> Any:
    def docker(*args: str) -> str:
        return answers[args[0]]

    return docker


def test_resources_sum_the_stacks_containers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        measure,
        "_docker",
        fake_docker(
            {
                "ps": "mcp-db-1\nmcp-web-1\n",
                "stats": "mcp-db-1 12.5% 512MiB / 2GiB\nmcp-web-1 0.25% 100MB / 2GiB\n",
                "system": '{"Size": "1.5GB"}\n{"Size": "250MB"}\n',
            }
        ),
    )
    assert measure.container_usage() == {
        "mcp-db-1": (12.5, 512 * 2**20),
        "mcp-web-1": (0.25, 100_000_000),
    }
    assert measure.resources() == [
        Figure("stack CPU (sum of containers)", "%", 12.8),
        Figure("stack RAM", "MB", 636.9, 8000.0),
        Figure("engine disk (images, containers, volumes, cache)", "GB", 1.75),
    ]


def test_without_a_running_stack_nothing_is_measured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(measure, "_docker", fake_docker({"ps": "\n"}))
    assert measure.container_usage() == {}
    why = "the stack is not running"
    assert measure.resources() == [
        Figure("stack CPU", "%", None, None, why),
        Figure("stack RAM", "MB", None, None, why),
    ]


def test_a_user_shell_keeps_pythons_bytecode_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = measure.user_env(EXTRA="yes")
    assert "PYTHONDONTWRITEBYTECODE" not in env and env["EXTRA"] == "yes"
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE")
    assert measure.user_env() == dict(__import__("os").environ)


@pytest.mark.parametrize(
    ("value", "target", "verdict", "ratio"),
    [
        (10.0, 10.0, "meets", 1.0),
        (10.5, 10.0, "misses", 1.05),
        (0.0, 10.0, "meets", 0.0),
        (3.0, None, "no target", None),
        (3.0, 0.0, "misses", None),
        (None, 10.0, "not measured", None),
    ],
)
def test_a_figure_meets_its_target_up_to_and_including_it(
    value: float | None, target: float | None, verdict: str, ratio: float | None
) -> None:
    figure = Figure("f", "s", value, target)
    assert (figure.verdict, figure.ratio) == (verdict, ratio)


def test_every_size_unit_docker_prints() -> None:
    assert UNITS == {
        "b": 1,
        "kib": 1024,
        "mib": 1024**2,
        "gib": 1024**3,
        "kb": 1000,
        "mb": 1000**2,
        "gb": 1000**3,
    }
    assert [to_bytes(f"2{unit}") for unit in ("B", "KiB", "MiB", "GiB", "kB", "MB", "GB")] == [
        2,
        2048,
        2 * 1024**2,
        2 * 1024**3,
        2000,
        2 * 1000**2,
        2 * 1000**3,
    ]
    assert to_bytes("  1.5 GiB / 8GiB") == 1610612736
    assert to_bytes("12TB") == 0 and to_bytes("MiB") == 0 and to_bytes("") == 0


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (100.0, "100 s"),
        (99.94, "99.9 s"),
        (100.4, "100 s"),
        (10.04, "10.0 s"),
        (9.996, "10.00 s"),
        (-12.34, "-12.3 s"),
        (-150.5, "-150 s"),
        (0.0, "0 s"),
    ],
)
def test_three_significant_digits_at_most(value: float, shown: str) -> None:
    assert rounded(value, "s") == shown


def test_the_report_has_one_row_per_figure() -> None:
    figures = [
        Figure("cached build", "s", 1.7, 10),
        Figure("start gpu", "s", None, 30, "no GPU"),
        Figure("stack CPU", "%", 12.25),
    ]
    text = markdown(figures, {"host": "h", "cpus": 2}, "chart.png")
    assert text.splitlines() == [
        "# Performance validation (plan phase 12)",
        "",
        "- **host**: h",
        "- **cpus**: 2",
        "",
        "![figures against targets](chart.png)",
        "",
        "| figure | measured | target | verdict | note |",
        "|---|---|---|---|---|",
        "| cached build | 1.70 s | <= 10 s | meets |  |",
        "| start gpu | - | <= 30 s | not measured | no GPU |",
        "| stack CPU | 12.2 % | - | no target |  |",
    ]
    assert text.endswith("|\n")
    assert json.loads(json.dumps(figures[0].__dict__))["target"] == 10


class Measured:
    """Phase 12's measurements replaced by recorded figures."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, figures: list[Figure]) -> None:
        self.asked: list[tuple[Any, ...]] = []
        self.roots: list[Path] = []
        monkeypatch.setattr(
            run,
            "builds",
            lambda root, flags, cold, repeat: self.note(
                "builds", flags, cold, repeat, figures[:1], root=root
            ),
        )
        monkeypatch.setattr(
            run,
            "startup",
            lambda root, profile: self.note("startup", profile, figures[1:2], root=root),
        )
        monkeypatch.setattr(
            run, "mcp_latency", lambda root: self.note("mcp", figures[2:3], root=root)
        )
        monkeypatch.setattr(run, "resources", lambda: self.note("resources", figures[3:]))
        monkeypatch.setattr(run, "machine", lambda: {"host": "h"})
        # drawing is tested once, below: matplotlib takes a second to load
        self.charted: list[list[Figure]] = []
        monkeypatch.setattr(perf_report, "chart", self.chart)

    def chart(self, figures: list[Figure], path: Path) -> None:
        self.charted.append(figures)
        path.write_bytes(b"png")

    def note(self, *asked: Any, root: Path | None = None) -> list[Figure]:
        self.asked.append(asked[:-1])
        if root is not None:
            self.roots.append(root)
        figures: list[Figure] = asked[-1]
        return figures


FIGURES = [
    Figure("cached build", "s", 1.7, 10.0),
    Figure("stack start, all healthy", "s", 12.0, 30.0),
    Figure("MCP git p95", "ms", None, 500.0, "not [built]"),
    Figure("stack CPU", "%", 3.25),
]


def test_perf_measures_each_part_and_writes_its_report(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    measured = Measured(monkeypatch, FIGURES)
    run.run_perf("offline", True, 3, str(tmp_path / "out"), json=True)
    assert measured.asked == [
        ("builds", ["--profile", "offline"], True, 3),
        ("startup", "offline"),
        ("mcp",),
        ("resources",),
    ]
    # every part is measured on this checkout, and the figures of all four parts are kept
    assert measured.roots == [REPO_ROOT] * 3
    data = json.loads(capsys.readouterr().out)
    assert [f["name"] for f in data["figures"]] == [f.name for f in FIGURES]
    assert data["ok"] is True and measured.charted == [FIGURES]
    assert data["report"] == {
        "markdown": str(tmp_path / "out/report.md"),
        "json": str(tmp_path / "out/report.json"),
        "chart": str(tmp_path / "out/chart.png"),
    }
    assert [f["verdict"] for f in data["figures"]] == [
        "meets",
        "meets",
        "not measured",
        "no target",
    ]
    written = (tmp_path / "out/report.json").read_text(encoding="utf-8")
    assert json.loads(written)["machine"] == {"host": "h"}
    assert json.loads(written)["figures"][0] == {
        "name": "cached build",
        "unit": "s",
        "value": 1.7,
        "target": 10.0,
        "why": "",
        "verdict": "meets",
        "ratio": 0.16999999999999998,
    }
    assert (
        written.startswith('{\n  "machine": {\n    "host": "h"\n  },\n') and written[-2:] == "}\n"
    )


def test_a_missed_target_fails_perf_with_the_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missed = [*FIGURES[:3], Figure("stack RAM", "MB", 9000.0, 8000.0)]
    measured = Measured(monkeypatch, missed)
    with pytest.raises(Exit) as stop:
        run.run_perf("", False, 1, str(tmp_path), json=False)
    assert stop.value.code == 1 and measured.asked[0] == ("builds", [], False, 1)
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if line.startswith("perf ")] == [
        "perf timing builds",
        "perf timing the stack's start",
        "perf probing the MCP servers over stdio",
        "perf reading CPU, RAM and disk",
    ]
    assert f"report: {tmp_path / 'report.md'} (+ report.json, chart.png)" in out
    table = run._table(missed)
    assert table.title == "phase 12: figures against the plan's targets"
    assert [str(column.header) for column in table.columns] == [
        "figure",
        "measured",
        "target",
        "verdict",
        "note",
    ]
    rows = list(zip(*[[str(c) for c in column._cells] for column in table.columns], strict=True))
    assert rows == [
        ("cached build", "1.70 s", "<= 10 s", "[green]meets[/]", ""),
        ("stack start, all healthy", "12 s", "<= 30 s", "[green]meets[/]", ""),
        ("MCP git p95", "-", "<= 500 ms", "[yellow]not measured[/]", "not \\[built]"),
        ("stack RAM", "9000 MB", "<= 8000 MB", "[bold red]misses[/]", ""),
    ]
    assert list(
        zip(*[[str(c) for c in col._cells] for col in run._table(FIGURES[3:]).columns], strict=True)
    ) == [("stack CPU", "3.25 %", "-", "no target", "")]


def test_without_out_the_report_goes_to_reports_perf(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Measured(monkeypatch, FIGURES)
    monkeypatch.setattr(run, "REPO_ROOT", tmp_path)
    run.run_perf("", False, 1, "", json=True)
    assert json.loads(capsys.readouterr().out)["report"]["markdown"] == str(
        tmp_path / "reports/perf/report.md"
    )
    assert (tmp_path / "reports/perf/report.md").is_file()


def test_the_chart_is_a_png_of_the_rated_figures(tmp_path: Path) -> None:
    perf_report.chart(FIGURES, tmp_path / "chart.png")
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("invoke stack.up failed: x"),
        FileNotFoundError("docker"),
        subprocess.CalledProcessError(1, ["docker"]),
    ],
)
def test_a_measurement_that_fails_is_one_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, error: Exception
) -> None:
    Measured(monkeypatch, FIGURES)

    def broken(root: Path) -> list[Figure]:
        raise error

    monkeypatch.setattr(run, "mcp_latency", broken)
    with pytest.raises(Failure) as failed:
        run.run_perf("", False, 1, str(tmp_path), json=True)
    assert str(failed.value) == f"measuring failed: {error}"
    assert not (tmp_path / "report.md").exists()


# ---------------------------------------------------------------- the commands it times

FAKE_DOCKER = f"""#!{sys.executable}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
answers = json.loads(os.environ.get("FAKE_DOCKER_ANSWERS", "{{}}"))
answer = answers.get(args[0], ["", 0])
sys.stdout.write(answer[0])
sys.stderr.write("went wrong\\n" if answer[1] else "")
sys.exit(answer[1])
"""


@pytest.fixture
def docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A recording `docker` first on PATH; its log of commands."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "docker").write_text(FAKE_DOCKER)
    (folder / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")
    log = tmp_path / "docker.log"
    monkeypatch.setenv("FAKE_DOCKER_LOG", str(log))
    return log


def commands(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_the_stacks_containers_are_read_from_docker_ps_and_stats(
    docker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = {
        "ps": ["mcp-db-1\n", 0],
        "stats": ["mcp-db-1 1.5% 1GiB / 4GiB\n", 0],
        "system": ['{"Size": "2GB"}\n', 0],
    }
    monkeypatch.setenv("FAKE_DOCKER_ANSWERS", json.dumps(answers))
    assert measure.container_usage() == {"mcp-db-1": (1.5, 2**30)}
    assert measure.resources()[2] == Figure(
        "engine disk (images, containers, volumes, cache)", "GB", 2.0
    )
    assert commands(docker)[:3] == [
        [
            "ps",
            "--filter",
            "label=com.docker.compose.project=mcp-cluster",
            "--format",
            "{{.Names}}",
        ],
        ["stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.MemUsage}}", "mcp-db-1"],
        [
            "ps",
            "--filter",
            "label=com.docker.compose.project=mcp-cluster",
            "--format",
            "{{.Names}}",
        ],
    ]
    assert commands(docker)[-1] == ["system", "df", "--format", "{{json .}}"]
    monkeypatch.setenv("FAKE_DOCKER_ANSWERS", json.dumps({"ps": ["", 1]}))
    with pytest.raises(subprocess.CalledProcessError):
        measure.container_usage()


def test_a_baseline_command_that_fails_says_which_and_why(tmp_path: Path) -> None:
    measure._measured([sys.executable, "-c", "pass"], tmp_path)
    script = "import sys; print('out'); sys.stderr.write('x' * 600); sys.exit(1)"
    with pytest.raises(RuntimeError) as failed:
        measure._measured([sys.executable, "-c", script, "ignored"], tmp_path)
    assert str(failed.value) == f"{sys.executable} -c {script} failed: {'x' * 500}"
    where = "import os, sys; print(os.getcwd()); sys.exit(3)"
    with pytest.raises(RuntimeError) as failed:
        measure._measured([sys.executable, "-c", where], tmp_path)
    assert str(failed.value).endswith(f"failed: {tmp_path}")
    with pytest.raises(RuntimeError, match=r"failed: only out\Z"):
        measure._measured(
            [sys.executable, "-c", "import sys; print('only out'); sys.exit(2)"], tmp_path
        )


def test_the_raw_bake_times_the_definition_the_library_prints(
    docker: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    context = tmp_path / "ctx"
    definition = {"target": {"a": {"context": str(context), "dockerfile": "Dockerfile"}}}
    asked: list[tuple[Any, ...]] = []

    def run_task(root: Path, *args: str) -> str:
        asked.append((root, *args))
        return json.dumps(definition)

    monkeypatch.setattr(measure, "run_task", run_task)
    seconds = measure.raw_bake(tmp_path, ["--profile", "offline"])
    assert 0 < seconds < 60
    assert asked == [(tmp_path, "build.bake-file", "--profile", "offline")]
    [bake] = commands(docker)
    assert bake[:3] == ["buildx", "bake", "-f"]
    assert re.search(r"/mcp-bake-\w+/bake\.json\Z", bake[3]), bake[3]
    assert bake[4:] == [
        f"--allow=fs.read={context}",
        "--allow=fs.read=Dockerfile",
        "--progress",
        "plain",
    ]


def test_the_raw_compose_up_uses_the_stacks_compose_command(
    docker: Path, monkeypatch: pytest.MonkeyPatch, mini: MiniStack
) -> None:
    seconds = measure.raw_compose_up(mini.root, "", ["db", "devcontainer"])
    assert seconds > 0
    [up] = commands(docker)
    assert up[0] == "compose" and up[-5:] == ["up", "-d", "--wait", "db", "devcontainer"]
    assert str(mini.folder / "docker-compose.mcp.yml") in up


TASKS_PY = """
from invoke import task

@task
def hello(c, json=False):
    print('{"n": 1}' if json else "plain")

@task
def cache(c):
    import os
    print(os.environ.get("PYTHONDONTWRITEBYTECODE", "kept"))

@task
def broken(c):
    raise SystemExit("it broke")
"""


def test_a_task_runs_as_a_user_would_and_its_json_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tasks.py").write_text(TASKS_PY)
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    assert measure.run_task(tmp_path, "hello") == "plain\n"
    seconds, data = measure.invoke_json(tmp_path, "hello")
    assert data == {"n": 1} and 0 < seconds < 60 and seconds == round(seconds, 2)
    assert measure.run_task(tmp_path, "cache") == "kept\n"
    with pytest.raises(RuntimeError, match=r"\Ainvoke broken failed: it broke\Z"):
        measure.run_task(tmp_path, "broken")


FAKE_PYTHON = """#!/bin/sh
# `python -m invoke TASK...` as a recording stand-in: where it ran, with what cache setting
echo "$PWD $* cache=${PYTHONDONTWRITEBYTECODE-kept}"
case "$3" in
    broken) echo ignored; printf 'b%0600d' 0 >&2; exit 3 ;;
    quiet) echo "  only out  "; exit 1 ;;
esac
"""


def test_a_task_that_fails_shows_the_last_500_characters_of_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python = tmp_path / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(python))
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    root = tmp_path / "checkout"
    root.mkdir()
    assert (
        measure.run_task(root, "build.all", "--x") == f"{root} -m invoke build.all --x cache=kept\n"
    )
    with pytest.raises(RuntimeError) as failed:
        measure.run_task(root, "broken", "--y")
    assert str(failed.value) == "invoke broken --y failed: " + "0" * 500
    with pytest.raises(RuntimeError) as failed:
        measure.run_task(root, "quiet")
    assert str(failed.value) == (
        f"invoke quiet failed: {root} -m invoke quiet cache=kept\n  only out"
    )


def test_a_tasks_wall_time_is_rounded_to_hundredths(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([100.0, 103.4567])
    monkeypatch.setattr(measure, "time", type("Clock", (), {"perf_counter": lambda: next(clock)}))
    asked: list[tuple[Any, ...]] = []

    def run_task(root: Path, *args: str) -> str:
        asked.append((root, *args))
        return '{"services": []}'

    monkeypatch.setattr(measure, "run_task", run_task)
    assert measure.invoke_json(ROOT, "stack.up", "--timeout", "300") == (3.46, {"services": []})
    assert asked == [(ROOT, "stack.up", "--timeout", "300", "--json")]


WRITE_REPORT = """
import sys
from pathlib import Path
from tasks.perf import report
from tasks.perf.figures import Figure
report.chart = lambda figures, path: path.write_bytes(b"")
report.write_report([Figure("d\\u00e9marrage", "s", 1.0)], {"host": "h\\u00f4te"}, Path(sys.argv[1]))
"""


def test_the_report_is_utf8_whatever_the_locale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # written here too, under this process's locale: mutation testing runs a test against
    # what it calls in its own process
    monkeypatch.setattr(perf_report, "chart", lambda figures, path: path.write_bytes(b""))
    perf_report.write_report([Figure("d\u00e9marrage", "s", 1.0)], {}, tmp_path / "here")
    assert "| d\u00e9marrage |" in (tmp_path / "here/report.md").read_text(encoding="utf-8")
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    env.pop("PYTHONIOENCODING", None)
    done = subprocess.run(
        [sys.executable, "-c", WRITE_REPORT, str(tmp_path)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "report.md").read_bytes().decode("utf-8")
    assert "- **host**: h\u00f4te" in text and "| d\u00e9marrage | 1 s |" in text


def test_the_docker_version_is_waited_for_half_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    def hung(command: list[str], **options: Any) -> None:
        waits.append(options["timeout"])
        raise subprocess.TimeoutExpired(command, options["timeout"])

    monkeypatch.setattr(subprocess, "run", hung)
    assert perf_report._docker_version() == "unavailable" and waits == [30]


def test_the_memory_is_memtotal_in_gigabytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       97656250 kB\nMemFree:        1 kB\n")
    monkeypatch.setattr(perf_report, "Path", lambda path: meminfo)
    monkeypatch.setattr(perf_report, "_docker_version", lambda: "20.10.24")
    assert perf_report.machine()["memory_gb"] == 100.0
    monkeypatch.setattr(perf_report, "Path", lambda path: tmp_path / "missing")
    assert perf_report.machine()["memory_gb"] == 0.0


@pytest.mark.parametrize(
    ("processor", "cpu"), [("Intel(R) Xeon(R) Gold", "Intel(R) Xeon(R) Gold"), ("", "riscv64")]
)
def test_the_cpu_is_the_processors_name_or_else_the_machines(
    monkeypatch: pytest.MonkeyPatch, processor: str, cpu: str
) -> None:
    monkeypatch.setattr(platform, "processor", lambda: processor)
    monkeypatch.setattr(platform, "machine", lambda: "riscv64")
    monkeypatch.setattr(perf_report, "_docker_version", lambda: "20.10.24")
    assert perf_report.machine()["cpu"] == cpu


def test_the_machine_the_figures_were_measured_on(
    docker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_DOCKER_ANSWERS", json.dumps({"version": ["20.10.24\n", 0]}))
    host = perf_report.machine()
    assert list(host) == [
        "host",
        "os",
        "cpu",
        "cpus",
        "memory_gb",
        "python",
        "docker",
        "measured_at",
    ]
    total = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    assert host["memory_gb"] == round(total / 1e9, 1) > 0
    assert host["docker"] == "20.10.24" and host["cpus"] == os.cpu_count()
    assert host["python"] == ".".join(map(str, sys.version_info[:3]))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", host["measured_at"])
    assert commands(docker) == [["version", "--format", "{{.Server.Version}}"]]
    monkeypatch.setenv("FAKE_DOCKER_ANSWERS", json.dumps({"version": ["", 1]}))
    assert perf_report._docker_version() == "unavailable"
    monkeypatch.setenv("PATH", "/nonexistent")
    assert perf_report._docker_version() == "unavailable"
