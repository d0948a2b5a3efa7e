"""`nox -s mutants`: every module with decisions belongs to a group, the groups and pyproject's
[tool.mutmut] name the same files, the engine's group never calls Docker, and the scores are
kept with the date, commit and sample size of their run."""

from __future__ import annotations

import ast
import json
import tomllib
from pathlib import Path

import pytest

from tests import mutants
from tests.mutants import GROUPS, ROOT, Score

# Modules no group mutates, and why: thin task bodies, the namespace, and the engine's calls
# into python-on-whales (their decisions live in the engine group's modules).
NOT_MUTATED = {
    "tasks/__init__.py": "builds the namespace on demand",
    "tasks/namespace.py": "registers the tasks",
    "tasks/cachedir.py": "one folder name",
    "tasks/confirm.py": "asks on a terminal",
    "tasks/helpflag.py": "hands --help to invoke",
    "tasks/engine/__init__.py": "empty",
    "tasks/engine/bake.py": "runs docker buildx bake",
    "tasks/engine/cache.py": "asks buildx for its cache",
    "tasks/engine/client.py": "makes the docker client",
    "tasks/engine/doctor.py": "asks the engine and PATH (prerequisites.py judges)",
    "tasks/engine/reaper.py": "lists and stops containers",
    "tasks/engine/registry.py": "pushes and pulls",
    "tasks/engine/restore.py": "carries out a restore plan (restoreplan.py decides)",
    "tasks/engine/seed.py": "builds the stand-in images",
    "tasks/engine/stack.py": "drives compose (status.py reads what it returns)",
    "tasks/engine/verify.py": "runs checks in the stack's containers",
    "tasks/engine/volumes.py": "runs the volume helper container",
}


def _only_mutate() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return list(config["only_mutate"])


def test_the_groups_and_pyproject_name_the_same_files() -> None:
    globs = sorted(p if p.endswith(".py") else f"{p}/*" for g in GROUPS.values() for p in g)
    assert globs == sorted(_only_mutate())
    for paths in GROUPS.values():
        assert all((ROOT / path).exists() for path in paths), paths


def test_every_module_with_decisions_is_mutated() -> None:
    grouped = {path for group in GROUPS for path in mutants.sources(group)}
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "tasks").rglob("*.py")}
    left = {m for m in modules - grouped if not m.endswith("_tasks.py")}
    assert sorted(left) == sorted(NOT_MUTATED)
    assert not grouped & set(NOT_MUTATED)


def test_the_engine_group_never_imports_python_on_whales() -> None:
    for path in mutants.sources("engine"):
        tree = ast.parse((ROOT / path).read_text())
        imported = {
            name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for name in (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
            )
        }
        assert not {n for n in imported if n.split(".")[0] == "python_on_whales"}, path


def test_mutants_are_named_as_their_modules_are_loaded() -> None:
    assert mutants.module_name("tasks/rules/base.py") == "tasks.rules.base"
    assert mutants.module_name("tasks/rules/__init__.py") == "tasks.rules"
    assert mutants.module_name(".devcontainer/mcp/runtime/mcpignore.py") == "mcpignore"
    assert mutants.patterns("runtime") == ["mcp_launch.*", "mcp_relay.*", "mcpignore.*"]
    assert mutants.patterns("engine") == [
        "tasks.engine.parallel.*",
        "tasks.engine.prerequisites.*",
        "tasks.engine.restoreplan.*",
        "tasks.engine.status.*",
    ]


def test_scores_are_kept_with_their_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = tmp_path / "runs.json"
    monkeypatch.setattr(mutants, "RUNS", runs)
    monkeypatch.setattr(mutants, "measured_commit", lambda: "0123456789ab")
    mutants.record_run(["servers"], 40, "7")
    mutants.record_run(["selection"], 0, "7")
    recorded = json.loads(runs.read_text())
    assert recorded["servers"]["sample"] == 40 and recorded["selection"]["sample"] == 0
    assert recorded["servers"]["seed"] == "7" and "seed" not in recorded["selection"]
    assert recorded["servers"]["commit"] == "0123456789ab"
    assert recorded["servers"]["date"].endswith(" UTC")
    servers = Score(killed=37, equivalent=1, unchecked=200, missed=[("a", "survived")] * 2)
    mutants.write_scores({"servers": servers}, tmp_path / "out")
    mutants.write_scores({"selection": Score(killed=70, equivalent=2)}, tmp_path / "out")
    kept = json.loads((tmp_path / "out/scores.json").read_text())
    assert kept["servers"]["killed"] == 37 and kept["servers"]["counted"] == 39
    assert kept["servers"]["percent"] == 94.9 and kept["servers"]["not_run"] == 200
    table = (tmp_path / "out/scores.md").read_text().splitlines()
    date = recorded["servers"]["date"]
    assert table[:2] == ["# Mutation scores (`nox -s mutants`)", ""]
    assert table[4] == (
        f"| servers | 37/39 | 94.9% | 1 | a sample of 40 (seed 7) of 240 mutants | {date} "
        "| 0123456789ab |"
    )
    assert table[5] == (
        f"| selection | 70/70 | 100.0% | 2 | all 72 mutants | {recorded['selection']['date']} "
        "| 0123456789ab |"
    )


def test_an_equivalent_mutant_needs_a_reason(tmp_path: Path) -> None:
    listed = tmp_path / "equivalent.txt"
    listed.write_text("# comment\n\ntasks.x.x_f__mutmut_1  # same codec\ntasks.x.x_f__mutmut_2\n")
    with pytest.raises(
        SystemExit, match=r"equivalent\.txt:4: say why tasks\.x\.x_f__mutmut_2 is equivalent\Z"
    ):
        mutants.read_equivalent(listed)
    listed.write_text("tasks.x.x_f__mutmut_1  # same codec\n")
    assert mutants.read_equivalent(listed) == {"tasks.x.x_f__mutmut_1": "same codec"}
