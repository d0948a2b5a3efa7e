"""Structured files (YAML, JSONC) loaded together with the line of every key."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tasks.model import jsonc
from tasks.model.errors import StackError

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Document:
    """Parsed data plus a map from key paths to 1-based line numbers."""

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    text: str = ""

    def line_of(self, *keys: str | int) -> int | None:
        """Line of the deepest known key on `keys` (falls back to its nearest ancestor)."""
        path: KeyPath = tuple(keys)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


def read_text(path: Path, what: str) -> str:
    """Read a file the stack refers to, or raise a `StackError` saying what was expected."""
    if not path.is_file():
        raise StackError(path, f"{what} not found", f"create {path.name} or fix the reference")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise StackError(
            path, f"cannot read {what}: {error}", "make it a UTF-8 text file"
        ) from None


# libyaml's parser when PyYAML has it (several times faster on the compose file). A document it
# refuses is parsed again by the pure-Python parser, whose message and line are reported, so
# errors read the same whichever parser is installed.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path, what: str = "YAML file") -> Document:
    """Parse one YAML document with key lines; syntax errors name the line."""
    text = read_text(path, what)
    try:
        yaml.reader.Reader(text)
    except yaml.YAMLError as error:
        raise StackError(
            path,
            f"invalid YAML: {str(error).splitlines()[0]}",
            "remove control characters; YAML files are printable UTF-8",
        ) from None
    try:
        node, data = _parse(text, path, _FAST_LOADER)
    except yaml.YAMLError:
        try:
            node, data = _parse(text, path, yaml.SafeLoader)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            raise StackError(
                path,
                f"invalid YAML: {problem}",
                "fix the YAML syntax (indentation, quotes, colons)",
                line=mark.line + 1 if mark else None,
            ) from None
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _walk_yaml(node, (), lines)
    return Document(path, data, lines, text)


def _parse(text: str, path: Path, loader_class: Any) -> tuple[yaml.Node | None, Any]:
    """The document's node tree and its data, refusing alias bombs and duplicate keys."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            if _expanded_size(node, {}) > MAX_EXPANDED_NODES:
                raise StackError(
                    path,
                    f"YAML aliases expand to more than {MAX_EXPANDED_NODES} nodes",
                    "write the values out instead of nesting aliases (an alias bomb?)",
                )
            _refuse_duplicates(node, (), path, set())
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


MAX_EXPANDED_NODES = 100_000


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many nodes `node` stands for once every alias is expanded (memoised: linear)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(item, sizes) for item in node.value)
    sizes[id(node)] = size
    return size


def _refuse_duplicates(node: yaml.Node, path: KeyPath, file: Path, seen: set[int]) -> None:
    """Raise for a key written twice in one mapping (PyYAML would keep the last silently).

    Runs on the composed nodes, before merge keys (`<<`) are flattened; each node is visited
    once, so aliases (and alias bombs) cost nothing extra.
    """
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            line = key_node.start_mark.line + 1
            if key in first and key != "<<":
                raise StackError(
                    file,
                    f"duplicate key {key!r} (first at line {first[key]}); YAML keeps only the last",
                    "keep one of them",
                    line=line,
                    key=".".join(str(p) for p in (*path, key)),
                )
            first.setdefault(key, line)
            _refuse_duplicates(value_node, (*path, key), file, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _refuse_duplicates(item, (*path, index), file, seen)


def _walk_yaml(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            child = (*path, key)
            lines[child] = key_node.start_mark.line + 1
            _walk_yaml(value_node, child, lines)
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk_yaml(item, (*path, index), lines)


def load_jsonc(path: Path, what: str = "JSONC file") -> Document:
    """Parse JSON with comments and trailing commas; errors name the line."""
    text = read_text(path, what)
    try:
        data = jsonc.loads(text)
    except jsonc.JsoncError as error:
        raise StackError(
            path,
            f"invalid JSONC: {error.problem}",
            "fix the JSON syntax (commas, quotes, brackets); comments and trailing commas are fine",
            line=error.line,
        ) from None
    lines: dict[KeyPath, int] = {}
    _walk_json(data, (), text.splitlines(), 0, lines)
    return Document(path, data, lines, text)


def load_json(path: Path, what: str, fix: str) -> Document:
    """Parse plain JSON (a file the task library rewrites, which would drop comments), with
    the line of every key; a syntax error names its line and `fix`."""
    try:
        json.loads(read_text(path, what))
    except json.JSONDecodeError as error:
        raise StackError(path, f"not valid JSON ({error.msg})", fix, line=error.lineno) from None
    return load_jsonc(path, what)


def _walk_json(
    data: Any, path: KeyPath, text_lines: list[str], start: int, lines: dict[KeyPath, int]
) -> None:
    """Approximate key lines: each key is searched from its parent's line onwards."""
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        needle = json.dumps(key)
        found = next((i for i in range(start, len(text_lines)) if needle in text_lines[i]), start)
        lines[(*path, key)] = found + 1
        _walk_json(value, (*path, key), text_lines, found, lines)
