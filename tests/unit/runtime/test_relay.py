"""The relay in front of every MCP server (`mcp/runtime/mcp_relay.py`): transparent to the
client, an audit line per call with the arguments' keys and never their values, and a server
that never outlives its client. Run for real in front of the scripted server tests/fakemcp.py."""

from __future__ import annotations

import asyncio
import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tasks.servers.stdio import ServerError, StdioSession
from tests.clirun import REPO

RELAY = REPO / ".devcontainer/mcp/runtime/mcp_relay.py"
FAKE = REPO / "tests/fakemcp.py"


def relayed(mode: str, server: str = "fake") -> tuple[str, ...]:
    return (str(RELAY), server, "--", sys.executable, str(FAKE), mode)


async def conversation(args: tuple[str, ...], env: dict[str, str]) -> dict[str, Any]:
    """A client's session: handshake, tools across pages, a call, a failing call."""
    with tempfile.TemporaryFile(mode="w+") as errors:
        session = await StdioSession.start(sys.executable, args, env, errors)
        try:
            info = await session.initialize()
            tools = await session.list_tools()
            echo = await session.call_tool("echo", {"secret": "hunter2", "n": 1})
            fail = await session.call_tool("fail", {})
        finally:
            await session.close()
    return {"info": info, "tools": tools, "echo": echo, "fail": fail}


def records(folder: Path) -> list[dict[str, Any]]:
    lines = [
        line for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()
    ]
    return [json.loads(line) for line in lines]


def test_the_client_cannot_tell_the_relay_is_there(tmp_path: Path) -> None:
    env = {"MCP_AUDIT_DIR": str(tmp_path), "MCP_SESSION": "s-1"}
    direct = asyncio.run(conversation((str(FAKE), "ok"), env))
    through = asyncio.run(conversation(relayed("ok"), env))
    assert through == direct


def test_one_audit_line_per_call_with_keys_never_values(tmp_path: Path) -> None:
    env = {"MCP_AUDIT_DIR": str(tmp_path), "MCP_SESSION": "s-1", "MCP_ORIGIN": "probe"}
    asyncio.run(conversation(relayed("ok"), env))
    [path] = tmp_path.glob("*.jsonl")
    assert path.name == f"{time.strftime('%Y-%m-%d', time.gmtime())}.fake.s-1.0.jsonl"
    assert path.stat().st_mode & 0o777 == 0o600
    assert "hunter2" not in path.read_text()
    found = records(tmp_path)
    assert all(r["server"] == "fake" and r["session"] == "s-1" for r in found)
    assert all(r["origin"] == "probe" for r in found)
    calls = [
        (r["method"], r["tool"], r["arg_keys"], r["outcome"]) for r in found if r["kind"] == "call"
    ]
    assert calls == [
        ("initialize", "", ["capabilities", "clientInfo", "protocolVersion"], "ok"),
        ("tools/list", "", [], "ok"),
        ("tools/list", "", ["cursor"], "ok"),
        ("tools/call", "echo", ["n", "secret"], "ok"),
        ("tools/call", "fail", [], "tool_error"),
    ]
    echo = next(r for r in found if r.get("tool") == "echo")
    assert echo["bytes_in"] > 50 and echo["bytes_out"] > 50 and echo["duration_ms"] >= 0
    sessions = [r for r in found if r["kind"] == "session"]
    assert [s["event"] for s in sessions] == ["start", "end"]
    assert sessions[1]["calls"] == 5 and sessions[1]["client_closed"] is True
    assert sessions[1]["exit_code"] == 0 and sessions[1]["duration_s"] > 0


def test_an_error_reply_is_logged_with_its_code(tmp_path: Path) -> None:
    env = {"MCP_AUDIT_DIR": str(tmp_path)}
    with pytest.raises(ServerError, match="disk on fire"):
        asyncio.run(conversation(relayed("error"), env))
    failed = [r for r in records(tmp_path) if r.get("method") == "tools/list"]
    assert [(r["outcome"], r["error_code"]) for r in failed] == [("error", -32603)]


def test_a_request_left_unanswered_is_logged_when_the_session_ends(tmp_path: Path) -> None:
    request = {"jsonrpc": "2.0", "id": 7, "method": "tools/list"}
    subprocess.run(
        [sys.executable, *relayed("silent")],
        input=json.dumps(request) + "\n",
        env={
            **os.environ,
            "MCP_AUDIT_DIR": str(tmp_path),
            "MCP_RELAY_GRACE": "0.2",
            "FAKEMCP_PID_FILE": str(tmp_path / "pid"),
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    calls = [r for r in records(tmp_path) if r["kind"] == "call"]
    assert [(c["method"], c["outcome"], c["bytes_out"]) for c in calls] == [
        ("tools/list", "no_reply", 0)
    ]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_server_that_ignores_its_closed_stdin_and_sigterm_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    env = {
        **os.environ,
        "MCP_AUDIT_DIR": str(tmp_path),
        "MCP_RELAY_GRACE": "0.3",
        "FAKEMCP_PID_FILE": str(pid_file),
    }
    relay = subprocess.Popen([sys.executable, *relayed("stubborn")], stdin=subprocess.PIPE, env=env)
    for _ in range(100):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.05)
    server = int(pid_file.read_text())
    started = time.monotonic()
    assert relay.stdin is not None
    relay.stdin.close()  # the client is gone
    assert relay.wait(timeout=10) == 128 + signal.SIGKILL
    assert time.monotonic() - started < 5 and not alive(server)
    end = [r for r in records(tmp_path) if r.get("event") == "end"]
    assert end[0]["exit_code"] == 137 and end[0]["client_closed"] is True


def test_a_signal_to_the_relay_reaches_the_server(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    env = {**os.environ, "MCP_AUDIT_DIR": str(tmp_path), "FAKEMCP_PID_FILE": str(pid_file)}
    relay = subprocess.Popen([sys.executable, *relayed("silent")], stdin=subprocess.PIPE, env=env)
    for _ in range(100):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.05)
    relay.send_signal(signal.SIGTERM)
    assert relay.wait(timeout=10) == 128 + signal.SIGTERM
    assert not alive(int(pid_file.read_text()))


def test_without_a_writable_audit_folder_the_server_still_runs(tmp_path: Path) -> None:
    read_only = tmp_path / "audit"
    read_only.mkdir()
    env = {"MCP_AUDIT_DIR": str(tmp_path / "missing")}
    assert asyncio.run(conversation(relayed("ok"), env))["tools"]
    if os.geteuid() != 0:  # root writes anywhere
        read_only.chmod(0o555)
        result = subprocess.run(
            [sys.executable, *relayed("ok")],
            input="",
            capture_output=True,
            text=True,
            env={**os.environ, "MCP_AUDIT_DIR": str(read_only)},
            check=False,
        )
        assert "audit log off" in result.stderr


@pytest.mark.parametrize(
    ("session", "server", "named"),
    [("../../etc", "", "fake"), ("ok-1", "postgres", "postgres"), ("ok-1", "x/y", "fake")],
)
def test_names_that_would_leave_the_audit_folder_are_not_used(
    tmp_path: Path, session: str, server: str, named: str
) -> None:
    env = {"MCP_AUDIT_DIR": str(tmp_path), "MCP_SESSION": session, "MCP_SERVER_NAME": server}
    asyncio.run(conversation(relayed("ok"), env))
    [path] = tmp_path.glob("*.jsonl")
    _, server_name, session_id, part, _ = path.name.split(".")
    assert server_name == named and part == "0"
    assert (session_id == session) is (session == "ok-1")


def test_usage_errors_start_nothing() -> None:
    for args in (["x"], ["bad/name", "--", "true"], ["x", "true"]):
        result = subprocess.run(
            [sys.executable, str(RELAY), *args], capture_output=True, text=True, check=False
        )
        assert result.returncode == 2 and "usage: mcp-relay SERVER -- COMMAND" in result.stderr


def relay_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mcp_relay", RELAY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_a_session_file_rotates_into_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    relay = relay_module()
    monkeypatch.setattr(relay, "PART_BYTES", 300)
    audit = relay.Audit(str(tmp_path), "git", "s1", "client")
    for index in range(6):
        audit.write({"kind": "call", "n": index})
    parts = sorted(p.name.split(".")[3] for p in tmp_path.glob("*.jsonl"))
    assert parts[0] == "0" and len(parts) > 1
    assert [r["n"] for r in records(tmp_path)] == list(range(6))


def test_a_new_day_starts_its_own_file_at_part_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = relay_module()
    monkeypatch.setattr(relay, "PART_BYTES", 150)
    days = iter(["2026-12-06"] * 3 + ["2026-12-07"] * 9)
    monkeypatch.setattr(time, "strftime", lambda form, moment=None: next(days))
    audit = relay.Audit(str(tmp_path), "git", "s1", "client")
    for index in range(3):
        audit.write({"kind": "call", "n": index})
    names = sorted(path.name for path in tmp_path.glob("*.jsonl"))
    assert names[0] == "2026-12-06.git.s1.0.jsonl"
    assert "2026-12-07.git.s1.0.jsonl" in names and "2026-12-07.git.s1.1.jsonl" not in names


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"result": {"content": []}}, ("ok", None)),
        ({"result": {"isError": True}}, ("tool_error", None)),
        ({"error": {"code": -32601, "message": "x"}}, ("error", -32601)),
        ({"error": {"code": "weird"}}, ("error", None)),
        ({"error": "text"}, ("error", None)),
    ],
)
def test_outcomes(message: dict[str, Any], expected: tuple[str, int | None]) -> None:
    assert relay_module().outcome(message) == expected


# ---------------------------------------------------------------- the relay's parts, in process

REPLIER = """
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if "id" in m:
        print(json.dumps({"jsonrpc": "2.0", "id": m["id"], "result": {"n": len(line)}}))
        sys.stdout.flush()
"""


def test_a_line_holds_one_message_a_batch_or_none() -> None:
    relay = relay_module()
    one = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert relay.messages(json.dumps(one).encode()) == [one]
    assert relay.messages(json.dumps([one, 2, "x", one]).encode()) == [one, one]
    assert relay.messages(b"not json") == [] and relay.messages(b"7") == []


@pytest.mark.parametrize(
    ("message", "described"),
    [
        (
            {"method": "tools/call", "params": {"name": "query", "arguments": {"sql": 1, "db": 2}}},
            ("tools/call", "query", ["db", "sql"]),
        ),
        ({"method": "tools/call", "params": {"arguments": ["sql"]}}, ("tools/call", "", [])),
        (
            {"method": "tools/list", "params": {"cursor": "c", "_meta": {}}},
            ("tools/list", "", ["cursor"]),
        ),
        ({"method": "ping", "params": "odd"}, ("ping", "", [])),
        ({"id": 3}, ("", "", [])),
    ],
)
def test_a_request_is_described_by_its_keys_never_its_values(
    message: dict[str, Any], described: tuple[str, str, list[str]]
) -> None:
    assert relay_module().describe(message) == described


def test_request_ids_and_times() -> None:
    relay = relay_module()
    assert relay.key(7) == "7" and relay.key("7") == '"7"' and relay.key(None) == "null"
    assert relay.key({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'
    stamp = relay.now_iso()
    assert len(stamp) == 24 and stamp[10] == "T" and stamp.endswith("Z") and stamp[19] == "."
    assert relay.PART_BYTES == 16 * 2**20 and relay.AUDIT_DIR == "/audit"
    assert relay.SAFE.fullmatch("a" * 64) and not relay.SAFE.fullmatch("a" * 65)
    assert not relay.SAFE.fullmatch("-a") and relay.SAFE.fullmatch("a-_9")


def test_an_audit_file_is_private_and_named_after_its_session(tmp_path: Path) -> None:
    audit = relay_module().Audit(str(tmp_path), "git", "s-1", "probe")
    audit.write({"kind": "session", "event": "start"})
    [path] = tmp_path.iterdir()
    day = time.strftime("%Y-%m-%d", time.gmtime())
    assert path.name == f"{day}.git.s-1.0.jsonl"
    assert path.stat().st_mode & 0o777 == 0o600
    [record] = records(tmp_path)
    assert {k: v for k, v in record.items() if k != "time"} == {
        "server": "git",
        "session": "s-1",
        "origin": "probe",
        "kind": "session",
        "event": "start",
    }


def test_without_a_writable_folder_the_log_is_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    relay = relay_module()
    missing = relay.Audit(str(tmp_path / "none"), "git", "s", "client")
    missing.write({"kind": "x"})
    assert not missing.enabled and capsys.readouterr().err == ""
    file = tmp_path / "file"
    file.write_text("")
    refused = relay.Audit(str(file), "git", "s", "client")
    assert not refused.enabled
    assert capsys.readouterr().err == f"mcp-relay: audit log off: {file} is not writable\n"
    broken = relay.Audit(str(tmp_path), "git", "s", "client")
    broken.folder = str(tmp_path / "gone")
    broken.write({"kind": "x"})
    assert not broken.enabled and "mcp-relay: audit log off: [Errno 2]" in capsys.readouterr().err


def test_each_call_is_recorded_with_its_reply(tmp_path: Path) -> None:
    relay = relay_module()
    audit = relay.Audit(str(tmp_path), "fake", "s-2", "client")
    passing = relay.Relay([sys.executable, "-c", REPLIER], audit)
    call = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
         "params": {"name": "echo", "arguments": {"secret": "hunter2"}}}
    ).encode() + b"\n"  # fmt: skip
    note = b'{"jsonrpc": "2.0", "method": "notifications/initialized"}\n'
    listed = b'{"jsonrpc": "2.0", "id": "b", "method": "tools/list", "params": {}}\n'
    source, sink = io.BytesIO(call + note + b"garbage\n" + listed), io.BytesIO()
    passing.from_client(source)
    assert passing.client_gone.is_set()
    passing.from_server(sink)
    assert passing.child.wait(10) == 0 and passing.pending == {} and passing.calls == 2
    replies = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert [r["id"] for r in replies] == [1, "b"]
    calls = records(tmp_path)
    assert [(c["method"], c["tool"], c["arg_keys"], c["outcome"]) for c in calls] == [
        ("tools/call", "echo", ["secret"], "ok"),
        ("tools/list", "", [], "ok"),
    ]
    assert calls[0]["bytes_in"] == len(call) and calls[0]["error_code"] is None
    assert calls[0]["bytes_out"] == len(sink.getvalue().splitlines(keepends=True)[0])
    assert calls[0]["kind"] == "call" and calls[0]["duration_ms"] >= 0
    assert "hunter2" not in (tmp_path / os.listdir(tmp_path)[0]).read_text()


def test_a_server_that_outstays_its_client_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = relay_module()
    monkeypatch.setattr(relay, "GRACE_SECONDS", 0.2)
    stubborn = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(30)"
    audit = relay.Audit(str(tmp_path), "fake", "s", "client")
    server = relay.Relay([sys.executable, "-c", stubborn], audit)
    time.sleep(0.3)
    server.client_gone.set()
    server.stop_after_client()
    assert server.child.poll() == -signal.SIGKILL
    server.forward(signal.SIGTERM, None)
    polite = relay.Relay([sys.executable, "-c", "import time\ntime.sleep(30)"], audit)
    polite.forward(signal.SIGTERM, None)
    assert polite.child.wait(10) == -signal.SIGTERM


@pytest.mark.parametrize(
    "argv",
    [["x"], ["x", "--"], ["bad/name", "--", "true"], ["x", "true", "y"], ["-x", "--", "true"]],
)
def test_bad_arguments_start_nothing(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert relay_module().main(argv) == 2
    assert capsys.readouterr().err == "usage: mcp-relay SERVER -- COMMAND [ARGS...]\n"


def test_a_command_that_cannot_start_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert relay_module().main(["x", "--", "/nonexistent/server"]) == 127
    assert capsys.readouterr().err.startswith("mcp-relay: cannot start /nonexistent/server: ")


@pytest.mark.parametrize(
    ("env", "session", "origin", "server"),
    [
        ({"MCP_SESSION": "s-1", "MCP_ORIGIN": "probe", "MCP_SERVER_NAME": "git"},
         "s-1", "probe", "git"),
        ({"MCP_SESSION": "../up", "MCP_ORIGIN": "a b", "MCP_SERVER_NAME": "x/y"},
         None, "client", "bridge"),
        ({}, None, "client", "bridge"),
    ],
)  # fmt: skip
def test_the_relay_audits_under_safe_names_only(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    env: dict[str, str],
    session: str | None,
    origin: str,
    server: str,
) -> None:
    relay = relay_module()
    for name in ("MCP_SESSION", "MCP_ORIGIN", "MCP_SERVER_NAME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(relay, "AUDIT_DIR", str(tmp_path))
    started: list[tuple[list[str], Any]] = []

    class Started:
        def __init__(self, command: list[str], audit: Any) -> None:
            started.append((command, audit))

        def run(self) -> int:
            return 7

    monkeypatch.setattr(relay, "Relay", Started)
    assert relay.main(["bridge", "--", "server", "--flag"]) == 7
    [(command, audit)] = started
    assert command == ["server", "--flag"] and audit.folder == str(tmp_path)
    assert (audit.base["server"], audit.base["origin"]) == (server, origin)
    if session is None:
        # a fresh session: 12 hex digits
        assert len(audit.base["session"]) == 12 and int(audit.base["session"], 16) >= 0
    else:
        assert audit.base["session"] == session


def test_small_records_share_one_file(tmp_path: Path) -> None:
    audit = relay_module().Audit(str(tmp_path), "git", "s-1", "client")
    for n in range(3):
        audit.write({"kind": "call", "n": n})
    assert [path.name.split(".")[3] for path in tmp_path.iterdir()] == ["0"]
    assert [r["n"] for r in records(tmp_path)] == [0, 1, 2]


ONE_THEN_EXIT = """
import sys
sys.stdin.readline()
sys.exit(3)
"""


@pytest.fixture
def handlers() -> Iterator[None]:
    """The test process's own signal handlers, back after a relay installed its own."""
    kept = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in kept.items():
            signal.signal(signum, handler)


def test_a_session_is_logged_from_start_to_end_with_calls_left_unanswered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, handlers: None
) -> None:
    relay = relay_module()
    request = b'{"jsonrpc": "2.0", "id": 9, "method": "tools/list", "params": {}}\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(request)))
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out))
    audit = relay.Audit(str(tmp_path), "fake", "s-3", "probe")
    session = relay.Relay([sys.executable, "-c", ONE_THEN_EXIT], audit)
    assert session.run() == 3
    start, call, end = records(tmp_path)
    assert (start["kind"], start["event"]) == ("session", "start")
    assert (call["method"], call["outcome"], call["bytes_out"]) == ("tools/list", "no_reply", 0)
    assert {k: end[k] for k in ("kind", "event", "calls", "exit_code")} == {
        "kind": "session",
        "event": "end",
        "calls": 1,
        "exit_code": 3,
    }
    assert end["duration_s"] >= 0 and isinstance(end["client_closed"], bool)
    assert signal.getsignal(signal.SIGTERM) == session.forward


def test_a_server_killed_by_a_signal_exits_128_plus_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, handlers: None
) -> None:
    relay = relay_module()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO()))
    killed = "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)"
    session = relay.Relay([sys.executable, "-c", killed], relay.Audit(str(tmp_path), "f", "s", "c"))
    assert session.run() == 128 + signal.SIGTERM
    assert records(tmp_path)[-1]["exit_code"] == 143


def test_a_time_is_the_moment_it_was_taken_at(monkeypatch: pytest.MonkeyPatch) -> None:
    relay = relay_module()
    monkeypatch.setattr(relay.time, "time", lambda: 1796640000.25)
    assert relay.now_iso() == "2026-12-07T10:40:00.250Z"


def test_an_audit_line_lists_its_keys_in_order(tmp_path: Path) -> None:
    audit = relay_module().Audit(str(tmp_path), "git", "s-1", "client")
    audit.write({"kind": "call", "event": "x", "arg_keys": ["b"]})
    [path] = tmp_path.iterdir()
    line = path.read_text()
    assert list(json.loads(line)) == sorted(json.loads(line))


def test_a_server_gone_before_its_client_ends_the_relay_quietly(tmp_path: Path) -> None:
    relay = relay_module()
    gone = relay.Relay([sys.executable, "-c", "pass"], relay.Audit(str(tmp_path), "f", "s", "c"))
    assert gone.child.wait(10) == 0
    gone.from_client(io.BytesIO(b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}\n'))
    assert gone.client_gone.is_set() and gone.child.stdin is not None and gone.child.stdin.closed
