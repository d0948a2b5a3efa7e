"""The MCP call exporter of the monitoring tier (`containers/monitoring/exporters/
mcp_exporter.py`): audit lines the relay writes, read as they are appended and served as
Prometheus metrics; bad lines counted, never served; old files pruned by the date in their
name."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import mcp_exporter
import pytest
from prometheus_client import CollectorRegistry, generate_latest

FILE = "2026-12-07.git.s1.0.jsonl"


def call(**fields: Any) -> dict[str, Any]:
    record = {
        "kind": "call",
        "time": "2026-12-07T10:00:01.000Z",
        "call_time": "2026-12-07T10:00:00.750Z",
        "server": "git",
        "session": "s1",
        "origin": "client",
        "method": "tools/call",
        "tool": "git_log",
        "arg_keys": ["repo_path"],
        "bytes_in": 120,
        "bytes_out": 900,
        "duration_ms": 250.0,
        "outcome": "ok",
        "error_code": None,
    }
    return {**record, **fields}


def append(folder: Path, name: str, *records: dict[str, Any] | str) -> None:
    with (folder / name).open("a", encoding="utf-8") as handle:
        for record in records:
            handle.write((record if isinstance(record, str) else json.dumps(record)) + "\n")


def served(folder: Path, *, from_start: bool = True) -> tuple[CollectorRegistry, Any]:
    registry = CollectorRegistry()
    collector = mcp_exporter.AuditCollector(
        folder, mcp_exporter.AuditMetrics(), from_start=from_start
    )
    registry.register(collector)
    return registry, collector


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


CALL = {
    "server": "git",
    "mcp_method_name": "tools/call",
    "gen_ai_tool_name": "git_log",
    "outcome": "ok",
    "origin": "client",
}


def test_each_call_is_counted_and_timed_under_the_opentelemetry_name(tmp_path: Path) -> None:
    append(tmp_path, FILE, call(), call(duration_ms=700.0), call(duration_ms=12.0, origin="probe"))
    registry, _ = served(tmp_path)
    assert value(registry, "mcp_calls_total", **CALL) == 2
    histogram = "mcp_server_operation_duration_seconds"
    assert value(registry, f"{histogram}_count", **CALL) == 2
    assert value(registry, f"{histogram}_sum", **CALL) == pytest.approx(0.95)
    assert value(registry, f"{histogram}_bucket", **CALL, le="0.5") == 1
    assert value(registry, f"{histogram}_bucket", **CALL, le="1.0") == 2
    probe = {**CALL, "origin": "probe"}
    assert value(registry, f"{histogram}_bucket", **probe, le="0.02") == 1
    assert value(registry, "mcp_call_request_bytes_total", server="git", origin="client") == 240
    assert value(registry, "mcp_call_response_bytes_total", server="git", origin="client") == 1800
    assert value(registry, "mcp_call_errors_total", server="git", mcp_method_name="tools/call",
                 gen_ai_tool_name="git_log", error_type="", origin="client") is None  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "outcome", "error_type"),
    [
        ({"outcome": "error", "error_code": -32602}, "error", "-32602"),
        ({"outcome": "error", "error_code": None}, "error", "error"),
        ({"outcome": "tool_error"}, "tool_error", "tool_error"),
        ({"outcome": "no_reply", "bytes_out": 0}, "no_reply", "no_reply"),
    ],
)
def test_failed_calls_are_errors_by_type(
    tmp_path: Path, fields: dict[str, Any], outcome: str, error_type: str
) -> None:
    append(tmp_path, FILE, call(**fields))
    registry, _ = served(tmp_path)
    assert value(registry, "mcp_calls_total", **{**CALL, "outcome": outcome}) == 1
    labels = {k: v for k, v in CALL.items() if k != "outcome"}
    assert value(registry, "mcp_call_errors_total", **labels, error_type=error_type) == 1


def test_sessions_start_and_their_lifetimes_are_observed(tmp_path: Path) -> None:
    start = {"kind": "session", "event": "start", "server": "memory", "origin": "client"}
    end = {**start, "event": "end", "duration_s": 42.5, "calls": 3, "exit_code": 0}
    append(tmp_path, "2026-12-07.memory.s2.0.jsonl", start, end, start)
    registry, _ = served(tmp_path)
    labels = {"server": "memory", "origin": "client"}
    assert value(registry, "mcp_sessions_started_total", **labels) == 2
    assert value(registry, "mcp_server_session_duration_seconds_count", **labels) == 1
    assert value(registry, "mcp_server_session_duration_seconds_sum", **labels) == 42.5


def test_appended_lines_are_read_at_the_next_scrape_and_a_line_being_written_waits(
    tmp_path: Path,
) -> None:
    registry, _ = served(tmp_path)
    assert value(registry, "mcp_calls_total", **CALL) is None
    append(tmp_path, FILE, call())
    with (tmp_path / FILE).open("a") as handle:
        handle.write(json.dumps(call())[:40])  # the relay is mid-write
    assert value(registry, "mcp_calls_total", **CALL) == 1
    with (tmp_path / FILE).open("a") as handle:
        handle.write(json.dumps(call())[40:] + "\n")
    append(tmp_path, "2026-12-07.git.s9.0.jsonl", call())
    assert value(registry, "mcp_calls_total", **CALL) == 3
    assert value(registry, "mcp_audit_files") == 2
    assert value(registry, "mcp_audit_invalid_lines_total") == 0


def test_counting_starts_at_the_end_of_the_files_already_there(tmp_path: Path) -> None:
    append(tmp_path, FILE, call(), call())
    registry, _ = served(tmp_path, from_start=False)
    assert value(registry, "mcp_calls_total", **CALL) is None
    append(tmp_path, FILE, call())
    assert value(registry, "mcp_calls_total", **CALL) == 1


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        "[1, 2]",
        json.dumps({"kind": "weird"}),
        json.dumps(call(outcome="maybe")),
        json.dumps(call(duration_ms=-1)),
        json.dumps(call(duration_ms="fast")),
        json.dumps(call(bytes_in=True)),
        json.dumps({"kind": "session", "event": "end", "server": "git"}),
        json.dumps({"kind": "session", "event": "paused", "server": "git"}),
    ],
)
def test_a_line_that_is_no_record_is_counted_and_never_served(tmp_path: Path, line: str) -> None:
    append(tmp_path, FILE, line, call())
    registry, _ = served(tmp_path)
    assert value(registry, "mcp_audit_invalid_lines_total") == 1
    assert value(registry, "mcp_calls_total", **CALL) == 1


def test_label_values_keep_the_shape_of_names(tmp_path: Path) -> None:
    """A client chooses method and tool names: values that are no name become `other`, so a
    client cannot fill Prometheus with label values."""
    append(tmp_path, FILE, call(method="tools/call\n{evil}", tool="x" * 65, server="../etc"))
    text = generate_latest(served(tmp_path)[0]).decode()
    assert 'mcp_calls_total{gen_ai_tool_name="other",mcp_method_name="other",' in text
    assert 'server="other"' in text
    append(tmp_path, "2026-12-07.git.s3.0.jsonl", call(tool="", method="initialize", origin=None))
    registry, _ = served(tmp_path)
    assert value(registry, "mcp_calls_total", server="git", mcp_method_name="initialize",
                 gen_ai_tool_name="", outcome="ok", origin="client") == 1  # fmt: skip


def test_files_that_are_not_audit_files_are_left_alone(tmp_path: Path) -> None:
    append(tmp_path, "notes.txt", call())
    append(tmp_path, "2026-12-07.git.s1.0.jsonl.partial", call())
    registry, _ = served(tmp_path)
    assert value(registry, "mcp_audit_files") == 0
    assert value(registry, "mcp_calls_total", **CALL) is None


def test_files_older_than_the_retention_are_pruned(tmp_path: Path) -> None:
    for day in ("2026-11-06", "2026-11-07", "2026-12-07"):
        append(tmp_path, f"{day}.git.s1.0.jsonl", call())
    append(tmp_path, "2026-13-40.git.s1.0.jsonl", call())  # no date: kept
    registry, collector = served(tmp_path)
    removed = collector.prune(datetime.date(2026, 12, 7), 30)
    assert removed == ["2026-11-06.git.s1.0.jsonl"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "2026-11-07.git.s1.0.jsonl",
        "2026-12-07.git.s1.0.jsonl",
        "2026-13-40.git.s1.0.jsonl",
    ]
    assert value(registry, "mcp_audit_pruned_files_total") == 1
    assert value(registry, "mcp_audit_bytes") == sum(p.stat().st_size for p in tmp_path.iterdir())


def test_a_missing_audit_folder_serves_nothing_yet(tmp_path: Path) -> None:
    registry, _ = served(tmp_path / "absent")
    assert value(registry, "mcp_audit_files") == 0


@pytest.mark.parametrize("raw", ["0", "-1", "x", ""])
def test_a_bad_setting_stops_with_its_name(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("MCP_AUDIT_RETENTION_DAYS", raw)
    with pytest.raises(SystemExit) as stopped:
        mcp_exporter.setting("MCP_AUDIT_RETENTION_DAYS", 30)
    assert str(stopped.value) == (
        f"mcp-exporter: MCP_AUDIT_RETENTION_DAYS must be a whole number >= 1, not {raw!r}"
    )


def test_the_exporter_says_when_its_counters_started(tmp_path: Path) -> None:
    """verify.monitoring tells a restarted exporter (counting from zero) by this time."""
    import time

    before = time.time()
    registry, _ = served(tmp_path)
    started = value(registry, "mcp_exporter_start_time_seconds")
    assert started is not None and before <= started <= time.time()
