#!/usr/bin/env python3
"""MCP call metrics from the audit log, for Prometheus.

The relay in front of every stdio MCP server appends one JSON line per call, and one when a
session starts and ends, to the `mcp-audit` volume (`<date>.<server>.<session>.<part>.jsonl`).
At every scrape this exporter reads what was appended since its last read (files that existed
when it started are read from their end: the counters count from the exporter's start, as every
Prometheus counter does) and serves:

- `mcp_server_operation_duration_seconds` (histogram; the OpenTelemetry MCP name, with its
  bucket boundaries): each call's duration by `server`, `mcp_method_name`, `gen_ai_tool_name`,
  `outcome` (ok, tool_error, error, no_reply) and `origin` (client, probe, verify);
- `mcp_calls_total`, `mcp_call_errors_total` (by `error_type`: a JSON-RPC code, `tool_error` or
  `no_reply`), `mcp_call_request_bytes_total`, `mcp_call_response_bytes_total`;
- `mcp_sessions_started_total` and `mcp_server_session_duration_seconds` (ended sessions);
- `mcp_audit_invalid_lines_total`, `mcp_audit_files`, `mcp_audit_bytes`,
  `mcp_audit_unreadable_files` (it needs CAP_DAC_READ_SEARCH: each server owns its files, mode
  0600) and `mcp_audit_pruned_files_total`.

Files older than MCP_AUDIT_RETENTION_DAYS days (30; by the date in their name) are deleted once
an hour. Settings: MCP_AUDIT_DIR (/audit), MCP_EXPORTER_PORT (9464).
"""

from __future__ import annotations

import datetime
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import serving
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.registry import Collector

# The OpenTelemetry MCP conventions' boundaries for operation durations (seconds).
OPERATION_BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
SESSION_BUCKETS = (1, 5, 10, 30, 60, 300, 600, 1800, 3600, 14400, 43200, 86400)
CALL_LABELS = ("server", "mcp_method_name", "gen_ai_tool_name", "outcome", "origin")
ERROR_LABELS = ("server", "mcp_method_name", "gen_ai_tool_name", "error_type", "origin")
SESSION_LABELS = ("server", "origin")
OUTCOMES = {"ok", "tool_error", "error", "no_reply"}
# What the relay names files and fields with; label values outside these shapes become "other"
# (a label must not take any string a client sends).
AUDIT_FILE = re.compile(r"(\d{4}-\d{2}-\d{2})\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.\d+\.jsonl")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
METHOD = re.compile(r"[A-Za-z0-9_./$-]{1,64}")
TOOL = re.compile(r"[A-Za-z0-9_.-]{1,64}")
PRUNE_EVERY = 3600.0


class InvalidRecord(ValueError):
    """An audit line that is not a record this exporter understands."""


def _label(value: Any, shape: re.Pattern[str], empty: str = "") -> str:
    if value in (None, ""):
        return empty
    return value if isinstance(value, str) and shape.fullmatch(value) else "other"


def _number(record: dict[str, Any], key: str) -> float:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InvalidRecord(f"{key} must be a number >= 0, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class Call:
    """One call of an audit line: its labels, duration and sizes."""

    server: str
    method: str
    tool: str
    outcome: str
    origin: str
    seconds: float
    bytes_in: float
    bytes_out: float
    error_type: str


@dataclass(frozen=True)
class Session:
    """A session start or end of an audit line."""

    server: str
    origin: str
    event: str
    seconds: float = 0.0


def parse(line: bytes) -> Call | Session:
    """The call or session event of one audit line; `InvalidRecord` for anything else."""
    try:
        record = json.loads(line)
    except ValueError:
        raise InvalidRecord("not JSON") from None
    if not isinstance(record, dict):
        raise InvalidRecord("not a JSON object")
    server = _label(record.get("server"), NAME, "unknown")
    origin = _label(record.get("origin"), NAME, "client")
    kind = record.get("kind")
    if kind == "session":
        event = record.get("event")
        if event == "start":
            return Session(server, origin, "start")
        if event == "end":
            return Session(server, origin, "end", _number(record, "duration_s"))
        raise InvalidRecord(f"session event {event!r}")
    if kind != "call":
        raise InvalidRecord(f"kind {kind!r}")
    outcome = record.get("outcome")
    if outcome not in OUTCOMES:
        raise InvalidRecord(f"outcome {outcome!r}")
    code = record.get("error_code")
    error_type = {"ok": "", "tool_error": "tool_error", "no_reply": "no_reply"}.get(
        str(outcome), str(code) if isinstance(code, int) and not isinstance(code, bool) else "error"
    )
    return Call(
        server,
        _label(record.get("method"), METHOD, "unknown"),
        _label(record.get("tool"), TOOL),
        str(outcome),
        origin,
        _number(record, "duration_ms") / 1000,
        _number(record, "bytes_in"),
        _number(record, "bytes_out"),
        error_type,
    )


class AuditMetrics:
    """The metrics of every record added so far (prometheus-client objects of no registry: the
    collector below serves them after reading the log)."""

    def __init__(self) -> None:
        self.duration = Histogram(
            "mcp_server_operation_duration_seconds",
            "MCP request duration as the relay in front of the server saw it",
            CALL_LABELS,
            buckets=OPERATION_BUCKETS,
            registry=None,
        )
        self.calls = Counter(
            "mcp_calls", "MCP requests answered (or not)", CALL_LABELS, registry=None
        )
        self.errors = Counter(
            "mcp_call_errors", "MCP requests that failed", ERROR_LABELS, registry=None
        )
        self.bytes_in = Counter(
            "mcp_call_request_bytes", "bytes of MCP requests", SESSION_LABELS, registry=None
        )
        self.bytes_out = Counter(
            "mcp_call_response_bytes", "bytes of MCP responses", SESSION_LABELS, registry=None
        )
        self.sessions = Counter(
            "mcp_sessions_started", "MCP sessions started", SESSION_LABELS, registry=None
        )
        self.lifetimes = Histogram(
            "mcp_server_session_duration_seconds",
            "lifetime of ended MCP sessions",
            SESSION_LABELS,
            buckets=SESSION_BUCKETS,
            registry=None,
        )
        self.invalid = Counter(
            "mcp_audit_invalid_lines",
            "audit lines that are no call or session record",
            registry=None,
        )
        self.pruned = Counter(
            "mcp_audit_pruned_files",
            "audit files deleted after the retention period",
            registry=None,
        )
        self.files = Gauge("mcp_audit_files", "audit files in the log", registry=None)
        self.unreadable = Gauge(
            "mcp_audit_unreadable_files", "audit files the exporter may not read", registry=None
        )
        self.size = Gauge("mcp_audit_bytes", "bytes of the audit log", registry=None)

    def add(self, line: bytes) -> None:
        """Count one audit line."""
        try:
            record = parse(line)
        except InvalidRecord:
            self.invalid.inc()
            return
        if isinstance(record, Session):
            if record.event == "start":
                self.sessions.labels(record.server, record.origin).inc()
            else:
                self.lifetimes.labels(record.server, record.origin).observe(record.seconds)
            return
        labels = (record.server, record.method, record.tool, record.outcome, record.origin)
        self.duration.labels(*labels).observe(record.seconds)
        self.calls.labels(*labels).inc()
        if record.error_type:
            self.errors.labels(
                record.server, record.method, record.tool, record.error_type, record.origin
            ).inc()
        self.bytes_in.labels(record.server, record.origin).inc(record.bytes_in)
        self.bytes_out.labels(record.server, record.origin).inc(record.bytes_out)

    def metrics(self) -> tuple[Any, ...]:
        """Every metric object, in exposition order."""
        return (
            self.duration,
            self.calls,
            self.errors,
            self.bytes_in,
            self.bytes_out,
            self.sessions,
            self.lifetimes,
            self.invalid,
            self.pruned,
            self.files,
            self.unreadable,
            self.size,
        )


@dataclass
class Tail:
    """New complete lines of the audit files: the offset read up to, per file name, and the
    files that could not be read (each `name: reason`)."""

    folder: Path
    offsets: dict[str, int] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)

    def files(self) -> list[os.DirEntry[str]]:
        """The audit files in the folder, by name."""
        try:
            entries = list(os.scandir(self.folder))
        except FileNotFoundError:
            return []
        return sorted((e for e in entries if AUDIT_FILE.fullmatch(e.name)), key=lambda e: e.name)

    def skip_existing(self) -> None:
        """Start at the end of every file already there."""
        for entry in self.files():
            self.offsets[entry.name] = entry.stat().st_size

    def read(self) -> Iterator[bytes]:
        """Lines appended since the last read (a line still being written waits)."""
        present = self.files()
        names = {entry.name for entry in present}
        for gone in set(self.offsets) - names:
            del self.offsets[gone]
        for entry in present:
            try:
                size = entry.stat().st_size
                offset = self.offsets.get(entry.name, 0)
                if size < offset:
                    offset = 0  # replaced by a new file of the same name
                if size == offset:
                    continue
                with open(entry.path, "rb") as handle:
                    handle.seek(offset)
                    data = handle.read(size - offset)
            except FileNotFoundError:
                continue
            except OSError as error:
                self.failed.add(f"{entry.name}: {error.strerror}")
                continue
            end = data.rfind(b"\n")
            if end < 0:
                continue
            self.offsets[entry.name] = offset + end + 1
            yield from (line for line in data[: end + 1].splitlines() if line.strip())


def expired(names: Iterable[str], today: datetime.date, days: int) -> list[str]:
    """The audit file names dated more than `days` days before `today`."""
    oldest = today - datetime.timedelta(days=days)
    found = []
    for name in names:
        match = AUDIT_FILE.fullmatch(name)
        if not match:
            continue
        try:
            dated = datetime.date.fromisoformat(match.group(1))
        except ValueError:
            continue
        if dated < oldest:
            found.append(name)
    return sorted(found)


class AuditCollector(Collector):
    """Reads the log at each scrape, then serves the metrics; prunes old files when asked."""

    def __init__(self, folder: Path, metrics: AuditMetrics, *, from_start: bool = False) -> None:
        self.metrics = metrics
        self.tail = Tail(folder)
        self.lock = threading.Lock()
        self.reported: set[str] = set()
        if not from_start:
            self.tail.skip_existing()

    def collect(self) -> Iterator[Any]:
        """Count what was appended, then yield every metric family."""
        with self.lock:
            for line in self.tail.read():
                self.metrics.add(line)
            for failure in sorted(self.tail.failed - self.reported):
                print(f"mcp-exporter: cannot read {failure}", file=sys.stderr)
            self.reported |= self.tail.failed
            self.metrics.unreadable.set(len(self.tail.failed))
            self.tail.failed = set()
            present = self.tail.files()
            self.metrics.files.set(len(present))
            self.metrics.size.set(sum(self._size(entry) for entry in present))
            families = [family for metric in self.metrics.metrics() for family in metric.collect()]
        yield from families

    @staticmethod
    def _size(entry: os.DirEntry[str]) -> int:
        try:
            return entry.stat().st_size
        except FileNotFoundError:
            return 0

    def prune(self, today: datetime.date, days: int) -> list[str]:
        """Delete the files older than `days` days; their names."""
        with self.lock:
            names = expired((entry.name for entry in self.tail.files()), today, days)
            removed = []
            for name in names:
                try:
                    (self.tail.folder / name).unlink()
                except FileNotFoundError:
                    continue
                except OSError as error:
                    print(f"mcp-exporter: cannot delete {name}: {error}", file=sys.stderr)
                    continue
                removed.append(name)
            self.metrics.pruned.inc(len(removed))
        return removed


def setting(name: str, default: int) -> int:
    """A whole-number setting from the environment; exits with a clear message when invalid."""
    raw = os.environ.get(name, str(default))
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"mcp-exporter: {name} must be a whole number >= 1, not {raw!r}")
    return int(raw)


def main() -> None:
    """Serve the metrics; prune once an hour."""
    folder = Path(os.environ.get("MCP_AUDIT_DIR", "/audit"))
    port = setting("MCP_EXPORTER_PORT", 9464)
    days = setting("MCP_AUDIT_RETENTION_DAYS", 30)
    registry = CollectorRegistry()
    collector = AuditCollector(folder, AuditMetrics())
    registry.register(collector)
    serving.serve(port, registry)
    print(f"mcp-exporter: serving {folder} on :{port}, keeping {days} days", file=sys.stderr)
    while True:
        removed = collector.prune(datetime.datetime.now(datetime.UTC).date(), days)
        if removed:
            print(f"mcp-exporter: deleted {len(removed)} audit file(s)", file=sys.stderr)
        time.sleep(PRUNE_EVERY)


if __name__ == "__main__":
    main()
