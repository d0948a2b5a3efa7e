"""verify.monitoring's proof that MCP calls are counted (tasks/monitoring/counted.py) over
PromQL instant queries (tasks/monitoring/promql.py): the count before, one call, the count
growing within a bound, and every way Prometheus can fail to answer."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable

import pytest

from tasks.engine.verify import FAIL, PASS, Check
from tasks.monitoring.promql import QueryError, Sample, parse_vector, query, query_url
from tasks.workflows.counted import NAME, calls_expr, counted


def vector(*values: float) -> str:
    result = [{"metric": {"server": "fetch"}, "value": [1.0, str(v)]} for v in values]
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


class Prometheus:
    """Answers the count query: `counts` in turn (None: no series yet), the last from then on."""

    def __init__(self, *counts: float | None) -> None:
        self.counts = list(counts)
        self.asked: list[str] = []

    def http(self, url: str) -> tuple[int, str]:
        self.asked.append(urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["query"][0])
        count = self.counts.pop(0) if len(self.counts) > 1 else self.counts[0]
        return 200, vector() if count is None else vector(count)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def pause(self, seconds: float) -> None:
        self.now += seconds


def check(prometheus: Prometheus, call: Callable[[], str] = lambda: "", bound: float = 25) -> Check:
    clock = Clock()
    return counted(
        "http://p", prometheus.http, "fetch", call, bound, clock.pause, lambda: clock.now
    )


def test_a_call_counted_at_a_later_scrape_passes() -> None:
    prometheus = Prometheus(None, None, None, 1)
    assert check(prometheus) == Check(
        "monitoring", NAME, PASS, "fetch tools/call in mcp_calls_total after 2s"
    )
    assert set(prometheus.asked) == {calls_expr("fetch")}
    assert calls_expr("fetch") == (
        'sum(mcp_calls_total{origin="verify",server="fetch",mcp_method_name="tools/call"})'
    )


def test_a_call_never_counted_fails_after_the_bound() -> None:
    result = check(Prometheus(4), bound=25)
    assert result == Check(
        "monitoring", NAME, FAIL,
        "fetch tools/call not in mcp_calls_total after 25s: is mcp-exporter running and scraped?",
    )  # fmt: skip


def test_a_call_that_fails_is_named_and_not_waited_for() -> None:
    prometheus = Prometheus(0)
    result = check(prometheus, call=lambda: "image for fetch is not built")
    assert result == Check(
        "monitoring", NAME, FAIL, "the call through fetch failed: image for fetch is not built"
    )
    assert len(prometheus.asked) == 1


def test_prometheus_refusing_the_query_fails_with_its_message() -> None:
    result = counted("http://p", lambda url: (0, ""), "fetch", lambda: "", 25)
    assert result == Check("monitoring", NAME, FAIL, "Prometheus at http://p does not answer")
