"""Speaks MCP over stdio to exactly the command a client runs: handshake, tools, one harmless
call, and latency figures. Every wait is bounded."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from tasks.model.manifest import ProbeCall
from tasks.servers.remote import SESSIONS, Opener, tcp
from tasks.servers.specs import ProbeSpec
from tasks.servers.stdio import ProtocolError, ServerError, Session, StdioSession

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


def explain(stderr: str, error: BaseException, spec: ProbeSpec) -> str:
    """One message for what went wrong, from the server's stderr and the exception."""
    text = stderr.strip()
    if isinstance(error, ProtocolError):
        return f"{spec.name} {error}"
    if "Unable to find image" in text or "pull access denied" in text or "No such image" in text:
        return f"image for {spec.name} is not built: run `invoke build.mcp --name {spec.name}`"
    if isinstance(error, TimeoutError):
        return f"{spec.name} did not answer within {spec.timeout:.0f} s"
    tail = " | ".join(text.splitlines()[-3:])
    detail = f"{type(error).__name__}: {error}".strip()
    return f"{spec.name} failed: {detail}" + (f" (stderr: {tail})" if tail else "")


@dataclass(frozen=True)
class Reach:
    """How the probe reaches servers: `opener` makes connections for URL servers (a tunnel
    into the network they are on), `stop` removes a container by name (after a stdio session,
    so that a server that ignores its closed stdin and SIGTERM is gone too)."""

    opener: Opener = tcp
    stop: Callable[[str], None] = lambda name: None


async def _open(spec: ProbeSpec, errlog: IO[str], reach: Reach) -> Session:
    if spec.url:
        return await SESSIONS[spec.transport](spec.url, reach.opener)
    return await StdioSession.start(spec.command, spec.args, spec.env, errlog)


async def _session(
    spec: ProbeSpec, repeat: int, errlog: IO[str], result: ProbeResult, reach: Reach
) -> None:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(spec.timeout):
            session = await _open(spec, errlog, reach)
    except BaseException:
        if spec.container:
            await asyncio.to_thread(reach.stop, spec.container)
        raise
    try:
        async with asyncio.timeout(spec.timeout):
            info = await session.initialize()
            result.cold_start_ms = round((time.perf_counter() - started) * 1000, 1)
            result.server, result.version, result.protocol = info.name, info.version, info.protocol
            result.tools = len(await session.list_tools())
            for _ in range(repeat):
                began = time.perf_counter()
                if spec.call is None:
                    await session.list_tools()
                else:
                    await _call(session, spec.call)
                result.latencies_ms.append(round((time.perf_counter() - began) * 1000, 1))
    finally:
        await session.close()  # outside the deadline: a server is always stopped
        if spec.container:
            await asyncio.to_thread(reach.stop, spec.container)


async def _call(session: Session, call: ProbeCall) -> None:
    reply = await session.call_tool(call.tool, call.arguments)
    content = reply.get("content")
    parts = content if isinstance(content, list) else []
    text = " ".join(str(part.get("text", "")) for part in parts if isinstance(part, dict))
    if reply.get("isError"):
        raise ProbeError(f"tool {call.tool} returned an error: {text[:200]}")
    if call.expect and call.expect not in text:
        raise ProbeError(f"tool {call.tool} answered without {call.expect!r}: {text[:200]}")


FINAL = (ProbeError, ProtocolError, ServerError, TimeoutError)
"""Failures a second spawn would not change: a bad answer, broken protocol, no answer."""


async def probe(spec: ProbeSpec, repeat: int = 5, reach: Reach = Reach()) -> ProbeResult:
    """Probe one server; a failed spawn is retried with backoff, a bad answer is not."""
    result = ProbeResult(spec.name)
    for attempt in range(1, SPAWN_ATTEMPTS + 1):
        result.attempts = attempt
        result.latencies_ms.clear()
        with tempfile.TemporaryFile(mode="w+") as errlog:
            try:
                await _session(spec, repeat, errlog, result, reach)
                result.ok = True
                return result
            except Exception as error:
                if isinstance(error, ProbeError):
                    result.error = f"{spec.name}: {error}"
                    return result
                errlog.seek(0)
                result.error = explain(errlog.read(), error, spec)
                spawned = result.cold_start_ms > 0
                if spawned or isinstance(error, FINAL) or "not built" in result.error:
                    return result
        await asyncio.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
    return result


def run_probes(
    specs: list[ProbeSpec],
    repeat: int,
    concurrency: int,
    reach: Reach = Reach(),
    together: bool = False,
    answered: Callable[[ProbeSpec, ProbeResult], object] = lambda spec, result: None,
) -> list[ProbeResult]:
    """Probe every spec, `concurrency` sessions of each at a time, one server after another
    (so that their latencies are their own) or, `together`, every server at once; results in
    spec order, each also given to `answered` as soon as its server is done."""

    async def server(spec: ProbeSpec) -> ProbeResult:
        sessions = (
            probe(spec.session(index), repeat, reach) for index in range(max(1, concurrency))
        )
        result = _merge(spec.name, list(await asyncio.gather(*sessions)))
        answered(spec, result)
        return result

    async def main() -> list[ProbeResult]:
        if together:
            return list(await asyncio.gather(*(server(spec) for spec in specs)))
        return [await server(spec) for spec in specs]

    return asyncio.run(main())


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
