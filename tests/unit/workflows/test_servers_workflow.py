"""What `mcp.audit` and `mcp.clean` make of the engine's answers (recorded here): the audit
filter's options, the table of calls and its counts, and which server containers go."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

import pytest

from tasks.engine.reaper import Reaped
from tasks.errors import EXIT_FINDINGS, UsageError
from tasks.model.launchpolicy import AUDIT_VOLUME
from tasks.servers.audit import AuditFilter
from tasks.workflows import servers as servers_workflow

ENGINE = object()


def test_the_audit_options_become_its_filter() -> None:
    found = servers_workflow.audit_filter("git", "git_log", "failed", "probe", "2026-12-07", "")
    assert found == AuditFilter(
        "git", "git_log", "failed", "probe", datetime.datetime(2026, 12, 7, tzinfo=datetime.UTC)
    )
    assert servers_workflow.audit_filter("", "", "", "", "", "") == AuditFilter()
    for outcome in ("ok", "tool_error", "error", "no_reply"):
        assert servers_workflow.audit_filter("", "", outcome, "", "", "").outcome == outcome
    with pytest.raises(UsageError) as refused:
        servers_workflow.audit_filter("", "", "bad", "", "", "")
    assert str(refused.value) == (
        "--outcome 'bad': use one of ok, tool_error, error, no_reply, failed"
    )
    with pytest.raises(UsageError) as refused:
        servers_workflow.audit_filter("", "", "", "", "", "soon")
    assert str(refused.value).startswith("--since/--until: 'soon' is not a date")


def _calls(monkeypatch: pytest.MonkeyPatch, *records: dict[str, Any] | str) -> None:
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)

    def volume_files(client: object, volume: str) -> list[tuple[str, bytes]]:
        assert client is ENGINE and volume == AUDIT_VOLUME
        return [("2026-12-07.git.s1.0.jsonl", text.encode())]

    monkeypatch.setattr(servers_workflow, "docker_client", lambda: ENGINE)
    monkeypatch.setattr(servers_workflow, "volume_files", volume_files)


CALL = {"kind": "call", "server": "git", "origin": "client", "method": "tools/call",
        "tool": "git_[log]", "arg_keys": ["repo_path", "max_count"], "outcome": "error",
        "error_code": -32602, "duration_ms": 12.345, "bytes_in": 120, "bytes_out": 4096,
        "call_time": "2026-12-07T10:00:00.000Z"}  # fmt: skip


def test_the_audit_shows_each_call_and_how_many_match(monkeypatch: pytest.MonkeyPatch) -> None:
    bare = {"kind": "call", "server": "git", "call_time": "2026-12-07T11:00:00.000Z"}
    untimed = {"kind": "call"}
    _calls(monkeypatch, CALL, "not json", bare, untimed)
    found = servers_workflow.audit(AuditFilter(), 0)
    table = found.views[0]
    assert table.title == "MCP calls"
    assert [str(column.header) for column in table.columns] == list(servers_workflow.COLUMNS)
    rows = list(zip(*[[str(c) for c in column._cells] for column in table.columns], strict=True))
    assert rows == [
        ("", "", "", "", "", "", "", "0.0", "0/0"),
        ("2026-12-07T10:00:00.000Z", "git", "client", "tools/call", "git_\\[log]",
         "repo_path, max_count", "error -32602", "12.3", "120/4096"),
        ("2026-12-07T11:00:00.000Z", "git", "", "", "", "", "", "0.0", "0/0"),
    ]  # fmt: skip
    assert found.views[1:] == [
        "3 of 3 matching call(s) shown",
        "[yellow]1 line(s) of the log are no JSON record[/]",
    ]
    assert found.data == {"calls": [untimed, CALL, bare], "matching": 3, "unreadable_lines": 1}
    assert found.ok


def test_the_audit_shows_the_newest_calls_up_to_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = [{**CALL, "call_time": f"2026-12-07T1{n}:00:00.000Z", "n": n} for n in range(3)]
    _calls(monkeypatch, *calls)
    found = servers_workflow.audit(AuditFilter(server="git"), 2)
    assert [call["n"] for call in found.data["calls"]] == [1, 2]
    assert found.views[1:] == ["2 of 3 matching call(s) shown"]
    _calls(monkeypatch, *calls)
    assert servers_workflow.audit(AuditFilter(server="fetch"), 0).data["matching"] == 0
    with pytest.raises(UsageError) as refused:
        servers_workflow.audit(AuditFilter(), -1)
    assert str(refused.value) == "--limit must be 0 (all) or more"


def container(name: str, server: str, status: str, stdin: bool = True) -> Reaped:
    return Reaped(f"id-{name}", name, server, "img:1", status, stdin=stdin)


class Engine:
    """The stdio server containers the engine lists, and what a reap removes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, found: list[Reaped]) -> None:
        self.found = found
        self.reaped: list[tuple[bool, str]] = []
        monkeypatch.setattr(servers_workflow, "docker_client", lambda: ENGINE)
        monkeypatch.setattr(servers_workflow, "stdio_containers", self.stdio_containers)
        monkeypatch.setattr(servers_workflow, "reap", self.reap)

    def stdio_containers(self, client: object, server: str = "") -> list[Reaped]:
        assert client is ENGINE
        return [c for c in self.found if not server or c.server == server]

    def reap(
        self, client: object, everything: bool = False, server: str = ""
    ) -> tuple[list[Reaped], list[Reaped]]:
        assert client is ENGINE
        self.reaped.append((everything, server))
        found = self.stdio_containers(client, server)
        return [c for c in found if everything or not c.live], [
            c for c in found if not everything and c.live
        ]


def approving(answer: bool, asked: list[int]) -> Callable[[int], bool]:
    def approve(count: int) -> bool:
        asked.append(count)
        return answer

    return approve


FOUND = [
    container("git-a", "git", "exited"),
    container("git-b", "git", "running"),
    container("fetch-a", "fetch", "running"),
    container("fetch-b", "fetch", "running", stdin=False),
]


def test_clean_removes_what_no_client_holds_and_names_what_it_keeps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = Engine(monkeypatch, FOUND)
    asked: list[int] = []
    found = servers_workflow.clean(False, "", approving(True, asked))
    assert asked == [] and engine.reaped == [(False, "")]
    assert found.views == [
        "removed git-a (id-git-a, server git, exited)",
        "removed fetch-b (id-fetch-b, server fetch, running)",
        "2 container(s) removed",
        "kept 2 running server(s) with a live client (fetch, git); `--all` removes them",
    ]
    assert [r["name"] for r in found.data["removed"]] == ["git-a", "fetch-b"]
    assert [k["name"] for k in found.data["kept"]] == ["git-b", "fetch-a"]
    assert found.ok


def test_clean_all_asks_before_removing_live_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Engine(monkeypatch, FOUND)
    asked: list[int] = []
    refused = servers_workflow.clean(True, "", approving(False, asked))
    assert asked == [2] and engine.reaped == []
    assert (refused.ok, refused.code, refused.views) == (False, EXIT_FINDINGS, ["nothing removed"])
    assert refused.data == {"removed": [], "kept": []}
    done = servers_workflow.clean(True, "git", approving(True, asked))
    assert asked == [2, 1] and engine.reaped == [(True, "git")]
    assert done.views[-1] == "2 container(s) removed" and done.data["kept"] == []
    # nothing live: nothing to ask
    Engine(monkeypatch, FOUND[:1])
    assert servers_workflow.clean(True, "", approving(False, asked)).ok and asked == [2, 1]
