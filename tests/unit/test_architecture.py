"""The layering ARCHITECTURE.md promises, checked on the source."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

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


def _calls_task(node: ast.AST) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Name) and target.id == "task"


def test_task_modules_hold_only_tasks() -> None:
    """Every function of a task module declares a task: decorated with `task`, or a factory
    that makes tasks (`build.all`, `verify.<section>`). Helpers live in the layers."""
    for path in sorted(TASKS.glob("*_tasks.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            declared = any(_calls_task(d) for d in node.decorator_list)
            factory = any(isinstance(n, ast.Call) and _calls_task(n) for n in ast.walk(node))
            assert declared or factory, f"{path.name}: {node.name} is a helper; move it out"


def test_every_task_keeps_the_one_contract() -> None:
    """Tasks are declared through tasks.contract (exits mapped in one place) and hand their
    results to its renderer: no task module builds rich tables, catches engine or input
    errors itself, or declares tasks with invoke's bare decorator."""
    for path in sorted(TASKS.glob("*_tasks.py")):
        imported = _imports(path)
        assert "tasks.contract.task" in imported, f"{path.name}: use tasks.contract.task"
        banned = {
            "invoke.tasks",
            "tasks.contract.exits",
        }
        assert not imported & banned, f"{path.name} imports {sorted(imported & banned)}"
        text = path.read_text(encoding="utf-8")
        for made_here in ("Table(", "except EngineError", "except StackError", "errors.print("):
            assert made_here not in text, f"{path.name}: {made_here} belongs in tasks.contract"


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


def test_installing_the_project_installs_its_dependencies_only(tmp_path: Path) -> None:
    """The task library runs from the checkout; a wheel must not ship a partial `tasks`."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, tmp_path / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "-w", str(tmp_path / "dist"), str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(next((tmp_path / "dist").glob("*.whl"))) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert [n for n in names if ".dist-info/" not in n] == []
    required = {
        Requirement(line.removeprefix("Requires-Dist:")).name
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    }
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert {Requirement(d).name for d in declared} <= required


def test_nox_and_pytest_find_the_tasks_from_a_subfolder() -> None:
    folder = REPO / ".devcontainer" / "docs"
    sessions = subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(REPO / "noxfile.py"), "-l"],
        cwd=folder, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert sessions.returncode == 0 and "freethreaded" in sessions.stdout, sessions.stderr
    imported = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--co",
         str(REPO / "tests/unit/model/test_model.py")],
        cwd=folder, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert imported.returncode == 0 and "error" not in imported.stdout.lower(), imported.stdout


def test_unit_tests_mirror_the_package() -> None:
    """Each folder of tests/unit/ is a package of tasks/ (or the client-side runtime), and the
    unit tests live there: tests/ itself keeps the shared helpers and the engine tiers."""
    unit = REPO / "tests" / "unit"
    packages = {p.parent.name for p in TASKS.glob("*/__init__.py")} | {"runtime"}
    folders = {p.name for p in unit.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders <= packages, f"tests/unit/ folders with no package: {sorted(folders - packages)}"
    assert all((unit / name / "__init__.py").is_file() for name in folders)
    loose = sorted(p.name for p in (REPO / "tests").glob("test_*.py"))
    assert not loose, f"unit tests outside tests/unit/<layer>/: {loose}"
