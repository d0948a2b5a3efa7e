"""Phase 12's figures: what each measurement turns the library's and the raw tools' output
into (their commands replaced by recorded answers), the plan's targets, and how a figure is
judged, rounded and reported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tasks.perf import measure
from tasks.perf.figures import UNITS, Figure, rounded, to_bytes
from tasks.perf.measure import GOALS, TARGETS
from tasks.perf.report import markdown

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
    monkeypatch.setattr(measure, "raw_bake", lambda root, profile: next(raws))
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
    raw: list[list[str]] = []

    def raw_compose_up(root: Path, profile: str, services: list[str]) -> float:
        raw.append(services)
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
    assert raw == [["db", "web"]]


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
