"""Documents known to pass schema validation, remembered across runs by content.

A document that passed once passes again while neither it nor any schema changed, so a run
that finds its digest skips the validator (and importing it). The digest covers the schema
and definition, every schema file, the validator's version and the document's data with each
value's type. Only passes are remembered; a failure is always validated and reported afresh.
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


@cache
def _schemas_fingerprint(schemas: Path) -> str:
    digest = hashlib.sha256(metadata.version("jsonschema").encode())
    for path in sorted(schemas.rglob("*.json")):
        digest.update(path.relative_to(schemas).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _typed(value: object) -> str:
    """A value JSON cannot hold as itself (a YAML date, say), kept apart from its text."""
    return f"{type(value).__qualname__}:{value!r}"


def digest(schemas: Path, schema: str, definition: str, data: Any) -> str | None:
    """The key of `data` checked against `schema` (or its `definition`); None when the data
    has no canonical JSON form (keys of mixed types), which is then always validated."""
    try:
        text = json.dumps(data, sort_keys=True, default=_typed, allow_nan=True)
    except (TypeError, ValueError):
        return None
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
