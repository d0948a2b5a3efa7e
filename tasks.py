"""Task library for the MCP cluster dev environment: `invoke --list` shows every task."""

import sys
from pathlib import Path

# invoke turns bytecode writing off before it loads this file, so every run would compile the
# whole library again; keep Python's own cache unless the user turned it off (-B or
# PYTHONDONTWRITEBYTECODE).
if not sys.flags.dont_write_bytecode:
    sys.dont_write_bytecode = False

# `tasks.py` and the `tasks/` folder are one package: invoke, pytest and mypy all import this
# module as `tasks`, and its submodules live in `tasks/`.
__path__ = [str(Path(__file__).resolve().with_name("tasks"))]

from tasks.namespace import namespace as ns

__all__ = ["ns"]
