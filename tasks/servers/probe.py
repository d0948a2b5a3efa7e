"""Speaks MCP over stdio to exactly the command a client runs: handshake, tools, one harmless
call, and latency figures. Every wait is bounded."""

from __future__ import annotations

import logging
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tasks.model.manifest import ProbeCall
from tasks.servers.specs import ProbeSpec

SPAWN_ATTEMPTS = 3
BACKOFF_SECONDS = 0.5


@dataclass
class ProbeResult:
    """What the server answered, and how fast."""

    name: str
    ok: bool = False
    server: str = ""
    version: str = ""
    protocol: str = ""
    tools: int = 0
    cold_start_ms: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    attempts: int = 0
    error: str = ""

    @property
    def p50_ms(self) -> float:
        """Median warm request latency."""
        return round(statistics.median(self.latencies_ms), 1) if self.latencies_ms else 0.0

    @property
    def p95_ms(self) -> float:
        """95th percentile warm request latency (nearest rank)."""
        return round(percentile(self.latencies_ms, 95), 1)

    def to_json(self) -> dict[str, Any]:
        """Plain dict for `--json`."""
        data = dict(self.__dict__)
        data.update(p50_ms=self.p50_ms, p95_ms=self.p95_ms)
        return data


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, int(-(-pct * len(ordered) // 100)))
    return ordered[min(rank, len(ordered)) - 1]


class ProbeError(RuntimeError):
    """A probe failed in a way worth one clear message."""


class _Garbage(logging.Handler):
    """Collects the SDK's complaints about stdout lines that are not JSON-RPC."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "Failed to parse JSONRPC" in record.getMessage():
            error = record.exc_info[1] if record.exc_info else None
            self.lines.append(str(error).splitlines()[-2] if error else record.getMessage())


def _leaf(error: BaseException) -> BaseException:
    """The first real exception inside (nested) exception groups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def explain(stderr: str, error: BaseException, spec: ProbeSpec, garbage: list[str]) -> str:
    """One message for what went wrong, from the server's stderr and the exception."""
    error = _leaf(error)
    text = stderr.strip()
    if garbage:
        return f"{spec.name} wrote output that is not JSON-RPC to stdout ({garbage[0].strip()})"
    if "Unable to find image" in text or "pull access denied" in text or "No such image" in text:
        return f"image for {spec.name} is not built: run `invoke build.mcp --name {spec.name}`"
    if isinstance(error, TimeoutError):
        return f"{spec.name} did not answer within {spec.timeout:.0f} s"
    tail = " | ".join(text.splitlines()[-3:])
    detail = f"{type(error).__name__}: {error}".strip()
    return f"{spec.name} failed: {detail}" + (f" (stderr: {tail})" if tail else "")


async def _session(spec: ProbeSpec, repeat: int, errlog: Any, result: ProbeResult) -> None:
    params = StdioServerParameters(
        command=spec.command, args=list(spec.args), env={**os.environ, **spec.env}
    )
    started = time.perf_counter()
    with anyio.fail_after(spec.timeout):
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write, read_timeout_seconds=spec.timeout) as session,
        ):
            init = await session.initialize()
            result.cold_start_ms = round((time.perf_counter() - started) * 1000, 1)
            result.server = init.server_info.name
            result.version = init.server_info.version
            result.protocol = str(init.protocol_version)
            result.tools = len((await session.list_tools()).tools)
            for _ in range(repeat):
                began = time.perf_counter()
                if spec.call is None:
                    await session.list_tools()
                else:
                    await _call(session, spec.call)
                result.latencies_ms.append(round((time.perf_counter() - began) * 1000, 1))


async def _call(session: ClientSession, call: ProbeCall) -> None:
    reply = await session.call_tool(call.tool, call.arguments)
    text = " ".join(getattr(part, "text", "") for part in getattr(reply, "content", []) or [])
    if getattr(reply, "isError", False) or getattr(reply, "is_error", False):
        raise ProbeError(f"tool {call.tool} returned an error: {text[:200]}")
    if call.expect and call.expect not in text:
        raise ProbeError(f"tool {call.tool} answered without {call.expect!r}: {text[:200]}")


async def probe(spec: ProbeSpec, repeat: int = 5) -> ProbeResult:
    """Probe one server; a failed spawn is retried with backoff, a bad answer is not."""
    result = ProbeResult(spec.name)
    sdk_log = logging.getLogger("mcp.client.stdio")
    garbage = _Garbage()
    sdk_log.addHandler(garbage)
    sdk_log.propagate = False
    try:
        for attempt in range(1, SPAWN_ATTEMPTS + 1):
            result.attempts = attempt
            result.latencies_ms.clear()
            with tempfile.TemporaryFile(mode="w+") as errlog:
                try:
                    await _session(spec, repeat, errlog, result)
                    result.ok = True
                    return result
                except Exception as error:
                    leaf = _leaf(error)
                    if isinstance(leaf, ProbeError):
                        result.error = f"{spec.name}: {leaf}"
                        return result
                    errlog.seek(0)
                    result.error = explain(errlog.read(), error, spec, garbage.lines)
                    spawned = result.cold_start_ms > 0 or bool(garbage.lines)
                    if spawned or isinstance(leaf, TimeoutError) or "not built" in result.error:
                        return result
            await anyio.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        return result
    finally:
        sdk_log.removeHandler(garbage)
        sdk_log.propagate = True


def run_probes(specs: list[ProbeSpec], repeat: int, concurrency: int) -> list[ProbeResult]:
    """Probe every spec, `concurrency` sessions of each at a time; results in spec order."""
    results: list[ProbeResult] = []

    async def main() -> None:
        for spec in specs:
            batch: list[ProbeResult] = []

            async def one(spec: ProbeSpec = spec, batch: list[ProbeResult] = batch) -> None:
                batch.append(await probe(spec, repeat))

            async with anyio.create_task_group() as group:
                for _ in range(max(1, concurrency)):
                    group.start_soon(one)
            results.append(_merge(spec.name, batch))

    anyio.run(main)
    return results


def _merge(name: str, batch: list[ProbeResult]) -> ProbeResult:
    """Combine concurrent sessions of one server: all must succeed; latencies pooled."""
    failed = [r for r in batch if not r.ok]
    first = batch[0]
    merged = ProbeResult(
        name,
        not failed,
        first.server,
        first.version,
        first.protocol,
        first.tools,
        max(r.cold_start_ms for r in batch),
        [value for r in batch for value in r.latencies_ms],
        max(r.attempts for r in batch),
        "; ".join(sorted({r.error for r in failed})),
    )
    return merged
