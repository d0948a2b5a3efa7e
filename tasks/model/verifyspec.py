"""A compose service's `x-verify` extension: how phase 10 checks the running service.

The compose file is the source of this knowledge (see its header comment); the verifier in
`tasks.engine.verify` only runs what a service declares here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tasks.errors import StackError
from tasks.model.source import Document

KEY = "x-verify"
TOKEN = "{token}"
Fail = Callable[..., StackError]


@dataclass(frozen=True)
class Persist:
    """Data that must survive a restart, kept out of the user's data: `write` makes a scratch
    database (or table) and stores a fresh token in it, the last line `read` prints must equal
    `expect` (before a restart, and after one when asked for), and `drop` removes the scratch
    database whatever happened. `{token}` marks the token."""

    write: tuple[str, ...]
    read: tuple[str, ...]
    expect: str
    drop: tuple[str, ...]

    def commands(self, token: str) -> tuple[list[str], list[str]]:
        """The write and read commands with `token` filled in."""
        return (
            [word.replace(TOKEN, token) for word in self.write],
            [word.replace(TOKEN, token) for word in self.read],
        )


@dataclass(frozen=True)
class Verify:
    """What phase 10 checks on one service; every part is optional."""

    probe: tuple[str, ...] = ()
    port: int | None = None
    persist: Persist | None = None
    free_threaded: bool = False
    no_gpu: bool = False
    targets: str | None = None
    routes: dict[str, str] = field(default_factory=dict)
    metrics: int | None = None


_FIX = "see the x-verify keys in the compose file's header comment"


def parse_verify(raw: Any, service: str, doc: Document) -> Verify:
    """Type and check one service's `x-verify` mapping (absent: nothing declared); wrong types
    raise a `StackError` naming the file, line and key."""
    where = ("services", service, KEY)

    def fail(keys: tuple[str, ...], problem: str, fix: str = _FIX) -> StackError:
        return StackError(
            doc.path,
            problem,
            fix,
            line=doc.line_of(*where, *keys),
            key=".".join((*where, *keys)),
        )

    if raw is None:
        return Verify()
    if not isinstance(raw, Mapping):
        raise fail((), f"{KEY} must be a mapping, not {_kind(raw)}")
    known = {"probe", "port", "persist", "free-threaded", "no-gpu", "targets", "routes", "metrics"}
    for key in raw:
        if key not in known:
            raise fail(
                (str(key),), f"unknown key {key!r}", f"use one of: {', '.join(sorted(known))}"
            )
    probe = _command(raw, "probe", fail) if "probe" in raw else ()
    port = _port(raw, "port", fail)
    free_threaded = _flag(raw, "free-threaded", fail)
    if free_threaded and not probe:
        raise fail(
            ("free-threaded",),
            "free-threaded needs a probe that proves the GIL is off",
            "add probe: *gil-off (the command defined once at the top of the file)",
        )
    targets = raw.get("targets")
    if targets is not None and not (isinstance(targets, str) and targets.startswith("/")):
        raise fail(("targets",), f"targets must be a URL path such as /api/v1/targets: {targets!r}")
    routes = raw.get("routes") or {}
    if not isinstance(routes, Mapping) or not all(
        isinstance(path, str) and path.startswith("/") and isinstance(to, str) and to
        for path, to in routes.items()
    ):
        raise fail(("routes",), "routes must map URL paths (/...) to service names")
    if (targets or routes) and port is None:
        raise fail(("port",), "targets and routes are read on the service's port: set port")
    return Verify(
        probe=probe,
        port=port,
        persist=_persist(raw.get("persist"), fail),
        free_threaded=free_threaded,
        no_gpu=_flag(raw, "no-gpu", fail),
        targets=targets,
        routes={str(path): str(to) for path, to in routes.items()},
        metrics=_port(raw, "metrics", fail),
    )


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return "a string" if isinstance(value, str) else repr(value)


def _command(raw: Mapping[str, Any], key: str, fail: Fail, *prefix: str) -> tuple[str, ...]:
    value = raw.get(key)
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(word, str) and word for word in value)
    ):
        raise fail(
            (*prefix, key),
            f"{key} must be a command as a non-empty list of strings, not {_kind(value)}",
            f"write {key}: [program, arg, ...]",
        )
    return tuple(value)


def _flag(raw: Mapping[str, Any], key: str, fail: Fail) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise fail((key,), f"{key} must be true or false, not {value!r}")
    return value


def _persist(raw: Any, fail: Fail) -> Persist | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) != {"write", "read", "expect", "drop"}:
        raise fail(
            ("persist",),
            "persist must be a mapping of exactly write, read, expect and drop",
            "write persist: {write: [...], read: [...], expect: '1', drop: [...]} (write and "
            "read use a scratch database that drop removes)",
        )
    write = _command(raw, "write", fail, "persist")
    read = _command(raw, "read", fail, "persist")
    for key, words in (("write", write), ("read", read)):
        if not any(TOKEN in word for word in words):
            raise fail(("persist", key), f"persist.{key} never uses {TOKEN}")
    if not isinstance(raw["expect"], str):
        raise fail(("persist", "expect"), f"expect must be a string, not {raw['expect']!r}")
    return Persist(write, read, raw["expect"], _command(raw, "drop", fail, "persist"))


def _port(raw: Mapping[str, Any], key: str, fail: Fail) -> int | None:
    value = raw.get(key)
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536
    ):
        raise fail((key,), f"{key} must be a port number (1-65535), not {value!r}")
    return value
