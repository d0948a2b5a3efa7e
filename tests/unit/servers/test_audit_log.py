"""`invoke mcp.audit`'s reading of the audit log (tasks/servers/audit.py): calls filtered by
server, tool, outcome, origin and time, files passed over by the server and date in their
name, and every malformed option refused with the forms it takes."""

from __future__ import annotations

import datetime
import json
import time
from typing import Any

import pytest

from tasks.servers.audit import AuditFilter, parse_when, select
from tests.clirun import invoke

NOW = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC)


def call(server: str, tool: str, outcome: str, at: str, origin: str = "client") -> dict[str, Any]:
    return {"kind": "call", "server": server, "tool": tool, "outcome": outcome,
            "origin": origin, "call_time": at, "method": "tools/call"}  # fmt: skip


def log(*records: dict[str, Any] | str) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records).encode()


FILES = [
    ("2026-12-06.git.s1.0.jsonl", log(
        call("git", "git_log", "ok", "2026-12-06T23:59:00.000Z"),
        {"kind": "session", "event": "start", "server": "git"},
    )),
    ("2026-12-07.git.s2.0.jsonl", log(
        call("git", "git_commit", "tool_error", "2026-12-07T10:00:00.000Z"),
        call("git", "git_log", "ok", "2026-12-07T09:00:00.000Z", origin="probe"),
        "not json",
        "[1]",
    )),
    ("2026-12-07.fetch.s3.0.jsonl", log(
        call("fetch", "fetch", "error", "2026-12-07T11:30:00.000Z"),
        call("fetch", "fetch", "no_reply", "2026-12-07T11:45:00.000Z"),
    )),
    ("README", b"not an audit file"),
]  # fmt: skip


def chosen(**wanted: Any) -> list[tuple[str, str, str]]:
    selection = select(FILES, AuditFilter(**wanted))
    return [(c["server"], c["tool"], c["call_time"][11:16]) for c in selection.calls]


def test_every_call_in_time_order_and_the_lines_that_are_no_record() -> None:
    selection = select(FILES, AuditFilter())
    assert [c["call_time"] for c in selection.calls] == sorted(
        c["call_time"] for c in selection.calls
    )
    assert len(selection.calls) == 5 and selection.unreadable == 2


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ({"server": "fetch"}, [("fetch", "fetch", "11:30"), ("fetch", "fetch", "11:45")]),
        ({"tool": "git_log"}, [("git", "git_log", "23:59"), ("git", "git_log", "09:00")]),
        ({"outcome": "error"}, [("fetch", "fetch", "11:30")]),
        ({"outcome": "failed"}, [("git", "git_commit", "10:00"), ("fetch", "fetch", "11:30"),
                                 ("fetch", "fetch", "11:45")]),
        ({"origin": "probe"}, [("git", "git_log", "09:00")]),
        ({"since": NOW - datetime.timedelta(hours=1)},
         [("fetch", "fetch", "11:30"), ("fetch", "fetch", "11:45")]),
        ({"until": datetime.datetime(2026, 12, 7, 9, 30, tzinfo=datetime.UTC)},
         [("git", "git_log", "23:59"), ("git", "git_log", "09:00")]),
        ({"server": "git", "outcome": "ok", "origin": "client"}, [("git", "git_log", "23:59")]),
        ({"server": "memory"}, []),
    ],
)  # fmt: skip
def test_filters(wanted: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    assert chosen(**wanted) == expected


def test_a_file_is_passed_over_by_the_server_and_day_in_its_name() -> None:
    wanted = AuditFilter(server="git", since=datetime.datetime(2026, 12, 7, tzinfo=datetime.UTC))
    assert [n for n, _ in FILES if wanted.wants_file(n)] == ["2026-12-07.git.s2.0.jsonl"]
    assert not AuditFilter().wants_file("README")


def test_a_files_day_is_compared_with_the_bounds_day_in_utc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # this host's clock in Tokyo: 01:00 there on the 7th is still the 6th in UTC
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        tokyo = datetime.timezone(datetime.timedelta(hours=9))
        early = datetime.datetime(2026, 12, 7, 1, 0, tzinfo=tokyo)
        late = datetime.datetime(2026, 12, 6, 20, 0, tzinfo=datetime.UTC)
        assert AuditFilter(until=early).wants_file("2026-12-06.git.s1.0.jsonl")
        assert not AuditFilter(until=early).wants_file("2026-12-07.git.s1.0.jsonl")
        assert AuditFilter(since=early).wants_file("2026-12-06.git.s1.0.jsonl")
        assert not AuditFilter(since=late).wants_file("2026-12-05.git.s1.0.jsonl")
        assert AuditFilter(until=late).wants_file("2026-12-06.git.s1.0.jsonl")
        assert not AuditFilter(until=late).wants_file("2026-12-07.git.s1.0.jsonl")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_a_call_time_without_a_zone_is_utc() -> None:
    files = [("2026-12-07.git.s4.0.jsonl", log(call("git", "x", "ok", "2026-12-07T10:00:00")))]
    at = datetime.datetime(2026, 12, 7, 10, 0, tzinfo=datetime.UTC)
    assert len(select(files, AuditFilter(since=at)).calls) == 1
    assert select(files, AuditFilter(since=at + datetime.timedelta(seconds=1))).calls == []


def test_a_call_time_in_another_zone_is_compared_as_that_moment() -> None:
    files = [
        ("2026-12-07.git.s4.0.jsonl", log(call("git", "x", "ok", "2026-12-07T12:00:00+02:00")))
    ]
    ten = datetime.datetime(2026, 12, 7, 10, 0, tzinfo=datetime.UTC)
    assert len(select(files, AuditFilter(since=ten, until=ten)).calls) == 1  # both inclusive
    assert select(files, AuditFilter(until=ten - datetime.timedelta(seconds=1))).calls == []


def test_a_call_with_only_its_logging_time_is_filtered_by_that_time() -> None:
    logged = {"kind": "call", "server": "git", "time": "2026-12-07T08:00:00Z"}
    files = [("2026-12-07.git.s9.0.jsonl", log(logged))]
    eight = datetime.datetime(2026, 12, 7, 8, 0, tzinfo=datetime.UTC)
    assert len(select(files, AuditFilter(since=eight)).calls) == 1
    assert select(files, AuditFilter(since=eight + datetime.timedelta(seconds=1))).calls == []


def test_blank_lines_are_passed_over_and_every_line_that_is_no_record_counted() -> None:
    first, second = (
        call("git", "a", "ok", "2026-12-07T08:00Z"),
        call("git", "b", "ok", "2026-12-07T09:00Z"),
    )
    files = [("2026-12-07.git.s9.0.jsonl", log("[1]", "", first, "not json", "{", "", second))]
    selection = select(files, AuditFilter())
    assert [c["tool"] for c in selection.calls] == ["a", "b"] and selection.unreadable == 3


def test_calls_are_ordered_by_their_call_time_or_else_their_time() -> None:
    first = {"kind": "call", "server": "git", "time": "2026-12-07T08:00:00Z", "n": 1}
    second = {"kind": "call", "server": "git", "call_time": "2026-12-07T09:00:00Z", "n": 2}
    third = {"kind": "call", "server": "git", "time": "2026-12-07T10:00:00Z", "n": 3}
    files = [("2026-12-07.git.s9.0.jsonl", log(third, second, first))]
    assert [c["n"] for c in select(files, AuditFilter()).calls] == [1, 2, 3]


def test_a_call_without_a_readable_time_is_kept_only_without_a_time_filter() -> None:
    files = [("2026-12-07.git.s4.0.jsonl", log(call("git", "x", "ok", "yesterday")))]
    assert len(select(files, AuditFilter()).calls) == 1
    assert select(files, AuditFilter(since=NOW - datetime.timedelta(days=1))).calls == []


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("30m", NOW - datetime.timedelta(minutes=30)),
        ("2h", NOW - datetime.timedelta(hours=2)),
        ("7d", NOW - datetime.timedelta(days=7)),
        ("15s", NOW - datetime.timedelta(seconds=15)),
        ("2026-12-01", datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)),
        ("2026-12-01T14:30", datetime.datetime(2026, 12, 1, 14, 30, tzinfo=datetime.UTC)),
        ("2026-12-01T14:30:00Z", datetime.datetime(2026, 12, 1, 14, 30, tzinfo=datetime.UTC)),
        ("2026-12-01T16:30:00+02:00", datetime.datetime(2026, 12, 1, 14, 30, tzinfo=datetime.UTC)),
    ],
)
def test_moments(text: str, moment: datetime.datetime) -> None:
    assert parse_when(text, NOW) == moment


@pytest.mark.parametrize("text", ["yesterday", "2h ago", "-5m", "2026-13-01", "5w", ""])
def test_what_is_no_moment_names_the_forms(text: str) -> None:
    with pytest.raises(ValueError, match="is not a date \\(2026-12-07\\), a UTC time"):
        parse_when(text, NOW)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--outcome", "bad"],
            "--outcome 'bad': use one of ok, tool_error, error, no_reply, failed",
        ),
        (["--since", "soon"], "--since/--until: 'soon' is not a date (2026-12-07), a UTC time"),
        (["--limit", "-1"], "--limit must be 0 (all) or more"),
    ],
)
def test_mcp_audit_refuses_bad_options_before_it_reads_anything(
    options: list[str], message: str
) -> None:
    result = invoke("mcp.audit", *options, "--json")
    assert result.returncode == 2
    assert message in json.loads(result.stdout)["error"]["problem"]


def test_mcp_audit_without_an_engine_says_so() -> None:
    result = invoke("mcp.audit", "--outcome", "failed")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "listing volumes failed" in result.stderr and "engine" in result.stderr, result.stderr
