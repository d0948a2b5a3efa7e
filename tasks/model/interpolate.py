"""Compose-style variable interpolation: `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?e}`,
`${VAR?e}`, `${VAR:+v}`, `${VAR+v}` and `$$` as a literal dollar.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_TOKEN = re.compile(r"\$(?:(?P<escaped>\$)|(?P<bare>[A-Za-z_][A-Za-z0-9_]*)|\{(?P<braced>[^}]*)\})")
_BRACED = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?$", re.S)


class InterpolationError(ValueError):
    """A `${VAR:?message}` whose variable is unset, or a malformed `${...}` expression."""

    def __init__(self, variable: str, message: str) -> None:
        self.variable = variable
        super().__init__(message)


@dataclass
class Interpolator:
    """Resolves variables against one mapping and remembers the names it could not resolve."""

    env: Mapping[str, str]
    undefined: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)

    def resolve(self, text: str) -> str:
        """Return `text` with every variable expression replaced the way compose does."""
        return _TOKEN.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        bare = match.group("bare")
        if bare is not None:
            return self._value(bare) or ""
        expr = match.group("braced")
        parsed = _BRACED.match(expr)
        if parsed is None:
            raise InterpolationError(expr, f"invalid interpolation format ${{{expr}}}")
        name, op, arg = parsed.group("name"), parsed.group("op"), parsed.group("arg") or ""
        value = self._value(name, required=op is None)
        is_set = name in self.env
        is_nonempty = bool(self.env.get(name))
        if op in (":-", "-"):
            chosen = is_nonempty if op == ":-" else is_set
            return value if chosen and value is not None else self.resolve(arg)
        if op in (":?", "?"):
            chosen = is_nonempty if op == ":?" else is_set
            if not chosen:
                raise InterpolationError(name, f"required variable {name} is missing: {arg}")
            return value or ""
        if op in (":+", "+"):
            chosen = is_nonempty if op == ":+" else is_set
            return self.resolve(arg) if chosen else ""
        return value or ""

    def _value(self, name: str, *, required: bool = True) -> str | None:
        self.used.add(name)
        if name in self.env:
            return self.env[name]
        if required and name not in self.undefined:
            self.undefined.append(name)
        return None


def variables_in(text: str) -> list[str]:
    """Names referenced by `text`, in order, without resolving anything."""
    names: list[str] = []
    for match in _TOKEN.finditer(text):
        name = match.group("bare")
        if name is None and match.group("braced") is not None:
            parsed = _BRACED.match(match.group("braced"))
            name = parsed.group("name") if parsed else None
        if name and name not in names:
            names.append(name)
    return names
