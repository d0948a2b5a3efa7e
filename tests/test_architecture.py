"""The layering ARCHITECTURE.md promises, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.clirun import REPO, invoke

TASKS = REPO / "tasks"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_task_module_imports_another() -> None:
    modules = sorted(TASKS.glob("*_tasks.py"))
    names = {f"tasks.{p.stem}" for p in modules}
    for path in modules:
        others = (_imports(path) & names) - {f"tasks.{path.stem}"}
        assert not others, f"{path.name} imports {sorted(others)}: move the shared code out"


def test_the_model_never_reaches_docker() -> None:
    for path in sorted((TASKS / "model").glob("*.py")):
        reached = {
            m for m in _imports(path) if m.split(".")[0] in ("python_on_whales", "subprocess")
        }
        assert not reached, f"{path.name} imports {sorted(reached)}"
        assert not {m for m in _imports(path) if m.startswith("tasks.engine")}, path.name


def test_invoke_finds_the_tasks_from_the_root_and_from_a_subfolder() -> None:
    for folder in (REPO, REPO / ".devcontainer" / "docs"):
        result = invoke("--list", cwd=folder)
        assert result.returncode == 0, result.stderr
        assert "up" in result.stdout.split() and "python.pin" in result.stdout
