"""Asking before a task destroys something (data, live sessions)."""

from __future__ import annotations

import sys

from tasks.errors import UsageError


def confirmed(question: str, refusal: str) -> bool:
    """True when the person at the terminal types `yes` to `question`; with no terminal to ask
    on, a `UsageError` with `refusal` (which names the flag that confirms)."""
    if not sys.stdin.isatty():
        raise UsageError(refusal)
    return input(f"{question} Type 'yes' to go on: ").strip() == "yes"
