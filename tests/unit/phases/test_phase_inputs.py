"""Phases on files `invoke check` would reject, and run from a copy of the task library that is
not a git clone: one clear error (exit 2, the file, the key or line, the fix) or the phase's
work, never a traceback."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from invoke.context import Context
from invoke.exceptions import Exit

from tasks import phase_tasks
from tasks.errors import StackError
from tasks.phases.catalog import build_phases, report_status
from tasks.phases.runner import run_phase
from tasks.phases.template import listed_files
from tasks.phases.workspace import TEMPLATE_PATHS, Workspace
from tests.clirun import REPO
from tests.legacy_fixture import build_legacy_repo, git
from tests.tree import write_tree

DEVCONTAINER = ".devcontainer/devcontainer.json"


@pytest.fixture(scope="module")
def before_phase_5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A legacy repository that phases 1 to 4 migrated."""
    root = build_legacy_repo(tmp_path_factory.mktemp("phases") / "repo")
    phases = build_phases(REPO)
    for number in (1, 2, 3, 4):
        run_phase(Workspace.open(root, REPO), phases[number], False, True, lambda _: None)
    return root


def _edit(relative: str, change: Callable[[str], str]) -> Callable[[Path], object]:
    return lambda root: (root / relative).write_text(change((root / relative).read_text()))


def _replace(relative: str, make: Callable[[Path], object]) -> Callable[[Path], object]:
    def mutate(root: Path) -> None:
        (root / relative).unlink()
        make(root / relative)

    return mutate


def _servers_as_a_list(root: Path) -> None:
    (root / ".vscode").mkdir(exist_ok=True)
    (root / ".vscode/mcp.json").write_text('{\n  "servers": []\n}\n')


# (case, mutation, file the error names, words of the problem, key it names)
REJECTED: list[tuple[str, Callable[[Path], object], str, str, str | None]] = [
    ("customizations is a string", _edit(DEVCONTAINER, lambda t: t.replace(
     '"customizations": {', '"customizations": "none", "unused": {')), DEVCONTAINER,
     "customizations is a string, where this step puts customizations.vscode.mcp.servers",
     "customizations"),
    ("customizations.vscode is an array", _edit(DEVCONTAINER, lambda t: t.replace(
     '"vscode": {', '"vscode": [], "unused": {')), DEVCONTAINER, "is an array",
     "customizations.vscode"),
    ("devcontainer.json in Latin-1", lambda root: (root / DEVCONTAINER).write_bytes(
     b"// caf\xe9\n" + (root / DEVCONTAINER).read_bytes()), DEVCONTAINER, "is not UTF-8", None),
    ("devcontainer.json replaced by a folder", _replace(DEVCONTAINER, Path.mkdir), DEVCONTAINER,
     "is a folder, not a file", None),
    ("devcontainer.json nested too deep", lambda root: (root / DEVCONTAINER).write_text(
     "[" * 5000 + "]" * 5000), DEVCONTAINER, "nested more than 64 levels deep", None),
    ("servers of .vscode/mcp.json is an array", _servers_as_a_list, ".vscode/mcp.json",
     "servers is an array", "servers"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "mutate", "file", "words", "key"), REJECTED, ids=[c[0] for c in REJECTED]
)
def test_phase_5_names_what_check_rejects(
    before_phase_5: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    mutate: Callable[[Path], object],
    file: str,
    words: str,
    key: str | None,
) -> None:
    root = tmp_path / "repo"
    shutil.copytree(before_phase_5, root, symlinks=True)
    mutate(root)
    with pytest.raises(Exit) as stopped:
        phase_tasks.phase_run(Context(), "5", root=str(root), json=True)
    error = json.loads(capsys.readouterr().out)["error"]
    assert stopped.value.code == 2, error
    assert error["file"] == str(root / file) or str(root / file) in error["problem"], error
    assert words in error["problem"] and error["fix"], error
    assert error["key"] == key, error


def _copy_of_the_library(folder: Path) -> Path:
    """The template part of the task library, copied without its git folder."""
    for name in (".gitignore", *TEMPLATE_PATHS):
        source, target = REPO / name, folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns(".env", "certs"))
        else:
            shutil.copy(source, target)
    return folder


def test_the_template_of_a_copy_is_what_git_would_list(tmp_path: Path) -> None:
    copy = _copy_of_the_library(tmp_path / "library")
    local = {
        ".devcontainer/.env": "DB_PASSWORD=x\n",
        ".devcontainer/.versions.json.3f2a.partial": "{}",
        ".devcontainer/containers/buildx/certs/ca.pem": "key\n",
        ".devcontainer/mcp/fetch/__pycache__/x.pyc": "",
    }
    write_tree(copy, local)
    tracked = git(REPO, "ls-files", "--", *TEMPLATE_PATHS).splitlines()
    assert listed_files(copy, TEMPLATE_PATHS) == sorted(tracked)


def test_phases_run_from_a_copy_of_the_library_that_is_not_a_clone(tmp_path: Path) -> None:
    copy = _copy_of_the_library(tmp_path / "library")
    legacy = build_legacy_repo(tmp_path / "repo")
    phases = build_phases(copy)
    for number in (1, 2):
        run_phase(Workspace.open(legacy, copy), phases[number], False, True, lambda _: None)
    shown = run_phase(Workspace.open(legacy, copy), phases[3], True, False, lambda _: None)
    assert "+++ b/.devcontainer/containers/buildx/Dockerfile" in "".join(shown.diffs)


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ('{"machine": {"measured_at": "2026-11-28T10:00:00Z"}}', "done"),
        ('{"machine": {}}', "pending"),
        ("[1, 2]", "pending"),
    ],
)
def test_phase_12_reads_its_report_through_the_reader(
    tmp_path: Path, text: str, state: str
) -> None:
    from tasks.perf.report import REPORT_DIR

    (tmp_path / REPORT_DIR).mkdir(parents=True)
    (tmp_path / REPORT_DIR / "report.json").write_text(text)
    assert report_status(tmp_path).state == state


def test_phase_12_names_a_report_that_is_not_json(tmp_path: Path) -> None:
    from tasks.perf.report import REPORT_DIR

    (tmp_path / REPORT_DIR).mkdir(parents=True)
    (tmp_path / REPORT_DIR / "report.json").write_text('{"machine": ')
    with pytest.raises(StackError) as refused:
        report_status(tmp_path)
    assert refused.value.fix == "run `invoke phase 12` again" and refused.value.line == 1
