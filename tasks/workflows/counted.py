"""verify.monitoring's proof that MCP calls are counted: one fresh `tools/call` through a stdio
server started as a client starts it (marked origin `verify`), then found in Prometheus's
`mcp_calls_total` within the longest scrape interval and a margin. When the client section runs
in the same verification, its calls (marked so too) are the ones counted: no server is started
for this check alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager, nullcontext

from tasks.engine.verify import FAIL, FIRST_SCRAPE_MARGIN, PASS, Check, Verifier
from tasks.model.prometheus import longest_scrape_interval
from tasks.monitoring.promql import Http, QueryError, Sample, query
from tasks.servers.page import probe_page
from tasks.servers.probe import ProbeResult, run_probes
from tasks.servers.specs import ProbeSpec, probe_specs

ORIGIN = "verify"
NAME = "a fresh MCP call is counted"
NO_STDIO = "no stdio MCP server can be started here"
# Seconds between two readings while waiting for the scrape that counts the call: three local
# queries each, so the wait ends within a quarter of a second of that scrape.
POLL = 0.25
STARTED = "max(mcp_exporter_start_time_seconds)"
"""PromQL: when the exporter started. A restarted exporter counts from zero again, while
Prometheus may still show the last count of the one before: after a restart of Prometheus
itself, a series the old exporter served keeps its last sample for up to five minutes."""


def calls_expr(server: str = "") -> str:
    """PromQL: the series counting the tools/call requests that verification made, of `server`
    or of every server."""
    named = f',server="{server}"' if server else ""
    return f'mcp_calls_total{{origin="{ORIGIN}"{named},mcp_method_name="tools/call"}}'


class ClientCalls:
    """The client section's calls, counted by the monitoring section: the client section starts
    its servers once the count is read (`wait_read`), and the first stdio server whose probe
    call is answered ends the monitoring section's wait (`call`)."""

    def __init__(self) -> None:
        self._read = threading.Event()
        self._answered: Future[bool] = Future()
        self._lock = threading.Lock()

    def wait_read(self) -> None:
        """Block until the monitoring section has read the count (or will not)."""
        self._read.wait()

    def read(self) -> None:
        """The count is read (or will not be): the client section may call."""
        self._read.set()

    def answered(self, spec: ProbeSpec, result: ProbeResult) -> None:
        """One server of the client section is done: a stdio server that answered its probe
        call ends the wait."""
        if not spec.url and result.ok:
            self._settle(True)

    def done(self) -> None:
        """The client section is done (whether or not a stdio call was answered)."""
        self._settle(False)

    def call(self) -> bool:
        """Let the client section call; whether one of its stdio calls was answered."""
        self.read()
        return self._answered.result()

    def counting(self) -> AbstractContextManager[None]:
        """The monitoring section's side: however it ends, the client section may call."""
        return _then(self.read)

    def calling(self) -> AbstractContextManager[None]:
        """The client section's side: however it ends, the monitoring section stops waiting."""
        return _then(self.done)

    def _settle(self, answered: bool) -> None:
        with self._lock:
            if not self._answered.done():
                self._answered.set_result(answered)


@contextmanager
def _then(action: Callable[[], None]) -> Iterator[None]:
    """Run the block, then `action`, however the block ends."""
    try:
        yield
    finally:
        action()


def _key(sample: Sample) -> frozenset[tuple[str, str]]:
    return frozenset((k, v) for k, v in sample.labels.items() if k != "__name__")


def counted(
    base: str,
    http: Http,
    server: str,
    call: Callable[[], tuple[str, str]],
    bound: float,
    pause: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Check:
    """Read the count of `server`'s calls ('': of any server), make the call (`call` returns
    which server it went through and '' or why it failed), then wait at most `bound` seconds
    for the count to grow (from zero, when the exporter restarted meanwhile)."""
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
        through, failed = call()
        if failed:
            why = f"the call through {through} failed: {failed}" if through else failed
            return Check("monitoring", NAME, FAIL, why)
        started = clock()
        while True:
            after, now_exporter = reading()
            waited = clock() - started
            if after > (before if now_exporter == exporter else 0.0):
                return Check(
                    "monitoring",
                    NAME,
                    PASS,
                    f"a tools/call through {through} in mcp_calls_total after {waited:.1f}s",
                )
            if waited >= bound:
                return Check(
                    "monitoring",
                    NAME,
                    FAIL,
                    f"no tools/call through {through} in mcp_calls_total after {bound:g}s: is "
                    "mcp-exporter running and scraped?",
                )
            pause(POLL)
    except QueryError as error:
        return Check("monitoring", NAME, FAIL, str(error))


def counted_call(verifier: Verifier, http: Http, client: ClientCalls | None = None) -> list[Check]:
    """The check on the running stack: Prometheus (the service with `targets`) must count a
    `tools/call`: with `client`, one the client section makes; otherwise, or when none of those
    was answered, one through the first stdio server that can be started here."""
    with client.counting() if client is not None else nullcontext():
        return _counted(verifier, http, client)


def _counted(verifier: Verifier, http: Http, client: ClientCalls | None) -> list[Check]:
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
        specs, _ = probe_specs(stack, (), stack.root, url, 60.0, origin=ORIGIN)
        # The quickest to call first: servers whose probe call reads no page from the host.
        stdio = sorted(
            (spec for spec in specs if not spec.url and spec.call is not None),
            key=lambda spec: (url in str(spec.call.arguments if spec.call else ""), spec.name),
        )

        def own() -> tuple[str, str]:
            if not stdio:
                return "", NO_STDIO
            [result] = run_probes([stdio[0]], 1, 1)
            return stdio[0].name, "" if result.ok else result.error

        if client is None:
            if not stdio:
                return [Check("monitoring", NAME, FAIL, NO_STDIO)]
            return [counted(base, http, stdio[0].name, own, bound)]

        def call() -> tuple[str, str]:
            return ("the client section's servers", "") if client.call() else own()

        return [counted(base, http, "", call, bound)]
