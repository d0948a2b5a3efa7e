"""Compose-style variable interpolation: `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?e}`,
`${VAR?e}`, `${VAR:+v}`, `${VAR+v}` and `$$` as a literal dollar.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACED = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?$", re.S)


class InterpolationError(ValueError):
    """A `${VAR:?message}` whose variable is unset, or a malformed `${...}` expression
    (`syntax` says which kind)."""

    def __init__(self, variable: str, message: str, *, syntax: str = "") -> None:
        self.variable = variable
        self.syntax = syntax
        super().__init__(message)

    @property
    def quiet(self) -> str:
        """The problem without the text it was found in (which may be a secret's value)."""
        return f"{self.syntax} in the value" if self.syntax else str(self)

    @property
    def fix(self) -> str:
        """How to repair the expression or provide the variable."""
        if self.syntax:
            return "write ${NAME}, ${NAME:-default} or ${NAME:?message}; a literal $ is $$"
        return (
            f"define {self.variable} in devcontainer.env or the shell, or give a default "
            f"${{{self.variable}:-value}}"
        )


@dataclass
class Interpolator:
    """Resolves variables against one mapping and remembers the names it could not resolve."""

    env: Mapping[str, str]
    undefined: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)

    def resolve(self, text: str) -> str:
        """Return `text` with every variable expression replaced the way compose does."""
        out: list[str] = []
        index = 0
        while (start := text.find("$", index)) >= 0:
            out.append(text[index:start])
            expr, index = _expression_at(text, start)
            out.append(self._evaluate(expr))
        out.append(text[index:])
        return "".join(out)

    def _evaluate(self, expr: str) -> str:
        if expr in ("$", "$$"):
            return "$"
        if not expr.startswith("${"):
            return self._value(expr[1:]) or ""
        inner = expr[2:-1]
        parsed = _BRACED.match(inner)
        if parsed is None:
            raise InterpolationError(
                inner,
                f"invalid interpolation format ${{{inner}}}",
                syntax="invalid interpolation format",
            )
        name, op, arg = parsed.group("name"), parsed.group("op"), parsed.group("arg") or ""
        value = self._value(name, required=op is None)
        chosen = bool(self.env.get(name)) if op and op.startswith(":") else name in self.env
        if op in (":-", "-"):
            return value if chosen and value is not None else self.resolve(arg)
        if op in (":?", "?"):
            if not chosen:
                raise InterpolationError(name, f"required variable {name} is missing: {arg}")
            return value or ""
        if op in (":+", "+"):
            return self.resolve(arg) if chosen else ""
        return value or ""

    def _value(self, name: str, *, required: bool = True) -> str | None:
        self.used.add(name)
        if name in self.env:
            return self.env[name]
        if required and name not in self.undefined:
            self.undefined.append(name)
        return None


def _expression_at(text: str, start: int) -> tuple[str, int]:
    """The expression starting at `text[start] == "$"` and the index just past it: `$$`,
    `$NAME`, a balanced `${...}` (defaults may nest), or a lone `$`."""
    following = text[start + 1 : start + 2]
    if following == "$":
        return "$$", start + 2
    if following == "{":
        depth, index = 0, start
        while index < len(text):
            if text.startswith("${", index):
                depth, index = depth + 1, index + 2
                continue
            if text[index] == "}":
                depth -= 1
                if depth == 0:
                    return text[start : index + 1], index + 1
            index += 1
        raise InterpolationError(
            text[start:], f"unterminated ${{ in {text[start:]!r}", syntax="unterminated ${"
        )
    match = _NAME.match(text, start + 1)
    if match is None:
        return "$", start + 1
    return "$" + match.group(0), match.end()


def variables_in(text: str) -> list[str]:
    """Names referenced by `text`, in order (nested defaults included), without resolving."""
    names: list[str] = []
    index = 0
    while (start := text.find("$", index)) >= 0:
        expr, index = _expression_at(text, start)
        inner = expr[2:-1] if expr.startswith("${") else expr[1:]
        parsed = _BRACED.match(inner) if inner else None
        found = [parsed.group("name")] if parsed else []
        if parsed and parsed.group("arg"):
            found += variables_in(parsed.group("arg"))
        names += [name for name in found if name not in names]
    return names
