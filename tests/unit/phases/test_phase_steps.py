"""The phases' steps, run in this process against small git repositories: what each step
plans, what it refuses and why, what it changes, and what the runner and the state remember."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.model.envfile import parse_env_text
from tasks.phases import legacy
from tasks.phases.backup import _named_volumes, back_up_if_running
from tasks.phases.catalog import Phase
from tasks.phases.checks import (
    RecognizeLayout,
    RemoveMovedSources,
    RemoveOldFiles,
    StaticAudit,
    VerifyMoves,
    VerifyStack,
    moved_sources,
)
from tasks.phases.envmerge import _template_lines
from tasks.phases.gitrepo import GitRepo, blob_id
from tasks.phases.runner import (
    _back_up,
    _refuse_unrelated,
    is_done,
    phase_paths,
    require_earlier,
    run_phase,
    step_statuses,
)
from tasks.phases.state import PhaseState
from tasks.phases.steps import (
    BLOCKED,
    DONE,
    NOT_EXERCISED,
    PENDING,
    Action,
    ComposeFile,
    CopyFiles,
    EnvFile,
    Folders,
    JsonKeys,
    MoveService,
    Step,
    StepStatus,
    _lookup,
)
from tasks.phases.workspace import Workspace, diff
from tasks.workflows.profile import Profiled
from tests.legacy_fixture import IDENTITY, build_legacy_repo, git, write

DEVCONTAINER_JSON = """// template
{
  "name": "new",
  "service": "devcontainer",
  "customizations": {"vscode": {"mcp": {"servers": {"a": {"command": "docker"}}}}}
}
"""
TEMPLATE = {
    ".devcontainer/devcontainer.json": DEVCONTAINER_JSON,
    ".devcontainer/docker-compose.mcp.yml": "services:\n  app:\n    image: a\n",
    ".devcontainer/devcontainer.env": "# Section one\nB=2\n\n# Section two\nC=3\nTEAM_CHANNEL=t\n",
    ".devcontainer/containers/x/Dockerfile": "FROM x\n",
    ".devcontainer/scripts/run.sh": "#!/bin/sh\n",
    ".vscode/mcp.json": '{"servers": {}}\n',
    ".mcp.json": '{"mcpServers": {}}\n',
    "README.md": "# template\n",
}


@pytest.fixture(autouse=True)
def identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in IDENTITY.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def template(tmp_path: Path) -> Path:
    root = tmp_path / "template"
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=main")
    for path, text in TEMPLATE.items():
        write(root, path, text)
    (root / ".devcontainer/scripts/run.sh").chmod(0o755)
    write(root, "untracked/.devcontainer/x", "")
    git(root, "add", "--", *TEMPLATE)
    git(root, "commit", "--quiet", "-m", "template")
    return root


@pytest.fixture
def ws(tmp_path: Path, template: Path) -> Workspace:
    return Workspace.open(build_legacy_repo(tmp_path / "repo"), template)


def _run(actions: list[Action]) -> list[str]:
    for action in actions:
        action.run()
    return [action.description for action in actions]


# --- git, state and the workspace ---------------------------------------------------------


def test_blob_id_is_gits(ws: Workspace) -> None:
    (ws.root / "f").write_bytes(b"x\n")
    assert blob_id(b"x\n") == git(ws.root, "hash-object", "f").strip()
    assert blob_id(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


def test_git_repo_must_be_the_top_of_a_work_tree(tmp_path: Path, ws: Workspace) -> None:
    for folder in (tmp_path, ws.root / ".devcontainer"):
        with pytest.raises(StackError) as refused:
            GitRepo(folder)
        assert (refused.value.path, refused.value.problem, refused.value.fix) == (
            folder,
            "is not the top folder of a git work tree",
            "run phases from the repository root (or `git init` it first)",
        )


def test_git_queries(ws: Workspace, tmp_path: Path) -> None:
    repo = ws.git
    assert repo.git_dir == ws.root / ".git"
    assert repo.tracked_many((".github/services/git",)) == [
        ".github/services/git/Dockerfile",
        ".github/services/git/README.md",
        ".github/services/git/config/git.yml",
    ]
    assert blob_id((ws.root / "README.md").read_bytes()) in repo.head_blobs()
    repo.move(".github/services/git/README.md", "moved/git/README.md")
    assert repo.staged() == [".github/services/git/README.md", "moved/git/README.md"]
    assert ".github/services/git/README.md" in repo.known(".github/services/git")
    assert "moved/git/README.md" in repo.known("moved")
    repo.remove(".github/services/git/Dockerfile")
    assert not (ws.root / ".github/services/git/Dockerfile").exists()
    assert repo.identity() == "Ada Dev <ada@example.com>"
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "--quiet")
    assert GitRepo(empty).head_blobs() == set()
    assert GitRepo(empty).known(".") == []


def test_commit_stages_exactly_the_paths(ws: Workspace) -> None:
    (ws.root / "a.txt").write_text("a\n")
    (ws.root / "b.txt").write_text("b\n")
    commit = ws.git.commit(["a.txt", "gone.txt"], "add a")
    assert commit == git(ws.root, "rev-parse", "HEAD").strip()
    assert git(ws.root, "log", "-1", "--format=%s").strip() == "add a"
    assert git(ws.root, "status", "--porcelain") == "?? b.txt\n"
    assert ws.git.commit(["a.txt"], "again") is None
    assert ws.git.commit([], "nothing") is None


def test_a_failed_git_call_names_the_command(ws: Workspace) -> None:
    with pytest.raises(StackError) as failed:
        ws.git.remove("no/such/file")
    assert failed.value.problem.startswith("`git rm --quiet --` failed: fatal: ")
    assert failed.value.fix == "fix the repository state git reports, then re-run the phase"


def test_no_identity_is_refused(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    git(ws.root, "config", "--unset", "user.name")
    git(ws.root, "config", "--unset", "user.email")
    for key in IDENTITY:
        monkeypatch.delenv(key)
    for key, value in {
        "HOME": str(ws.root),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "user.useConfigOnly",
        "GIT_CONFIG_VALUE_0": "true",
    }.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(StackError) as refused:
        ws.git.identity()
    assert (refused.value.problem, refused.value.fix) == (
        "git has no identity to commit with",
        'set it: git config user.name "Your Name" && git config user.email you@example.com',
    )


def test_state_survives_and_tracks_an_unfinished_phase(tmp_path: Path) -> None:
    state = PhaseState.load(tmp_path)
    assert state == PhaseState(tmp_path / "mcp-cluster" / "phases.json")
    state.written["a"] = "1"
    assert state.begin(3) is None
    saved = json.loads(state.path.read_text())
    assert list(saved) == ["duplicates", "in_progress", "verified", "written"]
    assert saved["written"] == {"a": "1"} and saved["in_progress"]["phase"] == 3
    again = PhaseState.load(tmp_path)
    assert again.written == {"a": "1"} and again.begin(4) == 3
    again.finish()
    assert PhaseState.load(tmp_path).in_progress == {}
    assert state.path.read_text() == (
        '{\n  "duplicates": {},\n  "in_progress": {},\n  "verified": {},\n'
        '  "written": {\n    "a": "1"\n  }\n}\n'
    )


def test_state_records_when_a_phase_started(tmp_path: Path) -> None:
    state = PhaseState.load(tmp_path / "nested" / ".git")
    state.begin(2)
    assert state.path.is_file()
    started = json.loads(state.path.read_text())["in_progress"]
    assert list(started) == ["phase", "started"] and started["phase"] == 2
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", started["started"])
    assert PhaseState.load(tmp_path / "nested" / ".git").in_progress == started


STATE_FIX = (
    "delete it (the phases then treat every file as yours, and stop before overwriting one "
    "that is not committed)"
)


@pytest.mark.parametrize(
    "text",
    [
        '["written"]',
        '{"written": ["a"]}',
        '{"duplicates": "a"}',
        '{"verified": 1}',
        '{"in_progress": null}',
    ],
)
def test_a_state_file_the_phases_did_not_write_is_named(tmp_path: Path, text: str) -> None:
    path = tmp_path / "mcp-cluster" / "phases.json"
    write(tmp_path, "mcp-cluster/phases.json", text)
    with pytest.raises(StackError) as refused:
        PhaseState.load(tmp_path)
    assert (refused.value.path, refused.value.problem, refused.value.fix) == (
        path,
        "phase state is not what the phases write",
        STATE_FIX,
    )


def test_a_state_file_that_is_not_json_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "mcp-cluster" / "phases.json"
    write(tmp_path, "mcp-cluster/phases.json", '{\n  "written": {}\n  "verified": {}\n}')
    with pytest.raises(StackError) as refused:
        PhaseState.load(tmp_path)
    assert refused.value.path == path and refused.value.fix == STATE_FIX
    assert refused.value.line == 3


def test_state_keeps_what_it_reads_and_fills_what_is_missing(tmp_path: Path) -> None:
    write(tmp_path, "mcp-cluster/phases.json", '{"verified": {"10": "abc"}}')
    state = PhaseState.load(tmp_path)
    assert (state.written, state.duplicates, state.verified, state.in_progress) == (
        {},
        {},
        {"10": "abc"},
        {},
    )


def test_a_phase_left_unfinished_is_named_whatever_its_number(tmp_path: Path) -> None:
    state = PhaseState.load(tmp_path)
    state.begin(0)
    assert PhaseState.load(tmp_path).begin(1) == 0


def test_workspace_files_and_the_template(ws: Workspace, template: Path) -> None:
    assert ws.template_files == sorted(p for p in TEMPLATE if p != "README.md")
    assert ws.read("README.md") == b"# react-scuba\n" and ws.read("none") is None
    assert ws.template_text(".mcp.json") == TEMPLATE[".mcp.json"]
    assert ws.template_bytes("README.md") == b"# template\n"
    assert blob_id(b"# react-scuba\n") in ws.committed


def test_only_committed_or_phase_written_files_are_replaced(ws: Workspace) -> None:
    ws.ensure_replaceable("README.md", 4)
    ws.ensure_replaceable("absent.txt", 4)
    (ws.root / "README.md").write_text("hand edit\n")
    with pytest.raises(StackError) as refused:
        ws.ensure_replaceable("README.md", 4)
    assert (refused.value.path, refused.value.problem, refused.value.fix) == (
        ws.root / "README.md",
        "has changes that are not committed, and phase 4 would overwrite them",
        "commit them (they stay in history) or move them aside, then run the phase again",
    )
    ws.write("README.md", b"by a phase\n")
    ws.ensure_replaceable("README.md", 4)
    assert PhaseState.load(ws.git.git_dir).written == {"README.md": blob_id(b"by a phase\n")}


def test_writes_are_whole_and_keep_the_templates_mode(ws: Workspace, template: Path) -> None:
    ws.write("new/dir/run.sh", b"#!/bin/sh\n", template / ".devcontainer/scripts/run.sh")
    target = ws.root / "new/dir/run.sh"
    assert target.read_bytes() == b"#!/bin/sh\n" and os.access(target, os.X_OK)
    ws.write("plain.txt", b"x")
    assert not os.access(ws.root / "plain.txt", os.X_OK)
    assert sorted(p.name for p in (ws.root / "new/dir").iterdir()) == ["run.sh"]
    ws.remember_duplicate("a", "b")
    assert PhaseState.load(ws.git.git_dir).duplicates == {"a": "b"}


def test_diff_of_one_file() -> None:
    assert diff("f", "a\nb\n", "a\nc\n") == "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
    assert diff("f", "same\n", "same\n") == ""


# --- steps ----------------------------------------------------------------------------------


class _Fixed(Step):
    title = "fixed"

    def __init__(self, result: list[Action] | StackError) -> None:
        self.result = result

    def actions(self, ws: Workspace) -> list[Action]:
        if isinstance(self.result, StackError):
            raise self.result
        return self.result


def test_step_status(ws: Workspace) -> None:
    noop = Action("first", lambda: None)
    assert _Fixed([]).status(ws) == StepStatus(DONE, "")
    assert _Fixed([noop, Action("b", lambda: None)]).status(ws) == StepStatus(
        PENDING, "2 change(s): first"
    )
    assert _Fixed(StackError("f", "bad", "fix it", line=2)).status(ws) == StepStatus(
        BLOCKED, "f:2: bad. Fix: fix it"
    )
    assert Step().paths(ws) == [] and Step().notes(ws) == []
    with pytest.raises(NotImplementedError):
        Step().actions(ws)


def test_folders(ws: Workspace) -> None:
    step = Folders(("a/b", ".devcontainer"))
    assert step.title == "create the target folders"
    assert _run(step.actions(ws)) == ["mkdir a/b"]
    assert (ws.root / "a/b").is_dir() and step.actions(ws) == []


def test_move_service(ws: Workspace) -> None:
    step = MoveService("memory")
    assert step.title == "move .github/services/memory/ to .devcontainer/mcp/memory/"
    # README.md already sits at its new home with the same content: kept for cleanup
    assert _run(step.actions(ws)) == [
        "git mv .github/services/memory/Dockerfile .devcontainer/mcp/memory/Dockerfile",
        "keep .github/services/memory/README.md: .devcontainer/mcp/memory/README.md already "
        "has it (cleanup removes it)",
        "git mv .github/services/memory/config/memory.yml "
        ".devcontainer/mcp/memory/config/memory.yml",
    ]
    assert step.actions(ws) == []
    assert ws.state.duplicates == {
        ".github/services/memory/README.md": blob_id(b"# memory\n\nThe memory service.\n")
    }
    assert step.paths(ws) == [
        ".github/services/memory/Dockerfile",
        ".devcontainer/mcp/memory/Dockerfile",
        ".github/services/memory/README.md",
        ".devcontainer/mcp/memory/README.md",
        ".github/services/memory/config/memory.yml",
        ".devcontainer/mcp/memory/config/memory.yml",
    ]


def test_move_service_skips_a_recorded_duplicate(ws: Workspace) -> None:
    readme = ".github/services/memory/README.md"
    ws.remember_duplicate(readme, blob_id((ws.root / readme).read_bytes()))
    assert [a.description.split()[1] for a in MoveService("memory").actions(ws)] == [
        "mv",
        "mv",
    ]


def test_move_service_refuses_a_different_file_at_the_target(ws: Workspace) -> None:
    write(ws.root, ".devcontainer/mcp/git/Dockerfile", "FROM other\n")
    with pytest.raises(StackError) as refused:
        MoveService("git").actions(ws)
    assert (refused.value.path, refused.value.problem, refused.value.fix) == (
        ws.root / ".devcontainer/mcp/git/Dockerfile",
        "already exists and differs from .github/services/git/Dockerfile",
        "merge the two by hand, delete the one you do not keep, then re-run",
    )


def test_copy_files(ws: Workspace) -> None:
    step = CopyFiles(
        "copy",
        (".devcontainer/scripts/", ".devcontainer/devcontainer.env", ".mcp.json"),
        (".mcp.json",),
    )
    step.phase = 3
    assert step.paths(ws) == [".devcontainer/devcontainer.env", ".devcontainer/scripts/run.sh"]
    actions = step.actions(ws)
    assert [a.description for a in actions] == [
        "update .devcontainer/devcontainer.env",
        "create .devcontainer/scripts/run.sh",
    ]
    assert (
        actions[1].diff
        == "--- a/.devcontainer/scripts/run.sh\n+++ b/.devcontainer/scripts/run.sh\n@@ -0,0 +1 @@\n+#!/bin/sh\n"
    )
    assert actions[0].diff.startswith("--- a/.devcontainer/devcontainer.env\n")
    _run(actions)
    assert os.access(ws.root / ".devcontainer/scripts/run.sh", os.X_OK)
    assert step.actions(ws) == []
    (ws.root / ".devcontainer/devcontainer.env").write_text("mine\n")
    with pytest.raises(StackError) as refused:
        step.actions(ws)
    assert refused.value.problem == (
        "has changes that are not committed, and phase 3 would overwrite them"
    )


def test_copy_files_removes_what_the_template_retired(ws: Workspace) -> None:
    """A retired file goes, unless it holds an uncommitted edit; the phase commits the removal."""
    old = ".devcontainer/old/Dockerfile"
    write(ws.root, old, "FROM x\n")
    git(ws.root, "add", old)
    git(ws.root, "commit", "--quiet", "-m", "old")
    step = CopyFiles("copy", (".devcontainer/scripts/",), retired=(old,))
    step.phase = 4
    assert step.paths(ws) == [".devcontainer/scripts/run.sh", old]
    fresh = Workspace.open(ws.root, ws.template)
    (ws.root / old).write_text("FROM mine\n")
    with pytest.raises(StackError, match="phase 4 would overwrite them"):
        step.actions(fresh)
    assert (ws.root / old).read_text() == "FROM mine\n"
    git(ws.root, "checkout", "--", old)
    assert _run(step.actions(fresh)) == [f"remove {old}", "create .devcontainer/scripts/run.sh"]
    assert not (ws.root / old).exists() and step.actions(fresh) == []


def test_copy_files_skips_equal_files_and_shows_binary_ones(ws: Workspace, template: Path) -> None:
    (ws.root / ".devcontainer/devcontainer.env").write_bytes(
        (template / ".devcontainer/devcontainer.env").read_bytes()
    )
    (template / ".devcontainer/scripts/blob").write_bytes(b"\xff\x00\n")
    git(template, "add", ".devcontainer/scripts/blob")
    git(template, "commit", "--quiet", "-m", "blob")
    step = CopyFiles("copy", (".devcontainer/devcontainer.env", ".devcontainer/scripts/"))
    fresh = Workspace.open(ws.root, template)
    actions = step.actions(fresh)
    assert [a.description for a in actions] == [
        "create .devcontainer/scripts/blob",
        "create .devcontainer/scripts/run.sh",
    ]
    assert "+\ufffd\x00\n" in actions[0].diff


def test_compose_file_created_when_missing(ws: Workspace) -> None:
    git(ws.root, "rm", "--quiet", ".devcontainer/docker-compose.mcp.yml")
    step = ComposeFile("rewrite", (".devcontainer/docker-compose.mcp.yml",))
    assert [a.description for a in step.actions(ws)] == [
        "create .devcontainer/docker-compose.mcp.yml"
    ]


def test_compose_file_keeps_services_the_plan_does_not_know(ws: Workspace) -> None:
    step = ComposeFile("rewrite", (".devcontainer/docker-compose.mcp.yml",))
    assert [a.description for a in step.actions(ws)] == [
        "update .devcontainer/docker-compose.mcp.yml"
    ]
    compose = ws.root / ".devcontainer/docker-compose.mcp.yml"
    compose.write_text(
        compose.read_text().replace("services:\n", "services:\n  redis:\n    image: redis\n")
    )
    git(ws.root, "commit", "--quiet", "-am", "redis")
    with pytest.raises(StackError) as refused:
        step.actions(Workspace.open(ws.root, ws.template))
    assert (refused.value.problem, refused.value.fix, refused.value.key) == (
        "defines service 'redis', which the new compose file would drop",
        "move 'redis' to its own compose file (or into the template) first",
        "services.redis",
    )
    compose.write_text("services: [\n")
    git(ws.root, "commit", "--quiet", "-am", "broken")
    with pytest.raises(StackError) as broken:
        step.actions(Workspace.open(ws.root, ws.template))
    assert broken.value.problem.startswith("invalid YAML: ") and broken.value.line == 2
    assert broken.value.fix == "fix the YAML syntax (indentation, quotes, colons)"
    compose.write_text("services:\n  app:\n    image: old\n")
    git(ws.root, "commit", "--quiet", "-am", "known")
    assert len(step.actions(Workspace.open(ws.root, ws.template))) == 1


def test_json_keys_edit_in_place(ws: Workspace) -> None:
    path = ".devcontainer/devcontainer.json"
    step = JsonKeys(
        "keys",
        path,
        (("name",), ("customizations", "vscode", "mcp", "servers", "a")),
        (("image",), ("features",)),
    )
    assert step.paths(ws) == [path]
    actions = step.actions(ws)
    assert [a.description for a in actions] == [f"edit {path}"]
    assert actions[0].diff.startswith(f"--- a/{path}\n+++ b/{path}\n")
    _run(actions)
    text = (ws.root / path).read_text()
    assert text.startswith("// Legacy dev container: one image, Python from a feature.\n{\n")
    assert '"name": "new"' in text and '"image"' not in text and '"features"' not in text
    assert '"extensions": ["dbaeumer.vscode-eslint"]' in text
    assert '"servers": {\n' in text and '"command": "docker"' in text
    assert step.actions(ws) == []
    assert ws.state.written[path] == blob_id(text.encode())


def test_json_keys_create_a_missing_file_and_refuse_a_broken_one(ws: Workspace) -> None:
    step = JsonKeys("keys", ".vscode/mcp.json", (("servers",),))
    actions = step.actions(ws)
    assert [a.description for a in actions] == ["create .vscode/mcp.json"]
    assert actions[0].diff == diff(".vscode/mcp.json", "", TEMPLATE[".vscode/mcp.json"])
    _run(actions)
    assert (ws.root / ".vscode/mcp.json").read_text() == TEMPLATE[".vscode/mcp.json"]
    (ws.root / ".vscode/mcp.json").write_text('{"servers": ')
    with pytest.raises(StackError) as refused:
        step.actions(ws)
    assert refused.value.problem.startswith("is not valid JSONC: ")
    assert (refused.value.path, refused.value.fix) == (
        ws.root / ".vscode/mcp.json",
        "fix the syntax",
    )


def test_json_keys_leave_an_equal_value_as_written(ws: Workspace, template: Path) -> None:
    (template / ".vscode/mcp.json").write_text('{"servers": {"a": {"command": "x"}}}\n')
    git(template, "commit", "--quiet", "-am", "a server")
    (ws.root / ".vscode").mkdir()
    (ws.root / ".vscode/mcp.json").write_text('{"servers": {"a":{"command":"x"}}}\n')
    step = JsonKeys("keys", ".vscode/mcp.json", (("servers", "a"),))
    assert step.actions(Workspace.open(ws.root, template)) == []


def test_lookup() -> None:
    data = {"a": {"b": 1}}
    assert _lookup(data, ("a", "b")) == 1
    assert _lookup(data, ("a",)) == {"b": 1}
    assert _lookup(data, ("a", "c")) is None
    assert _lookup(data, ("a", "b", "c")) is None
    assert _lookup(data, ()) == data


def test_env_file_moves_secrets_out_of_the_committed_file(ws: Workspace) -> None:
    path = ".devcontainer/devcontainer.env"
    (ws.root / ".devcontainer/.env").write_text("OTHER=1\n")
    step = EnvFile(path, ".devcontainer/.env", removed=("GITHUB_MCP_IP", "PYTHON_GIL"))
    assert step.paths(ws) == [path] and step.title == "update the environment file"
    actions = step.actions(ws)
    assert [a.description for a in actions] == [
        "move GITHUB_TOKEN to .devcontainer/.env (gitignored); git history keeps the old "
        "values: rotate them",
        f"edit {path}",
    ]
    _run(actions)
    secrets = ws.root / ".devcontainer/.env"
    assert secrets.read_text() == "OTHER=1\nGITHUB_TOKEN=ghp_fixturetoken0000000000000000000000\n"
    assert secrets.stat().st_mode & 0o777 == 0o600
    text = (ws.root / path).read_text()
    assert "GITHUB_TOKEN" not in text and "GITHUB_MCP_IP" not in text and "PYTHON_GIL" not in text
    assert text.endswith("# Section one\nB=2\n\n# Section two\nC=3\n")
    assert "TEAM_CHANNEL=dev-env\n" in text
    assert step.actions(ws) == []


def test_env_file_moves_several_secrets_to_a_new_file(ws: Workspace) -> None:
    path = ".devcontainer/devcontainer.env"
    (ws.root / path).write_text("GITHUB_TOKEN=t\nPOSTGRES_PASSWORD=p\nB=2\n")
    actions = EnvFile(path, ".devcontainer/.env", removed=()).actions(ws)
    assert actions[0].description == (
        "move GITHUB_TOKEN, POSTGRES_PASSWORD to .devcontainer/.env (gitignored)"
    )
    assert actions[1].diff.startswith(f"--- a/{path}\n+++ b/{path}\n")
    assert "\n-GITHUB_TOKEN=t\n-POSTGRES_PASSWORD=p\n" in actions[1].diff
    _run(actions)
    assert (ws.root / ".devcontainer/.env").read_text() == "GITHUB_TOKEN=t\nPOSTGRES_PASSWORD=p\n"


def test_moved_secrets_keep_their_exact_values(ws: Workspace) -> None:
    """Quoted, with `$`, `#`, quotes, backslashes and outer spaces: compose reads from .env
    exactly what it read from the committed file; the new lines start on a line of their own
    and the file is private from its first byte."""
    path = ".devcontainer/devcontainer.env"
    (ws.root / path).write_text(
        "POSTGRES_PASSWORD='pa$$w0rd'\n"
        "MARIADB_ROOT_PASSWORD='\"s3cret #1\"'\n"
        "MARIADB_PASSWORD=a'b\"c\\d\n"
        "GITHUB_TOKEN=' spaced #x '\n"
        "B=2\n"
    )
    before = parse_env_text((ws.root / path).read_text(), ws.root / path).as_dict()
    secrets = ws.root / ".devcontainer/.env"
    secrets.write_text("OTHER=1")  # no final newline
    secrets.chmod(0o644)
    _run(EnvFile(path, ".devcontainer/.env", removed=()).actions(ws))
    moved = parse_env_text(secrets.read_text(), secrets).as_dict()
    assert moved == {"OTHER": "1", **{k: v for k, v in before.items() if k != "B"}}
    assert secrets.read_text().splitlines()[:2] == ["OTHER=1", "POSTGRES_PASSWORD='pa$$w0rd'"]
    assert secrets.stat().st_mode & 0o777 == 0o600


def test_env_file_names_a_bad_line(ws: Workspace) -> None:
    path = ".devcontainer/devcontainer.env"
    (ws.root / path).write_text("not a variable\n")
    with pytest.raises(StackError) as refused:
        EnvFile(path, ".devcontainer/.env", removed=()).actions(ws)
    assert (refused.value.path, refused.value.line) == (ws.root / path, 1)


def test_env_file_secret_already_moved_and_uncommitted(ws: Workspace) -> None:
    path = ".devcontainer/devcontainer.env"
    (ws.root / path).write_text("GITHUB_TOKEN=x\nB=2\n")
    (ws.root / ".devcontainer/.env").write_text("GITHUB_TOKEN=x\n")
    actions = EnvFile(path, ".devcontainer/.env", removed=()).actions(ws)
    assert actions[0].description == "move GITHUB_TOKEN to .devcontainer/.env (gitignored)"
    _run(actions)
    assert (ws.root / ".devcontainer/.env").read_text() == "GITHUB_TOKEN=x\n"


def test_env_merge_edges(tmp_path: Path) -> None:
    from tasks.phases.envmerge import merge_env

    # leading blank lines and the last value are the user's; values may hold "="
    merged = merge_env("\nA=1\nZ=XX\n", "# S\nURL=a=b\nK=1\n", (), (), tmp_path)
    assert merged.text == "\nA=1\nZ=XX\n\n# S\nURL=a=b\nK=1\n"
    # a variable before any section comment still gets its own paragraph
    merged = merge_env("A=1\n", "A=1\nB=2\n# S\nC=3\n", (), (), tmp_path)
    assert merged.text == "A=1\n\nB=2\n\n# S\nC=3\n"
    with pytest.raises(StackError) as refused:
        merge_env("A=1\n", "bad line\n", (), (), tmp_path / "t.env")
    assert (refused.value.path, refused.value.line) == (tmp_path / "t.env", 1)


def test_template_sections() -> None:
    text = "# One\n# more\nA=1\nB=2\n\n# Two\nC=3\nloose\nD=4\n"
    assert _template_lines(text) == {
        "A": (["# One", "# more"], "A=1"),
        "B": (["# One", "# more"], "B=2"),
        "C": (["# Two"], "C=3"),
        "D": (["# Two"], "D=4"),
    }


# --- checks ---------------------------------------------------------------------------------


def test_recognize_layout(ws: Workspace, tmp_path: Path, template: Path) -> None:
    assert RecognizeLayout().actions(ws) == []
    git(ws.root, "rm", "-r", "--quiet", ".github")
    (ws.root / ".devcontainer/mcp").rename(ws.root / "elsewhere")
    with pytest.raises(StackError) as neither:
        RecognizeLayout().actions(ws)
    assert (neither.value.problem, neither.value.fix) == (
        "has neither the legacy layout (.github/services/) nor the target one (.devcontainer/mcp/)",
        "run the phases in the repository of the dev environment",
    )
    (ws.root / "elsewhere").rename(ws.root / ".devcontainer/mcp")
    assert RecognizeLayout().actions(ws) == []
    bare = tmp_path / "bare"
    bare.mkdir()
    git(bare, "init", "--quiet")
    with pytest.raises(StackError) as no_template:
        RecognizeLayout().actions(Workspace.open(ws.root, bare))
    assert (no_template.value.path, no_template.value.problem, no_template.value.fix) == (
        bare,
        "holds no target layout (.devcontainer/, .vscode/mcp.json, .mcp.json)",
        "run the task library from a git clone, or from a complete copy of it",
    )


def test_verify_moves_then_remove_the_sources(ws: Workspace) -> None:
    with pytest.raises(StackError) as homeless:
        VerifyMoves().actions(ws)
    assert (homeless.value.path, homeless.value.problem, homeless.value.fix) == (
        ws.root / ".github/services/fetch/Dockerfile",
        "has no copy at .devcontainer/mcp/fetch/Dockerfile",
        "run phase 2 again",
    )
    for name in legacy.MOVES:
        for source in ws.git.tracked_many((f"{legacy.LEGACY_ROOT}/{name}",)):
            write(ws.root, legacy.moved_to(source) or "", (ws.root / source).read_text())
    found = moved_sources(ws)
    assert len(found) == 27 and ".github/services/sqlite/Dockerfile" not in found
    assert found[".github/services/git/Dockerfile"] == blob_id(
        (ws.root / ".github/services/git/Dockerfile").read_bytes()
    )
    with pytest.raises(StackError) as unverified:
        RemoveMovedSources().actions(ws)
    assert unverified.value.path == ws.root / ".github/services/fetch/Dockerfile"
    assert (
        unverified.value.problem == "changed since phase 10 verified it (or phase 10 has not run)"
    )
    assert unverified.value.fix == "run phase 10 again"
    assert _run(VerifyMoves().actions(ws)) == ["record 27 verified leftover(s)"]
    assert VerifyMoves().actions(ws) == []
    step = RemoveMovedSources()
    assert step.notes(ws) == [
        f"kept .github/services/sqlite/{f}: the plan gives it no new home; move or delete it "
        "yourself"
        for f in ("Dockerfile", "README.md", "config/sqlite.yml")
    ]
    assert ".github/services/sqlite/Dockerfile" not in step.paths(ws)
    assert ".github/services/git/Dockerfile" in step.paths(ws)
    actions = step.actions(ws)
    assert actions[0].description == "git rm .github/services/fetch/Dockerfile"
    assert actions[-1].description == "remove empty folders in .github/services/"
    assert len(actions) == 28
    _run(actions)
    assert sorted(p.name for p in (ws.root / ".github/services").iterdir()) == ["sqlite"]
    assert RemoveMovedSources().actions(ws) == []


def test_remove_moved_sources_prunes_folders_left_empty(ws: Workspace) -> None:
    (ws.root / ".devcontainer/mcp/memory/README.md").unlink()
    (ws.root / ".github/services/empty/deeper/deepest").mkdir(parents=True)
    (ws.root / ".github/services/a").mkdir()
    actions = [a for a in RemoveMovedSources().actions(ws) if not a.description.startswith("git")]
    assert [a.description for a in actions] == ["remove empty folders in .github/services/"]
    _run(actions)
    assert not (ws.root / ".github/services/empty").exists()
    assert not (ws.root / ".github/services/a").exists()
    assert (ws.root / ".github/services/git/Dockerfile").is_file()


def test_remove_old_files_keeps_a_hand_edit(ws: Workspace) -> None:
    (ws.root / legacy.OLD_FILES[0]).write_text("mine\n")
    with pytest.raises(StackError) as refused:
        RemoveOldFiles().actions(ws)
    assert refused.value.problem == (
        "has changes that are not committed, and phase 11 would overwrite them"
    )


def test_remove_old_files(ws: Workspace) -> None:
    step = RemoveOldFiles()
    assert step.paths(ws) == list(legacy.OLD_FILES)
    step.phase = 11
    assert _run(step.actions(ws)) == [f"git rm {p}" for p in legacy.OLD_FILES]
    assert step.actions(ws) == []


def test_an_unreadable_stack_blocks_the_stack_check(ws: Workspace) -> None:
    (ws.root / ".devcontainer/docker-compose.mcp.yml").write_text("services: [\n")
    status = VerifyStack().status(ws)
    assert status.state == BLOCKED
    assert status.reason.startswith(str(ws.root / ".devcontainer/docker-compose.mcp.yml"))
    assert "invalid YAML" in status.reason
    assert VerifyStack().actions(ws) == []


def test_stack_status_without_an_engine(mini_ws: Workspace) -> None:
    assert StaticAudit().actions(mini_ws) == []
    assert VerifyStack().status(mini_ws) == StepStatus(NOT_EXERCISED, "no Docker engine reachable")


@pytest.fixture
def mini_ws(tmp_path: Path, template: Path) -> Workspace:
    from tests.ministack import MiniStack

    mini = MiniStack(tmp_path / "mini")
    git(mini.root, "init", "--quiet")
    return Workspace.open(mini.root, template)


def test_static_audit_names_the_first_error(mini_ws: Workspace) -> None:
    compose = mini_ws.root / ".devcontainer/docker-compose.mcp.yml"
    compose.write_text(compose.read_text().replace("restart: unless-stopped", "restart: no", 1))
    compose.write_text(compose.read_text().replace("    restart: no\n", "", 1))
    with pytest.raises(StackError) as failed:
        StaticAudit().actions(mini_ws)
    assert failed.value.problem.startswith("the static audit finds 1 error(s), first CMP002 at ")
    assert failed.value.problem.endswith(": service db has no restart policy")
    assert failed.value.fix == f"run `invoke check --root {mini_ws.root}` and fix each finding"


# --- the runner -------------------------------------------------------------------------------


def _phase(number: int, *steps: Step, message: str | None = "msg") -> Phase:
    return Phase(number, f"phase {number}", message, steps)


def test_statuses_and_order(ws: Workspace) -> None:
    done, pending = _Fixed([]), _Fixed([Action("do", lambda: None)])
    blocked = _Fixed(StackError("f", "bad", "fix"))
    first = _phase(1, done)
    assert step_statuses(ws, first) == [(done, StepStatus(DONE))]
    assert is_done(step_statuses(ws, first))
    assert is_done([(done, StepStatus(NOT_EXERCISED, "x"))])
    assert not is_done([(done, StepStatus(PENDING, "x"))])
    assert not is_done([(done, StepStatus(BLOCKED, "x"))])
    phases = {1: first, 2: _phase(2, pending), 3: _phase(3, blocked), 4: _phase(4, done)}
    require_earlier(ws, phases, 1)
    require_earlier(ws, phases, 2)
    with pytest.raises(StackError) as stopped:
        require_earlier(ws, phases, 3)
    assert (stopped.value.problem, stopped.value.fix) == (
        "phase 3 needs phase 2 first: fixed is pending (1 change(s): do)",
        "run `invoke phase 2`",
    )
    with pytest.raises(StackError) as blocked_first:
        require_earlier(ws, {1: phases[3], 2: first}, 2)
    assert (
        blocked_first.value.problem
        == "phase 2 needs phase 1 first: fixed is blocked (f: bad. Fix: fix)"
    )


def test_phase_paths_and_unrelated_staged_files(ws: Workspace) -> None:
    phase = _phase(2, MoveService("git"), Folders(("x",)))
    assert phase_paths(ws, phase) == sorted(MoveService("git").paths(ws))
    _refuse_unrelated(ws, [])
    (ws.root / "other.txt").write_text("x\n")
    git(ws.root, "add", "other.txt")
    _refuse_unrelated(ws, ["other.txt"])
    with pytest.raises(StackError) as refused:
        _refuse_unrelated(ws, ["README.md"])
    assert (refused.value.path, refused.value.problem, refused.value.fix) == (
        ws.root / "other.txt",
        "is staged but does not belong to this phase (1 such path(s))",
        "commit or unstage it (`git restore --staged PATH`) before `--commit`",
    )


def test_back_up_notes(ws: Workspace, tmp_path: Path, template: Path) -> None:
    # the legacy compose file has a volume the template drops; the unit tier has no engine
    note = _back_up(ws, print)
    assert note.startswith("volumes not backed up: listing the containers of devcontainer failed: ")
    assert note.endswith("Is the docker daemon running? (with no engine, no service runs)")
    bare = build_legacy_repo(tmp_path / "no-compose")
    git(bare, "rm", "--quiet", ".devcontainer/docker-compose.mcp.yml")
    assert _back_up(Workspace.open(bare, template), print) == (
        "no compose file yet: no volume to back up"
    )
    (ws.root / ".devcontainer/docker-compose.mcp.yml").write_text(
        "services:\n  app:\n    image: a\n"
    )
    assert _back_up(ws, print) == (
        "no running service owns a volume this phase changes: no backup needed"
    )


def test_dry_run_changes_nothing(ws: Workspace) -> None:
    phase = _phase(4, CopyFiles("copy", (".devcontainer/scripts/",)), Folders(("made",)))
    before = git(ws.root, "status", "--porcelain")
    outcome = run_phase(ws, phase, dry_run=True, commit=True, say=print)
    assert outcome.changes == ["create .devcontainer/scripts/run.sh", "mkdir made"]
    assert outcome.diffs == [
        "--- a/.devcontainer/scripts/run.sh\n+++ b/.devcontainer/scripts/run.sh\n"
        "@@ -0,0 +1 @@\n+#!/bin/sh\n"
    ]
    assert (outcome.commit, outcome.resumed, outcome.notes) == (None, False, [])
    assert git(ws.root, "status", "--porcelain") == before
    assert not (ws.root / "made").exists()
    assert ws.state.in_progress == {}


def test_a_run_commits_its_paths_and_notes_what_was_not_exercised(ws: Workspace) -> None:
    said: list[str] = []
    step = CopyFiles("copy", (".devcontainer/scripts/",))
    phase = _phase(7, step, _Fixed([]), message="feat: scripts")
    phase.steps[1].status = lambda ws: StepStatus(NOT_EXERCISED, "no engine")  # type: ignore[method-assign]
    outcome = run_phase(ws, phase, dry_run=False, commit=True, say=said.append)
    assert said == ["create .devcontainer/scripts/run.sh"]
    assert outcome.changes == said and outcome.notes == ["fixed: not exercised (no engine)"]
    assert outcome.commit == git(ws.root, "rev-parse", "HEAD").strip()
    assert git(ws.root, "log", "-1", "--format=%s").strip() == "feat: scripts"
    assert PhaseState.load(ws.git.git_dir).in_progress == {}
    again = run_phase(ws, phase, dry_run=False, commit=True, say=said.append)
    assert (again.changes, again.commit) == ([], None)


def test_a_run_resumes_and_stops_at_a_blocked_step(ws: Workspace) -> None:
    said: list[str] = []
    ws.state.begin(5)
    blocked = _Fixed([])
    blocked.status = lambda ws: StepStatus(BLOCKED, "still wrong")  # type: ignore[method-assign]
    with pytest.raises(StackError) as stopped:
        run_phase(ws, _phase(6, blocked), dry_run=False, commit=False, say=said.append)
    assert said == ["resuming: phase 5 was interrupted; its finished steps are kept"]
    assert (stopped.value.problem, stopped.value.fix) == (
        "fixed: still wrong",
        "fix it and run again",
    )
    outcome = run_phase(ws, _phase(6, _Fixed([])), dry_run=False, commit=False, say=said.append)
    assert outcome.resumed and outcome.commit is None


# --- volume backups -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "names"),
    [
        ({"volumes": ["data:/d", "./conf:/c", "/abs:/a", "~/h:/h", "${V}:/v", "anon"]}, {"data"}),
        ({"volumes": ["data:/d:ro"]}, {"data"}),
        (
            {
                "volumes": [
                    {"type": "volume", "source": "v"},
                    {"source": "w"},
                    {"type": "bind", "source": "b"},
                    {"type": "volume"},
                ]
            },
            {"v", "w"},
        ),
        ({"volumes": None}, set()),
        ({}, set()),
    ],
)
def test_named_volumes(service: dict[str, object], names: set[str]) -> None:
    assert _named_volumes(service) == names


def test_no_backup_when_no_volume_changes(tmp_path: Path) -> None:
    compose = tmp_path / "c.yml"
    compose.write_text("services:\n  a:\n    volumes: [v:/d]\n")
    assert back_up_if_running(None, compose, compose.read_bytes(), tmp_path) is None  # type: ignore[arg-type]
    compose.write_text("")
    assert back_up_if_running(None, compose, b"", tmp_path) is None  # type: ignore[arg-type]


def test_a_broken_compose_file_is_named_before_any_backup(tmp_path: Path) -> None:
    compose = tmp_path / "c.yml"
    compose.write_text("services:\n  a:\n    volumes: [v:/d\n")
    with pytest.raises(StackError) as broken:
        back_up_if_running(None, compose, b"services: {}\n", tmp_path)  # type: ignore[arg-type]
    assert broken.value.path == compose and "invalid YAML" in broken.value.problem
    compose.write_text("services: {}\n")
    with pytest.raises(StackError) as template:
        back_up_if_running(None, compose, b"services: [\n", tmp_path)  # type: ignore[arg-type]
    assert template.value.path == compose and template.value.line == 2


# --- the engine seen through fakes (the unit tier has none) ---------------------------------


class _Engine:
    def __init__(self, running: list[str]) -> None:
        self.running = running
        self.asked: list[str] = []
        self.saved: list[tuple[object, list[str], Path]] = []


def _fake_engine(monkeypatch: pytest.MonkeyPatch, module: object, running: list[str]) -> _Engine:
    engine = _Engine(running)

    def running_containers(client: object, project: str) -> list[str]:
        engine.asked.append(project)
        return engine.running

    monkeypatch.setattr(module, "running_containers", running_containers)
    return engine


def test_backup_of_the_volumes_a_phase_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.phases import backup

    engine = _fake_engine(monkeypatch, backup, ["c1"])
    monkeypatch.setattr(
        backup, "backup", lambda client, names, dest: engine.saved.append((client, names, dest))
    )
    compose = tmp_path / ".devcontainer" / "c.yml"
    compose.parent.mkdir()
    compose.write_text("name: Proj\nservices:\n  a:\n    volumes: [data:/d]\nvolumes: {data: {}}\n")
    client = object()
    saved = back_up_if_running(client, compose, b"services: {}\n", tmp_path)  # type: ignore[arg-type]
    assert saved is not None and saved.parent == tmp_path / "backups"
    assert re.fullmatch(r"phase-6-\d{8}T\d{6}", saved.name)
    assert engine.asked == ["proj"] and engine.saved == [(client, ["proj_data"], saved)]
    engine.running = []
    assert back_up_if_running(client, compose, b"services: {}\n", tmp_path) is None  # type: ignore[arg-type]
    assert len(engine.saved) == 1


def test_a_phase_notes_its_backup(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.phases import runner

    seen: list[Path] = []

    def back_up(client: object, compose: Path, new: bytes, root: Path) -> Path:
        seen.append(root)
        return root / "backups" / "phase-6-x"

    monkeypatch.setattr(runner, "back_up_if_running", back_up)
    said: list[str] = []
    phase = Phase(6, "six", None, (_Fixed([]),), backs_up_volumes=True)
    outcome = run_phase(ws, phase, dry_run=False, commit=False, say=said.append)
    assert outcome.notes == ["volumes backed up to backups/phase-6-x"]
    assert said == ["backed up the volumes of the changed services to backups/phase-6-x"]
    assert seen == [ws.root] and outcome.phase == 6


def test_commit_options(ws: Workspace) -> None:
    (ws.root / "staged.txt").write_text("x\n")
    git(ws.root, "add", "staged.txt")
    step = CopyFiles("copy", (".devcontainer/scripts/",))
    # a dry run never checks what is staged, and never commits
    run_phase(ws, _phase(7, step), dry_run=True, commit=True, say=print)
    # without --commit, or without a message, nothing is checked or committed
    head = git(ws.root, "rev-parse", "HEAD")
    no_commit = run_phase(ws, _phase(7, step), dry_run=False, commit=False, say=print)
    assert no_commit.commit is None and git(ws.root, "rev-parse", "HEAD") == head
    silent = run_phase(
        ws, _phase(7, _Fixed([]), message=None), dry_run=False, commit=True, say=print
    )
    assert silent.commit is None and git(ws.root, "rev-parse", "HEAD") == head
    with pytest.raises(StackError):
        run_phase(ws, _phase(7, _Fixed([])), dry_run=False, commit=True, say=print)


def test_the_stack_check_with_an_engine(
    mini_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.engine.verify import FAIL, PASS, Check
    from tasks.phases import checks

    engine = _fake_engine(monkeypatch, checks, [])
    assert VerifyStack().status(mini_ws) == StepStatus(
        NOT_EXERCISED, "stack mini is not running: `invoke stack.up`, then run phase 10 again"
    )
    assert engine.asked == ["mini"]
    engine.running = ["c1"]
    asked: list[tuple[object, ...]] = []

    class Verifier:
        def health(self) -> list[Check]:
            return [Check("health", "db", PASS, "ok"), Check("health", "db", FAIL, "down")]

    def verifier(profiled: Profiled) -> Verifier:
        asked.append(
            (profiled.stack.compose.project, profiled.image_profile, profiled.compose_profiles)
        )
        return Verifier()

    monkeypatch.setattr(Profiled, "verifier", verifier)
    assert VerifyStack().status(mini_ws) == StepStatus(BLOCKED, "db: down")
    assert asked == [("mini", None, ())]


def test_git_paths_that_look_like_options(ws: Workspace) -> None:
    write(ws.root, "-dash/file.txt", "x\n")
    git(ws.root, "add", "--", "-dash/file.txt")
    git(ws.root, "commit", "--quiet", "-m", "dash")
    assert ws.git.tracked_many(("-dash",)) == ["-dash/file.txt"]
    assert ws.git.known("-dash") == ["-dash/file.txt"]
    ws.git.move("-dash/file.txt", "-dash/moved.txt")
    assert ws.git.staged() == ["-dash/file.txt", "-dash/moved.txt"]
    (ws.root / "-dash/new.txt").write_text("y\n")
    assert ws.git.commit(["-dash/moved.txt", "-dash/file.txt", "-dash/new.txt"], "m") is not None
    assert git(ws.root, "ls-files", "--", "-dash") == "-dash/moved.txt\n-dash/new.txt\n"


def test_a_commit_stages_a_deleted_file(ws: Workspace) -> None:
    (ws.root / "README.md").unlink()
    assert ws.git.commit(["README.md"], "drop the readme") is not None
    assert "README.md" not in git(ws.root, "ls-files").split()
