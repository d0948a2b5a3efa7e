"""Doing one thing for many items at once, where each mostly waits (on the engine, a container,
a socket): results in the items' order."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

_In = TypeVar("_In")
_Out = TypeVar("_Out")
_Key = TypeVar("_Key", bound=Hashable)

WORKERS = 8


def each(function: Callable[[_In], _Out], items: Iterable[_In]) -> list[_Out]:
    """`function` of every item, run in threads; the results in the order of `items` (the
    first exception raised is raised here)."""
    found = list(items)
    if len(found) < 2:
        return [function(item) for item in found]
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(found))) as pool:
        return list(pool.map(function, found))


class Once(Generic[_Key, _Out]):
    """Each key's value computed once, however many threads ask for it at the same time: the
    first to ask computes it, the others wait for its result (or its exception)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[_Key, Future[_Out]] = {}

    def get(self, key: _Key, compute: Callable[[], _Out]) -> _Out:
        """The value of `key`, from `compute` the first time."""
        with self._lock:
            first = key not in self._values
            if first:
                self._values[key] = Future()
            value = self._values[key]
        if first:
            try:
                value.set_result(compute())
            except BaseException as error:
                value.set_exception(error)
        return value.result()
