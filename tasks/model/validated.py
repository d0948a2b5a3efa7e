"""Documents known to pass schema validation, remembered across runs by content.

A document that passed once passes again while neither it nor any schema changed, so a run
that finds its digest skips the validator (and importing it). The digest covers the schema
and definition, every schema file, the validator's version and the document's data. Only
passes of plain JSON data are remembered; a failure is always validated and reported afresh.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from tasks.cachedir import cache_home


def folder() -> Path:
    """One empty file per remembered digest."""
    return cache_home() / "schema-valid"


FORMAT = "1"
"""Bumped when `schemas.py` changes how it builds a validator or which errors it accepts."""


@cache
def _schemas_fingerprint(schemas: Path) -> str:
    versions = (FORMAT, metadata.version("jsonschema"), metadata.version("referencing"))
    digest = hashlib.sha256("\0".join(versions).encode())
    for path in sorted(schemas.rglob("*.json")):
        digest.update(path.relative_to(schemas).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _plain(data: object) -> bool:
    """Whether `data` is JSON as itself: objects with text keys, arrays, text, numbers, true,
    false and null. Anything else (a YAML date, a number or null as a key, a tuple) would
    print like something the validator treats differently."""
    if data is None or type(data) in (str, int, float, bool):
        return True
    if type(data) is list:
        return all(_plain(item) for item in data)
    if type(data) is dict:
        return all(type(k) is str and _plain(v) for k, v in data.items())
    return False


def digest(schemas: Path, schema: str, definition: str, data: Any) -> str | None:
    """The key of `data` checked against `schema` (or its `definition`); None when the data is
    not plain JSON, which is then always validated."""
    if not _plain(data):
        return None
    text = json.dumps(data, sort_keys=True, allow_nan=True)
    key = f"{_schemas_fingerprint(schemas)}\0{schema}\0{definition}\0{text}"
    return hashlib.sha256(key.encode()).hexdigest()


def known(key: str | None) -> bool:
    """Whether `key` passed validation before."""
    return key is not None and (folder() / key).is_file()


def remember(key: str | None) -> None:
    """Record a pass; a cache that cannot be written only costs the next run the validation."""
    if key is None:
        return
    try:
        folder().mkdir(parents=True, exist_ok=True)
        (folder() / key).touch()
    except OSError:
        pass
