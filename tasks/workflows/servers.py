"""What users ask of the running MCP servers: their audit log, and removing the containers of
sessions whose client is gone."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from rich.markup import escape

from tasks.contract import table
from tasks.engine.client import docker_client
from tasks.engine.reaper import reap, stdio_containers
from tasks.engine.volumes import volume_files
from tasks.errors import EXIT_FINDINGS, UsageError
from tasks.model.launchpolicy import AUDIT_VOLUME
from tasks.outcome import Outcome
from tasks.servers.audit import FAILED, OUTCOMES, AuditFilter, parse_when, select

COLUMNS = ("time (UTC)", "server", "origin", "method", "tool", "argument keys",
           "outcome", "ms", "bytes in/out")  # fmt: skip


def audit_filter(
    server: str, tool: str, outcome: str, origin: str, since: str, until: str
) -> AuditFilter:
    """The filter the options of `mcp.audit` ask for; `UsageError` for a value it cannot read."""
    if outcome and outcome not in (*OUTCOMES, FAILED):
        raise UsageError(f"--outcome {outcome!r}: use one of {', '.join((*OUTCOMES, FAILED))}")
    now = datetime.datetime.now(datetime.UTC)
    try:
        moments = [parse_when(text, now) if text else None for text in (since, until)]
    except ValueError as error:
        raise UsageError(f"--since/--until: {error}") from None
    return AuditFilter(server, tool, outcome, origin, *moments)


def audit(wanted: AuditFilter, limit: int) -> Outcome:
    """The newest `limit` calls (0: all) of the audit log that `wanted` keeps, oldest first."""
    if limit < 0:
        raise UsageError("--limit must be 0 (all) or more")
    selection = select(volume_files(docker_client(), AUDIT_VOLUME), wanted)
    shown = selection.calls[-limit:] if limit else selection.calls
    rows = [
        (
            str(call.get("call_time", "")),
            str(call.get("server", "")),
            str(call.get("origin", "")),
            str(call.get("method", "")),
            escape(str(call.get("tool", ""))),
            ", ".join(map(str, call.get("arg_keys") or [])),
            str(call.get("outcome", ""))
            + (f" {call['error_code']}" if call.get("error_code") is not None else ""),
            f"{call.get('duration_ms', 0):.1f}",
            f"{call.get('bytes_in', 0)}/{call.get('bytes_out', 0)}",
        )
        for call in shown
    ]
    views: list[object] = [table("MCP calls", COLUMNS, rows)]
    views.append(f"{len(shown)} of {len(selection.calls)} matching call(s) shown")
    if selection.unreadable:
        views.append(f"[yellow]{selection.unreadable} line(s) of the log are no JSON record[/]")
    data = {
        "calls": shown,
        "matching": len(selection.calls),
        "unreadable_lines": selection.unreadable,
    }
    return Outcome(data, views)


def clean(everything: bool, server: str, approve: Callable[[int], bool]) -> Outcome:
    """Remove the stdio server containers (of `server`, or all) whose client is gone; with
    `everything` the running ones too, once `approve` (given how many) says yes."""
    client = docker_client()
    if everything:
        live = [found for found in stdio_containers(client, server) if found.live]
        if live and not approve(len(live)):
            nothing: dict[str, object] = {"removed": [], "kept": []}
            return Outcome(nothing, ["nothing removed"], ok=False, code=EXIT_FINDINGS)
    removed, kept = reap(client, everything=everything, server=server)
    views = [f"removed {i.name} ({i.id}, server {i.server}, {i.status})" for i in removed]
    views.append(f"{len(removed)} container(s) removed")
    if kept:
        views.append(
            f"kept {len(kept)} running server(s) with a live client "
            f"({', '.join(sorted({i.server for i in kept}))}); `--all` removes them"
        )
    data = {"removed": [r.__dict__ for r in removed], "kept": [k.__dict__ for k in kept]}
    return Outcome(data, views)
