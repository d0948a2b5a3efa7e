"""What may reach a terminal: text from outside (a server's answer, a file's content) loses
the characters a terminal acts on instead of showing."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` without the characters a terminal acts on instead of showing: escape sequences'
    ESC and CSI, bells, backspaces, carriage returns, and the bidirectional overrides that
    reorder what is shown. Newlines and tabs stay."""
    return _CONTROL.sub("", text)
