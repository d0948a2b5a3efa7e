"""JSON Schema validation of the stack's input files before the model reads them: the Compose
Specification's and the Dev Containers specification's schemas (vendored), and this project's
schemas for devcontainer.json's VS Code part, MCP manifests, client configs and versions.json.
A `$ref` resolves among the files of `tasks/schemas/` only, never over the network. Every
violation becomes one `StackError` (file, line, key path, problem and fix); `validate` raises
them together, the most relevant first."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.errors import SchemaErrors, StackError
from tasks.model import validated
from tasks.model.source import Document

if TYPE_CHECKING:  # the validator is imported only when a document is not known to pass
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator
    from referencing import Registry

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
COMPOSE = "vendor/compose-spec.json"
DEVCONTAINER = "devcontainer.schema.json"
MANIFEST = "mcp-manifest.schema.json"
CLIENTS = "mcp-clients.schema.json"
VERSIONS = "versions.schema.json"
IMAGES_LOCK = "images-lock.schema.json"


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema file of `tasks/schemas/`, by its path relative to that folder."""
    schema: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return schema


@cache
def _registry() -> Registry[Any]:
    """Every schema file, under its path relative to `tasks/schemas/` (and its `$id`): the only
    documents a `$ref` can reach. Anything else is unresolvable rather than downloaded."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    names = [path.relative_to(SCHEMAS).as_posix() for path in sorted(SCHEMAS.rglob("*.json"))]
    resources = [
        (name, Resource.from_contents(load_schema(name), default_specification=DRAFT202012))
        for name in names
    ]
    return Registry().with_resources(resources).crawl()


@cache
def _validator(name: str, definition: str = "") -> Validator:
    """A validator for schema `name` (or its `$defs/definition`), in the draft it declares."""
    from jsonschema.validators import validator_for

    cls = validator_for(load_schema(name))
    target = f"{name}#/$defs/{definition}" if definition else name
    return cls({"$ref": target}, registry=_registry(), format_checker=cls.FORMAT_CHECKER)


def _unexpected_keys(error: ValidationError) -> list[str]:
    """The keys, in document order, that an `additionalProperties` or `unevaluatedProperties`
    violation rejects (empty for any other violation)."""
    if not isinstance(error.instance, dict):
        return []
    if error.validator == "additionalProperties":
        schema = error.schema if isinstance(error.schema, dict) else {}
        known = set(schema.get("properties", {}))
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        return [
            str(key)
            for key in error.instance
            if key not in known and not any(p.search(str(key)) for p in patterns)
        ]
    if error.validator == "unevaluatedProperties":
        # The message lists every rejected key, quoted as repr() does.
        return [str(key) for key in error.instance if repr(key) in error.message]
    return []


def _cost(errors: list[ValidationError]) -> int:
    """How much is wrong: one per violation, and one per key a violation rejects."""
    return sum(max(1, len(_unexpected_keys(error))) for error in errors)


def _causes(errors: list[ValidationError]) -> list[ValidationError]:
    """`errors` without `unevaluatedProperties` violations, unless nothing else is wrong: any
    other violation drops the annotations that keyword relies on, so it then rejects valid
    keys too."""
    return [e for e in errors if e.validator != "unevaluatedProperties"] or errors


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The violations under `error`. For `oneOf`/`anyOf`, those of the branch the data fits
    best: the one that knows most of the data's keys, by declaring them or by judging their
    values (a compose devcontainer.json missing `service` is named as such, not as an
    image-based one missing `image`), then the fewest violations, then one that accepts the
    data's type, then the one that got deepest into the data."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    branches: dict[str | int, list[ValidationError]] = {}
    for sub in error.context:
        branch = sub.relative_schema_path[0] if sub.relative_schema_path else 0
        branches.setdefault(branch, []).extend(_leaves(sub))
    branches = {branch: _causes(leaves) for branch, leaves in branches.items()}
    keys = set(error.instance) if isinstance(error.instance, dict) else set()
    level = len(error.absolute_path)

    def fit(leaves: list[ValidationError]) -> tuple[int, int, bool, int]:
        declared = {
            key
            for e in leaves
            for key in (
                e.schema.get("properties", {})
                if len(e.absolute_path) == level and isinstance(e.schema, dict)
                else tuple(e.absolute_path)[level : level + 1]
            )
            if key in keys
        }
        wrong_type = any(
            e.validator == "type" and e.absolute_path == error.absolute_path for e in leaves
        )
        depth = max(len(e.absolute_path) for e in leaves)
        return -len(declared), _cost(leaves), wrong_type, -depth

    return min(branches.values(), key=fit)


def _most_relevant(leaves: list[ValidationError]) -> ValidationError:
    """The violation to report first: the deepest in the document (inside the best-fitting
    branch of each `oneOf`/`anyOf`), since the field that broke is more useful to name than its
    parent; among equally deep ones, the one that rejects the fewest keys."""
    from jsonschema.exceptions import best_match

    depth = max(len(e.absolute_path) for e in leaves)
    deepest = [e for e in leaves if len(e.absolute_path) == depth]
    fewest = min(_cost([e]) for e in deepest)
    chosen: ValidationError = best_match(e for e in deepest if _cost([e]) == fewest)
    return chosen


def _stack_errors(doc: Document, error: ValidationError, schema: str, fix: str) -> list[StackError]:
    """`error` in words, at its key and line: one per key it rejects."""
    path: tuple[str | int, ...] = tuple(error.absolute_path)
    message = error.message
    if error.validator == "oneOf" and not error.context:
        # Valid under several branches: jsonschema's message would repeat the whole document.
        message = "matches more than one of the alternatives, where exactly one must match"
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator == "pattern" and isinstance(description, str):
        # A regular expression alone says little about what the value should be.
        message = f"{message} ({description.rstrip('.')})"
    unexpected = _unexpected_keys(error)
    places = [(path, message)]
    if unexpected:
        places = [
            (
                (*path, name),
                f"unknown key {name!r}"
                if error.validator == "additionalProperties"
                else f"key {name!r} is unknown or not allowed with the other keys here",
            )
            for name in unexpected
        ]
    return [
        StackError(
            doc.path,
            f"{words} (schema: {Path(schema).stem})",
            fix,
            line=doc.line_of(*where) if where else None,
            key=".".join(str(part) for part in where) or None,
        )
        for where, words in places
    ]


def violations(
    doc: Document, data: Any, schema: str, fix: str, definition: str = ""
) -> list[StackError]:
    """Every violation of `schema` by `data`, each naming its key and line: the most relevant
    first, then the others in document order."""
    key = validated.digest(SCHEMAS, schema, definition, data)
    if validated.known(key):
        return []
    errors = list(_validator(schema, definition).iter_errors(data))
    leaves = _causes([leaf for error in errors for leaf in _leaves(error)])
    if not leaves:
        validated.remember(key)
        return []
    first = _most_relevant(leaves)
    rest = sorted(
        (e for e in leaves if e is not first), key=lambda e: doc.line_of(*e.absolute_path) or 0
    )
    found: dict[tuple[int | None, str | None, str], StackError] = {}
    for leaf in (first, *rest):
        for item in _stack_errors(doc, leaf, schema, fix):
            found.setdefault((item.line, item.key, item.problem), item)
    return list(found.values())


def validate(doc: Document, data: Any, schema: str, fix: str, definition: str = "") -> None:
    """Raise `SchemaErrors` (whose message is the most relevant one) when `data` violates
    `schema`."""
    found = violations(doc, data, schema, fix, definition)
    if found:
        raise SchemaErrors(found)


def top_level_keys(name: str) -> frozenset[str]:
    """The keys schema `name` declares for its top-level object, in any of its branches
    (`allOf`, `oneOf`, `anyOf`, `$ref`, across files)."""
    found: set[str] = set()
    todo: list[tuple[str, Any]] = [(name, load_schema(name))]
    seen: set[str] = set()
    while todo:
        file, node = todo.pop()
        if not isinstance(node, dict):
            continue
        found |= set(node.get("properties", {}))
        for branch in ("allOf", "oneOf", "anyOf"):
            todo += [(file, sub) for sub in node.get(branch, [])]
        ref = node.get("$ref")
        if isinstance(ref, str) and ref not in seen:
            seen.add(ref)
            target, _, pointer = ref.partition("#")
            target = target or file
            resolved: Any = load_schema(target)
            for part in filter(None, pointer.split("/")):
                resolved = resolved.get(part, {}) if isinstance(resolved, dict) else {}
            todo.append((target, resolved))
    return frozenset(found)
