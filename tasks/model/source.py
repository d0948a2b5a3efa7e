"""The one reader of every file the library reads, and the structured formats (YAML, JSON,
JSONC) loaded with the line of every key.

Whatever is wrong with a file (missing, a broken or looping symbolic link, a folder or a pipe
where a file belongs, unreadable, too large, not UTF-8, nested too deep) is one `StackError`
naming the file, the line when known, and the fix."""

from __future__ import annotations

import codecs
import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tasks.errors import StackError
from tasks.model import jsonc
from tasks.model.jsonc import MAX_DEPTH

KeyPath = jsonc.KeyPath
MAX_BYTES = 16 * 1024 * 1024
"""Larger files are refused before they are read: no file of a stack is that big."""

_NOT_REGULAR = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


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


def present(path: Path) -> bool:
    """Whether anything is at `path`: a file, a folder, a pipe, even a broken symbolic link.
    An optional file that is present is read, and what is wrong with it reported, rather than
    passed over as if it were absent."""
    return os.path.lexists(path)


def _missing(path: Path) -> tuple[str, str]:
    """Why nothing can be read at `path`: a broken link, a file on the way, or nothing."""
    if path.is_symlink():
        return (
            f"is a symbolic link to {os.readlink(path)}, which does not exist",
            "point the link at an existing file, or replace it with the file",
        )
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        return (
            f"not found: {parent} is a file, not a folder",
            "fix the path, or move that file out of the way",
        )
    return "not found", f"create {path.name} or fix the reference"


def _os_trouble(path: Path, error: OSError) -> tuple[str, str]:
    """The problem and fix of an `OSError` met while looking at or reading `path`."""
    if error.errno == errno.ELOOP:
        return (
            "is a symbolic link loop",
            "make the link point at a file (`ls -l` shows where each link leads)",
        )
    if error.errno in (errno.EACCES, errno.EPERM):
        return (
            "cannot be read: permission denied",
            f"make it (and the folders above it) readable for user {os.geteuid()}, "
            "or run as its owner",
        )
    if error.errno in (errno.ENOENT, errno.ENOTDIR):
        return _missing(path)
    return f"cannot be read: {error.strerror or error}", "check the file and the disk"


def trouble(path: Path) -> tuple[str, str] | None:
    """What keeps `path` from being read as a file, as a phrase that follows the file's name
    ("not found", "is a folder, not a file", "is a symbolic link loop", ...) and its fix;
    None for a regular file."""
    try:
        info = path.stat()
    except OSError as error:
        return _os_trouble(path, error)
    kind = next((name for test, name in _NOT_REGULAR if test(info.st_mode)), None)
    if kind is None:
        return None
    inside = " inside it" if kind == "a folder" else ""
    return (
        f"is {kind}, not a file",
        f"replace it with the file, or point the reference at the file{inside}",
    )


def read_bytes(path: Path, what: str) -> bytes:
    """The bytes of a regular file of at most `MAX_BYTES`, or a `StackError` saying what is
    there instead (looked at before opening: opening a named pipe would wait forever)."""
    found = trouble(path)
    if found is not None:
        raise StackError(path, f"{what} {found[0]}", found[1])
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        problem, fix = _os_trouble(path, error)
        raise StackError(path, f"{what} {problem}", fix) from None
    if len(data) > MAX_BYTES:
        raise StackError(
            path,
            f"{what} is larger than a stack file can be ({MAX_BYTES // (1024 * 1024)} MiB)",
            "point the reference at the right file",
        )
    return data


def decode(data: bytes, path: Path, what: str) -> str:
    """UTF-8 text without its byte order mark; other encodings are a `StackError` naming the
    line and column of the first byte that is not UTF-8."""
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            raise StackError(
                path, f"{what} is {name} text", "save it as UTF-8 (without a byte order mark)"
            )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        start = error.start + (3 if data.startswith(codecs.BOM_UTF8) else 0)
        line_start = data.rfind(b"\n", 0, start) + 1
        raise StackError(
            path,
            f"{what} is not UTF-8: byte 0x{data[start]:02x} at column "
            f"{len(data[line_start:start].decode('utf-8', 'replace')) + 1}",
            'save it as UTF-8 (an editor\'s "reopen with encoding", or `iconv -f latin1 -t utf-8`)',
            line=data.count(b"\n", 0, start) + 1,
        ) from None


def read_text(path: Path, what: str) -> str:
    """Read a file the stack refers to as UTF-8 text, or raise a `StackError` saying what is
    wrong with it."""
    return decode(read_bytes(path, what), path, what)


# libyaml's parser when PyYAML has it (several times faster on the compose file). A document it
# refuses is parsed again by the pure-Python parser, whose message and line are reported, so
# errors read the same whichever parser is installed.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TOO_DEEP_FIX = "flatten it: no stack file nests mappings and lists that deep"


def _too_deep(path: Path, line: int | None) -> StackError:
    return StackError(path, f"nested more than {MAX_DEPTH} levels deep", _TOO_DEEP_FIX, line=line)


def _first_too_deep(text: str) -> int | None:
    """The line of the first mapping or list nested deeper than MAX_DEPTH, from the events of
    the pure-Python parser (iterative, so at any depth): the line `_measure` names, whether or
    not libyaml stopped first at a limit of its own."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH and event.start_mark is not None:
                    return int(event.start_mark.line) + 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def load_yaml(path: Path, what: str = "YAML file") -> Document:
    """Parse one YAML document with key lines; syntax errors name the line."""
    return parse_yaml(read_text(path, what), path)


def parse_yaml(text: str, path: Path) -> Document:
    """Parse YAML `text` that is (or will be) the file `path`, as `load_yaml` parses a file."""
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
    except yaml.YAMLError as fast:
        if "maximum nesting depth" in str(getattr(fast, "problem", "")):
            raise _too_deep(path, _first_too_deep(text)) from None
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
        except RecursionError:
            raise _too_deep(path, None) from None
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _walk_yaml(node, (), lines)
    return Document(path, data, lines, text)


def _parse(text: str, path: Path, loader_class: Any) -> tuple[yaml.Node | None, Any]:
    """The document's node tree and its data, refusing aliases that contain themselves or
    expand too far, nesting too deep, and duplicate keys."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _measure(node, path)
        _refuse_duplicates(node, (), path, set())
        try:
            return node, loader.construct_document(node)
        except (ValueError, OverflowError) as error:  # an integer of 5000 digits, a 13th month
            raise StackError(
                path,
                f"invalid YAML value: {str(error).split(';')[0]}",
                "quote the value to keep it as text, or correct it",
            ) from None
    finally:
        loader.dispose()


MAX_EXPANDED_NODES = 100_000


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _measure(root: yaml.Node, path: Path) -> None:
    """Refuse a node graph that loops (an alias inside its own anchor), nests deeper than
    `MAX_DEPTH` or stands for more than `MAX_EXPANDED_NODES` nodes once every alias is expanded
    (an alias bomb). Iterative, each node measured once: linear in the text."""
    measured: dict[int, tuple[int, int]] = {}  # id -> (nesting, expanded size)
    open_nodes: set[int] = set()
    todo: list[tuple[yaml.Node, bool]] = [(root, False)]
    while todo:
        node, children_done = todo.pop()
        line = node.start_mark.line + 1
        if children_done:
            kids = [measured[id(kid)] for kid in _children(node)]
            nesting = int(not isinstance(node, yaml.ScalarNode))
            nesting += max((depth for depth, _ in kids), default=0)
            size = 1 + sum(count for _, count in kids)
            if size > MAX_EXPANDED_NODES:
                raise StackError(
                    path,
                    f"YAML aliases expand to more than {MAX_EXPANDED_NODES} nodes",
                    "write the values out instead of nesting aliases (an alias bomb?)",
                )
            measured[id(node)] = (nesting, size)
            open_nodes.discard(id(node))
        elif id(node) in open_nodes:
            raise StackError(
                path,
                "a YAML alias refers to the mapping or list that contains it",
                "write the value out instead of the alias",
                line=line,
            )
        elif id(node) not in measured:
            open_nodes.add(id(node))
            todo.append((node, True))
            todo.extend((kid, False) for kid in _children(node))
    if measured[id(root)][0] > MAX_DEPTH:
        node = root
        for _ in range(MAX_DEPTH):  # down the deepest branch to its first level too many
            node = max(_children(node), key=lambda kid: measured[id(kid)][0])
        raise _too_deep(path, node.start_mark.line + 1)


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


def _jsonc_document(path: Path, text: str, plain_fix: str = "") -> Document:
    """The document of JSONC `text`; with `plain_fix`, of plain JSON text (no comments, no
    trailing commas), whose syntax errors get that fix."""
    try:
        parsed = jsonc.parse(text, plain=bool(plain_fix))
    except jsonc.JsoncError as error:
        if plain_fix and not error.fix:
            problem = f"not valid JSON ({error.problem})"
            raise StackError(path, problem, plain_fix, line=error.line) from None
        raise StackError(
            path,
            f"invalid JSONC: {error.problem}",
            error.fix
            or "fix the JSON syntax (commas, quotes, brackets); comments and trailing commas "
            "are fine",
            line=error.line,
        ) from None
    return Document(path, parsed.data, parsed.lines, text)


def load_jsonc(path: Path, what: str = "JSONC file") -> Document:
    """Parse JSON with comments and trailing commas; errors name the line."""
    return _jsonc_document(path, read_text(path, what))


def load_json(path: Path, what: str, fix: str) -> Document:
    """Parse plain JSON (a file the task library rewrites, which would drop comments), with
    the line of every key; a syntax error names its line and `fix`."""
    return _jsonc_document(path, read_text(path, what), fix)
