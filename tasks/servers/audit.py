"""The MCP audit log the relays write (`<date>.<server>.<session>.<part>.jsonl` on the audit
volume, one JSON line per call and per session start and end): the calls it holds, filtered by
server, tool, outcome, origin and time."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

FILE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})\.(?P<server>[A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+\.\d+\.jsonl"
)
OUTCOMES = ("ok", "tool_error", "error", "no_reply")
FAILED = "failed"
_AGO = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
WHEN_FORMS = "a date (2026-12-07), a UTC time (2026-12-07T14:30[:00][Z]) or an age (30m, 2h, 7d)"


def parse_when(text: str, now: datetime.datetime) -> datetime.datetime:
    """A moment from `--since`/`--until`: an ISO date or time (UTC unless it says otherwise) or
    an age before `now`; ValueError naming the accepted forms otherwise."""
    ago = _AGO.fullmatch(text.strip())
    if ago:
        return now - datetime.timedelta(seconds=int(ago[1]) * _UNITS[ago[2]])
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not {WHEN_FORMS}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


@dataclass(frozen=True)
class AuditFilter:
    """Which calls to keep; empty fields keep every value. `outcome` is one of OUTCOMES or
    `failed` (anything but ok)."""

    server: str = ""
    tool: str = ""
    outcome: str = ""
    origin: str = ""
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None

    def wants_file(self, name: str) -> bool:
        """Whether an audit file can hold matching calls, by the server and date in its name."""
        match = FILE.fullmatch(name)
        if match is None or (self.server and match["server"] != self.server):
            return False
        day = datetime.date.fromisoformat(match["date"])
        if self.since is not None and day < self.since.astimezone(datetime.UTC).date():
            return False
        return self.until is None or day <= self.until.astimezone(datetime.UTC).date()

    def wants(self, call: dict[str, Any]) -> bool:
        """Whether one call record matches."""
        outcome = call.get("outcome")
        if self.outcome == FAILED and outcome == "ok":
            return False
        if self.outcome not in ("", FAILED) and outcome != self.outcome:
            return False
        for key, wanted in (("server", self.server), ("tool", self.tool), ("origin", self.origin)):
            if wanted and call.get(key) != wanted:
                return False
        if self.since is None and self.until is None:
            return True
        at = _moment(call)
        if at is None:
            return False
        return (self.since is None or at >= self.since) and (self.until is None or at <= self.until)


def _moment(call: dict[str, Any]) -> datetime.datetime | None:
    """When a call was made (its `call_time`, else when it was logged)."""
    text = call.get("call_time") or call.get("time")
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


@dataclass(frozen=True)
class Selection:
    """The matching calls, oldest first, and how many lines were no record."""

    calls: list[dict[str, Any]]
    unreadable: int


def select(files: Iterable[tuple[str, bytes]], wanted: AuditFilter) -> Selection:
    """The calls of the audit files (name, content) that `wanted` keeps, in time order."""
    calls: list[dict[str, Any]] = []
    unreadable = 0
    for name, data in files:
        if not wanted.wants_file(name):
            continue
        for line in data.splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                unreadable += 1
                continue
            if not isinstance(record, dict):
                unreadable += 1
            elif record.get("kind") == "call" and wanted.wants(record):
                calls.append(record)
    calls.sort(key=lambda call: str(call.get("call_time") or call.get("time") or ""))
    return Selection(calls, unreadable)
