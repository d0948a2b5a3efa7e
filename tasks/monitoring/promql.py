"""Instant PromQL queries against Prometheus's HTTP API, over any `http` getter (status, body)."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

Http = Callable[[str], tuple[int, str]]


class QueryError(RuntimeError):
    """Prometheus did not answer the query, or refused it (a bad expression)."""


@dataclass(frozen=True)
class Sample:
    """One series of an instant vector: its labels and value."""

    labels: dict[str, str]
    value: float


def query_url(base: str, expr: str) -> str:
    """The API URL of an instant query on the Prometheus at `base` (http://HOST:PORT)."""
    return f"{base.rstrip('/')}/api/v1/query?" + urllib.parse.urlencode({"query": expr})


def parse_vector(body: str) -> list[Sample]:
    """The samples of an instant query's answer (a vector, or a scalar as one sample);
    `QueryError` with Prometheus's own message when it refused the query."""
    try:
        data = json.loads(body)
    except ValueError:
        raise QueryError("Prometheus answered something that is not JSON") from None
    if not isinstance(data, dict) or data.get("status") != "success":
        error = data.get("error") if isinstance(data, dict) else None
        raise QueryError(str(error or "Prometheus refused the query"))
    result = data.get("data") or {}
    kind, found = result.get("resultType"), result.get("result")
    if kind == "scalar" and isinstance(found, list):
        return [Sample({}, float(found[1]))]
    samples = []
    for item in found if isinstance(found, list) else []:
        labels = item.get("metric") or {}
        samples.append(Sample({str(k): str(v) for k, v in labels.items()}, float(item["value"][1])))
    return samples


def query(http: Http, base: str, expr: str) -> list[Sample]:
    """The instant vector of `expr` now; `QueryError` when Prometheus does not answer it."""
    code, body = http(query_url(base, expr))
    if code == 0:
        raise QueryError(f"Prometheus at {base} does not answer")
    if code not in (200, 400, 422):
        raise QueryError(f"Prometheus at {base} answered HTTP {code}")
    return parse_vector(body)
