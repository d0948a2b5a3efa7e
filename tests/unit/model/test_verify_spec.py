"""`x-verify` read exactly: every part of a service's declaration typed, and every malformed one
refused naming the key, the line and what to write instead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tasks.errors import StackError
from tasks.model.source import Document
from tasks.model.verifyspec import Persist, Verify, parse_verify

DOC = Document(
    Path("c.yml"),
    None,
    {("services", "db", "x-verify"): 7, ("services", "db", "x-verify", "port"): 8},
)


def test_nothing_declared() -> None:
    assert parse_verify(None, "db", DOC) == Verify()


def test_every_part_declared() -> None:
    declared = {
        "probe": ["a", "b"],
        "port": 80,
        "free-threaded": True,
        "no-gpu": True,
        "targets": "/t",
        "routes": {"/r": "x"},
        "persist": {"write": ["w", "{token}"], "read": ["r{token}"], "expect": "1", "drop": ["d"]},
        "metrics": 9100,
    }
    assert parse_verify(declared, "db", DOC) == Verify(
        probe=("a", "b"),
        port=80,
        persist=Persist(("w", "{token}"), ("r{token}",), "1", ("d",)),
        free_threaded=True,
        no_gpu=True,
        targets="/t",
        routes={"/r": "x"},
        metrics=9100,
    )
    assert parse_verify({"port": 1}, "db", DOC).port == 1
    assert parse_verify({"port": 65535}, "db", DOC).port == 65535


def test_the_token_is_filled_in() -> None:
    persist = Persist(("a", "{token}"), ("b{token}",), "1", ("d", "{token}"))
    assert persist.commands("T") == (["a", "T"], ["bT"])


ROWS: list[tuple[str, Any, int, str, str, str]] = [
    (
        "a list",
        [5432],
        7,
        "services.db.x-verify",
        "x-verify must be a mapping, not a list",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "a string",
        "x",
        7,
        "services.db.x-verify",
        "x-verify must be a mapping, not a string",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "a number",
        5,
        7,
        "services.db.x-verify",
        "x-verify must be a mapping, not 5",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "unknown key",
        {"ports": 1},
        7,
        "services.db.x-verify.ports",
        "unknown key 'ports'",
        "use one of: free-threaded, metrics, no-gpu, persist, port, probe, routes, targets",
    ),
    (
        "port as a string",
        {"port": "5432"},
        8,
        "services.db.x-verify.port",
        "port must be a port number (1-65535), not '5432'",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "port as a bool",
        {"port": True},
        8,
        "services.db.x-verify.port",
        "port must be a port number (1-65535), not True",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "port 0",
        {"port": 0},
        8,
        "services.db.x-verify.port",
        "port must be a port number (1-65535), not 0",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "port 65536",
        {"port": 65536},
        8,
        "services.db.x-verify.port",
        "port must be a port number (1-65535), not 65536",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "probe as a string",
        {"probe": "pg"},
        7,
        "services.db.x-verify.probe",
        "probe must be a command as a non-empty list of strings, not a string",
        "write probe: [program, arg, ...]",
    ),
    (
        "empty probe",
        {"probe": []},
        7,
        "services.db.x-verify.probe",
        "probe must be a command as a non-empty list of strings, not a list",
        "write probe: [program, arg, ...]",
    ),
    (
        "probe with an empty word",
        {"probe": ["pg", ""]},
        7,
        "services.db.x-verify.probe",
        "probe must be a command as a non-empty list of strings, not a list",
        "write probe: [program, arg, ...]",
    ),
    (
        "flag as a string",
        {"no-gpu": "yes"},
        7,
        "services.db.x-verify.no-gpu",
        "no-gpu must be true or false, not 'yes'",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "free-threaded without a probe",
        {"free-threaded": True},
        7,
        "services.db.x-verify.free-threaded",
        "free-threaded needs a probe that proves the GIL is off",
        "add probe: *gil-off (the command defined once at the top of the file)",
    ),
    (
        "targets as a number",
        {"targets": 5, "port": 1},
        7,
        "services.db.x-verify.targets",
        "targets must be a URL path such as /api/v1/targets: 5",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "targets without a slash",
        {"targets": "api", "port": 1},
        7,
        "services.db.x-verify.targets",
        "targets must be a URL path such as /api/v1/targets: 'api'",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "route without a slash",
        {"routes": {"x": "db"}, "port": 1},
        7,
        "services.db.x-verify.routes",
        "routes must map URL paths (/...) to service names",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "routes as a list",
        {"routes": ["/x"], "port": 1},
        7,
        "services.db.x-verify.routes",
        "routes must map URL paths (/...) to service names",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "route to nothing",
        {"routes": {"/x": ""}, "port": 1},
        7,
        "services.db.x-verify.routes",
        "routes must map URL paths (/...) to service names",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "routes without a port",
        {"routes": {"/x": "db"}},
        8,
        "services.db.x-verify.port",
        "targets and routes are read on the service's port: set port",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "targets without a port",
        {"targets": "/t"},
        8,
        "services.db.x-verify.port",
        "targets and routes are read on the service's port: set port",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "persist as a string",
        {"persist": "x"},
        7,
        "services.db.x-verify.persist",
        "persist must be a mapping of exactly write, read, expect and drop",
        "write persist: {write: [...], read: [...], expect: '1', drop: [...]} (write and read "
        "use a scratch database that drop removes)",
    ),
    (
        "persist without expect",
        {"persist": {"write": ["a"], "read": ["b"]}},
        7,
        "services.db.x-verify.persist",
        "persist must be a mapping of exactly write, read, expect and drop",
        "write persist: {write: [...], read: [...], expect: '1', drop: [...]} (write and read "
        "use a scratch database that drop removes)",
    ),
    (
        "write without the token",
        {"persist": {"write": ["a"], "read": ["{token}"], "expect": "1", "drop": ["d"]}},
        7,
        "services.db.x-verify.persist.write",
        "persist.write never uses {token}",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "read without the token",
        {"persist": {"write": ["{token}"], "read": ["b"], "expect": "1", "drop": ["d"]}},
        7,
        "services.db.x-verify.persist.read",
        "persist.read never uses {token}",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "expect as a number",
        {"persist": {"write": ["{token}"], "read": ["{token}"], "expect": 1, "drop": ["d"]}},
        7,
        "services.db.x-verify.persist.expect",
        "expect must be a string, not 1",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "persist without drop",
        {"persist": {"write": ["{token}"], "read": ["{token}"], "expect": "1"}},
        7,
        "services.db.x-verify.persist",
        "persist must be a mapping of exactly write, read, expect and drop",
        "write persist: {write: [...], read: [...], expect: '1', drop: [...]} (write and read "
        "use a scratch database that drop removes)",
    ),
    (
        "drop as an empty list",
        {"persist": {"write": ["{token}"], "read": ["{token}"], "expect": "1", "drop": []}},
        7,
        "services.db.x-verify.persist.drop",
        "drop must be a command as a non-empty list of strings, not a list",
        "write drop: [program, arg, ...]",
    ),
    (
        "write as a string",
        {"persist": {"write": "a", "read": ["{token}"], "expect": "1", "drop": ["d"]}},
        7,
        "services.db.x-verify.persist.write",
        "write must be a command as a non-empty list of strings, not a string",
        "write write: [program, arg, ...]",
    ),
    (
        "metrics as a string",
        {"metrics": "9100"},
        7,
        "services.db.x-verify.metrics",
        "metrics must be a port number (1-65535), not '9100'",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "metrics out of range",
        {"metrics": 70000},
        7,
        "services.db.x-verify.metrics",
        "metrics must be a port number (1-65535), not 70000",
        "see the x-verify keys in the compose file's header comment",
    ),
    (
        "metrics as true",
        {"metrics": True},
        7,
        "services.db.x-verify.metrics",
        "metrics must be a port number (1-65535), not True",
        "see the x-verify keys in the compose file's header comment",
    ),
]


@pytest.mark.parametrize(
    ("case", "raw", "line", "key", "problem", "fix"), ROWS, ids=[row[0] for row in ROWS]
)
def test_malformed_x_verify_is_refused_precisely(
    case: str, raw: Any, line: int, key: str, problem: str, fix: str
) -> None:
    with pytest.raises(StackError) as refused:
        parse_verify(raw, "db", DOC)
    error = refused.value
    assert (error.path, error.line, error.key, error.problem, error.fix) == (
        Path("c.yml"),
        line,
        key,
        problem,
        fix,
    )
