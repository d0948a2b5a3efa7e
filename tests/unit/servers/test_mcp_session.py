"""The MCP client's requests over a scripted transport: exactly what it sends (the handshake,
the cursor of each page, its answers to the server's own requests) and what each reply it
reads turns into; and the probe's verdicts: percentiles, messages, merged sessions."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tasks.model.launchpolicy import scope_of
from tasks.model.manifest import ProbeCall
from tasks.model.stack import load_stack
from tasks.servers import probe, stdio
from tasks.servers.docstable import blocks
from tasks.servers.generate import launcher_args
from tasks.servers.inside import inside_specs, remote_settings
from tasks.servers.page import probe_page
from tasks.servers.probe import ProbeError, ProbeResult
from tasks.servers.remote import (
    HEAD_LIMIT,
    Event,
    HttpSession,
    SseSession,
    Stream,
    Target,
    events,
    send_request,
    tunnel,
)
from tasks.servers.specs import (
    PAGE_TEXT,
    ProbeSpec,
    Skipped,
    harmless_call,
    probe_launch,
    probe_specs,
    refused,
)
from tasks.servers.stdio import (
    CLIENT_INFO,
    HANDSHAKE_VERSIONS,
    ProtocolError,
    ServerError,
    ServerInfo,
    Session,
    decode,
)
from tests.clirun import REPO
from tests.ministack import MiniStack


class Scripted(Session):
    """A session whose server says the scripted lines, one per read."""

    def __init__(self, *lines: Any) -> None:
        super().__init__()
        self.lines = [line if isinstance(line, list) else [line] for line in lines]
        self.sent: list[dict[str, Any]] = []

    async def _send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def _read(self) -> list[dict[str, Any]]:
        return self.lines.pop(0)

    async def close(self) -> None:
        return None


def reply(ident: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": ident, "result": result}


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_the_constants_of_the_protocol() -> None:
    assert HANDSHAKE_VERSIONS == ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
    assert CLIENT_INFO == {"name": "mcp-cluster-probe", "version": "1.0"}
    assert stdio.LINE_LIMIT == 16 * 2**20 and stdio.EXIT_SECONDS == 2.0
    assert stdio.METHOD_NOT_FOUND == -32601


def test_the_handshake_offers_the_newest_revision_then_says_initialized() -> None:
    answer = {"protocolVersion": "2024-11-05", "serverInfo": {"name": "git", "version": 3}}
    session = Scripted(reply(1, answer))
    assert run(session.initialize()) == ServerInfo("git", "3", "2024-11-05")
    assert session.protocol == "2024-11-05"
    assert session.sent == [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "mcp-cluster-probe", "version": "1.0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
    ]


@pytest.mark.parametrize("info", [None, "git", ["git"]])
def test_a_server_without_its_info_is_nameless(info: Any) -> None:
    session = Scripted(reply(1, {"protocolVersion": "2025-06-18", "serverInfo": info}))
    assert run(session.initialize()) == ServerInfo("", "", "2025-06-18")


@pytest.mark.parametrize("version", ["2025-06-19", "", None])
def test_an_unknown_revision_is_refused_before_initialized(version: Any) -> None:
    session = Scripted(reply(1, {} if version is None else {"protocolVersion": version}))
    shown = "" if version is None else version
    with pytest.raises(ProtocolError) as refused:
        run(session.initialize())
    assert str(refused.value) == f"initialize answered protocol version {shown!r}"
    assert len(session.sent) == 1 and session.protocol == ""


def test_pages_are_followed_by_their_cursor() -> None:
    session = Scripted(
        reply(1, {"tools": [{"name": "a"}], "nextCursor": "p2"}),
        reply(2, {"tools": [{"name": "b"}, {"name": "c"}], "nextCursor": ""}),
    )
    assert run(session.list_tools()) == [{"name": "a"}, {"name": "b"}, {"name": "c"}]
    assert [m["params"] for m in session.sent] == [{}, {"cursor": "p2"}]
    assert [m["id"] for m in session.sent] == [1, 2]


@pytest.mark.parametrize("tools", [None, {"a": 1}, "a"])
def test_a_page_without_a_tools_list_is_refused(tools: Any) -> None:
    session = Scripted(reply(1, {"tools": tools} if tools is not None else {}))
    with pytest.raises(ProtocolError, match=r"\Atools/list answered without a tools list\Z"):
        run(session.list_tools())


def test_a_call_sends_the_tool_and_its_arguments() -> None:
    session = Scripted(reply(1, {"content": [], "isError": True}))
    assert run(session.call_tool("echo", {"x": 1})) == {"content": [], "isError": True}
    assert session.sent[0]["method"] == "tools/call"
    assert session.sent[0]["params"] == {"name": "echo", "arguments": {"x": 1}}


def test_the_servers_own_requests_are_answered_while_waiting() -> None:
    session = Scripted(
        [
            {"jsonrpc": "2.0", "method": "notifications/progress", "params": {}},
            {"jsonrpc": "2.0", "id": "p1", "method": "ping"},
            {"jsonrpc": "2.0", "id": 7, "method": "sampling/createMessage"},
        ],
        reply(99, {"late": True}),
        reply("1", {"wrong": "type"}),
        reply(1, {"ok": True}),
    )
    assert run(session.request("tools/list", {})) == {"ok": True}
    assert session.sent[1:] == [
        {"jsonrpc": "2.0", "id": "p1", "result": {}},
        {
            "jsonrpc": "2.0",
            "id": 7,
            "error": {"code": -32601, "message": "not supported by this client"},
        },
    ]


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        (
            {"jsonrpc": "2.0", "id": 1, "error": {"code": -32602, "message": "bad params"}},
            "tools/call failed: bad params (code -32602)",
        ),
        ({"jsonrpc": "2.0", "id": 1, "error": "text"}, "tools/call failed: None (code None)"),
        (
            {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}},
            "tools/call failed: parse error (code -32700)",
        ),
        ({"jsonrpc": "2.0", "error": ["x"]}, "tools/call failed: None (code None)"),
    ],
)
def test_an_error_reply_fails_the_request_with_its_code(message: Any, shown: str) -> None:
    with pytest.raises(ServerError) as failed:
        run(Scripted(message).request("tools/call", {}))
    assert str(failed.value) == shown


@pytest.mark.parametrize("result", [None, [], "ok"])
def test_a_reply_without_a_result_object_is_refused(result: Any) -> None:
    message = {"jsonrpc": "2.0", "id": 1} if result is None else reply(1, result)
    with pytest.raises(ProtocolError, match=r"\Aping answered without a result object\Z"):
        run(Scripted(message).request("ping", {}))


def test_a_batch_or_one_message_is_decoded() -> None:
    one = {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert decode(json.dumps(one), "stdout") == [one]
    assert decode(f"  {json.dumps([one, one])}\n", "stdout") == [one, one]


@pytest.mark.parametrize(
    "text",
    ["[]", "{}", '{"jsonrpc": "1.0"}', '[{"jsonrpc": "2.0"}, 1]', "hello", "null", "x" * 200],
)
def test_anything_else_is_named_with_where_it_came(text: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        decode(text, "the SSE stream")
    assert str(refused.value) == (
        f"wrote output that is not JSON-RPC to the SSE stream ({text.strip()[:120]})"
    )


# ---------------------------------------------------------------- the probe's verdicts


def test_the_probes_retry_constants() -> None:
    assert (probe.SPAWN_ATTEMPTS, probe.BACKOFF_SECONDS) == (3, 0.5)
    assert (ProbeError, ProtocolError, ServerError, TimeoutError) == probe.FINAL


@pytest.mark.parametrize(
    ("values", "pct", "found"),
    [
        ([5.0, 1.0, 3.0, 2.0, 4.0], 50, 3.0),
        ([5.0, 1.0, 3.0, 2.0, 4.0], 95, 5.0),
        ([5.0, 1.0, 3.0, 2.0, 4.0], 20, 1.0),
        ([5.0, 1.0, 3.0, 2.0, 4.0], 21, 2.0),
        ([5.0, 1.0, 3.0, 2.0, 4.0], 0, 1.0),
        ([5.0, 1.0, 3.0, 2.0, 4.0], 100, 5.0),
        ([5.0, 1.0, 3.0, 2.0, 4.0], 150, 5.0),
        ([7.0], 1, 7.0),
        ([], 50, 0.0),
        ([float(n) for n in range(202, 0, -1)], 50, 101.0),  # rank 101 = 50% of 202 exactly
    ],
)
def test_nearest_rank_percentiles(values: list[float], pct: float, found: float) -> None:
    assert probe.percentile(values, pct) == found


def test_the_p95_is_the_95th_of_a_hundred() -> None:
    result = ProbeResult("x", latencies_ms=[float(n) for n in range(100, 0, -1)])
    assert (result.p50_ms, result.p95_ms) == (50.5, 95.0)


def test_a_result_rounds_its_figures_for_json() -> None:
    result = ProbeResult("git", True, latencies_ms=[10.0, 20.06, 30.1, 40.04])
    assert (result.p50_ms, result.p95_ms) == (25.1, 40.0)
    assert ProbeResult("git").p50_ms == 0.0 and ProbeResult("git").p95_ms == 0.0
    data = result.to_json()
    assert data["p50_ms"] == 25.1 and data["p95_ms"] == 40.0 and data["name"] == "git"
    assert "p50_ms" not in result.__dict__


SPEC = ProbeSpec("git", "python3", timeout=12.4)


@pytest.mark.parametrize(
    ("stderr", "error", "shown"),
    [
        ("", ProtocolError("wrote x"), "git wrote x"),
        (
            "Unable to find image 'mcp-git:latest' locally",
            RuntimeError("exit 125"),
            "image for git is not built: run `invoke build.mcp --name git`",
        ),
        (
            "pull access denied for mcp-git",
            OSError(),
            "image for git is not built: run `invoke build.mcp --name git`",
        ),
        (
            "Error: No such image: mcp-git",
            OSError(),
            "image for git is not built: run `invoke build.mcp --name git`",
        ),
        ("", TimeoutError(), "git did not answer within 12 s"),
        (
            "a\nb\nc\nd\n",
            RuntimeError("boom"),
            "git failed: RuntimeError: boom (stderr: b | c | d)",
        ),
        ("  \n", ValueError(""), "git failed: ValueError:"),
    ],
)
def test_what_went_wrong_is_one_message(stderr: str, error: BaseException, shown: str) -> None:
    assert probe.explain(stderr, error, SPEC) == shown


def test_concurrent_sessions_merge_into_one_verdict() -> None:
    first = ProbeResult("git", True, "git", "1", "2025-06-18", 4, 120.0, [1.0, 2.0], 1)
    second = ProbeResult("git", False, "", "", "", 0, 300.0, [3.0], 3, "git: b failed")
    third = ProbeResult("git", False, "", "", "", 0, 0.0, [], 2, "git: a failed")
    merged = probe._merge("git", [first, second, third, second])
    assert merged == ProbeResult(
        "git",
        False,
        "git",
        "1",
        "2025-06-18",
        4,
        300.0,
        [1.0, 2.0, 3.0, 3.0],
        3,
        "git: a failed; git: b failed",
    )
    assert probe._merge("git", [first, first]).ok


# ---------------------------------------------------------------- HTTP, byte by byte


class Written:
    """The writing half of a scripted connection: what the client sent."""

    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        return None


def exchange_once(
    answer: bytes, method: str, body: bytes = b""
) -> tuple[int, dict[str, str], str, bytes]:
    async def run() -> tuple[int, dict[str, str], str, bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(answer)
        reader.feed_eof()
        writer = Written()

        async def close() -> None:
            return None

        stream = Stream(reader, writer, close)  # type: ignore[arg-type]
        target = Target.of("http://mcp-host:8000/mcp?session=1")
        reply = await send_request(stream, method, target, {"Accept": "text/event-stream"}, body)
        return reply.status, reply.headers, await reply.text(), writer.data

    result: tuple[int, dict[str, str], str, bytes] = asyncio.run(run())
    return result


def test_a_post_says_its_length_and_a_get_does_not() -> None:
    answer = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
    status, headers, text, sent = exchange_once(answer, "POST", b'{"a":1}')
    assert sent == (
        b"POST /mcp?session=1 HTTP/1.1\r\nHost: mcp-host:8000\r\nAccept: text/event-stream\r\n"
        b'Content-Length: 7\r\n\r\n{"a":1}'
    )
    assert (status, headers, text) == (202, {"content-length": "0"}, "")
    _, _, _, sent = exchange_once(answer, "POST")
    assert sent.endswith(b"Content-Length: 0\r\n\r\n")
    _, _, _, sent = exchange_once(answer, "GET")
    assert (
        sent
        == b"GET /mcp?session=1 HTTP/1.1\r\nHost: mcp-host:8000\r\nAccept: text/event-stream\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("answer", "headers", "text"),
    [
        (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello-extra",
            {"content-type": "text/plain", "content-length": "5"},
            "hello",
        ),
        (
            b"HTTP/1.1 200 OK\nTransfer-Encoding: Chunked\n\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            {"transfer-encoding": "Chunked"},
            "abcde",
        ),
        (
            b"HTTP/1.0 200 OK\r\nX-A:  spaced : value \r\n\r\nuntil the end",
            {"x-a": "spaced : value"},
            "until the end",
        ),
        (b"HTTP/1.1 200 OK\r\nX-Cut: yes\r\n", {"x-cut": "yes"}, ""),
    ],
)
def test_a_response_head_and_body_are_read_as_sent(
    answer: bytes, headers: dict[str, str], text: str
) -> None:
    status, found, body, _ = exchange_once(answer, "GET")
    assert (status, found, body) == (200, headers, text)


@pytest.mark.parametrize(
    "answer",
    [
        b"",
        b"SSH-2.0-OpenSSH\r\n",
        b"HTTP/1.1\r\n",
        b"HTTP/1.1 OK fine\r\n",
        # one space between the version and the code, as HTTP/1.1 writes it
        b"HTTP/1.1  200 OK\r\n",
    ],
)
def test_an_answer_that_is_not_http_is_named(answer: bytes) -> None:
    with pytest.raises(ProtocolError) as refused:
        exchange_once(answer, "GET")
    assert str(refused.value) == f"GET /mcp?session=1 got no HTTP response ({answer[:80]!r})"


def test_an_answer_cut_after_its_status_and_a_header_that_is_not_utf8() -> None:
    assert exchange_once(b"HTTP/1.1 204", "GET")[:3] == (204, {}, "")
    answer = b"HTTP/1.1 200 OK\r\nX-Name: caf\xe9\r\n\r\n"
    status, headers, text, _ = exchange_once(answer, "GET")
    assert (status, headers, text) == (200, {"x-name": "caf\ufffd"}, "")


def test_a_chunked_body_ends_at_an_empty_or_zero_size_line() -> None:
    answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n\r\n\r\nrest"
    assert exchange_once(answer, "GET")[2] == "ab"


def test_event_fields_with_and_without_a_space_after_the_colon() -> None:
    async def read(body: bytes) -> list[Event]:
        async def chunks() -> AsyncIterator[bytes]:
            yield body

        return [event async for event in events(chunks())]

    found = asyncio.run(read(b"event:ping\ndata:x\ndata: y\ndata:  z \r\n\ndata:\n\n\n"))
    assert found == [Event("ping", "x\ny\n z "), Event("message", "")]


def test_a_tunnel_closes_the_relays_stdin_before_stopping_it(tmp_path: Path) -> None:
    marker = tmp_path / "relay.txt"
    # a relay that ignores SIGTERM: only its stdin's end makes it leave in time
    script = f'trap "" TERM; echo ready; cat >/dev/null; echo "eof $1" > {marker}'

    async def open_and_close() -> None:
        stream = await tunnel(["sh", "-c", script, "relay"])("db", 5432)
        assert await stream.reader.readline() == b"ready\n"
        await stream.closer()

    asyncio.run(open_and_close())
    assert marker.read_text() == "eof TCP:db:5432\n"


def test_a_session_whose_delete_is_not_answered_in_http_still_closes() -> None:
    first = http("200 OK", {"Content-Type": "application/json", "Mcp-Session-Id": "s-9"},
                 json.dumps({"jsonrpc": "2.0", "id": 1, "result": {}}).encode())  # fmt: skip
    # a kept-alive connection that fails is opened again once: it fails the same way
    server = Served(first + b"SSH-2.0-not-http\r\n", b"SSH-2.0-not-http\r\n")

    _ping(lambda: HttpSession.start("http://db/mcp", server.open))
    assert server.closed == 2 and b"DELETE /mcp HTTP/1.1\r\n" in server.sent[1].data


def test_a_body_that_is_not_utf8_is_read_with_replacements() -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ncaf\xe9"
    assert exchange_once(answer, "GET")[2] == "caf\ufffd"


class Calls:
    """A session that answers every tool call with `reply`."""

    def __init__(self, reply: dict[str, Any]) -> None:
        self.reply = reply

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return self.reply


def test_a_calls_text_is_its_text_parts_joined() -> None:
    content = [{"type": "image"}, "loose", {"type": "text", "text": "page"}, {"text": 7}]
    session = Calls({"content": content})
    with pytest.raises(ProbeError) as failed:
        asyncio.run(probe._call(session, ProbeCall("fetch", {}, expect="elsewhere")))  # type: ignore[arg-type]
    assert str(failed.value) == "tool fetch answered without 'elsewhere':  page 7"
    asyncio.run(probe._call(session, ProbeCall("fetch", {}, expect="page 7")))  # type: ignore[arg-type]
    refused = Calls({"content": "not a list", "isError": True})
    with pytest.raises(ProbeError) as failed:
        asyncio.run(probe._call(refused, ProbeCall("fetch", {})))  # type: ignore[arg-type]
    assert str(failed.value) == "tool fetch returned an error: "


def test_a_reply_without_a_content_type_is_read_as_json() -> None:
    reply = {"jsonrpc": "2.0", "id": 1, "result": {"ok": 1}}
    server = Served(http("200 OK", {}, json.dumps(reply).encode()))

    async def talk() -> dict[str, Any]:
        session = await HttpSession.start("http://db/mcp", server.open)
        try:
            return await session.request("ping", {})
        finally:
            await session.close()

    assert asyncio.run(talk()) == {"ok": 1}


def test_a_request_without_a_body_sends_none() -> None:
    async def get() -> bytes:
        reader = asyncio.StreamReader()
        reader.feed_data(b"HTTP/1.1 204 No Content\r\n\r\n")
        reader.feed_eof()
        writer = Written()

        async def close() -> None:
            return None

        stream = Stream(reader, writer, close)  # type: ignore[arg-type]
        await send_request(stream, "GET", Target.of("http://h:1/sse"), {})
        return writer.data

    assert asyncio.run(get()) == b"GET /sse HTTP/1.1\r\nHost: h:1\r\n\r\n"


def test_a_reply_body_that_is_not_json_rpc_is_named() -> None:
    server = Served(http("200 OK", {"Content-Type": "application/json"}, b"<html>"))

    with pytest.raises(ProtocolError) as failed:
        _ping(lambda: HttpSession.start("http://db/mcp", server.open))
    assert str(failed.value) == "wrote output that is not JSON-RPC to the response body (<html>)"


def test_a_head_over_64_kib_is_refused() -> None:
    assert HEAD_LIMIT == 64 * 1024
    line = b"X-Big: " + b"a" * 1015 + b"\r\n"
    assert len(line) * 64 == HEAD_LIMIT
    assert exchange_once(b"HTTP/1.1 200 OK\r\n" + line * 64 + b"\r\n", "GET")[0] == 200
    over = line * 63 + b"X-Big: " + b"a" * 1016 + b"\r\n"
    with pytest.raises(
        ProtocolError, match=r"\AGET /mcp\?session=1: response headers over 64 KiB\Z"
    ):
        exchange_once(b"HTTP/1.1 200 OK\r\n" + over + b"\r\n", "GET")


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("http://db:8000/sse", Target("db", 8000, "/sse")),
        ("http://db", Target("db", 80, "/")),
        ("http://db/mcp?a=1&b=2", Target("db", 80, "/mcp?a=1&b=2")),
    ],
)
def test_a_url_is_split_into_where_it_points(url: str, target: Target) -> None:
    assert Target.of(url) == target


@pytest.mark.parametrize("url", ["https://db/sse", "db:8000/sse", "http:///sse"])
def test_only_plain_http_urls_are_reached(url: str) -> None:
    with pytest.raises(ProtocolError, match=rf"\A{re.escape(url)} is not an http:// URL\Z"):
        Target.of(url)


# ---------------------------------------------------------------- what the probe starts


def test_the_launchers_own_options_per_client() -> None:
    stack = load_stack(REPO)
    git, filesystem = stack.manifests["git"], stack.manifests["filesystem"]
    guards = ["--guard", ".git/hooks/", "--guard", ".git/config", "--guard", ".vscode/",
              "--guard", ".devcontainer/"]  # fmt: skip
    assert launcher_args(git, "devcontainer") == [
        "--workspace", "/workspace", "--source", "${localWorkspaceFolder}", *guards,
        "--as-owner", "--git-identity",
    ]  # fmt: skip
    assert launcher_args(git, "portable") == [
        "--workspace", "/workspace", *guards, "--as-owner", "--git-identity",
    ]  # fmt: skip
    assert launcher_args(filesystem, "vscode") == ["--workspace", "/workspace:ro"]
    assert launcher_args(stack.manifests["memory"], "devcontainer") == []


def test_the_probe_starts_each_server_as_its_client_would(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_PERSONAL_ACCESS_TOKEN", raising=False)
    stack = load_stack(REPO)
    specs, skipped = probe_specs(
        stack, ("git", "github", "postgres"), Path("/ws"), "http://p/", 7.0
    )
    assert skipped == [Skipped("github", "GITHUB_PERSONAL_ACCESS_TOKEN is not set")]
    git, postgres = specs
    assert postgres == ProbeSpec(
        "postgres",
        call=harmless_call(stack.manifests["postgres"], "http://p/"),
        timeout=7.0,
        url="http://postgres-mcp:8000/sse",
        transport="sse",
    )
    assert git.command == "python3" and git.timeout == 7.0 and git.env == {"MCP_ORIGIN": "probe"}
    assert re.fullmatch(r"mcp-probe-git-[0-9a-f]{8}", git.container)
    assert git.args[:2] == ("/ws/.devcontainer/mcp/runtime/mcp_launch.py", "--workspace")
    at = git.args.index("run")
    assert git.args[at : at + 3] == ("run", "--name", git.container)
    assert git.args[-3:] == ("mcp-git:latest", "--repository", "/workspace")
    inside = probe_specs(stack, ("git",), Path("/ws"), "http://p/", 7.0, "/in")[0][0]
    assert inside.args[0] == "/in/.devcontainer/mcp/runtime/mcp_launch.py"


def test_inside_the_dev_container_the_probe_runs_docker_exec_as_its_user(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_PERSONAL_ACCESS_TOKEN", "ghp_x")
    stack = load_stack(REPO)
    remote = remote_settings(stack)
    specs, _ = inside_specs(stack, remote, "c0ffee", "http://p/", 5.0, "probe")
    by_name = {spec.name: spec for spec in specs}
    assert by_name["postgres"].url == "http://postgres-mcp:8000/sse"
    github = by_name["github"]
    options = ["exec", "-i", "-u", remote.user, "-w", remote.workdir]
    for name, value in remote.env.items():
        options += ["-e", f"{name}={value}"]
    names = sorted(github.env)
    assert names == ["GITHUB_PERSONAL_ACCESS_TOKEN", "MCP_ORIGIN"]
    assert github.command == "docker"
    assert list(github.args[: len(options) + 5]) == [
        *options, "-e", names[0], "-e", names[1], "c0ffee",
    ]  # fmt: skip
    assert "ghp_x" not in github.args and github.args[len(options) + 5] == "python3"
    assert (
        github.args[len(options) + 6] == f"{remote.workdir}/.devcontainer/mcp/runtime/mcp_launch.py"
    )
    assert {spec.timeout for spec in specs} == {5.0}
    assert by_name["fetch"].call is not None and by_name["fetch"].call.arguments["url"] == (
        "http://p/"
    )


def test_the_dev_containers_user_and_folder_default_as_vs_code_defaults_them(
    mini: MiniStack,
) -> None:
    def settings(**values: Any) -> tuple[str, str]:
        path = mini.folder / "devcontainer.json"
        data = json.loads(path.read_text().removeprefix("// mini stack\n"))
        for key in ("remoteUser", "containerUser", "workspaceFolder"):
            data.pop(key, None)
        path.write_text(json.dumps({**data, **values}))
        remote = remote_settings(load_stack(mini.root))
        return remote.user, remote.workdir

    assert settings(remoteUser="vscode", workspaceFolder="/ws") == ("vscode", "/ws")
    assert settings(containerUser="node", remoteUser="", workspaceFolder="") == ("node", "/")
    assert settings(workspaceFolder="/w") == ("root", "/w")


def test_only_the_docs_folder_holds_generated_tables(mini: MiniStack) -> None:
    text = (mini.folder / "docs/README.md").read_text()
    mini.put("mcp/docs/notes.md", text)
    mini.put("docs/more/notes.md", text)
    found = [b.doc.path.relative_to(mini.folder) for b in blocks(load_stack(mini.root))]
    assert sorted(map(str, found)) == ["docs/README.md", "docs/more/notes.md"]


def test_a_server_devcontainer_json_does_not_configure_is_skipped(mini: MiniStack) -> None:
    mini.edit_json(
        "devcontainer.json", lambda d: d["customizations"]["vscode"]["mcp"]["servers"].pop("memory")
    )
    specs, skipped = probe_specs(load_stack(mini.root), (), mini.root, "http://p/", 5.0)
    assert Skipped("memory", "not in devcontainer.json (run mcp.config)") in skipped
    assert "memory" not in [spec.name for spec in specs]


def test_a_launch_without_docker_run_gets_the_probe_name_at_its_end() -> None:
    stack = load_stack(REPO)
    assert probe_launch(["-c", "serve"], stack.manifests["memory"], "mcp-probe-m") == [
        "-c", "serve", "--name", "mcp-probe-m",
    ]  # fmt: skip


def test_what_is_no_docker_run_is_never_refused_and_every_refusal_is_named() -> None:
    scope = scope_of(load_stack(REPO), probe=True)
    assert refused("python3", ["server.py", "--privileged"], scope) == ""
    launch = ["run", "-i", "--rm", "--privileged", "--cap-add", "SYS_ADMIN", "mcp-git:latest"]
    assert refused("docker", launch, scope) == (
        "--privileged is not an allowed launch option (remove --privileged); "
        "--cap-add SYS_ADMIN is not an allowed launch option (remove --cap-add; a workspace "
        "mount or user comes from the manifest's mounts/user (the launcher adds them))"
    )


def test_a_launch_outside_the_allow_list_is_skipped_by_name(mini: MiniStack) -> None:
    def privileged(data: dict[str, Any]) -> None:
        memory = data["customizations"]["vscode"]["mcp"]["servers"]["memory"]
        memory["args"].insert(memory["args"].index("run") + 1, "--privileged")

    mini.edit_json("devcontainer.json", privileged)
    specs, skipped = probe_specs(load_stack(mini.root), (), mini.root, "http://p/", 5.0)
    [refusal] = [s for s in skipped if s.refused]
    assert refusal.name == "memory" and refusal.reason.startswith("launch refused: ")
    assert "memory" not in [spec.name for spec in specs]


def test_a_servers_environment_names_the_workspace_as_its_client_would(mini: MiniStack) -> None:
    def named(data: dict[str, Any]) -> None:
        server = data["customizations"]["vscode"]["mcp"]["servers"]["memory"]
        server["env"] = {
            "HERE": "${localWorkspaceFolder}/x",
            "THERE": "${containerWorkspaceFolder}",
        }

    mini.edit_json("devcontainer.json", named)
    stack = load_stack(mini.root)
    [memory] = [s for s in probe_specs(stack, ("memory",), Path("/ws"), "http://p/", 5.0)[0]]
    assert (memory.env["HERE"], memory.env["THERE"]) == ("/ws/x", "/ws")
    [inside] = probe_specs(stack, ("memory",), Path("/ws"), "http://p/", 5.0, "/in")[0]
    assert (inside.env["HERE"], inside.env["THERE"]) == ("/ws/x", "/in")


def test_the_probe_page_is_served_by_a_thread_that_does_not_hold_the_process() -> None:
    before = set(threading.enumerate())
    with probe_page():
        started = set(threading.enumerate()) - before
        assert started and all(thread.daemon for thread in started)


def test_the_probe_page_and_the_metrics_are_served_on_loopback() -> None:
    with probe_page() as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        with urllib.request.urlopen(url, timeout=10) as page:
            body = f"<html><body><h1>{PAGE_TEXT}</h1></body></html>"
            assert page.status == 200 and page.headers["Content-Type"] == "text/html"
            assert page.headers["Content-Length"] == str(len(body))
            assert page.read().decode() == body
        with urllib.request.urlopen(url + "index.html", timeout=10) as page:
            assert page.status == 200
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(url + "other", timeout=10)
        assert missing.value.code == 404


def test_two_probe_pages_at_once_each_get_a_free_port() -> None:
    """verify's client section and its counted call each serve one at the same time."""
    with probe_page() as first, probe_page() as second:
        assert first != second
        for url in (first, second):
            with urllib.request.urlopen(url, timeout=10) as page:
                assert page.status == 200


# ---------------------------------------------------------------- the network transports, scripted


class Served:
    """Connections answered from a script: each opened connection reads the next answer."""

    def __init__(self, *answers: bytes) -> None:
        self.answers = list(answers)
        self.sent: list[Written] = []
        self.opened: list[tuple[str, int]] = []
        self.closed = 0

    async def open(self, host: str, port: int) -> Stream:
        self.opened.append((host, port))
        reader = asyncio.StreamReader()
        reader.feed_data(self.answers.pop(0))
        reader.feed_eof()
        writer = Written()
        self.sent.append(writer)

        async def close() -> None:
            self.closed += 1

        return Stream(reader, writer, close)  # type: ignore[arg-type]


def http(status: str, headers: dict[str, str], body: bytes) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"HTTP/1.1 {status}\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


INIT = {"protocolVersion": "2025-06-18", "serverInfo": {"name": "db", "version": "2"}}


def _ping(start: Callable[[], Awaitable[Any]]) -> None:
    """Open a session with `start`, send one ping and close the session, whatever happened."""

    async def talk() -> None:
        session = await start()
        try:
            await session.request("ping", {})
        finally:
            await session.close()

    asyncio.run(talk())


def test_streamable_http_keeps_its_session_id_and_protocol_on_every_request() -> None:
    first = http("200 OK", {"Content-Type": "application/json", "Mcp-Session-Id": "s-1"},
                 json.dumps({"jsonrpc": "2.0", "id": 1, "result": INIT}).encode())  # fmt: skip
    accepted = http("202 Accepted", {}, b"")
    events_ = (
        b"event: ping\ndata: {}\n\n"
        b'event: message\ndata: {"jsonrpc": "2.0", "id": 2, "result": {"tools": []}}\n\n'
    )
    listed = http("200 OK", {"Content-Type": "text/event-stream"}, events_)
    deleted = http("200 OK", {}, b"")
    server = Served(first + accepted + listed + deleted)

    async def talk() -> tuple[ServerInfo, list[dict[str, Any]]]:
        session = await HttpSession.start("http://db:8000/mcp", server.open)
        info = await session.initialize()
        tools = await session.list_tools()
        await session.close()
        return info, tools

    info, tools = asyncio.run(talk())
    assert info == ServerInfo("db", "2", "2025-06-18") and tools == []
    assert server.opened == [("db", 8000)] and server.closed == 1
    requests = server.sent[0].data.split(b"POST /mcp HTTP/1.1\r\n")
    assert b"Mcp-Session-Id" not in requests[1]
    assert b"Accept: application/json, text/event-stream\r\n" in requests[1]
    assert b"Mcp-Session-Id: s-1\r\nMCP-Protocol-Version: 2025-06-18\r\n" in requests[3]
    assert server.sent[0].data.count(b"DELETE /mcp HTTP/1.1\r\n") == 1


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (http("502 Bad", {}, b"x" * 300), "POST http://db/mcp answered HTTP 502 " + "x" * 200),
        (http("500 Oops", {}, b"database [gone]"), "POST http://db/mcp answered HTTP 500 database [gone]"),
        (http("200 OK", {"Content-Type": "text/event-stream"}, b"event: other\ndata: x\n\n"),
         "POST http://db/mcp answered without the reply"),
    ],
)  # fmt: skip
def test_streamable_http_failures_name_the_url(answer: bytes, message: str) -> None:
    server = Served(answer)

    with pytest.raises(ProtocolError) as failed:
        _ping(lambda: HttpSession.start("http://db/mcp", server.open))
    assert str(failed.value) == message
    assert b"DELETE" not in server.sent[0].data


def test_sse_posts_to_the_endpoint_its_stream_names_first() -> None:
    stream = (
        b"event: endpoint\ndata: /messages?session=abc\n\n"
        b'event: message\ndata: {"jsonrpc": "2.0", "id": 1, "result": '
        + json.dumps(INIT).encode()
        + b"}\n\n"
    )
    server = Served(
        http("200 OK", {"Content-Type": "text/event-stream"}, stream),
        http("202 Accepted", {}, b"") + http("204 No Content", {}, b""),
    )

    async def talk() -> ServerInfo:
        session = await SseSession.start("http://pg:8000/sse", server.open)
        assert session.endpoint == "http://pg:8000/messages?session=abc"
        try:
            return await session.initialize()
        finally:
            await session.close()

    assert asyncio.run(talk()) == ServerInfo("db", "2", "2025-06-18")
    assert server.sent[0].data.startswith(b"GET /sse HTTP/1.1\r\nHost: pg:8000\r\n")
    assert b"Accept: text/event-stream\r\n" in server.sent[0].data
    assert server.sent[1].data.count(b"POST /messages?session=abc HTTP/1.1\r\n") == 2
    assert server.closed == 2


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ((http("404 Not Found", {}, b"no"),), "GET http://pg/sse answered HTTP 404 no"),
        ((http("200 OK", {}, b"event: message\ndata: {}\n\n"),), "http://pg/sse sent no endpoint event first"),
        ((http("200 OK", {}, b""),), "http://pg/sse sent no endpoint event first"),
        ((http("200 OK", {}, b"event: endpoint\ndata: /m\n\n"), http("400 Bad", {}, b"bad body")),
         "POST http://pg/m answered HTTP 400 bad body"),
    ],
)  # fmt: skip
def test_sse_failures_name_the_url(answers: tuple[bytes, ...], message: str) -> None:
    server = Served(*answers)

    with pytest.raises(ProtocolError) as failed:
        _ping(lambda: SseSession.start("http://pg/sse", server.open))
    assert str(failed.value) == message


def test_an_sse_stream_that_ends_before_the_reply_is_named() -> None:
    server = Served(
        http("200 OK", {}, b"event: endpoint\ndata: /m\n\nevent: note\ndata: x\n\n"),
        http("202 Accepted", {}, b""),
    )

    with pytest.raises(stdio.ServerExited, match="closed its event stream before it answered"):
        _ping(lambda: SseSession.start("http://pg/sse", server.open))
