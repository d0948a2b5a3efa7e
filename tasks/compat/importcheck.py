"""Import each installed distribution's modules in a fresh interpreter and say whether the GIL
stayed off. Standard library only: it runs inside the environment under test, by path.

A free-threaded CPython re-enables the GIL, with a RuntimeWarning, when it loads an extension
module that does not declare `Py_mod_gil`; unless PYTHON_GIL forces the GIL off, which hides
exactly that, so the checks run with PYTHON_GIL unset and `-W error::RuntimeWarning`. A
distribution's modules are its top-level packages and modules and every extension module it
ships. Prints one JSON object per distribution.

Usage: python -P importcheck.py NAME [NAME ...]
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.metadata
import json
import os
import re
import subprocess
import sys

GIL_WARNING = "global interpreter lock"
_LOADED = re.compile(r"to load module '([^']+)'")
TIMEOUT = 300


def modules_of(name: str) -> tuple[list[str], list[str]]:
    """(top-level modules, extension modules) of an installed distribution, from its RECORD."""
    files = importlib.metadata.distribution(name).files or []
    top: set[str] = set()
    extensions: set[str] = set()
    suffixes = sorted(importlib.machinery.EXTENSION_SUFFIXES, key=len, reverse=True)
    for file in files:
        parts = file.parts
        if not parts or parts[0] == ".." or parts[0].endswith((".dist-info", ".data")):
            continue
        leaf = parts[-1]
        stem = next((leaf[: -len(s)] for s in suffixes if leaf.endswith(s)), None)
        if stem is not None:
            dotted = [*parts[:-1], stem]
            if all(part.isidentifier() for part in dotted):
                extensions.add(".".join(dotted))
                top.add(dotted[0])
        elif leaf.endswith(".py"):
            # a module, a package, or a namespace package's folder
            top.add(parts[0][:-3] if len(parts) == 1 else parts[0])
    top = {module for module in top if module.isidentifier() and module != "__pycache__"}
    return sorted(top), sorted(extensions - top)


def child(modules: list[str]) -> dict[str, object]:
    """Import `modules` in this process: failures by module, the extension module whose load
    turned the GIL on (if any: the imports stop there, as a module that failed half-way can
    break the next), and whether the GIL is on at the end."""
    failed: dict[str, str] = {}
    gil_module = ""
    for module in modules:
        try:
            importlib.import_module(module)
        except RuntimeWarning as warning:
            failed[module] = f"RuntimeWarning: {warning}"
            if GIL_WARNING in str(warning):
                named = _LOADED.search(str(warning))
                gil_module = named.group(1) if named else module
                break
        except BaseException as error:  # an import may raise anything, SystemExit included
            failed[module] = f"{type(error).__name__}: {error}"
    enabled = getattr(sys, "_is_gil_enabled", lambda: True)()
    return {"failed": failed, "gil_module": gil_module, "gil_enabled": enabled}


def _run(modules: list[str], strict: bool) -> dict[str, object] | None:
    """`child(modules)` in a fresh interpreter (PYTHON_GIL unset), with RuntimeWarnings as
    errors when `strict`; None when it crashed or hung."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHON_GIL"}
    warnings = ["-W", "error::RuntimeWarning"] if strict else []
    command = [sys.executable, "-P", *warnings, __file__, "--child", *modules]
    try:
        run = subprocess.run(
            command, capture_output=True, text=True, env=env, check=False, timeout=TIMEOUT
        )
        data: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, ValueError, IndexError):
        return None
    return data


def check(name: str) -> dict[str, object]:
    """One distribution: do its modules import, and does the GIL stay off? A strict pass finds
    the module that turns the GIL on; when it fails, a lenient pass says whether the modules
    import at all."""
    try:
        top, extensions = modules_of(name)
    except importlib.metadata.PackageNotFoundError:
        missing = {name: "not installed"}
        return {
            "name": name,
            "modules": [],
            "extensions": [],
            "imports": False,
            "gil_enabled": None,
            "gil_module": "",
            "failed": missing,
            "gil_by_dependency": False,
        }
    result: dict[str, object] = {"name": name, "modules": top, "extensions": extensions}
    if not top:
        return {
            **result,
            "imports": None,
            "gil_enabled": None,
            "gil_module": "",
            "failed": {},
            "gil_by_dependency": False,
        }
    strict = _run([*top, *extensions], strict=True)
    lenient = strict if strict and not strict["failed"] else _run([*top, *extensions], False)
    if lenient is None:
        crashed = {top[0]: "the interpreter crashed or hung importing it"}
        return {
            **result,
            "imports": False,
            "gil_enabled": None,
            "gil_module": "",
            "failed": crashed,
            "gil_by_dependency": False,
        }
    failed = lenient["failed"]
    assert isinstance(failed, dict)
    gil_module = str(strict["gil_module"]) if strict else ""
    # a module of another distribution (a dependency this one imports) is that one's doing
    own = gil_module.partition(".")[0] in top
    return {
        **result,
        "imports": not any(module in failed for module in top),
        "gil_enabled": (own and bool(gil_module)) or (not gil_module and lenient["gil_enabled"]),
        "gil_module": gil_module,
        "gil_by_dependency": bool(gil_module) and not own,
        "failed": failed,
    }


def main(argv: list[str]) -> int:
    """Check each distribution named in `argv`, or import the modules after `--child`."""
    if argv[:1] == ["--child"]:
        print(json.dumps(child(argv[1:])))
        return 0
    for name in argv:
        print(json.dumps(check(name)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
