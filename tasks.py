"""Task library for the MCP cluster dev environment: `invoke --list` shows every task."""

from pathlib import Path

# `tasks.py` and the `tasks/` folder are one package: invoke, pytest and mypy all import this
# module as `tasks`, and its submodules live in `tasks/`.
__path__ = [str(Path(__file__).resolve().with_name("tasks"))]

from tasks.namespace import namespace as ns

__all__ = ["ns"]
