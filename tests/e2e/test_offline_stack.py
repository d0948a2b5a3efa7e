"""End to end on the offline profile: build every image, bring the stack up, speak MCP to every
server, persist memory and data, take it all down. Runs once; slow on a cold machine."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import REPO, invoke, invoke_json

pytestmark = pytest.mark.e2e

STACK_VOLUMES = ("postgres-data", "mariadb-data", "prometheus-data", "memory-data")


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False)


def _tags() -> set[str]:
    out = _docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
    return {t for t in out.split() if t.startswith("mcp-") and not t.startswith("mcp-offline/")}


@pytest.fixture(scope="module")
def offline_stack() -> Iterator[dict[str, Any]]:
    """Build and start the offline stack once; remove what the run created afterwards."""
    existing = [v for v in STACK_VOLUMES if _docker("volume", "inspect", v).returncode == 0]
    if existing or _docker("network", "inspect", "mcp-cluster").returncode == 0:
        if os.environ.get("CI"):
            pytest.fail(f"a stack already exists on this machine ({existing or 'mcp-cluster'})")
        pytest.skip("an mcp-cluster stack (or its volumes) exists here; not touching its data")
    tags_before = _tags()
    env_file = REPO / ".devcontainer/.env"
    env_before = env_file.read_text() if env_file.exists() else None
    state: dict[str, Any] = {}
    try:
        code, build = invoke_json("build.all", "--parallel", "--profile", "offline")
        state["build"] = (code, build)
        assert invoke("env.init").returncode == 0
        yield state
    finally:
        invoke("stack.down", "--volumes", "--yes", "--profile", "offline")
        _docker("volume", "rm", "-f", *STACK_VOLUMES)
        created = sorted(_tags() - tags_before)
        if created:
            _docker("rmi", "-f", *created)
        if env_before is None:
            env_file.unlink(missing_ok=True)
        else:
            env_file.write_text(env_before)


def test_every_buildable_image_builds_offline(offline_stack: dict[str, Any]) -> None:
    code, build = offline_stack["build"]
    assert code == 0, [i for i in build["images"] if i["status"] == "failed"]
    names = {i["name"] for i in build["images"]}
    assert {
        "devcontainer",
        "python-experimental",
        "postgres-db",
        "mariadb",
        "postgres-mcp",
        "mariadb-mcp",
        "k8s-plugin",
        "fetch",
        "git",
        "filesystem",
        "memory",
        "github",
    } <= names
    not_buildable = {u["name"] for u in build["not_buildable"]}
    assert not_buildable == {"buildkit", "runner", "grafana"}


def test_second_build_is_fully_cached(offline_stack: dict[str, Any]) -> None:
    code, build = invoke_json("build.all", "--parallel", "--profile", "offline")
    assert code == 0
    assert {i["status"] for i in build["images"]} == {"cached"}, build["images"]


def test_stack_comes_up_healthy_and_reports_what_it_skips(offline_stack: dict[str, Any]) -> None:
    code, data = invoke_json("stack.up", "--profile", "offline", "--timeout", "240")
    assert code == 0, data
    assert data["ok"] and all(s["health"] == "healthy" for s in data["services"])
    addresses = {s["service"]: s["ip"] for s in data["services"]}
    assert addresses["postgres-db"] == "172.20.0.20" and addresses["devcontainer"] == "172.20.0.60"
    assert set(data["not_exercised"]) == {"k8s-plugin", "buildkit", "runner", "grafana"}
    code, health = invoke_json("stack.health", "--profile", "offline")
    assert code == 0 and health["ok"]


def test_mcp_servers_answer_over_stdio(offline_stack: dict[str, Any]) -> None:
    code, data = invoke_json("mcp.probe", "--repeat", "3", "--concurrency", "2")
    assert code == 0, data
    servers = {s["name"]: s for s in data["servers"]}
    assert set(servers) == {"fetch", "filesystem", "git", "memory"}
    for server in servers.values():
        assert server["ok"] and server["tools"] > 0 and server["protocol"]
        assert len(server["latencies_ms"]) == 6
    assert [s["name"] for s in data["not_exercised"]] == ["github"]


def test_memory_graph_survives_between_runs(offline_stack: dict[str, Any]) -> None:
    run = [
        "run",
        "-i",
        "--rm",
        "--network",
        "none",
        "-v",
        "memory-data:/memory",
        "-e",
        "MEMORY_FILE_PATH=/memory/memory.jsonl",
        "mcp-memory:latest",
    ]
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    notified = {"jsonrpc": "2.0", "method": "notifications/initialized"}

    def session(call: dict[str, object]) -> dict[str, object]:
        lines = "\n".join(json.dumps(m) for m in (init, notified, call)) + "\n"
        out = subprocess.run(
            ["docker", *run], input=lines, capture_output=True, text=True, timeout=60, check=True
        ).stdout
        replies = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
        return next(r for r in replies if r.get("id") == 2)

    session(
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {
                "name": "create_entities",
                "arguments": {
                    "entities": [
                        {"name": "e2e-marker", "entityType": "test", "observations": ["kept"]}
                    ]
                },
            },
        }
    )
    graph = session(
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "read_graph", "arguments": {}},
        }
    )
    assert "e2e-marker" in json.dumps(graph)


def test_verify_all_passes_and_names_what_it_cannot_exercise(
    offline_stack: dict[str, Any],
) -> None:
    code, data = invoke_json("verify.all", "--profile", "offline")
    assert code == 0, [c for c in data["checks"] if c["status"] == "fail"]
    checks = {(c["section"], c["name"]): c for c in data["checks"]}
    sections = {c["section"] for c in data["checks"]}
    assert sections == {
        "health",
        "network",
        "volumes",
        "gpu",
        "monitoring",
        "free-threading",
        "logs",
    }
    assert checks[("volumes", "postgres-db data survives restart")]["status"] == "pass"
    assert checks[("volumes", "mariadb data survives restart")]["status"] == "pass"
    assert checks[("network", "network mcp-cluster")]["status"] == "pass"
    assert checks[("gpu", "k8s-plugin sees a GPU")]["detail"] == "no NVIDIA runtime on this host"
    assert checks[("health", "grafana")]["status"] == "not exercised"
    assert checks[("free-threading", "devcontainer")]["status"] == "pass"
    assert checks[("monitoring", "nginx /prometheus/-/healthy")]["status"] == "pass"


def test_phase_12_measures_and_writes_the_report(
    offline_stack: dict[str, Any], tmp_path: Path
) -> None:
    result = invoke(
        "perf",
        "--profile",
        "offline",
        "--repeat",
        "1",
        "--out",
        str(tmp_path),
        "--json",
        timeout=900,
    )
    data = json.loads(result.stdout)
    assert result.returncode == (0 if data["ok"] else 1), result.stderr
    figures = {f["name"]: f for f in data["figures"]}
    assert figures["cached build"]["value"] > 0
    assert figures["cold build, parallel"]["verdict"] == "not measured"
    assert "--cold" in figures["cold build, parallel"]["why"]
    assert figures["start postgres-db"]["value"] > 0
    assert figures["start k8s-plugin"]["verdict"] == "not measured"
    assert figures["start k8s-plugin"]["why"]
    assert figures["MCP fetch p95"]["value"] > 0
    assert figures["MCP github p95"]["verdict"] == "not measured"
    assert 0 < figures["stack RAM"]["value"] < 8000
    assert (tmp_path / "chart.png").read_bytes()[:4] == b"\x89PNG"
    assert "| cached build |" in (tmp_path / "report.md").read_text()
    assert json.loads((tmp_path / "report.json").read_text())["machine"]["cpus"]


def test_stack_down_removes_containers(offline_stack: dict[str, Any]) -> None:
    assert invoke("stack.down", "--profile", "offline").returncode == 0
    assert _docker("network", "inspect", "mcp-cluster").returncode != 0
    code, data = invoke_json("stack.ps", "--profile", "offline")
    assert code == 0 and data["services"] == []


def test_exporter_serves_probe_metrics(offline_stack: dict[str, Any]) -> None:
    result = invoke("mcp.exporter", "--once")
    assert result.returncode == 0, result.stderr
    for server in ("fetch", "filesystem", "git", "memory"):
        assert f'mcp_server_up{{server="{server}"}} 1' in result.stdout
