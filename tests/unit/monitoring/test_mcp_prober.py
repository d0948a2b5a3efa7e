"""MCP health, blackbox style (`containers/monitoring/exporters/mcp_prober.py`): each stdio
server of a client config started exactly as configured, a real session through the relay
with the scripted server tests/fakemcp.py, and the figures served to Prometheus."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import mcp_prober
import pytest
from prometheus_client import CollectorRegistry

from tests.clirun import REPO

RELAY = REPO / ".devcontainer/mcp/runtime/mcp_relay.py"
FAKE = REPO / "tests/fakemcp.py"


def entry(mode: str, *extra: str) -> dict[str, Any]:
    """A config entry that starts the scripted server behind the relay, as images do."""
    return {"command": sys.executable, "args": [str(RELAY), "fake", "--", sys.executable,
                                                 str(FAKE), mode, *extra]}  # fmt: skip


def test_the_config_s_stdio_servers_and_the_ones_a_client_must_provide_for() -> None:
    config = {
        "mcpServers": {
            "memory": {"command": "python3", "args": ["launch.py", "run", "-e", "A=1", "img"]},
            "github": {"command": "python3", "args": ["run", "-e", "GITHUB_TOKEN", "img"]},
            "vars": {"command": "python3", "args": ["run", "${localWorkspaceFolder}"]},
            "remote": {"type": "sse", "url": "http://x:8000/sse"},
            "broken": "not a mapping",
        }
    }
    found = {s.name: s for s in mcp_prober.servers(config, {"PATH": "/bin"})}
    assert sorted(found) == ["github", "memory", "vars"]
    assert found["memory"].skipped == "" and found["memory"].args == (
        "launch.py",
        "run",
        "-e",
        "A=1",
        "img",
    )
    assert found["github"].skipped == "needs GITHUB_TOKEN, which a client provides"
    assert (
        found["vars"].skipped == "names a variable only a client resolves (${localWorkspaceFolder})"
    )
    with_token = mcp_prober.servers(config, {"GITHUB_TOKEN": "t"})
    assert next(s for s in with_token if s.name == "github").skipped == ""


def test_a_session_through_the_relay_is_marked_as_the_prober_s(tmp_path: Path) -> None:
    """The scripted server pings the client and asks for roots during the handshake, and
    lists its tools on two pages: the prober answers as a client without capabilities."""
    [server] = mcp_prober.servers({"mcpServers": {"fake": entry("ok")}}, {})
    environ = {"PATH": "/usr/bin:/bin", "MCP_AUDIT_DIR": str(tmp_path)}
    result = mcp_prober.probe(server, str(tmp_path), environ, 30)
    assert result.up and result.tools == 3 and result.error == ""
    assert 0 < result.handshake <= result.duration
    [audit] = tmp_path.glob("*.jsonl")
    assert audit.name.split(".")[1:3] == ["fake", "probe-fake"]
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert {r["origin"] for r in records} == {"probe"}
    assert [r.get("method") for r in records if r["kind"] == "call"] == [
        "initialize", "tools/list", "tools/list",
    ]  # fmt: skip
    assert records[-1]["event"] == "end" and records[-1]["client_closed"]


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("error", "tools/list failed: {'code': -32603, 'message': 'disk on fire'}"),
        ("exit", "the server exited before it answered: no config"),
    ],
)
def test_a_server_that_fails_is_down_with_the_reason(tmp_path: Path, mode: str, error: str) -> None:
    [server] = mcp_prober.servers({"mcpServers": {"fake": entry(mode)}}, {})
    result = mcp_prober.probe(server, str(tmp_path), {"PATH": "/usr/bin:/bin"}, 30)
    assert not result.up and result.error == error


def test_a_silent_server_is_down_once_the_timeout_passes(tmp_path: Path) -> None:
    [server] = mcp_prober.servers({"mcpServers": {"fake": entry("silent")}}, {})
    environ = {"PATH": "/usr/bin:/bin", "FAKEMCP_PID_FILE": str(tmp_path / "pid"),
               "MCP_RELAY_GRACE": "0.2"}  # fmt: skip
    result = mcp_prober.probe(server, str(tmp_path), environ, 1)
    assert not result.up and result.error == "no answer in time"


def test_a_command_that_does_not_exist_is_down() -> None:
    server = mcp_prober.Server("x", "/nonexistent/launcher", (), {})
    result = mcp_prober.probe(server, "/", {}, 5)
    assert not result.up and result.error.startswith("cannot start /nonexistent/launcher:")


def test_every_server_of_the_config_is_probed_and_served(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "mcp.json"
    servers = {"good": entry("ok"), "bad": entry("exit"),
               "github": {"command": "x", "args": ["-e", "GITHUB_TOKEN"]}}  # fmt: skip
    config.write_text(json.dumps({"mcpServers": servers}))
    collector = mcp_prober.ProbeCollector()
    registry = CollectorRegistry()
    registry.register(collector)
    environ = {"PATH": "/usr/bin:/bin", "MCP_AUDIT_DIR": str(tmp_path)}
    mcp_prober.probe_all(collector, config, environ, 30, cwd=str(tmp_path))
    assert registry.get_sample_value("mcp_probe_up", {"server": "good"}) == 1
    assert registry.get_sample_value("mcp_probe_tools", {"server": "good"}) == 3
    assert registry.get_sample_value("mcp_probe_up", {"server": "bad"}) == 0
    assert registry.get_sample_value("mcp_probe_handshake_seconds", {"server": "bad"}) is None
    assert registry.get_sample_value("mcp_probe_skipped", {"server": "github"}) == 1
    assert registry.get_sample_value("mcp_probe_up", {"server": "github"}) is None
    logged = capsys.readouterr().err.splitlines()
    assert logged == ["mcp-prober: bad down: the server exited before it answered: no config",
                      "mcp-prober: good up"]  # fmt: skip
    mcp_prober.probe_all(collector, config, environ, 30, cwd=str(tmp_path))
    assert capsys.readouterr().err == "", "an unchanged state is not logged again"


def test_an_unreadable_config_is_said_once_per_round(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    collector = mcp_prober.ProbeCollector()
    mcp_prober.probe_all(collector, tmp_path / "absent.json", {}, 5, cwd=str(tmp_path))
    assert "mcp-prober: cannot read" in capsys.readouterr().err and collector.results == {}


def test_the_workspace_s_host_path_comes_from_the_own_container_s_mounts() -> None:
    mounts = {"Mounts": [{"Destination": "/var/run/docker.sock", "Source": "/var/run/docker.sock"},
                         {"Destination": "/workspace", "Source": "/home/me/mcp-cluster"}]}  # fmt: skip
    assert mcp_prober.workspace_source(mounts) == "/home/me/mcp-cluster"
    with pytest.raises(SystemExit) as stopped:
        mcp_prober.workspace_source({"Mounts": []})
    assert "nothing is mounted at /workspace" in str(stopped.value)


@pytest.mark.parametrize("raw", ["4", "x", "-60"])
def test_a_bad_interval_stops_with_its_name(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("MCP_PROBE_INTERVAL", raw)
    with pytest.raises(SystemExit) as stopped:
        mcp_prober.seconds("MCP_PROBE_INTERVAL", 60)
    assert str(stopped.value) == (
        f"mcp-prober: MCP_PROBE_INTERVAL must be a whole number of seconds >= 5, not {raw!r}"
    )
