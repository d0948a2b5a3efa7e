"""The launcher every client config runs (`mcp/runtime/mcp_launch.py`): what it adds to `docker
run` at launch time. The launcher of a copied workspace runs in the test's process, its final
`exec` of docker recorded instead of made; one test runs it for real with a `docker` on PATH
that records the arguments and environment it is given instead of starting anything."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import pytest

from tests.clirun import REPO
from tests.tree import write_tree

RUNTIME = ".devcontainer/mcp/runtime"
# The variables the recording `docker` reports (the launcher passes the others by name).
KEEP = (
    "MCP_SESSION",
    "MCP_ORIGIN",
    "USER",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
)
FAKE_DOCKER = f"""#!{sys.executable}
import json, os, sys
with open(os.environ["FAKE_DOCKER_OUT"], "w") as out:
    json.dump({{"argv": sys.argv[1:], "env": {{k: os.environ.get(k) for k in {KEEP!r}}}}}, out)
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace holding the launcher, an `.mcpignore` and files it hides."""
    root = tmp_path / "work space"
    shutil.copytree(REPO / RUNTIME, root / RUNTIME, ignore=shutil.ignore_patterns(".mask*"))
    files = {
        ".mcpignore": ".env\n/backups/\n*.key\n",
        ".devcontainer/.env": "DB_PASSWORD=hunter2\n",
        "backups/2026/manifest.json": "{}",
        "src/app.py": "print()\n",
        "src/a,b.key": "k",
        ".git/config": "[core]\n",
    }
    write_tree(root, files)
    (root / ".git/hooks").mkdir()
    return root


@dataclass
class Result:
    """How a launch ended: its exit code and what it printed on stderr."""

    returncode: int
    stderr: str


class Executed(Exception):
    """`os.execvpe` was called: the process would be docker from here on."""


def launcher(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The launcher of `workspace`, loaded as the module `mcp_launch` (the name mutation
    testing knows it by)."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    spec = importlib.util.spec_from_file_location(
        "mcp_launch", workspace / RUNTIME / "mcp_launch.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "mcp_launch", module)
    spec.loader.exec_module(module)
    return module


def launch(
    workspace: Path, *options: str, env: dict[str, str] | None = None
) -> tuple[Result, dict[str, Any]]:
    """Run the launcher of `workspace` in this process; its result and what it would exec
    `docker` with."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("LOCAL_WORKSPACE_FOLDER", "MCP_SESSION", "MCP_ORIGIN"):
            patch.delenv(name, raising=False)
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        module = launcher(workspace, patch)
        docker: dict[str, Any] = {}

        def execvpe(file: str, args: list[str], environ: dict[str, str]) -> NoReturn:
            assert file == "docker" and args[0] == "docker"
            docker.update(argv=args[1:], env={k: environ.get(k) for k in KEEP})
            raise Executed

        patch.setattr(module.os, "execvpe", execvpe)
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            try:
                code = module.main(list(options))
            except Executed:
                code = 0
            except SystemExit as stop:
                code = int(stop.code or 0)
    return Result(code, stderr.getvalue()), docker


def launch_process(workspace: Path, *options: str) -> dict[str, Any]:
    """Run the launcher of `workspace` as clients do, with the recording `docker` on PATH;
    what `docker` was given."""
    out = workspace.parent / "docker.json"
    bin_dir = workspace.parent / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    environ = {k: v for k, v in os.environ.items() if k not in ("LOCAL_WORKSPACE_FOLDER",)}
    environ |= {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_DOCKER_OUT": str(out)}
    command = [sys.executable, str(workspace / RUNTIME / "mcp_launch.py"), *options]
    result = subprocess.run(command, env=environ, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(out.read_text()))


RUN = ["run", "-i", "--rm", "--label", "dev.mcp-cluster.server=x", "img:1", "--flag", "run"]


def mounts(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv) if word == "--mount"]


def test_a_session_label_and_its_id_and_nothing_else_without_options(workspace: Path) -> None:
    docker = launch_process(workspace, *RUN)
    argv = docker["argv"]
    assert argv[0] == "run" and argv[-6:] == RUN[2:]
    label = argv[argv.index("--label") + 1]
    session = label.removeprefix("dev.mcp-cluster.session=")
    assert len(session) == 12 and docker["env"]["MCP_SESSION"] == session
    assert argv[1:5] == ["--label", label, "-e", "MCP_SESSION"]
    assert "--mount" not in argv and "--user" not in argv and docker["env"]["MCP_ORIGIN"] is None


@pytest.mark.parametrize(
    ("given", "kept"), [("probe-7", True), ("../etc", False), ("", False), ("a" * 70, False)]
)
def test_a_callers_session_and_origin_are_used_only_when_safe(
    workspace: Path, given: str, kept: bool
) -> None:
    _, docker = launch(workspace, *RUN, env={"MCP_SESSION": given, "MCP_ORIGIN": given})
    assert (docker["env"]["MCP_SESSION"] == given) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{12}", docker["env"]["MCP_SESSION"])
    assert ("MCP_ORIGIN" in docker["argv"]) is kept


def test_a_read_only_workspace_with_every_secret_masked(workspace: Path) -> None:
    result, docker = launch(workspace, "--workspace", "/workspace:ro", *RUN)
    assert result.returncode == 0, result.stderr
    runtime = f"{workspace}/{RUNTIME}"
    assert mounts(docker["argv"]) == [
        f"type=bind,source={workspace},target=/workspace,readonly",
        f"type=bind,source={runtime}/.mask,target=/workspace/.devcontainer/.env,readonly",
        f"type=bind,source={runtime}/.mask.d,target=/workspace/backups,readonly",
        f'type=bind,source={runtime}/.mask,"target=/workspace/src/a,b.key",readonly',
    ]
    for name in (".mask", ".mask.d"):
        assert stat.S_IMODE((workspace / RUNTIME / name).stat().st_mode) == 0
    assert (workspace / RUNTIME / ".mask").stat().st_size == 0


@pytest.mark.parametrize(
    ("options", "env", "source"),
    [
        ((), {"LOCAL_WORKSPACE_FOLDER": "/host/repo"}, "/host/repo"),
        (("--source", "/host/other"), {"LOCAL_WORKSPACE_FOLDER": "/host/repo"}, "/host/other"),
    ],
)
def test_the_engine_sees_the_workspace_under_its_own_path(
    workspace: Path, options: tuple[str, ...], env: dict[str, str], source: str
) -> None:
    _, docker = launch(workspace, "--workspace", "/w:ro", *options, *RUN, env=env)
    found = mounts(docker["argv"])
    assert found[0] == f"type=bind,source={source},target=/w,readonly"
    assert found[1].startswith(f"type=bind,source={source}/{RUNTIME}/.mask,target=/w/")


def test_a_writable_workspace_keeps_its_guards_read_only(workspace: Path) -> None:
    guards = ("--guard", ".git/hooks/", "--guard", ".git/config", "--guard", ".vscode/")
    result, docker = launch(workspace, "--workspace", "/workspace", *guards, *RUN)
    assert result.returncode == 0, result.stderr
    found = mounts(docker["argv"])
    assert found[0] == f"type=bind,source={workspace},target=/workspace"
    guarded = [m for m in found if "/.mask" not in m][1:]
    assert guarded == [
        f"type=bind,source={workspace}/{rel},target=/workspace/{rel},readonly"
        for rel in (".git/hooks", ".git/config", ".vscode", ".mcpignore")
    ]
    # a missing guarded folder is made (empty), so that the server cannot make it either
    assert (workspace / ".vscode").is_dir() and not any((workspace / ".vscode").iterdir())


def test_a_guarded_folder_this_user_cannot_make_is_an_empty_read_only_tmpfs(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_mkdir = Path.mkdir

    def mkdir(path: Path, *args: Any, **kwargs: Any) -> None:
        if path.name == "hooks":  # a .git folder owned by another user
            raise PermissionError(13, "Permission denied", str(path))
        real_mkdir(path, *args, **kwargs)

    shutil.rmtree(workspace / ".git/hooks")
    monkeypatch.setattr(Path, "mkdir", mkdir)
    guards = ("--guard", ".vscodeX/", "--guard", ".git/hooks/", "--guard", ".vscode/")
    result, docker = launch(workspace, "--workspace", "/w", *guards, *RUN)
    assert result.returncode == 0, result.stderr
    guarded = [m for m in mounts(docker["argv"]) if "/.mask" not in m][1:4]
    assert guarded == [
        f"type=bind,source={workspace}/.vscodeX,target=/w/.vscodeX,readonly",
        "type=tmpfs,target=/w/.git/hooks,readonly",
        f"type=bind,source={workspace}/.vscode,target=/w/.vscode,readonly",
    ]
    assert not (workspace / ".git/hooks").exists()


def test_a_missing_guarded_file_is_not_made(workspace: Path) -> None:
    _, docker = launch(workspace, "--workspace", "/w", "--guard", "missing.cfg", *RUN)
    assert not (workspace / "missing.cfg").exists()
    assert not any("missing.cfg" in m for m in mounts(docker["argv"]))


def test_a_guard_outside_the_workspace_is_refused(workspace: Path) -> None:
    result, docker = launch(workspace, "--workspace", "/w", "--guard", "../etc/", *RUN)
    assert result.returncode == 1 and docker == {}
    assert "--guard '../etc/': give a path inside the workspace" in result.stderr


def test_the_server_runs_as_the_workspaces_owner(workspace: Path) -> None:
    os.chown(workspace, 4321, 8765)
    _, docker = launch(workspace, "--workspace", "/w", "--as-owner", *RUN, env={"USER": "someone"})
    argv = docker["argv"]
    at = argv.index("--user")
    assert argv[at : at + 6] == ["--user", "4321:8765", "-e", "HOME=/tmp", "-e", "USER"]
    assert docker["env"]["USER"] == "someone"


def test_the_clients_git_author_passes_by_name(workspace: Path) -> None:
    git = ["git", "-C", str(workspace)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "config", "user.name", "Jane Dev"], check=True)
    subprocess.run([*git, "config", "user.email", "jane@example.com"], check=True)
    _, docker = launch(workspace, "--git-identity", *RUN)
    names = ["GIT_AUTHOR_EMAIL", "GIT_AUTHOR_NAME", "GIT_COMMITTER_EMAIL", "GIT_COMMITTER_NAME"]
    argv = docker["argv"]
    assert [argv[i + 1] for i, w in enumerate(argv) if w == "-e"][1:] == names
    assert "Jane Dev" not in argv and docker["env"]["GIT_AUTHOR_NAME"] == "Jane Dev"
    assert docker["env"]["GIT_COMMITTER_EMAIL"] == "jane@example.com"


def test_in_process_the_launch_is_docker_run_with_its_label_first(workspace: Path) -> None:
    env = {"MCP_SESSION": "s-1", "MCP_ORIGIN": "probe", "USER": "jane"}
    result, docker = launch(workspace, "--workspace", "/ws:ro", "--as-owner", *RUN, env=env)
    argv = docker["argv"]
    assert result.returncode == 0 and argv[0] == "run"
    assert argv[1:7] == [
        "--label", "dev.mcp-cluster.session=s-1", "-e", "MCP_SESSION", "-e", "MCP_ORIGIN",
    ]  # fmt: skip
    assert argv[7] == "--mount" and argv[-6:] == RUN[2:]
    assert docker["env"]["USER"] == "jane" and argv.count("USER") == 1


def test_each_launcher_option_says_what_it_does(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = launcher(workspace, monkeypatch).parser()
    helps = {action.dest: action.help for action in made._actions}
    assert helps == {
        "help": "show this help message and exit",
        "workspace": "mount the workspace at TARGET (:ro for read-only)",
        "source": "the workspace as the Docker engine sees it",
        "as_owner": "run as the workspace's owner",
        "guard": "read-only path inside",
        "git_identity": "pass the git author",
    }


def test_git_is_asked_for_each_setting_with_a_deadline(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = launcher(workspace, monkeypatch)
    asked: list[tuple[list[str], float]] = []

    def run(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
        asked.append((command, options["timeout"]))
        return subprocess.CompletedProcess(command, 1, "", "")

    monkeypatch.setattr(subprocess, "run", run)
    assert module.git_identity() == {}
    git = ["git", "-C", str(workspace), "config", "--get"]
    assert asked == [([*git, "user.name"], 5), ([*git, "user.email"], 5)]


def test_a_launch_without_run_says_what_it_expects(workspace: Path) -> None:
    result, docker = launch(workspace, "--as-owner")
    assert (result.returncode, docker) == (2, {})
    assert result.stderr == "mcp_launch.py: expected OPTIONS run ... IMAGE [ARGS...]\n"


def test_only_the_git_settings_that_are_set_pass(workspace: Path) -> None:
    git = ["git", "-C", str(workspace)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "config", "user.name", "Jane Dev"], check=True)
    env = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    _, docker = launch(workspace, "--git-identity", *RUN, env=env)
    argv = docker["argv"]
    assert [argv[i + 1] for i, w in enumerate(argv) if w == "-e"][1:] == [
        "GIT_AUTHOR_NAME",
        "GIT_COMMITTER_NAME",
    ]
    assert docker["env"]["GIT_AUTHOR_EMAIL"] is None


def test_the_launchers_options_are_whole_words_with_their_help(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, docker = launch(workspace, "--guar", ".env", *RUN)
    assert result.returncode == 2 and docker == {}
    assert "unrecognized arguments: --guar .env" in result.stderr
    text = launcher(workspace, monkeypatch).parser().format_help()
    for shown in ("read-only path inside", "pass the git author", "run as the workspace's owner"):
        assert shown in text


def test_a_path_under_the_engines_view_of_the_workspace(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = launcher(workspace, monkeypatch)
    assert module.join("/srv/BOX", "a/b") == "/srv/BOX/a/b"
    assert module.join("C:\\work\\", ".env") == "C:\\work/.env"
    assert module.join("/srv/x", "") == "/srv/x"


def test_stand_ins_that_are_links_are_never_followed(workspace: Path) -> None:
    target = workspace.parent / "precious.txt"
    target.write_text("mine")
    os.symlink(target, workspace / RUNTIME / ".mask")
    _, docker = launch(workspace, "--workspace", "/w:ro", *RUN)
    assert stat.S_IMODE(target.stat().st_mode) != 0 and target.read_text() == "mine"
    assert mounts(docker["argv"])[1:] == [
        "type=bind,source=/dev/null,target=/w/.devcontainer/.env,readonly",
        "type=tmpfs,target=/w/backups,readonly",
        'type=bind,source=/dev/null,"target=/w/src/a,b.key",readonly',
    ]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--workspace", "relative", *RUN), 1, "--workspace 'relative': write /PATH or /PATH:ro"),
        (("--workspace", "/w:rw", *RUN), 1, "--workspace '/w:rw': write /PATH or /PATH:ro"),
        (("--as-owner",), 2, "expected OPTIONS run ... IMAGE [ARGS...]"),
        (("--unknown", *RUN), 2, "unrecognized arguments: --unknown"),
    ],
)
def test_bad_launcher_options_start_nothing(
    workspace: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    result, docker = launch(workspace, *args)
    assert (result.returncode, docker) == (code, {})
    assert message in result.stderr


def test_docker_that_cannot_start_is_named_on_stderr_never_on_the_clients_channel(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module = launcher(workspace, monkeypatch)

    def execvpe(file: str, args: list[str], environ: dict[str, str]) -> NoReturn:
        raise FileNotFoundError(2, "No such file or directory", "docker")

    monkeypatch.setattr(module.os, "execvpe", execvpe)
    assert module.main(RUN) == 1
    out, err = capsys.readouterr()
    assert out == ""  # stdout is the MCP channel
    assert (
        err == "mcp_launch.py: cannot run docker: [Errno 2] No such file or directory: 'docker'\n"
    )


def test_the_help_opens_with_the_first_paragraph_of_the_launchers_docstring(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = launcher(workspace, monkeypatch).parser()
    assert made.description == (
        "Starts one MCP stdio server the way every client config of this repository does:"
    )


def test_a_client_without_user_passes_its_login_name(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    os.chown(workspace, 4321, 8765)
    module = launcher(workspace, monkeypatch)
    monkeypatch.setattr(module.getpass, "getuser", lambda: "login-name")
    arguments = module.parser().parse_args(["--workspace", "/w", "--as-owner"])
    made = module.plan(arguments, {})
    assert made.env["USER"] == "login-name" and made.options.count("USER") == 1
    assert module.plan(arguments, {"USER": "jane"}).env["USER"] == "jane"
