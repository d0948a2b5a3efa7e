"""JSON Schema validation of the stack's input files before the model reads them: the Compose
Specification's schema (vendored), and this project's schemas for MCP manifests and clients.
The first violation becomes one `StackError`: file, line, key path, problem and fix."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from tasks.model.errors import StackError
from tasks.model.source import Document

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
COMPOSE = "vendor/compose-spec.json"
MANIFEST = "mcp-manifest.schema.json"
CLIENTS = "mcp-clients.schema.json"


@cache
def _validator(name: str, definition: str = "") -> Draft202012Validator:
    schema: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    if definition:
        schema = {**schema, "$ref": f"#/$defs/{definition}"}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _deepest(errors: list[ValidationError]) -> ValidationError | None:
    """The violation deepest in the document: inside `oneOf`/`anyOf` branches too, since the
    field that broke every branch is more useful to name than the branching key."""
    found: list[ValidationError] = []
    pending = list(errors)
    while pending:
        error = pending.pop()
        found.append(error)
        pending.extend(error.context or [])
    if not found:
        return None
    depth = max(len(e.absolute_path) for e in found)
    chosen: ValidationError | None = best_match(e for e in found if len(e.absolute_path) == depth)
    return chosen


def _unexpected_key(error: ValidationError) -> str | None:
    """The first key an `additionalProperties: false` object does not allow."""
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return None
    schema = error.schema if isinstance(error.schema, dict) else {}
    known = set(schema.get("properties", {}))
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    for key in error.instance:
        if key not in known and not any(p.search(str(key)) for p in patterns):
            return str(key)
    return None


def validate(doc: Document, data: Any, schema: str, fix: str, definition: str = "") -> None:
    """Raise a `StackError` for the most relevant violation of `schema` by `data`, if any."""
    error = _deepest(list(_validator(schema, definition).iter_errors(data)))
    if error is None:
        return
    path: tuple[str | int, ...] = tuple(error.absolute_path)
    message = error.message
    unexpected = _unexpected_key(error)
    if unexpected is not None:
        path, message = (*path, unexpected), f"unknown key {unexpected!r}"
    key = ".".join(str(part) for part in path) or None
    raise StackError(
        doc.path,
        f"{message} (schema: {Path(schema).stem})",
        fix,
        line=doc.line_of(*path) if path else None,
        key=key,
    )
