"""Write a value into an env file so that compose's env-file parser reads it back unchanged.

Compose reads `.env` and `env_file:` files with one dotenv parser: an unquoted value ends at a
space or tab before `#`, loses its outer whitespace and expands `$`; a single-quoted value is
literal but cannot hold `'` and cannot end in a backslash; a double-quoted value expands `$`
and unescapes `\\\\`, `\\"`, `\\n`, `\\r`.
"""

from __future__ import annotations

import re

# Values that mean the same to every reader when written bare.
_BARE = re.compile(r"[A-Za-z0-9_./:@%+,=-]*\Z")
_DOUBLE = {"\\": "\\\\", '"': '\\"', "$": "$$", "\n": "\\n", "\r": "\\r"}


def quote_env_value(value: str) -> str:
    """`value` as it must appear after `KEY=` for compose to read exactly `value`: bare when
    nothing in it is special, else single-quoted (literal), else unquoted with `$` doubled
    when it has no outer whitespace, no quote first, no line break and no `#` after
    whitespace, else double-quoted with escapes."""
    if _BARE.match(value):
        return value
    if "'" not in value and not re.search(r"[\r\n]", value) and not value.endswith("\\"):
        return f"'{value}'"
    if (
        value == value.strip()
        and value[:1] not in ("'", '"')
        and not re.search(r"[\r\n]|\s#", value)
    ):
        return value.replace("$", "$$")
    return '"' + "".join(_DOUBLE.get(char, char) for char in value) + '"'


def env_line(key: str, value: str) -> str:
    """One `KEY=value` line (no newline) that compose reads back as `value`."""
    return f"{key}={quote_env_value(value)}"
