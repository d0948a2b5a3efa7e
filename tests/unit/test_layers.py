"""The layers of the task library, checked on the import graph a static reader builds (grimp,
import-linter's): the contract in pyproject.toml holds, there are no import cycles, and every
task a module defines is one `invoke --list` shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest
from invoke.tasks import Task

import tasks
from tests.clirun import REPO


def test_the_layers_contract_holds() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 kept, 0 broken" in result.stdout


def _cycles(graph: grimp.ImportGraph) -> list[set[str]]:
    """Groups of modules that import each other, directly or through others (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(group)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_the_import_graph_has_no_cycles() -> None:
    graph = grimp.build_graph("tasks")
    arrows = sum(len(graph.find_modules_directly_imported_by(m)) for m in graph.modules)
    assert arrows >= 100, f"a static reader sees {arrows} imports"
    # the package itself hands invoke its namespace when asked: that import is by design
    cycles = [c for c in _cycles(graph) if c != {"tasks", "tasks.namespace"}]
    assert cycles == []


def test_every_task_defined_is_one_invoke_lists() -> None:
    collection = tasks.ns
    listed = set(collection.task_names)
    for path in sorted((REPO / "tasks").glob("*_tasks.py")):
        module = __import__(f"tasks.{path.stem}", fromlist=["_"])
        defined = {name for name, value in vars(module).items() if isinstance(value, Task)}
        for name in defined:
            task = getattr(module, name)
            assert any(collection[full] is task for full in listed), (
                f"{path.name}: task {name} is defined but not listed: add its module to "
                "COLLECTIONS in tasks/namespace.py"
            )


def test_a_task_defined_in_its_module_is_listed_with_no_other_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tasks import namespace, stack_tasks, up_tasks

    def extra(c: object) -> None:
        """A task added to a module."""

    monkeypatch.setattr(stack_tasks, "stack_extra", Task(extra, name="extra"), raising=False)
    monkeypatch.setattr(up_tasks, "again", Task(extra, name="again"), raising=False)
    names = set(namespace.build().task_names)
    assert {"stack.extra", "again", "stack.up", "up"} <= names
    assert len(names) == len(tasks.ns.task_names) + 2
