#!/usr/bin/env python3
"""The entrypoint of every MCP stdio server image:

    mcp-relay SERVER -- COMMAND [ARGS...]

It starts COMMAND and passes its newline-delimited JSON-RPC through unchanged in both
directions, so the client cannot tell it is there. It adds two things:

- a lifecycle that never leaks: when the client's stdin closes, the server's stdin is closed,
  and a server that has not exited after a grace period gets SIGTERM, then SIGKILL; signals sent
  to the relay reach the server;
- an audit log: one JSON line per request the client sends (time, server, session, method,
  tool, the arguments' keys but never their values, bytes each way, duration, outcome or error
  code; `origin` is `probe` for the library's own probes), and one line when a session starts
  and ends, appended to
  `$MCP_AUDIT_DIR/<date>.<server>.<session>.<part>.jsonl` (default /audit, the `mcp-audit`
  volume). A missing or read-only audit folder turns the log off, never the server.

Standard library only (node images carry just python3-minimal).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from typing import IO, Any

GRACE_SECONDS = float(os.environ.get("MCP_RELAY_GRACE", "2"))
PART_BYTES = 16 * 1024 * 1024
AUDIT_DIR = os.environ.get("MCP_AUDIT_DIR", "/audit")
# What a session id, an origin and a server name may be (they name the audit file).
SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def now_iso() -> str:
    """UTC time with milliseconds, ISO 8601."""
    stamp = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp)) + f".{int(stamp % 1 * 1000):03d}Z"


class Audit:
    """Appends records to this session's audit file, one write per line; thread-safe."""

    def __init__(self, folder: str, server: str, session: str, origin: str) -> None:
        self.folder = folder
        self.base = {"server": server, "session": session, "origin": origin}
        self.lock = threading.Lock()
        self.part = 0
        self.day = ""
        self.fd: int | None = None
        self.enabled = os.path.isdir(folder) and os.access(folder, os.W_OK)
        if not self.enabled and os.path.exists(folder):
            print(f"mcp-relay: audit log off: {folder} is not writable", file=sys.stderr)

    def _open(self) -> int:
        day = time.strftime("%Y-%m-%d", time.gmtime())
        if self.fd is not None and day == self.day and os.fstat(self.fd).st_size < PART_BYTES:
            return self.fd
        if self.fd is not None:
            os.close(self.fd)
            self.part = self.part + 1 if day == self.day else 0
        self.day = day
        name = f"{day}.{self.base['server']}.{self.base['session']}.{self.part}.jsonl"
        self.fd = os.open(
            os.path.join(self.folder, name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600
        )
        return self.fd

    def write(self, record: dict[str, Any]) -> None:
        """Append one record (the session's fields added); errors turn the log off."""
        if not self.enabled:
            return
        line = json.dumps({"time": now_iso(), **self.base, **record}, sort_keys=True) + "\n"
        with self.lock:
            try:
                os.write(self._open(), line.encode())
            except OSError as error:
                self.enabled = False
                print(f"mcp-relay: audit log off: {error}", file=sys.stderr)


def messages(line: bytes) -> list[dict[str, Any]]:
    """The JSON-RPC messages of one line (a batch holds several); none when it is not JSON."""
    try:
        data = json.loads(line)
    except ValueError:
        return []
    items = data if isinstance(data, list) else [data]
    return [item for item in items if isinstance(item, dict)]


def describe(message: dict[str, Any]) -> tuple[str, str, list[str]]:
    """A request's method, tool (for tools/call) and argument keys (never values)."""
    method = str(message.get("method", ""))
    params = message.get("params")
    params = params if isinstance(params, dict) else {}
    if method == "tools/call":
        arguments = params.get("arguments")
        keys = sorted(arguments) if isinstance(arguments, dict) else []
        return method, str(params.get("name", "")), keys
    return method, "", sorted(k for k in params if k != "_meta")


def outcome(message: dict[str, Any]) -> tuple[str, int | None]:
    """`ok`, `tool_error` (a tool's own failure) or `error` with its JSON-RPC code."""
    error = message.get("error")
    if error is not None:
        code = error.get("code") if isinstance(error, dict) else None
        return "error", code if isinstance(code, int) else None
    result = message.get("result")
    if isinstance(result, dict) and result.get("isError") is True:
        return "tool_error", None
    return "ok", None


def key(ident: Any) -> str:
    """A request id as a dictionary key (ids are strings or numbers)."""
    return json.dumps(ident, sort_keys=True)


class Relay:
    """One server process and the traffic between it and the client."""

    def __init__(self, command: list[str], audit: Audit) -> None:
        self.audit = audit
        self.pending: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.calls = 0
        self.started = time.monotonic()
        self.client_gone = threading.Event()
        self.child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def from_client(self, source: IO[bytes]) -> None:
        """Client -> server, until the client's stdin closes; then the server's closes. A
        request is noted before it is passed on, so that its reply always finds it."""
        sink = self.child.stdin
        assert sink is not None
        for line in iter(source.readline, b""):
            began = time.monotonic()
            for message in messages(line):
                if "method" in message and "id" in message:
                    method, tool, keys = describe(message)
                    with self.lock:
                        self.pending[key(message["id"])] = {
                            "method": method,
                            "tool": tool,
                            "arg_keys": keys,
                            "bytes_in": len(line),
                            "began": began,
                            "at": now_iso(),
                        }
            try:
                sink.write(line)
                sink.flush()
            except (BrokenPipeError, ValueError):
                break
        self.client_gone.set()
        with contextlib.suppress(OSError):
            sink.close()

    def from_server(self, sink: IO[bytes]) -> None:
        """Server -> client, until the server closes its stdout."""
        source = self.child.stdout
        assert source is not None
        for line in iter(source.readline, b""):
            try:
                sink.write(line)
                sink.flush()
            except (BrokenPipeError, ValueError):
                pass
            ended = time.monotonic()
            for message in messages(line):
                if "method" in message or "id" not in message:
                    continue
                with self.lock:
                    call = self.pending.pop(key(message["id"]), None)
                if call is None:
                    continue
                result, code = outcome(message)
                self.record(call, ended, len(line), result, code)

    def record(
        self, call: dict[str, Any], ended: float, bytes_out: int, result: str, code: int | None
    ) -> None:
        """One call's audit line."""
        self.calls += 1
        self.audit.write(
            {
                "kind": "call",
                "call_time": call["at"],
                "method": call["method"],
                "tool": call["tool"],
                "arg_keys": call["arg_keys"],
                "bytes_in": call["bytes_in"],
                "bytes_out": bytes_out,
                "duration_ms": round((ended - call["began"]) * 1000, 3),
                "outcome": result,
                "error_code": code,
            }
        )

    def stop_after_client(self) -> None:
        """Once the client is gone, give the server a grace period to exit, then TERM, KILL."""
        self.client_gone.wait()
        for stop in (None, signal.SIGTERM, signal.SIGKILL):
            if stop is not None and self.child.poll() is None:
                self.child.send_signal(stop)
            try:
                self.child.wait(GRACE_SECONDS)
                return
            except subprocess.TimeoutExpired:
                continue

    def forward(self, signum: int, _frame: object) -> None:
        """Pass a signal sent to the relay on to the server."""
        if self.child.poll() is None:
            self.child.send_signal(signum)

    def run(self) -> int:
        """Relay until the server exits; its exit status (128 + N for signal N)."""
        self.audit.write({"kind": "session", "event": "start"})
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self.forward)
        threads = [
            threading.Thread(target=self.from_client, args=(sys.stdin.buffer,), daemon=True),
            threading.Thread(target=self.stop_after_client, daemon=True),
        ]
        for thread in threads:
            thread.start()
        self.from_server(sys.stdout.buffer)
        status = self.child.wait()
        with self.lock:
            unanswered = list(self.pending.values())
            self.pending.clear()
        for call in unanswered:
            self.record(call, time.monotonic(), 0, "no_reply", None)
        code = status if status >= 0 else 128 - status
        self.audit.write(
            {
                "kind": "session",
                "event": "end",
                "duration_s": round(time.monotonic() - self.started, 3),
                "calls": self.calls,
                "exit_code": code,
                "client_closed": self.client_gone.is_set(),
            }
        )
        return code


def main(argv: list[str]) -> int:
    """`mcp-relay SERVER -- COMMAND [ARGS...]`."""
    if len(argv) < 3 or argv[1] != "--" or not SAFE.fullmatch(argv[0]):
        print("usage: mcp-relay SERVER -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    session = os.environ.get("MCP_SESSION", "")
    if not SAFE.fullmatch(session):
        session = os.urandom(6).hex()
    origin = os.environ.get("MCP_ORIGIN", "")
    # A bridge is named after the server it forwards to.
    server = os.environ.get("MCP_SERVER_NAME", "")
    server = server if SAFE.fullmatch(server) else argv[0]
    audit = Audit(AUDIT_DIR, server, session, origin if SAFE.fullmatch(origin) else "client")
    try:
        relay = Relay(argv[2:], audit)
    except OSError as error:
        print(f"mcp-relay: cannot start {argv[2]}: {error}", file=sys.stderr)
        return 127
    return relay.run()


if __name__ == "__main__":
    status = main(sys.argv[1:])
    with contextlib.suppress(OSError):
        sys.stdout.flush()
    # Not sys.exit: a thread may still be blocked reading the client's stdin, and interpreter
    # shutdown would abort on it.
    os._exit(status)
