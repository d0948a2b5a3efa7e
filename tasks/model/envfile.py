"""Env files (`devcontainer.env`, `.env`, `runner.env`) parsed with compose's dotenv rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tasks.model.errors import StackError
from tasks.model.interpolate import InterpolationError, Interpolator

_LINE = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(?P<value>.*)$")


@dataclass(frozen=True)
class EnvEntry:
    """One `KEY=VALUE` line."""

    key: str
    value: str
    line: int


@dataclass(frozen=True)
class EnvFile:
    """An env file with its entries in file order."""

    path: Path
    entries: tuple[EnvEntry, ...]

    def as_dict(self) -> dict[str, str]:
        """Mapping of keys to values; a later duplicate wins, as in compose."""
        return {entry.key: entry.value for entry in self.entries}

    def line_of(self, key: str) -> int | None:
        """Line number of the last definition of `key`."""
        found = [entry.line for entry in self.entries if entry.key == key]
        return found[-1] if found else None


def parse_env_text(text: str, path: Path) -> EnvFile:
    """Parse env-file text; raise `StackError` naming the line of the first bad entry."""
    entries: list[EnvEntry] = []
    known: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _LINE.match(raw)
        if match is None:
            raise StackError(
                path,
                f"cannot read {stripped[:40]!r} as KEY=VALUE",
                "write one KEY=VALUE per line; comments start with #",
                line=number,
            )
        key = match.group("key")
        value = _value(match.group("value"), known, path, number, key)
        known[key] = value
        entries.append(EnvEntry(key, value, number))
    return EnvFile(path, tuple(entries))


def load_env_file(path: Path) -> EnvFile:
    """Read and parse an env file; a missing file is a `StackError`."""
    if not path.is_file():
        raise StackError(path, "env file not found", "create it or fix the path that names it")
    return parse_env_text(path.read_text(encoding="utf-8"), path)


def _value(raw: str, known: dict[str, str], path: Path, line: int, key: str) -> str:
    raw = raw.strip()
    if raw[:1] == "'":
        return _quoted(raw, "'", path, line, key)
    interpolator = Interpolator(known)
    if raw[:1] == '"':
        text = _quoted(raw, '"', path, line, key)
        text = text.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
    else:
        text = re.split(r"\s+#", raw, maxsplit=1)[0].rstrip()
    try:
        return interpolator.resolve(text)
    except InterpolationError as error:
        raise StackError(path, str(error), error.fix, line=line, key=key) from None


def _quoted(raw: str, quote: str, path: Path, line: int, key: str) -> str:
    end = raw.find(quote, 1)
    while quote == '"' and end > 0 and raw[end - 1] == "\\":
        end = raw.find(quote, end + 1)
    if end < 0:
        raise StackError(
            path, f"unterminated {quote} quote", f"close the {quote} quote", line=line, key=key
        )
    return raw[1:end]
