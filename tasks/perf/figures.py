"""A measured figure beside its target, or the reason it could not be measured here."""

from __future__ import annotations

import re
from dataclasses import dataclass

UNITS = {"b": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "kb": 10**3, "mb": 10**6, "gb": 10**9}


@dataclass(frozen=True)
class Figure:
    """One line of the report: `value` <= `target` meets it; `value` None says `why`."""

    name: str
    unit: str
    value: float | None
    target: float | None = None
    why: str = ""

    @property
    def verdict(self) -> str:
        """meets / misses / no target / not measured."""
        if self.value is None:
            return "not measured"
        if self.target is None:
            return "no target"
        return "meets" if self.value <= self.target else "misses"

    @property
    def ratio(self) -> float | None:
        """Value as a fraction of the target (1.0 = exactly on target)."""
        if self.value is None or not self.target:
            return None
        return self.value / self.target


def to_bytes(text: str) -> int:
    """`12.5MiB` / `1.2GB` (docker's human sizes) in bytes; 0 when unreadable."""
    match = re.match(r"\s*([0-9.]+)\s*([A-Za-z]+)", text)
    if not match or match.group(2).lower() not in UNITS:
        return 0
    return int(float(match.group(1)) * UNITS[match.group(2).lower()])


def rounded(value: float | None, unit: str) -> str:
    """A figure for people: three significant digits at most (`6.14 s`, `61.4 ms`, `2070 MB`)."""
    if value is None:
        return "-"
    if value == int(value):
        return f"{int(value)} {unit}"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:.{digits}f} {unit}"
