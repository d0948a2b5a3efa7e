"""The MCP stdio client and the probe built on it, against a scripted server process."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tasks.model.manifest import ProbeCall
from tasks.servers import probe, stdio
from tasks.servers.probe import ProbeResult
from tasks.servers.specs import ProbeSpec
from tests.clirun import REPO

FAKE = str(REPO / "tests/fakemcp.py")


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short waits: retries and the stop of a server that ignores its closed stdin."""
    monkeypatch.setattr(probe, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(stdio, "EXIT_SECONDS", 0.3)


def _spec(
    name: str, mode: str = "ok", call: ProbeCall | None = None, timeout: float = 20
) -> ProbeSpec:
    """The scripted server in `mode`, probed under `name`."""
    return ProbeSpec(name, sys.executable, (FAKE, mode), {}, call, timeout)


def _probe(
    mode: str, call: ProbeCall | None = None, repeat: int = 1, timeout: float = 20
) -> ProbeResult:
    return probe.run_probes([_spec(mode, mode, call, timeout)], repeat, 1)[0]


def test_handshake_paged_tools_and_calls() -> None:
    result = _probe("ok", ProbeCall("echo", {"url": "page-1"}, expect="page-1"), repeat=3)
    assert result.ok, result.error
    assert (result.server, result.version, result.protocol) == ("fake", "9.9", "2025-06-18")
    assert result.tools == 3  # two pages, the second in a batch with a notification
    assert len(result.latencies_ms) == 3 and result.attempts == 1
    assert result.cold_start_ms > 0


def _ticking(monkeypatch: pytest.MonkeyPatch, step: float) -> None:
    """The probe's clock: 8 s, then `step` seconds more at each reading."""
    ticks = iter(range(1000))
    clock = SimpleNamespace(perf_counter=lambda: 8 + next(ticks) * step)
    monkeypatch.setattr(probe, "time", clock)


def test_the_cold_start_and_each_request_are_timed_in_tenths_of_milliseconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _ticking(monkeypatch, 0.12346)
    result = _probe("ok", None, repeat=2)
    assert result.ok and result.cold_start_ms == 123.5 and result.latencies_ms == [123.5, 123.5]
    assert result.p50_ms == 123.5 and result.p95_ms == 123.5


def test_a_server_that_answered_its_handshake_is_not_started_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """However quick its handshake (half a millisecond here), a server that started and then
    failed would fail again: one attempt, with what it wrote to stderr."""
    _ticking(monkeypatch, 0.0005)
    result = _probe("crash")
    assert (result.ok, result.attempts, result.cold_start_ms) == (False, 1, 0.5)
    assert result.error == (
        "crash failed: ServerExited: the server closed stdout before it answered (stderr: crashed)"
    )


def test_a_probe_names_its_result_after_the_server() -> None:
    spec = _spec("ok")
    assert asyncio.run(probe.probe(spec, 1)).name == "ok"


def test_a_probe_makes_five_warm_requests_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec("ok")
    assert len(asyncio.run(probe.probe(spec)).latencies_ms) == 5


def test_servers_are_probed_one_after_another_unless_together() -> None:
    """Each server's latencies are its own: the second starts when the first has ended."""
    specs = [_spec("a"), _spec("b")]
    spans: list[tuple[str, float, float]] = []
    original = probe.probe

    async def timed(spec: ProbeSpec, repeat: int, reach: probe.Reach) -> ProbeResult:
        began = time.monotonic()
        result = await original(spec, repeat, reach)
        spans.append((spec.name, began, time.monotonic()))
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(probe, "probe", timed)
        probe.run_probes(specs, 1, 1)
    (_, _, first_end), (_, second_start, _) = spans
    assert [name for name, *_ in spans] == ["a", "b"] and second_start >= first_end


def test_a_connection_that_never_opens_ends_at_the_deadline_and_stops_the_container() -> None:
    async def never(host: str, port: int) -> Any:
        await asyncio.sleep(3600)

    stopped: list[str] = []
    spec = ProbeSpec("far", url="http://far:8000/sse", transport="sse", timeout=0.2,
                     container="mcp-probe-far")  # fmt: skip
    began = time.monotonic()
    result = asyncio.run(probe.probe(spec, 1, probe.Reach(opener=never, stop=stopped.append)))
    assert time.monotonic() - began < 10
    assert (result.ok, result.error, result.attempts) == (False, "far did not answer within 0 s", 1)
    assert stopped == ["mcp-probe-far"]


def test_a_tool_error_is_shown_up_to_200_characters() -> None:
    result = _probe("ok", ProbeCall("fail", {"why": "x" * 300}))
    prefix = "ok: tool fail returned an error: "
    assert result.error == prefix + '{"why": "' + "x" * 191
    missing = _probe("ok", ProbeCall("echo", {"why": "y" * 300}, expect="z"))
    assert missing.error == "ok: tool echo answered without 'z': " + '{"why": "' + "y" * 191


def test_warm_requests_list_tools_without_a_call() -> None:
    result = _probe("ok", None, repeat=2)
    assert result.ok and result.tools == 3 and len(result.latencies_ms) == 2


def test_concurrent_sessions_pool_their_latencies() -> None:
    spec = _spec("ok")
    [result] = probe.run_probes([spec], 2, 3)
    assert result.ok and len(result.latencies_ms) == 6


def test_each_concurrent_session_starts_a_container_of_its_own_name() -> None:
    spec = ProbeSpec("ok", sys.executable, (FAKE, "ok", "--name", "mcp-probe-ok-1f"), timeout=20,
                     container="mcp-probe-ok-1f")  # fmt: skip
    assert spec.session(0) is spec
    second = spec.session(2)
    assert (second.container, second.args) == (
        "mcp-probe-ok-1f-2", (FAKE, "ok", "--name", "mcp-probe-ok-1f-2"),
    )  # fmt: skip
    assert ProbeSpec("url", url="http://x/sse").session(1).container == ""
    stopped: list[str] = []
    [result] = probe.run_probes([spec], 1, 3, probe.Reach(stop=stopped.append))
    assert result.ok, result.error
    assert sorted(stopped) == ["mcp-probe-ok-1f", "mcp-probe-ok-1f-1", "mcp-probe-ok-1f-2"]


def test_servers_probed_together_keep_their_order() -> None:
    specs = [_spec("first"), _spec("broken", "garbage"), _spec("last")]
    results = probe.run_probes(specs, 1, 1, together=True)
    assert [(r.name, r.ok) for r in results] == [("first", True), ("broken", False), ("last", True)]


def test_answer_without_expected_text_fails() -> None:
    result = _probe("ok", ProbeCall("echo", {"url": "page-1"}, expect="elsewhere"))
    assert not result.ok
    assert result.error.startswith("ok: tool echo answered without 'elsewhere'")


def test_tool_reporting_an_error_fails() -> None:
    result = _probe("ok", ProbeCall("fail", {"why": "broken"}))
    assert not result.ok and "tool fail returned an error" in result.error
    assert "broken" in result.error


def test_stdout_that_is_not_json_rpc_is_named_at_once() -> None:
    result = _probe("garbage")
    assert not result.ok and result.attempts == 1
    assert result.error == (
        "garbage wrote output that is not JSON-RPC to stdout (Server listening on stdio)"
    )


def test_error_reply_is_reported_with_its_code() -> None:
    result = _probe("error")
    assert not result.ok and result.attempts == 1
    assert "tools/list failed: disk on fire (code -32603)" in result.error


def test_unknown_protocol_version_is_refused() -> None:
    result = _probe("old-protocol")
    assert not result.ok
    assert "initialize answered protocol version '1999-01-01'" in result.error


def test_a_server_whose_image_is_not_built_is_not_tried_again() -> None:
    script = "echo \"Unable to find image 'mcp-git:latest' locally\" >&2; exit 125"
    [result] = probe.run_probes([ProbeSpec("git", "sh", ("-c", script), {}, None, 20)], 1, 1)
    assert not result.ok and result.attempts == 1
    assert result.error == "image for git is not built: run `invoke build.mcp --name git`"


def test_server_that_exits_is_retried_and_its_stderr_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []
    sleep = asyncio.sleep

    async def waited(delay: float) -> None:
        waits.append(delay)
        await sleep(0)

    monkeypatch.setattr(asyncio, "sleep", waited)
    result = _probe("exit")
    assert not result.ok and result.attempts == probe.SPAWN_ATTEMPTS
    # the backoff doubles after each failed spawn
    assert [w for w in waits if w >= 0.01] == [0.01, 0.02, 0.04][: probe.SPAWN_ATTEMPTS]
    assert "ServerExited" in result.error and "(stderr: no config)" in result.error


def _gone(pid: int) -> bool:
    """Whether process `pid` ends within 2 s (its stdout closes a moment before it is gone;
    a zombie waiting for its reaper counts as ended)."""
    for _ in range(40):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def test_a_reply_id_must_be_the_requests_own_number() -> None:
    result = _probe("bool-id")
    assert result.ok and result.protocol == "2025-06-18", result.error


def test_an_error_that_names_no_request_fails_the_request() -> None:
    result = _probe("null-id", timeout=10)
    assert not result.ok and "tools/list failed: parse error (code -32700)" in result.error


def test_a_server_that_exits_before_reading_is_named() -> None:
    [result] = probe.run_probes([ProbeSpec("quits", "true", (), {}, None, 5)], 1, 1)
    assert not result.ok and "ServerExited" in result.error


def test_closing_stops_what_the_server_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    env = {"FAKEMCP_PID_FILE": str(pid_file)}
    [result] = probe.run_probes(
        [ProbeSpec("child", sys.executable, (FAKE, "child"), env, None, 20)], 1, 1
    )
    assert result.ok, result.error
    assert _gone(int(pid_file.read_text()))


def test_server_that_never_answers_times_out_and_is_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    env = {"FAKEMCP_PID_FILE": str(pid_file)}
    spec = ProbeSpec("silent", sys.executable, (FAKE, "silent"), env, None, 1)
    [result] = probe.run_probes([spec], 1, 1)
    assert not result.ok and result.attempts == 1
    assert result.error == "silent did not answer within 1 s"
    assert _gone(int(pid_file.read_text()))  # it ignored its closed stdin, so it was stopped


def test_missing_command_is_reported() -> None:
    spec = ProbeSpec("nowhere", "/nonexistent/server", (), {}, None, 5)
    [result] = probe.run_probes([spec], 1, 1)
    assert not result.ok and "FileNotFoundError" in result.error


def test_a_reply_to_a_request_never_made_is_passed_over() -> None:
    result = _probe("stray", ProbeCall("echo", {"url": "page-1"}, expect="page-1"))
    assert result.ok, result.error


def test_a_tool_list_of_a_megabyte_on_one_line_is_read() -> None:
    result = _probe("big")
    assert result.ok and result.tools == 1, result.error


def test_a_line_longer_than_the_limit_is_named_with_the_limit() -> None:
    result = _probe("huge")
    assert not result.ok and result.attempts == 1
    assert result.error == "huge wrote a stdout line longer than 16 MiB"


def test_bytes_that_are_not_utf8_are_read_as_replacement_characters() -> None:
    result = _probe("latin")
    assert result.ok and result.server == "fa\ufffdke", result.error


def test_a_server_that_closes_its_stdin_is_named() -> None:
    result = _probe("deaf")
    assert not result.ok and result.attempts == probe.SPAWN_ATTEMPTS
    assert result.error == "deaf failed: ServerExited: the server closed stdin before it answered"
