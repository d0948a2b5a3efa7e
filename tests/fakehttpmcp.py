"""A scripted MCP server over HTTP on 127.0.0.1 for the network client's tests: the SSE
transport (GET /sse, POST /messages/) and Streamable HTTP (POST /mcp), with the server's own
ping request in the middle, and a record of what the client sent (Host, headers, connections)."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SESSION = "session-42"


@dataclass
class Seen:
    """What the server saw."""

    hosts: set[str] = field(default_factory=set)
    connections: set[int] = field(default_factory=set)
    posts: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def reply(message: dict[str, Any]) -> dict[str, Any] | None:
    """The answer to one client message (None for notifications and replies)."""
    if "method" not in message or "id" not in message:
        return None
    method, ident = message["method"], message["id"]
    if method == "initialize":
        result: dict[str, Any] = {
            "protocolVersion": "2025-06-18",
            "serverInfo": {"name": "fake-http", "version": "1.0"},
            "capabilities": {"tools": {}},
        }
    elif method == "tools/list":
        result = {"tools": [{"name": "echo"}]}
    elif method == "tools/call":
        text = json.dumps(message["params"]["arguments"])
        result = {"content": [{"type": "text", "text": text}]}
    else:
        return {"jsonrpc": "2.0", "id": ident, "error": {"code": -32601, "message": method}}
    return {"jsonrpc": "2.0", "id": ident, "result": result}


class Handler(BaseHTTPRequestHandler):
    """One request of either transport."""

    protocol_version = "HTTP/1.1"
    seen: Seen
    events: queue.Queue[dict[str, Any] | None]

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _record(self) -> None:
        self.seen.hosts.add(self.headers.get("Host", ""))
        self.seen.connections.add(id(self.connection))
        self.seen.headers.append({k.lower(): v for k, v in self.headers.items()})

    def _body(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.posts.append(data)
        return data

    def _send(
        self, status: int, body: bytes, kind: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def do_GET(self) -> None:
        self._record()
        if self.path != "/sse":
            self._send(404, b"", "text/plain")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._chunk(f"event: endpoint\r\ndata: /messages/?session_id={SESSION}\r\n\r\n")
        while (message := self.events.get()) is not None:
            self._chunk(f"event: message\ndata: {json.dumps(message)}\n\n")
        self._chunk("")

    def do_POST(self) -> None:
        self._record()
        message = self._body()
        if self.headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/json":
            # what the MCP SDK's servers answer a body of any other type
            self._send(415, b"Content-Type must be application/json", "text/plain")
            return
        if self.path == f"/messages/?session_id={SESSION}":
            self._send(202, b"Accepted", "text/plain")
            if message.get("method") == "tools/list":  # ask the client first
                self.events.put({"jsonrpc": "2.0", "id": "srv-1", "method": "ping"})
            answer = reply(message)
            if answer is not None:
                self.events.put(answer)
        elif self.path == "/mcp":
            self._streamable(message)
        else:
            self._send(404, b"", "text/plain")

    def _streamable(self, message: dict[str, Any]) -> None:
        answer = reply(message)
        if answer is None:
            self._send(202, b"", "text/plain")
        elif message["method"] == "initialize":
            body = json.dumps(answer).encode()
            self._send(200, body, "application/json", {"Mcp-Session-Id": SESSION})
        elif message["method"] == "tools/list":  # an event stream: a notification, then it
            events = [
                {"jsonrpc": "2.0", "method": "notifications/message", "params": {}},
                answer,
            ]
            stream = "".join(f"event: message\ndata: {json.dumps(e)}\n\n" for e in events)
            self._send(200, stream.encode(), "text/event-stream")
        else:
            self._send(200, json.dumps(answer).encode(), "application/json")

    def do_DELETE(self) -> None:
        self._record()
        self.seen.deleted.append(self.headers.get("Mcp-Session-Id", ""))
        self._send(200, b"", "text/plain")


@contextmanager
def serving() -> Iterator[tuple[str, Seen]]:
    """The server on 127.0.0.1 for the duration; yields its base URL and what it saw."""
    seen = Seen()
    events: queue.Queue[dict[str, Any] | None] = queue.Queue()
    handler = type("Bound", (Handler,), {"seen": seen, "events": events})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        events.put(None)
        server.shutdown()
        server.server_close()
