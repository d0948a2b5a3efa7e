"""An MCP client: the initialize handshake, paged `tools/list` and `tools/call` over any
transport (`Session`), and the stdio transport: newline-delimited JSON-RPC 2.0 with a server
process (`StdioSession`); `tasks.servers.remote` adds SSE and Streamable HTTP.

Requests go one at a time, so each reply is read where it is awaited. The client declares no
capabilities: it answers a server's `ping` and refuses any other request from the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from dataclasses import dataclass
from typing import IO, Any

HANDSHAKE_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
"""Protocol revisions reached through `initialize`, oldest to newest; the newest is offered."""
CLIENT_INFO = {"name": "mcp-cluster-probe", "version": "1.0"}
LINE_LIMIT = 16 * 1024 * 1024
"""Longest message read from a server (a tool list with schemas can be large)."""
EXIT_SECONDS = 2.0
"""How long a server gets to exit after its stdin closes, and again after SIGTERM."""
METHOD_NOT_FOUND = -32601


class ProtocolError(RuntimeError):
    """The server broke the protocol: stdout that is not JSON-RPC, or a malformed reply."""


class ServerError(RuntimeError):
    """The server answered a request with a JSON-RPC error."""

    def __init__(self, method: str, code: object, message: object) -> None:
        super().__init__(f"{method} failed: {message} (code {code})")


class ServerExited(RuntimeError):
    """The server closed its stdout before it answered."""


@dataclass(frozen=True)
class ServerInfo:
    """What `initialize` answered."""

    name: str
    version: str
    protocol: str


class Session:
    """The requests of one MCP client session; a transport supplies `_send`, `_read` and
    `close`."""

    def __init__(self) -> None:
        self._next_id = 0
        self.protocol = ""

    async def initialize(self) -> ServerInfo:
        """The handshake: `initialize`, then `notifications/initialized`."""
        result = await self.request(
            "initialize",
            {
                "protocolVersion": HANDSHAKE_VERSIONS[-1],
                "capabilities": {},
                "clientInfo": CLIENT_INFO,
            },
        )
        protocol = str(result.get("protocolVersion", ""))
        if protocol not in HANDSHAKE_VERSIONS:
            raise ProtocolError(f"initialize answered protocol version {protocol!r}")
        self.protocol = protocol
        server = result.get("serverInfo")
        info = server if isinstance(server, dict) else {}
        await self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return ServerInfo(str(info.get("name", "")), str(info.get("version", "")), protocol)

    async def list_tools(self) -> list[dict[str, Any]]:
        """Every tool, following `nextCursor` across pages."""
        tools: list[dict[str, Any]] = []
        cursor: object = None
        while True:
            page = await self.request("tools/list", {"cursor": cursor} if cursor else {})
            if not isinstance(page.get("tools"), list):
                raise ProtocolError("tools/list answered without a tools list")
            tools += page["tools"]
            cursor = page.get("nextCursor")
            if not cursor:
                return tools

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """The result of `tools/call` (a tool's own failure is `isError` in it)."""
        return await self.request("tools/call", {"name": name, "arguments": arguments})

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one request and read until its reply, answering the server's requests."""
        self._next_id += 1
        ident = self._next_id
        await self._send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        while True:
            for message in await self._read():
                reply_to = message.get("id")
                if "method" in message:
                    await self._answer(message)
                elif reply_to is None and "error" in message:
                    # The server could not tell which request it refuses (JSON-RPC parse error).
                    error = message["error"] if isinstance(message["error"], dict) else {}
                    raise ServerError(method, error.get("code"), error.get("message"))
                elif type(reply_to) is int and reply_to == ident:
                    if "error" in message:
                        error = message["error"] if isinstance(message["error"], dict) else {}
                        raise ServerError(method, error.get("code"), error.get("message"))
                    result = message.get("result")
                    if not isinstance(result, dict):
                        raise ProtocolError(f"{method} answered without a result object")
                    return result

    async def _answer(self, message: dict[str, Any]) -> None:
        """Reply to a request from the server; notifications need no reply."""
        if "id" not in message:
            return
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"]}
        if message["method"] == "ping":
            reply["result"] = {}
        else:
            reply["error"] = {"code": METHOD_NOT_FOUND, "message": "not supported by this client"}
        await self._send(reply)

    async def _send(self, message: dict[str, Any]) -> None:
        """Send one message to the server."""
        raise NotImplementedError

    async def _read(self) -> list[dict[str, Any]]:
        """The next message(s) from the server."""
        raise NotImplementedError

    async def close(self) -> None:
        """End the session; nothing it started is left running."""
        raise NotImplementedError


class StdioSession(Session):
    """One server process, spoken to over its stdin and stdout."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        super().__init__()
        self.process = process

    @classmethod
    async def start(
        cls, command: str, args: tuple[str, ...], env: dict[str, str], stderr: IO[Any]
    ) -> StdioSession:
        """Start `command` with the environment extended by `env`, stderr into `stderr`, in a
        process group of its own, so that stopping it stops whatever it started."""
        process = await asyncio.create_subprocess_exec(
            command,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            env={**os.environ, **env},
            limit=LINE_LIMIT,
            start_new_session=True,
        )
        return cls(process)

    async def close(self) -> None:
        """Close stdin and wait for the server to exit and its stdout to close, then SIGTERM,
        then SIGKILL its process group (a child it started can hold stdout open)."""
        stdin = self.process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()
        for stop in (None, signal.SIGTERM, signal.SIGKILL):
            if stop is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, stop)
            try:
                await asyncio.wait_for(self._finished(), EXIT_SECONDS)
                return
            except TimeoutError:
                continue

    async def _finished(self) -> None:
        """Until every holder of the server's stdout is gone and the server has exited."""
        assert self.process.stdout is not None
        await self.process.stdout.read()
        await self.process.wait()

    async def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(message).encode() + b"\n")
            await self.process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise ServerExited("the server closed stdin before it answered") from None

    async def _read(self) -> list[dict[str, Any]]:
        """The messages of the next non-blank stdout line (a batch holds several)."""
        assert self.process.stdout is not None
        while True:
            try:
                line = await self.process.stdout.readline()
            except ValueError:  # asyncio's LimitOverrunError, and a line cut at the limit
                raise ProtocolError(
                    f"wrote a stdout line longer than {LINE_LIMIT // 2**20} MiB"
                ) from None
            if not line:
                raise ServerExited("the server closed stdout before it answered")
            if line.strip():
                break
        return decode(line.decode(errors="replace"), "stdout")


def decode(text: str, where: str) -> list[dict[str, Any]]:
    """The JSON-RPC message(s) of one piece of text a server sent (a batch holds several);
    anything else is a `ProtocolError` naming `where` it arrived."""
    text = text.strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    messages = data if isinstance(data, list) else [data]
    if not messages or not all(_is_message(m) for m in messages):
        raise ProtocolError(f"wrote output that is not JSON-RPC to {where} ({text[:120]})")
    return messages


def _is_message(data: object) -> bool:
    return isinstance(data, dict) and data.get("jsonrpc") == "2.0"
