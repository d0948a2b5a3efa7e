#!/usr/bin/env python3
"""MCP health for Prometheus, blackbox style: on a schedule, start each stdio MCP server of the
repository's `.mcp.json` exactly as a client does (its command: the launcher and the generated
`docker run` line, run from the workspace), complete `initialize` and `tools/list`, close the
session, and serve per server:

mcp_probe_up (1 when both answered), mcp_probe_handshake_seconds (start to the initialize
answer), mcp_probe_duration_seconds (the whole session), mcp_probe_tools and
mcp_probe_last_run_timestamp_seconds; mcp_probe_skipped marks a server that needs a variable the
prober does not have (a client's token).

Each probe is a session of its own, `MCP_ORIGIN=probe` (the relay marks its calls so) and one
session label per server (`probe-<server>`, one audit file per server and day). It never
attaches to, stops or reuses a client's container. The engine mounts the workspace from the
host, so the launcher gets the host path of this container's own /workspace mount
(LOCAL_WORKSPACE_FOLDER), read from the engine. Settings: MCP_PROBE_CONFIG
(/workspace/.mcp.json), MCP_PROBE_INTERVAL (120 s), MCP_PROBE_TIMEOUT (60 s) and
MCP_PROBER_PORT (9465).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import selectors
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import engine_api
import serving
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

WORKSPACE = "/workspace"
PROTOCOL = "2025-06-18"
CLIENT = {"name": "mcp-cluster-prober", "version": "1.0"}
# `-e NAME` without a value passes the client's variable NAME through.
PASSED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ProbeFailed(RuntimeError):
    """The server did not complete the session; the message says where."""


@dataclass(frozen=True)
class Server:
    """A stdio server of the config: its command, or why it is not probed."""

    name: str
    command: str
    args: tuple[str, ...]
    env: dict[str, str]
    skipped: str = ""


@dataclass(frozen=True)
class Result:
    """One probe's outcome."""

    up: bool
    handshake: float = 0.0
    duration: float = 0.0
    tools: int = 0
    error: str = ""


def servers(config: dict[str, Any], environ: dict[str, str]) -> list[Server]:
    """The stdio servers of an `mcpServers` config, by name; a server whose launch passes a
    variable through that `environ` lacks, or names one (`${...}`), is skipped with the reason."""
    found = []
    for name, entry in sorted((config.get("mcpServers") or {}).items()):
        if not isinstance(entry, dict) or not isinstance(entry.get("command"), str):
            continue
        args = tuple(str(a) for a in entry.get("args") or [])
        env = {str(k): str(v) for k, v in (entry.get("env") or {}).items()}
        passed = [value for option, value in itertools.pairwise(args) if option == "-e"]
        missing = [v for v in passed if PASSED.fullmatch(v) and not environ.get(v)]
        unresolved = [a for a in (*args, *env.values()) if "${" in a]
        reason = (
            f"needs {', '.join(missing)}, which a client provides"
            if missing
            else f"names a variable only a client resolves ({unresolved[0]})"
            if unresolved
            else ""
        )
        found.append(Server(name, entry["command"], args, env, reason))
    return found


class Session:
    """A client's side of newline-delimited JSON-RPC with a server process, each wait bounded
    by `deadline`. It answers the server's own requests as a client without capabilities
    does: `ping` with an empty result, anything else with "method not found"."""

    MAX_PAGES = 20

    def __init__(self, sink: IO[bytes], source: IO[bytes], deadline: float) -> None:
        self.sink = sink
        self.source = source
        self.deadline = deadline
        self.selector = selectors.DefaultSelector()
        self.selector.register(source, selectors.EVENT_READ)
        self.buffer = b""
        self.next_id = 0

    def send(self, message: dict[str, Any]) -> None:
        """Write one message."""
        self.sink.write((json.dumps({"jsonrpc": "2.0", **message}) + "\n").encode())
        self.sink.flush()

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send a request and return its result (`ProbeFailed` on an error answer)."""
        self.next_id += 1
        ident = self.next_id
        self.send({"id": ident, "method": method, "params": params})
        while True:
            for message in self.messages():
                if "method" in message and "id" in message:
                    self.answer(message)
                elif message.get("id") == ident:
                    if "error" in message:
                        raise ProbeFailed(f"{method} failed: {message['error']}")
                    result = message.get("result")
                    return result if isinstance(result, dict) else {}

    def answer(self, message: dict[str, Any]) -> None:
        """Reply to a request the server sent."""
        if message["method"] == "ping":
            self.send({"id": message["id"], "result": {}})
        else:
            error = {"code": -32601, "message": f"{message['method']} is not supported"}
            self.send({"id": message["id"], "error": error})

    def tools(self) -> int:
        """How many tools the server lists, across pages."""
        count, cursor = 0, None
        for _ in range(self.MAX_PAGES):
            page = self.request("tools/list", {"cursor": cursor} if cursor else {})
            tools = page.get("tools")
            count += len(tools) if isinstance(tools, list) else 0
            cursor = page.get("nextCursor")
            if not cursor:
                break
        return count

    def messages(self) -> list[dict[str, Any]]:
        """The JSON-RPC messages of the next line (a batch holds several; a line that is no
        JSON, such as a server's stray output, holds none)."""
        try:
            data = json.loads(self._line())
        except ValueError:
            return []
        items = data if isinstance(data, list) else [data]
        return [item for item in items if isinstance(item, dict)]

    def _line(self) -> bytes:
        while b"\n" not in self.buffer:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise ProbeFailed("no answer in time")
            if not self.selector.select(left):
                continue
            chunk = os.read(self.source.fileno(), 65536)
            if not chunk:
                raise ProbeFailed("the server exited before it answered")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line


def probe(server: Server, cwd: str, environ: dict[str, str], timeout: float) -> Result:
    """One session: initialize, initialized, tools/list (every page), then close stdin and
    wait for the launch to end."""
    env = {**environ, **server.env, "MCP_ORIGIN": "probe", "MCP_SESSION": f"probe-{server.name}"}
    started = time.monotonic()
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(
                [server.command, *server.args],
                cwd=cwd,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
            )
        except OSError as error:
            return Result(False, error=f"cannot start {server.command}: {error}")
        assert process.stdin is not None and process.stdout is not None
        try:
            session = Session(process.stdin, process.stdout, started + timeout)
            hello = {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": CLIENT}
            session.request("initialize", hello)
            handshake = time.monotonic() - started
            session.send({"method": "notifications/initialized"})
            tools = session.tools()
            result = Result(True, handshake, time.monotonic() - started, tools)
        except (ProbeFailed, OSError) as error:
            errors.seek(0)
            tail = errors.read().decode(errors="replace").strip().splitlines()[-1:]
            result = Result(False, error=f"{error}{': ' + tail[0] if tail else ''}")
        finally:
            _close(process)
    return result


def _close(process: subprocess.Popen[bytes]) -> None:
    """End the session as a client does (stdin closed), then make sure the launch ended."""
    assert process.stdin is not None
    with contextlib.suppress(OSError):
        process.stdin.close()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class ProbeCollector(Collector):
    """The latest result of each server."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.results: dict[str, tuple[Result, float]] = {}
        self.skipped: dict[str, str] = {}

    def record(self, name: str, result: Result, when: float) -> None:
        """Keep a server's latest result."""
        with self.lock:
            self.results[name] = (result, when)

    def collect(self) -> Iterator[Metric]:
        """One family per figure, a sample per probed server."""
        with self.lock:
            results = dict(self.results)
            skipped = dict(self.skipped)
        up = GaugeMetricFamily(
            "mcp_probe_up",
            "1 when the server completed initialize and tools/list",
            labels=["server"],
        )
        handshake = GaugeMetricFamily(
            "mcp_probe_handshake_seconds", "start to the initialize answer", labels=["server"]
        )
        duration = GaugeMetricFamily(
            "mcp_probe_duration_seconds", "the whole probe session", labels=["server"]
        )
        tools = GaugeMetricFamily("mcp_probe_tools", "tools the server lists", labels=["server"])
        last = GaugeMetricFamily(
            "mcp_probe_last_run_timestamp_seconds",
            "when the server was last probed",
            labels=["server"],
        )
        skip = GaugeMetricFamily(
            "mcp_probe_skipped", "1 for a server the prober cannot start", labels=["server"]
        )
        for name, (result, when) in sorted(results.items()):
            up.add_metric([name], 1.0 if result.up else 0.0)
            last.add_metric([name], when)
            if result.up:
                handshake.add_metric([name], result.handshake)
                duration.add_metric([name], result.duration)
                tools.add_metric([name], float(result.tools))
        for name in sorted(skipped):
            skip.add_metric([name], 1.0)
        yield from (up, handshake, duration, tools, last, skip)


def workspace_source(inspected: dict[str, Any]) -> str:
    """The host path the engine mounts at /workspace in this container."""
    for mount in inspected.get("Mounts") or []:
        if mount.get("Destination") == WORKSPACE and mount.get("Source"):
            return str(mount["Source"])
    raise SystemExit(f"mcp-prober: nothing is mounted at {WORKSPACE}: mount the repository there")


def seconds(name: str, default: int) -> int:
    """A whole number of seconds from the environment; exits with a clear message when invalid."""
    raw = os.environ.get(name, str(default))
    if not raw.isdigit() or int(raw) < 5:
        raise SystemExit(f"mcp-prober: {name} must be a whole number of seconds >= 5, not {raw!r}")
    return int(raw)


def probe_all(
    collector: ProbeCollector,
    config: Path,
    environ: dict[str, str],
    timeout: float,
    cwd: str = WORKSPACE,
) -> None:
    """Probe every server of the config once, one at a time, from `cwd` (where clients run
    them: the workspace); log what changed."""
    try:
        loaded = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"mcp-prober: cannot read {config}: {error}", file=sys.stderr)
        return
    listed = servers(loaded if isinstance(loaded, dict) else {}, environ)
    with collector.lock:
        collector.skipped = {s.name: s.skipped for s in listed if s.skipped}
    for server in listed:
        if server.skipped:
            continue
        result = probe(server, cwd, environ, timeout)
        before = collector.results.get(server.name)
        if (
            before is None
            or before[0].up != result.up
            or (result.error and before[0].error != result.error)
        ):
            state = "up" if result.up else f"down: {result.error}"
            print(f"mcp-prober: {server.name} {state}", file=sys.stderr)
        collector.record(server.name, result, time.time())


def main() -> None:
    """Serve the metrics; probe every MCP_PROBE_INTERVAL seconds."""
    port = int(os.environ.get("MCP_PROBER_PORT", "9465"))
    interval = seconds("MCP_PROBE_INTERVAL", 120)
    timeout = seconds("MCP_PROBE_TIMEOUT", 60)
    config = Path(os.environ.get("MCP_PROBE_CONFIG", f"{WORKSPACE}/.mcp.json"))
    try:
        source = workspace_source(engine_api.own_container())
    except (engine_api.EngineError, OSError) as error:
        raise SystemExit(f"mcp-prober: {error}") from None
    environ = {**os.environ, "LOCAL_WORKSPACE_FOLDER": source, "HOME": "/tmp"}
    collector = ProbeCollector()
    registry = CollectorRegistry()
    registry.register(collector)
    serving.serve(port, registry)
    print(f"mcp-prober: probing {config} every {interval} s, serving :{port}", file=sys.stderr)
    while True:
        began = time.monotonic()
        probe_all(collector, config, environ, timeout)
        time.sleep(max(1.0, interval - (time.monotonic() - began)))


if __name__ == "__main__":
    main()
