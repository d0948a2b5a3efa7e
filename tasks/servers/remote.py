"""MCP clients over the network: SSE (an event stream from GET, messages POSTed to the endpoint
it names) and Streamable HTTP (every message POSTed; the reply comes back as JSON or as an
event stream), over HTTP/1.1 on byte streams from an `Opener`: a TCP connection, or a tunnel
that opens the connection from inside another container (as its user, on its networks)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from tasks.servers.stdio import ProtocolError, ServerExited, Session, decode

HEAD_LIMIT = 64 * 1024


@dataclass
class Stream:
    """One byte stream to a server, and how to close it."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    closer: Callable[[], Awaitable[None]]


Opener = Callable[[str, int], Awaitable[Stream]]


async def tcp(host: str, port: int) -> Stream:
    """A TCP connection from this machine."""
    reader, writer = await asyncio.open_connection(host, port)

    async def close() -> None:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    return Stream(reader, writer, close)


def tunnel(prefix: list[str]) -> Opener:
    """Connections relayed by `PREFIX TCP:host:port` (e.g. `docker exec -i -u vscode C socat
    -`), which copies its stdin to the connection and the connection to its stdout."""

    async def open_stream(host: str, port: int) -> Stream:
        process = await asyncio.create_subprocess_exec(
            *prefix,
            f"TCP:{host}:{port}",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert process.stdin is not None and process.stdout is not None

        async def close() -> None:
            if process.stdin is not None and not process.stdin.is_closing():
                process.stdin.close()
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 5)
            with contextlib.suppress(ProcessLookupError):
                process.kill()

        return Stream(process.stdout, process.stdin, close)

    return open_stream


@dataclass(frozen=True)
class Target:
    """Where a URL points: host, port, and the path with its query."""

    host: str
    port: int
    path: str

    @classmethod
    def of(cls, url: str) -> Target:
        """Split an http:// URL (https needs TLS, which the stack's servers do not serve)."""
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ProtocolError(f"{url} is not an http:// URL")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.hostname, parts.port or 80, path)


@dataclass
class Reply:
    """An HTTP response: status, headers (lower-case names) and its body's chunks."""

    status: int
    headers: dict[str, str]
    body: AsyncIterator[bytes] = field(repr=False)

    async def text(self) -> str:
        """The whole body."""
        return b"".join([chunk async for chunk in self.body]).decode(errors="replace")


async def send_request(
    stream: Stream, method: str, target: Target, headers: dict[str, str], body: bytes = b""
) -> Reply:
    """Write one HTTP/1.1 request and read the response's head."""
    lines = [f"{method} {target.path} HTTP/1.1", f"Host: {target.host}:{target.port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    stream.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await stream.writer.drain()
    status_line = await stream.reader.readline()
    parts = status_line.decode(errors="replace").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ProtocolError(f"{method} {target.path} got no HTTP response ({status_line[:80]!r})")
    found: dict[str, str] = {}
    size = 0
    while (line := await stream.reader.readline()) not in (b"\r\n", b"\n", b""):
        size += len(line)
        if size > HEAD_LIMIT:
            raise ProtocolError(f"{method} {target.path}: response headers over 64 KiB")
        name, _, value = line.decode(errors="replace").partition(":")
        found[name.strip().lower()] = value.strip()
    return Reply(int(parts[1]), found, _body(stream.reader, found))


async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> AsyncIterator[bytes]:
    """A body's bytes: chunked, of a Content-Length, or until the connection closes."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                return
            yield await reader.readexactly(size)
            await reader.readline()
    elif "content-length" in headers:
        yield await reader.readexactly(int(headers["content-length"]))
    else:
        while chunk := await reader.read(65536):
            yield chunk


@dataclass(frozen=True)
class Event:
    """One server-sent event."""

    name: str
    data: str


async def events(body: AsyncIterator[bytes]) -> AsyncIterator[Event]:
    """Server-sent events from a body's bytes (`event:` and `data:` fields; a blank line ends
    each event)."""
    buffer = b""
    name, data = "", list[str]()
    async for chunk in body:
        buffer += chunk
        while b"\n" in buffer:
            raw, buffer = buffer.split(b"\n", 1)
            line = raw.rstrip(b"\r").decode(errors="replace")
            if not line:
                if data:
                    yield Event(name or "message", "\n".join(data))
                name, data = "", list[str]()
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))


class Connection:
    """One kept-alive HTTP/1.1 connection to a server, opened when first needed and opened
    again when the server has closed it between two requests."""

    def __init__(self, opener: Opener) -> None:
        self.opener = opener
        self.stream: Stream | None = None

    async def exchange(
        self, method: str, target: Target, headers: dict[str, str], body: bytes = b""
    ) -> Reply:
        """Send a request and read the response head (the body is the caller's to read). A
        kept-alive connection the server has dropped is opened again once; a new one that
        fails is the error."""
        while True:
            reused = self.stream is not None
            if self.stream is None:
                self.stream = await self.opener(target.host, target.port)
            try:
                return await send_request(self.stream, method, target, headers, body)
            except (ConnectionError, asyncio.IncompleteReadError, ProtocolError):
                await self.close()
                if not reused:
                    raise

    async def close(self) -> None:
        """Close the connection, if open."""
        if self.stream is not None:
            stream, self.stream = self.stream, None
            await stream.closer()


def _status_error(what: str, reply: Reply, detail: str) -> ProtocolError:
    return ProtocolError(f"{what} answered HTTP {reply.status} {detail[:200]}".strip())


class SseSession(Session):
    """The SSE transport: the GET stream brings the server's messages, each client message is
    POSTed to the endpoint the stream names first."""

    def __init__(self, url: str, opener: Opener) -> None:
        super().__init__()
        self.url = url
        self.opener = opener
        self.endpoint = ""
        self.inbox: asyncio.Queue[Event | None] = asyncio.Queue()
        self.stream: Stream | None = None
        self.pump: asyncio.Task[None] | None = None
        self.posts = Connection(opener)

    @classmethod
    async def start(cls, url: str, opener: Opener) -> SseSession:
        """Open the event stream and wait for the message endpoint (nothing is left open when
        that fails)."""
        session = cls(url, opener)
        try:
            await session._connect()
        except BaseException:
            await session.close()
            raise
        return session

    async def _connect(self) -> None:
        target = Target.of(self.url)
        self.stream = await self.opener(target.host, target.port)
        reply = await send_request(self.stream, "GET", target, {"Accept": "text/event-stream"})
        if reply.status != 200:
            raise _status_error(f"GET {self.url}", reply, await reply.text())
        self.pump = asyncio.create_task(self._forward(reply))
        first = await self.inbox.get()
        if first is None or first.name != "endpoint":
            raise ProtocolError(f"{self.url} sent no endpoint event first")
        self.endpoint = urljoin(self.url, first.data.strip())

    async def _forward(self, reply: Reply) -> None:
        try:
            async for event in events(reply.body):
                await self.inbox.put(event)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        await self.inbox.put(None)

    async def _send(self, message: dict[str, Any]) -> None:
        target = Target.of(self.endpoint)
        headers = {"Content-Type": "application/json"}
        reply = await self.posts.exchange("POST", target, headers, json.dumps(message).encode())
        detail = await reply.text()
        if reply.status not in (200, 202, 204):
            raise _status_error(f"POST {self.endpoint}", reply, detail)

    async def _read(self) -> list[dict[str, Any]]:
        while True:
            event = await self.inbox.get()
            if event is None:
                raise ServerExited("the server closed its event stream before it answered")
            if event.name == "message":
                return decode(event.data, "the event stream")

    async def close(self) -> None:
        """Stop reading the event stream and close it."""
        if self.pump is not None:
            self.pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.pump
        await self.posts.close()
        if self.stream is not None:
            await self.stream.closer()


class HttpSession(Session):
    """The Streamable HTTP transport: each message is POSTed; a request's reply (and any
    request of the server's before it) comes back as JSON or as an event stream."""

    def __init__(self, url: str, opener: Opener) -> None:
        super().__init__()
        self.url = url
        self.opener = opener
        self.session_id = ""
        self.inbox: list[list[dict[str, Any]]] = []
        self.connection = Connection(opener)

    @classmethod
    async def start(cls, url: str, opener: Opener) -> HttpSession:
        """A session on `url` (nothing is sent before `initialize`)."""
        Target.of(url)
        return cls(url, opener)

    def _headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        }
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        if self.protocol:
            headers["MCP-Protocol-Version"] = self.protocol
        return headers

    async def _send(self, message: dict[str, Any]) -> None:
        target = Target.of(self.url)
        body = json.dumps(message).encode()
        reply = await self.connection.exchange("POST", target, self._headers(), body)
        self.session_id = reply.headers.get("mcp-session-id", self.session_id)
        kind = reply.headers.get("content-type", "")
        if reply.status == 202:
            await reply.text()
        elif reply.status != 200:
            raise _status_error(f"POST {self.url}", reply, await reply.text())
        elif kind.startswith("text/event-stream"):
            async for event in events(reply.body):
                if event.name == "message":
                    self.inbox.append(decode(event.data, "the response's event stream"))
        else:
            self.inbox.append(decode(await reply.text(), "the response body"))

    async def _read(self) -> list[dict[str, Any]]:
        if not self.inbox:
            raise ProtocolError(f"POST {self.url} answered without the reply")
        return self.inbox.pop(0)

    async def close(self) -> None:
        """End the server's session (DELETE with its id, when it gave one) and the connection."""
        if self.session_id:
            with contextlib.suppress(OSError, ProtocolError, asyncio.IncompleteReadError):
                reply = await self.connection.exchange(
                    "DELETE", Target.of(self.url), self._headers()
                )
                await reply.text()
        await self.connection.close()


SESSIONS: dict[str, Callable[[str, Opener], Awaitable[Session]]] = {
    "sse": SseSession.start,
    "http": HttpSession.start,
}
