"""verify.monitoring's proof that MCP calls are counted: one fresh `tools/call` through a stdio
server started as a client starts it (marked origin `verify`), then found in Prometheus's
`mcp_calls_total` within the longest scrape interval and a margin."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from tasks.engine.verify import FAIL, FIRST_SCRAPE_MARGIN, PASS, Check, Verifier
from tasks.model.prometheus import longest_scrape_interval
from tasks.monitoring.promql import Http, QueryError, Sample, query
from tasks.servers.page import probe_page
from tasks.servers.probe import run_probes
from tasks.servers.specs import ProbeSpec, probe_specs

ORIGIN = "verify"
NAME = "a fresh MCP call is counted"
# Seconds between two readings while waiting for the scrape that counts the call: three local
# queries each, so the wait ends within a quarter of a second of that scrape.
POLL = 0.25
STARTED = "max(mcp_exporter_start_time_seconds)"
"""PromQL: when the exporter started. A restarted exporter counts from zero again, while
Prometheus may still show the last count of the one before: after a restart of Prometheus
itself, a series the old exporter served keeps its last sample for up to five minutes."""


def calls_expr(server: str) -> str:
    """PromQL: the series counting the tools/call requests of `server` that verification made."""
    return f'mcp_calls_total{{origin="{ORIGIN}",server="{server}",mcp_method_name="tools/call"}}'


def _key(sample: Sample) -> frozenset[tuple[str, str]]:
    return frozenset((k, v) for k, v in sample.labels.items() if k != "__name__")


def counted(
    base: str,
    http: Http,
    server: str,
    call: Callable[[], str],
    bound: float,
    pause: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Check:
    """Read the count, make the call (`call` returns '' or why it failed), then wait at most
    `bound` seconds for the count to grow (from zero, when the exporter restarted meanwhile)."""
    expr = calls_expr(server)

    def reading() -> tuple[float, float | None]:
        """The count the running exporter serves (samples scraped since it started), and when
        it started."""
        starts = query(http, base, STARTED)
        start = starts[0].value if starts else None
        scraped = {_key(s): s.value for s in query(http, base, f"timestamp({expr})")}
        series = query(http, base, expr)
        fresh = [s for s in series if start is None or scraped.get(_key(s), start) >= start]
        return sum(sample.value for sample in fresh), start

    try:
        before, exporter = reading()
        failed = call()
        if failed:
            return Check("monitoring", NAME, FAIL, f"the call through {server} failed: {failed}")
        started = clock()
        while True:
            after, now_exporter = reading()
            waited = clock() - started
            if after > (before if now_exporter == exporter else 0.0):
                return Check(
                    "monitoring",
                    NAME,
                    PASS,
                    f"{server} tools/call in mcp_calls_total after {waited:.1f}s",
                )
            if waited >= bound:
                return Check(
                    "monitoring",
                    NAME,
                    FAIL,
                    f"{server} tools/call not in mcp_calls_total after {bound:g}s: is "
                    "mcp-exporter running and scraped?",
                )
            pause(POLL)
    except QueryError as error:
        return Check("monitoring", NAME, FAIL, str(error))


def counted_call(verifier: Verifier, http: Http) -> list[Check]:
    """The check on the running stack: Prometheus (the service with `targets`) must count a
    `tools/call` made through the first stdio server that can be started here."""
    stack = verifier.stack
    prometheus = next((n for n, s in stack.compose.services.items() if s.verify.targets), None)
    if prometheus is None:
        return []
    if prometheus not in verifier.running:
        return [verifier.absent("monitoring", NAME, prometheus)]
    service = stack.compose.services[prometheus]
    base = f"http://127.0.0.1:{verifier.published(prometheus, str(service.verify.port))}"
    bound = longest_scrape_interval(service, stack.compose.folder) + FIRST_SCRAPE_MARGIN
    with probe_page() as url:
        specs, _ = probe_specs(stack, (), stack.root, url, 60.0)
        # The quickest to call first: servers whose probe call reads no page from the host.
        stdio = sorted(
            (spec for spec in specs if not spec.url and spec.call is not None),
            key=lambda spec: (url in str(spec.call.arguments if spec.call else ""), spec.name),
        )
        if not stdio:
            return [Check("monitoring", NAME, FAIL, "no stdio MCP server can be started here")]
        spec: ProbeSpec = replace(stdio[0], env={**stdio[0].env, "MCP_ORIGIN": ORIGIN})

        def call() -> str:
            [result] = run_probes([spec], 1, 1)
            return "" if result.ok else result.error

        return [counted(base, http, spec.name, call, bound)]
