"""verify.monitoring's proof that MCP calls are counted (tasks/workflows/counted.py) over
PromQL instant queries (tasks/monitoring/promql.py): the count before, one call, the count
growing within a bound, and every way Prometheus can fail to answer; then which Prometheus is
asked, which server is called and how long the check waits on a running stack."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from tasks.engine.status import ServiceStatus
from tasks.engine.verify import FAIL, PASS, SKIP, Check, Verifier
from tasks.model.manifest import ProbeCall
from tasks.monitoring.promql import QueryError, Sample, parse_vector, query, query_url
from tasks.servers.probe import ProbeResult
from tasks.servers.specs import ProbeSpec
from tasks.workflows import counted as counted_module
from tasks.workflows.counted import (
    NAME,
    STARTED,
    ClientCalls,
    calls_expr,
    counted,
    counted_call,
)


def vector(*values: float, **named: str) -> str:
    metric = {**named, "server": "fetch"}
    result = [{"metric": metric, "value": [1.0, str(v)]} for v in values]
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})


def test_answers_of_the_query_api() -> None:
    assert parse_vector(vector(3, 4)) == [
        Sample({"server": "fetch"}, 3.0),
        Sample({"server": "fetch"}, 4.0),
    ]
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [1.0, "7"]}}
    assert parse_vector(json.dumps(scalar)) == [Sample({}, 7.0)]
    refused = {"status": "error", "errorType": "bad_data", "error": "parse error at char 5"}
    with pytest.raises(QueryError, match="parse error at char 5"):
        parse_vector(json.dumps(refused))
    with pytest.raises(QueryError, match="not JSON"):
        parse_vector("<html>")


def test_query_urls_and_unanswered_queries() -> None:
    url = query_url("http://127.0.0.1:9090/", 'sum(up{job="x"})')
    assert urllib.parse.parse_qs(urllib.parse.urlparse(url).query) == {
        "query": ['sum(up{job="x"})']
    }
    with pytest.raises(QueryError, match="does not answer"):
        query(lambda url: (0, ""), "http://127.0.0.1:9", "up")
    with pytest.raises(QueryError, match="HTTP 503"):
        query(lambda url: (503, ""), "http://127.0.0.1:9", "up")


def test_what_each_unanswered_query_says() -> None:
    assert (
        query_url("http://127.0.0.1:9090/", "up") == "http://127.0.0.1:9090/api/v1/query?query=up"
    )
    assert query_url(" http://h:9 ", "a b") == " http://h:9 /api/v1/query?query=a+b"
    assert query_url("http://PROMETHEUSX//", "up") == "http://PROMETHEUSX/api/v1/query?query=up"
    for data in (None, {}, {"resultType": "vector", "result": None}, {"result": "x"}):
        assert parse_vector(json.dumps({"status": "success", "data": data})) == []
    with pytest.raises(QueryError) as failed:
        parse_vector("<html>")
    assert str(failed.value) == "Prometheus answered something that is not JSON"
    for body in ("[1, 2]", '{"status": "error"}', '"success"'):
        with pytest.raises(QueryError) as failed:
            parse_vector(body)
        assert str(failed.value) == "Prometheus refused the query"
    with pytest.raises(QueryError) as failed:
        query(lambda url: (0, ""), "http://127.0.0.1:9", "up")
    assert str(failed.value) == "Prometheus at http://127.0.0.1:9 does not answer"
    for code in (201, 401, 423, 500):

        def http(url: str, code: int = code) -> tuple[int, str]:
            return code, vector(1)

        with pytest.raises(QueryError) as failed:
            query(http, "http://h:9", "up")
        assert str(failed.value) == f"Prometheus at http://h:9 answered HTTP {code}"


@pytest.mark.parametrize("code", [400, 422])
def test_a_refused_query_is_prometheus_own_message(code: int) -> None:
    refused = {"status": "error", "errorType": "execution", "error": "many-to-many matching"}
    asked: list[str] = []

    def http(url: str) -> tuple[int, str]:
        asked.append(url)
        return code, json.dumps(refused)

    with pytest.raises(QueryError) as failed:
        query(http, "http://h:9/", "a / b")
    assert str(failed.value) == "many-to-many matching"
    assert asked == ["http://h:9/api/v1/query?query=a+%2F+b"]
    assert query(lambda url: (200, vector(2)), "http://h:9", "x") == [
        Sample({"server": "fetch"}, 2.0)
    ]


class Prometheus:
    """Answers the count with `counts` in turn (None: no series yet), the count's sample time
    with `scraped` and the exporter's start with `starts`, each in turn, the last from then
    on."""

    def __init__(
        self,
        *counts: float | None,
        scraped: tuple[float, ...] = (5000.0,),
        starts: tuple[float | None, ...] = (1000.0,),
    ) -> None:
        self.answers: dict[str, list[float | None]] = {
            "count": list(counts),
            "scraped": list(scraped),
            "start": list(starts),
        }
        self.asked: list[str] = []

    def http(self, url: str) -> tuple[int, str]:
        asked = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["query"][0]
        self.asked.append(asked)
        kind = (
            "start"
            if asked == STARTED
            else "scraped"
            if asked.startswith("timestamp(")
            else "count"
        )
        answers = self.answers[kind]
        value = answers.pop(0) if len(answers) > 1 else answers[0]
        if kind == "scraped" and self.answers["count"][0] is None:
            return 200, vector()
        if value is None:
            return 200, vector()
        # The count's series carries its metric name; timestamp() and max() drop it.
        return 200, vector(value, __name__="mcp_calls_total") if kind == "count" else vector(value)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def pause(self, seconds: float) -> None:
        self.now += seconds


def check(
    prometheus: Prometheus,
    call: Callable[[], tuple[str, str]] = lambda: ("fetch", ""),
    bound: float = 25,
) -> Check:
    clock = Clock()
    return counted(
        "http://p", prometheus.http, "fetch", call, bound, clock.pause, lambda: clock.now
    )


def test_a_call_counted_at_a_later_scrape_passes() -> None:
    prometheus = Prometheus(None, None, None, 1)
    assert check(prometheus) == Check(
        "monitoring", NAME, PASS, "a tools/call through fetch in mcp_calls_total after 0.5s"
    )
    expr = calls_expr("fetch")
    assert set(prometheus.asked) == {expr, f"timestamp({expr})", STARTED}
    assert STARTED == "max(mcp_exporter_start_time_seconds)"
    assert calls_expr("fetch") == (
        'mcp_calls_total{origin="verify",server="fetch",mcp_method_name="tools/call"}'
    )


def test_the_wait_is_measured_from_the_call_and_ends_at_the_bound() -> None:
    """Readings at 0, 0.25 and 0.5 s after the call on a clock that does not start at zero,
    and none after the bound."""
    prometheus = Prometheus(4)
    clock = Clock()
    clock.now = 1000.0
    result = counted(
        "http://p", prometheus.http, "fetch", lambda: ("fetch", ""), 0.5, clock.pause,
        lambda: clock.now,
    )  # fmt: skip
    assert result.detail.startswith("no tools/call through fetch in mcp_calls_total after 0.5s")
    assert len(prometheus.asked) == 3 * (1 + 3)  # the count before, then three readings
    counted_later = Prometheus(4, 4, 5)
    clock.now = 1000.0
    passed = counted(
        "http://p", counted_later.http, "fetch", lambda: ("fetch", ""), 25, clock.pause,
        lambda: clock.now,
    )  # fmt: skip
    assert passed.detail == "a tools/call through fetch in mcp_calls_total after 0.2s"


def test_a_call_never_counted_fails_after_the_bound() -> None:
    result = check(Prometheus(4), bound=25)
    assert result == Check(
        "monitoring", NAME, FAIL,
        "no tools/call through fetch in mcp_calls_total after 25s: is mcp-exporter running and "
        "scraped?",
    )  # fmt: skip


def test_a_restarted_exporter_counts_from_zero() -> None:
    """Prometheus still shows the old exporter's 3 when the check starts; the new exporter,
    started since, counts this call as its first."""
    restarted = Prometheus(3, 1, starts=(1000.0, 2000.0))
    assert check(restarted).status == PASS
    same = Prometheus(3, 3, starts=(1000.0,))
    assert check(same).status == FAIL
    first_scrape = Prometheus(None, 1, starts=(None, 2000.0))
    assert check(first_scrape).status == PASS


def test_a_count_left_from_before_a_restart_of_prometheus_is_not_the_count() -> None:
    """Prometheus and the exporter restarted together: the old exporter's last count (1, from
    before the new one started at 1000) still shows; the new one then counts this call."""
    carried = Prometheus(1, 1, scraped=(900.0, 1005.0), starts=(1000.0,))
    assert check(carried).status == PASS
    never = Prometheus(1, scraped=(900.0,), starts=(1000.0,))
    assert check(never).status == FAIL


def test_a_count_scraped_the_instant_the_exporter_started_is_its_own() -> None:
    assert check(Prometheus(0, 1, scraped=(1000.0,), starts=(1000.0,))).status == PASS


def test_a_call_that_fails_is_named_and_not_waited_for() -> None:
    prometheus = Prometheus(0)
    result = check(prometheus, call=lambda: ("fetch", "image for fetch is not built"))
    assert result == Check(
        "monitoring", NAME, FAIL, "the call through fetch failed: image for fetch is not built"
    )
    expr = calls_expr("fetch")
    assert prometheus.asked == [STARTED, f"timestamp({expr})", expr]


def test_a_call_that_could_not_be_made_through_any_server_says_why_alone() -> None:
    result = check(Prometheus(0), call=lambda: ("", "no stdio MCP server can be started here"))
    assert result == Check("monitoring", NAME, FAIL, "no stdio MCP server can be started here")


def test_prometheus_refusing_the_query_fails_with_its_message() -> None:
    result = counted("http://p", lambda url: (0, ""), "fetch", lambda: ("fetch", ""), 25)
    assert result == Check("monitoring", NAME, FAIL, "Prometheus at http://p does not answer")


# ---------------------------------------------------------------- the check on the running stack

PAGE = "http://127.0.0.1:4321/page"


class Stage:
    """The stack's side of `counted_call`: a Prometheus service (or none), the servers the probe
    could start, and what each call records (the scrape interval read, the probe's specs and
    options, the measurement it was handed)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *specs: ProbeSpec) -> None:
        self.specs = list(specs)
        self.asked: list[tuple[Any, ...]] = []
        self.result = ProbeResult("x", ok=True)
        folder = Path("/stack/.devcontainer")
        prometheus = SimpleNamespace(verify=SimpleNamespace(targets=("exporter",), port=9090))
        web = SimpleNamespace(verify=SimpleNamespace(targets=(), port=80))
        compose = SimpleNamespace(folder=folder, services={"web": web, "prometheus": prometheus})
        self.stack = SimpleNamespace(compose=compose, root=Path("/stack"))
        monkeypatch.setattr(counted_module, "longest_scrape_interval", self.interval)
        monkeypatch.setattr(counted_module, "counted", self.counted)
        monkeypatch.setattr(counted_module, "probe_page", self.page)
        monkeypatch.setattr(counted_module, "probe_specs", self.probe_specs)
        monkeypatch.setattr(counted_module, "run_probes", self.run_probes)

    def verifier(self, ports: str = "127.0.0.1:19090->9090/tcp", **running: str) -> Verifier:
        verifier = Verifier.__new__(Verifier)
        verifier.stack = cast(Any, self.stack)
        verifier.not_exercised = {"prometheus": "the monitoring profile is not selected"}
        states = {"prometheus": "running", **running}
        verifier.running = {
            name: ServiceStatus(name, state, ports=ports) for name, state in states.items() if state
        }
        return verifier

    def interval(self, service: Any, folder: Path) -> float:
        self.asked.append(("interval", service.verify.port, folder))
        return 15.0

    @contextmanager
    def page(self) -> Iterator[str]:
        yield PAGE

    def probe_specs(self, stack: Any, names: tuple[str, ...], workspace: Path, url: str,
                    timeout: float, origin: str) -> tuple[list[ProbeSpec], list[Any]]:  # fmt: skip
        self.asked.append(("specs", stack is self.stack, names, workspace, url, timeout, origin))
        return self.specs, []

    def run_probes(self, specs: list[ProbeSpec], repeat: int, concurrency: int) -> list[Any]:
        self.asked.append(("probe", specs, repeat, concurrency))
        return [self.result]

    def counted(self, base: str, http: Any, server: str, call: Callable[[], tuple[str, str]],
                bound: float) -> Check:  # fmt: skip
        self.asked.append(("counted", base, http, server, bound))
        through, failed = call()
        return Check("monitoring", NAME, FAIL if failed else PASS, failed or f"via {through}")


def stdio(name: str, **arguments: str) -> ProbeSpec:
    return ProbeSpec(name, "docker", env={"A": "1"}, call=ProbeCall("t", dict(arguments)))


def test_the_call_goes_through_the_first_stdio_server_that_reads_no_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stage = Stage(
        monkeypatch,
        ProbeSpec("bridge", url="http://127.0.0.1:8080/mcp", call=ProbeCall("t", {})),
        ProbeSpec("idle", "docker"),
        stdio("alpha", url=PAGE),
        stdio("zeta"),
        stdio("mid"),
    )

    def http(url: str) -> tuple[int, str]:
        return 200, ""

    assert counted_call(stage.verifier(), http) == [Check("monitoring", NAME, PASS, "via mid")]
    folder = Path("/stack/.devcontainer")
    assert stage.asked == [
        ("interval", 9090, folder),
        ("specs", True, (), Path("/stack"), PAGE, 60.0, "verify"),
        ("counted", "http://127.0.0.1:19090", http, "mid", 25.0),
        ("probe", [stdio("mid")], 1, 1),
    ]
    stage.result = ProbeResult("mid", error="image mcp-mid:latest is not built")
    [failed] = counted_call(stage.verifier(), http)
    assert failed.detail == "image mcp-mid:latest is not built"


def test_servers_that_read_the_page_are_called_only_when_nothing_else_can_be(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stage = Stage(monkeypatch, stdio("beta", url=PAGE), stdio("alpha", url=PAGE))
    counted_call(stage.verifier(), lambda url: (200, ""))
    assert stage.asked[2][3] == "alpha"


def test_without_a_stdio_server_the_check_fails_and_asks_prometheus_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stage = Stage(monkeypatch, ProbeSpec("remote", url="http://127.0.0.1:8080/mcp"))
    assert counted_call(stage.verifier(), lambda url: (200, "")) == [
        Check("monitoring", NAME, FAIL, "no stdio MCP server can be started here")
    ]
    assert [asked[0] for asked in stage.asked] == ["interval", "specs"]


def test_an_unpublished_prometheus_is_asked_on_its_own_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stage = Stage(monkeypatch, stdio("mid"))
    counted_call(stage.verifier(ports=""), lambda url: (200, ""))
    assert stage.asked[2][1] == "http://127.0.0.1:9090"


def test_prometheus_absent_or_not_running_is_no_check_or_its_absence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stage = Stage(monkeypatch, stdio("mid"))
    assert counted_call(stage.verifier(prometheus=""), lambda url: (200, "")) == [
        Check("monitoring", NAME, SKIP, "the monitoring profile is not selected")
    ]
    del stage.stack.compose.services["prometheus"]
    assert counted_call(stage.verifier(), lambda url: (200, "")) == []
    assert stage.asked == []


# ---------------------------------------------------------------- counting the client section's calls


def released(calls: ClientCalls, wait: float = 2.0) -> bool:
    """Whether the client section, waiting for the count to be read, may call now."""
    waiter = threading.Thread(target=calls.wait_read, daemon=True)
    waiter.start()
    waiter.join(timeout=wait)
    return not waiter.is_alive()


def test_the_first_answered_stdio_call_of_the_client_section_ends_the_wait() -> None:
    calls = ClientCalls()
    assert not released(calls, wait=0.1)
    calls.answered(
        ProbeSpec("postgres", url="http://postgres-mcp:8000/sse"), ProbeResult("a", True)
    )
    calls.answered(stdio("git"), ProbeResult("git", False, error="no"))
    waited: list[bool] = []
    waiter = threading.Thread(target=lambda: waited.append(calls.call()), daemon=True)
    waiter.start()
    waiter.join(timeout=0.2)
    assert waiter.is_alive() and released(calls)  # the count is read; no stdio call answered yet
    calls.answered(stdio("memory"), ProbeResult("memory", True))
    waiter.join(timeout=2.0)
    assert waited == [True]
    calls.done()
    assert calls.call() is True  # the first outcome stays


def test_a_client_section_without_an_answered_stdio_call_ends_the_wait_unanswered() -> None:
    calls = ClientCalls()
    calls.done()
    calls.answered(stdio("memory"), ProbeResult("memory", True))
    assert calls.call() is False and released(calls)


def test_the_client_section_calls_once_the_count_is_read_whatever_the_check_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stage = Stage(monkeypatch, stdio("mid"))
    for verifier in (stage.verifier(prometheus=""), stage.verifier()):
        calls = ClientCalls()
        calls.done()
        counted_call(verifier, lambda url: (200, ""), calls)
        assert released(calls)
    del stage.stack.compose.services["prometheus"]
    calls = ClientCalls()
    assert counted_call(stage.verifier(), lambda url: (200, ""), calls) == []
    assert released(calls)
    monkeypatch.setattr(counted_module, "probe_specs", lambda *a, **k: 1 / 0)
    stage.stack.compose.services["prometheus"] = SimpleNamespace(
        verify=SimpleNamespace(targets=("exporter",), port=9090)
    )
    calls = ClientCalls()
    with pytest.raises(ZeroDivisionError):
        counted_call(stage.verifier(), lambda url: (200, ""), calls)
    assert released(calls)


def test_the_client_section_calls_are_counted_instead_of_a_call_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stage = Stage(monkeypatch, stdio("zeta"), stdio("mid"))
    calls = ClientCalls()
    calls.answered(stdio("memory"), ProbeResult("memory", True))
    http = Prometheus(0).http
    assert counted_call(stage.verifier(), http, calls) == [
        Check("monitoring", NAME, PASS, "via the client section's servers")
    ]
    assert [asked[0] for asked in stage.asked] == ["interval", "specs", "counted"]
    assert stage.asked[2] == ("counted", "http://127.0.0.1:19090", http, "", 25.0)
    assert calls_expr("") == 'mcp_calls_total{origin="verify",mcp_method_name="tools/call"}'


def test_without_an_answered_client_call_the_check_makes_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stage = Stage(monkeypatch, stdio("zeta"), stdio("mid"))
    calls = ClientCalls()
    calls.done()
    assert counted_call(stage.verifier(), lambda url: (200, ""), calls) == [
        Check("monitoring", NAME, PASS, "via mid")
    ]
    assert stage.asked[2:] == [
        ("counted", "http://127.0.0.1:19090", stage.asked[2][2], "", 25.0),
        ("probe", [stdio("mid")], 1, 1),
    ]
    stage = Stage(monkeypatch, ProbeSpec("remote", url="http://127.0.0.1:8080/mcp"))
    calls = ClientCalls()
    calls.done()
    assert counted_call(stage.verifier(), lambda url: (200, ""), calls) == [
        Check("monitoring", NAME, FAIL, "no stdio MCP server can be started here")
    ]
