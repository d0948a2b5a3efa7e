"""Run the task library's own commands as a user would and turn their output into figures."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tasks.perf.figures import Figure, to_bytes

TARGETS = {
    "build_cold_s": 300.0,
    "build_cached_s": 10.0,
    "build_parallel_s": 90.0,
    "start_s": 30.0,
    "mcp_ms": 500.0,
    "memory_mb": 8000.0,
}
# The task library's own goals for its overhead over the raw tool on the same input, measured in
# the same run; reported beside the figure, not as one of the plan's targets.
GOALS = {"cached build / raw bake": 1.3, "stack start / compose up --wait": 1.05}


def baseline(name: str, ours: float, raw_name: str, raw: float) -> list[Figure]:
    """The raw tool's seconds, and ours over them as `name` (one of GOALS) beside its goal."""
    return [
        Figure(raw_name, "s", round(raw, 2)),
        Figure(name, "x", round(ours / raw, 2), why=f"the library's goal: <= {GOALS[name]}"),
    ]


PROJECT_LABEL = "label=com.docker.compose.project=mcp-cluster"


def user_env(**extra: str) -> dict[str, str]:
    """This environment as a user's shell has it: Python keeps its bytecode cache."""
    env = {**os.environ, **extra}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_task(root: Path, *args: str) -> str:
    """Run `invoke ARGS` in `root` as a user would; its stdout, or RuntimeError on failure."""
    result = subprocess.run(
        [sys.executable, "-m", "invoke", *args],
        cwd=root,
        env=user_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip())[-500:]
        raise RuntimeError(f"invoke {' '.join(args)} failed: {detail}")
    return result.stdout


def invoke_json(root: Path, *args: str) -> tuple[float, dict[str, Any]]:
    """Wall time and parsed output of `invoke ARGS --json` run in `root`."""
    started = time.perf_counter()
    out = run_task(root, *args, "--json")
    data: dict[str, Any] = json.loads(out)
    return round(time.perf_counter() - started, 2), data


def builds(root: Path, profile: list[str], cold: bool, repeat: int) -> list[Figure]:
    """Cold (parallel and sequential, with `cold`) and cached build wall times."""
    found = []
    if cold:
        parallel = invoke_json(root, "build.all", "--parallel", "--no-cache", *profile)[0]
        sequential = invoke_json(root, "build.all", "--no-cache", *profile)[0]
        found += [
            Figure("cold build, parallel", "s", parallel, TARGETS["build_cold_s"]),
            Figure("parallel build (cold)", "s", parallel, TARGETS["build_parallel_s"]),
            Figure("cold build, sequential", "s", sequential, TARGETS["build_cold_s"]),
        ]
    else:
        why = "pass --cold: it rebuilds every image without cache (minutes)"
        found += [
            Figure("cold build, parallel", "s", None, TARGETS["build_cold_s"], why),
            Figure("parallel build (cold)", "s", None, TARGETS["build_parallel_s"], why),
        ]
    invoke_json(root, "build.all", "--parallel", *profile)
    cached = statistics.median(
        invoke_json(root, "build.all", "--parallel", *profile)[0] for _ in range(repeat)
    )
    raw = statistics.median(raw_bake(root, profile) for _ in range(repeat))
    found.append(Figure("cached build", "s", round(cached, 2), TARGETS["build_cached_s"]))
    return found + baseline("cached build / raw bake", cached, "raw docker buildx bake", raw)


def raw_bake(root: Path, profile: list[str]) -> float:
    """Seconds of a raw `docker buildx bake` of the definition `build.bake-file` prints: the
    baseline of `build.all --parallel`."""
    from tasks.engine.bake import read_paths

    definition = run_task(root, "build.bake-file", *profile)
    with tempfile.TemporaryDirectory(prefix="mcp-bake-") as folder:
        path = Path(folder) / "bake.json"
        path.write_text(definition, encoding="utf-8")
        allow = [f"--allow=fs.read={p}" for p in read_paths(path)]
        started = time.perf_counter()
        _measured(
            ["docker", "buildx", "bake", "-f", str(path), *allow, "--progress", "plain"], root
        )
        return time.perf_counter() - started


def _measured(command: list[str], cwd: Path) -> None:
    """Run a baseline command; RuntimeError with the tail of its output when it fails."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stderr.strip() or result.stdout.strip())[-500:]
        raise RuntimeError(f"{' '.join(command[:3])} failed: {tail}")


def raw_compose_up(root: Path, profile: str, services: list[str]) -> float:
    """Seconds of a raw `docker compose up -d --wait` of `services`, with the same compose file,
    env files and profiles `stack.up` uses: its baseline."""
    from tasks.workflows.profile import Profiled

    command = Profiled.load(profile, root).client.client_config.docker_compose_cmd
    started = time.perf_counter()
    _measured([*command, "up", "-d", "--wait", *services], root)
    return time.perf_counter() - started


def startup(root: Path, profile: str) -> list[Figure]:
    """Seconds from a stopped stack to all-healthy, per service (and why some did not start),
    then the same start through raw `docker compose up --wait` (the stack stays up)."""
    flags = ["--profile", profile] if profile else []
    run_task(root, "stack.down", *flags)
    seconds, up = invoke_json(root, "stack.up", *flags, "--timeout", "300")
    run_task(root, "stack.down", *flags)
    raw = raw_compose_up(root, profile, [s["service"] for s in up["services"]])
    found = [
        Figure("stack start, all healthy", "s", seconds, TARGETS["start_s"]),
        *baseline("stack start / compose up --wait", seconds, "raw docker compose up --wait", raw),
    ]
    for service in up["services"]:
        found.append(
            Figure(
                f"start {service['service']}",
                "s",
                service["seconds_to_healthy"],
                TARGETS["start_s"],
            )
        )
    skipped: dict[str, str] = up.get("not_exercised", {})
    found += [
        Figure(f"start {name}", "s", None, TARGETS["start_s"], why) for name, why in skipped.items()
    ]
    return found


def mcp_latency(root: Path) -> list[Figure]:
    """p95 stdio round trip per MCP server, exactly as VS Code runs it."""
    _, probe = invoke_json(root, "mcp.probe")
    found = []
    for server in probe["servers"]:
        found += [
            Figure(
                f"MCP {server['name']} p95", "ms", round(server["p95_ms"], 1), TARGETS["mcp_ms"]
            ),
            Figure(f"MCP {server['name']} cold start", "ms", round(server["cold_start_ms"], 1)),
        ]
    found += [
        Figure(f"MCP {s['name']} p95", "ms", None, TARGETS["mcp_ms"], s.get("reason", ""))
        for s in probe.get("not_exercised", [])
    ]
    return found


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


def container_usage() -> dict[str, tuple[float, int]]:
    """CPU percent and memory bytes of each running container of the stack (`docker stats`)."""
    names = _docker("ps", "--filter", PROJECT_LABEL, "--format", "{{.Names}}").split()
    if not names:
        return {}
    stats = _docker(
        "stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.MemUsage}}", *names
    )
    usage = {}
    for line in stats.splitlines():
        name, percent, memory = [*line.split(" ", 2), "", ""][:3]
        usage[name] = (float(percent.rstrip("%") or 0), to_bytes(memory))
    return usage


def resources() -> list[Figure]:
    """CPU and memory of the running stack and the engine's disk use."""
    usage = container_usage()
    if not usage:
        why = "the stack is not running"
        return [
            Figure("stack CPU", "%", None, None, why),
            Figure("stack RAM", "MB", None, None, why),
        ]
    disk = sum(
        to_bytes(json.loads(line)["Size"])
        for line in _docker("system", "df", "--format", "{{json .}}").splitlines()
    )
    return [
        Figure("stack CPU (sum of containers)", "%", round(sum(c for c, _ in usage.values()), 1)),
        Figure(
            "stack RAM",
            "MB",
            round(sum(m for _, m in usage.values()) / 1e6, 1),
            TARGETS["memory_mb"],
        ),
        Figure("engine disk (images, containers, volumes, cache)", "GB", round(disk / 1e9, 2)),
    ]
