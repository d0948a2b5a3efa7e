"""Doing one thing for many items at once, where each mostly waits (on the engine, a container,
a socket): results in the items' order."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

_In = TypeVar("_In")
_Out = TypeVar("_Out")

WORKERS = 8


def each(function: Callable[[_In], _Out], items: Iterable[_In]) -> list[_Out]:
    """`function` of every item, run in threads; the results in the order of `items` (the
    first exception raised is raised here)."""
    found = list(items)
    if len(found) < 2:
        return [function(item) for item in found]
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(found))) as pool:
        return list(pool.map(function, found))
