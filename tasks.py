"""Task library for the MCP cluster dev environment: `invoke --list` shows every task.

Invoke loads this file as the module `tasks`; the library itself is the package `tasks/`, which
this file loads under the same name (so that every tool, invoke, pytest, mypy and a static
import reader alike, sees one package) and whose namespace it hands to invoke.
"""

import importlib.util
import sys
from pathlib import Path

# invoke turns bytecode writing off before it loads this file, so every run would compile the
# whole library again; keep Python's own cache unless the user turned it off (-B or
# PYTHONDONTWRITEBYTECODE).
if not sys.flags.dont_write_bytecode:
    sys.dont_write_bytecode = False

_FOLDER = Path(__file__).resolve().with_name("tasks")
_SPEC = importlib.util.spec_from_file_location(
    "tasks", _FOLDER / "__init__.py", submodule_search_locations=[str(_FOLDER)]
)
assert _SPEC is not None and _SPEC.loader is not None
_PACKAGE = importlib.util.module_from_spec(_SPEC)
sys.modules["tasks"] = _PACKAGE
_SPEC.loader.exec_module(_PACKAGE)

ns = _PACKAGE.ns

__all__ = ["ns"]
