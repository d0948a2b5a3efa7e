"""The network MCP client (SSE and Streamable HTTP) against a scripted server on 127.0.0.1, and
its connections: kept alive between requests, opened by a tunnel command when asked."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from tasks.servers.probe import Reach, probe
from tasks.servers.remote import SESSIONS, HttpSession, SseSession, events, tcp, tunnel
from tasks.servers.specs import ProbeSpec
from tasks.servers.stdio import ProtocolError
from tests.fakehttpmcp import SESSION, serving


async def exchange(url: str, transport: str) -> dict[str, Any]:
    session = await SESSIONS[transport](url, tcp)
    try:
        info = await session.initialize()
        tools = await session.list_tools()
        calls = [await session.call_tool("echo", {"n": n}) for n in range(3)]
    finally:
        await session.close()
    return {"info": info, "tools": tools, "calls": calls}


@pytest.mark.parametrize(("transport", "path"), [("sse", "/sse"), ("http", "/mcp")])
def test_handshake_tools_and_calls(transport: str, path: str) -> None:
    with serving() as (base, seen):
        found = asyncio.run(exchange(base + path, transport))
    assert (found["info"].name, found["info"].protocol) == ("fake-http", "2025-06-18")
    assert [t["name"] for t in found["tools"]] == ["echo"]
    assert [c["content"][0]["text"] for c in found["calls"]] == ['{"n": 0}', '{"n": 1}', '{"n": 2}']
    port = base.rsplit(":", 1)[1]
    assert seen.hosts == {f"127.0.0.1:{port}"}
    methods = [p.get("method") for p in seen.posts]
    assert methods[:3] == ["initialize", "notifications/initialized", "tools/list"]


def test_sse_answers_the_servers_ping_and_keeps_one_connection_for_posts() -> None:
    with serving() as (base, seen):
        asyncio.run(exchange(base + "/sse", "sse"))
    pong = [p for p in seen.posts if p.get("id") == "srv-1"]
    assert pong == [{"jsonrpc": "2.0", "id": "srv-1", "result": {}}]
    # the event stream plus one kept-alive connection for every POST
    assert len(seen.connections) == 2


def test_streamable_http_carries_the_session_and_ends_it() -> None:
    with serving() as (base, seen):
        asyncio.run(exchange(base + "/mcp", "http"))
    after_init = seen.headers[1:]
    assert all(h.get("mcp-session-id") == SESSION for h in after_init)
    assert all(h.get("mcp-protocol-version") == "2025-06-18" for h in after_init[1:])
    assert "mcp-session-id" not in seen.headers[0]
    assert seen.deleted == [SESSION]
    assert len(seen.connections) == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://127.0.0.1:1/sse", "is not an http:// URL"),
        ("ftp://x/y", "is not an http:// URL"),
    ],
)
def test_urls_the_client_cannot_speak_to(url: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        asyncio.run(HttpSession.start(url, tunnel(["true"])))


def test_a_wrong_path_is_named_with_its_status() -> None:
    with serving() as (base, _), pytest.raises(ProtocolError, match="answered HTTP 404"):
        asyncio.run(exchange(base + "/nowhere", "sse"))


def test_a_tunnel_carries_the_connection_through_a_relay_command() -> None:
    """The dev container path: `docker exec ... socat - TCP:host:port`; here a Python relay
    started the same way reaches the server."""
    relay = (
        "import socket,sys,threading;"
        "h,p=sys.argv[1].split(':')[1:];s=socket.create_connection((h,int(p)));"
        "threading.Thread(target=lambda:[sys.stdout.buffer.write(d) or sys.stdout.buffer.flush()"
        " for d in iter(lambda:s.recv(65536),b'')],daemon=True).start();"
        "[s.sendall(d) for d in iter(lambda:sys.stdin.buffer.read1(65536),b'')]"
    )
    opener = tunnel([sys.executable, "-c", relay])
    with serving() as (base, seen):
        spec = ProbeSpec("fake", url=base + "/sse", transport="sse", timeout=20)
        result = asyncio.run(probe(spec, repeat=3, reach=Reach(opener=opener)))
    assert result.ok, result.error
    assert (result.server, result.tools, len(result.latencies_ms)) == ("fake-http", 1, 3)
    assert len(seen.connections) == 2


def test_events_follow_the_server_sent_events_rules() -> None:
    async def parse(chunks: list[bytes]) -> list[tuple[str, str]]:
        async def body() -> Any:
            for chunk in chunks:
                yield chunk

        return [(e.name, e.data) async for e in events(body())]

    stream = [b"event: endpoint\r\ndata: /m\r\n\r\n", b"data: a\ndata:", b" b\n\n: comment\n\n"]
    assert asyncio.run(parse(stream)) == [("endpoint", "/m"), ("message", "a\nb")]


def test_a_server_that_never_names_its_endpoint_is_refused() -> None:
    answer = "head -c 1 >/dev/null; printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n'"

    async def no_endpoint(base: str) -> None:
        await SseSession.start(base + "/sse", tunnel(["sh", "-c", answer]))

    with pytest.raises(ProtocolError, match="sent no endpoint event first"):
        asyncio.run(no_endpoint("http://127.0.0.1:9"))
