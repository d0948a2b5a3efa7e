"""`invoke TASK --help` for tasks that take a positional argument.

Invoke hands a trailing `--help` to such a task as the argument's value (`invoke phase --help`
would look for phase "--help"); these tasks show their help instead.
"""

from __future__ import annotations

import subprocess
import sys

from invoke.exceptions import Exit

HELP_FLAGS = ("-h", "--help")


def show_help_if_asked(value: str, task_name: str) -> None:
    """Print `task_name`'s help and stop when the positional `value` is a help flag."""
    if value in HELP_FLAGS:
        shown = subprocess.run([sys.executable, "-m", "invoke", "--help", task_name], check=False)
        raise Exit(code=shown.returncode)
