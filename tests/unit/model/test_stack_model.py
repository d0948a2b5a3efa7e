"""The whole stack as one object: where it is found, which image profile it uses, which files it
reads, and every path it references with the file, line and key that names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.model.localenv import apply_profile
from tasks.model.stack import (
    Reference,
    active_profile,
    find_folder,
    interpolation_env,
    load_stack,
    profile_values,
    resolve_profile,
)
from tests.ministack import MiniStack


def _error(error: StackError) -> tuple[Path, int | None, str | None, str, str]:
    return (error.path, error.line, error.key, error.problem, error.fix)


def test_the_stack_is_found_from_the_root_or_its_folder(mini: MiniStack, tmp_path: Path) -> None:
    assert find_folder(mini.root) == (mini.root, mini.folder)
    assert find_folder(mini.folder) == (mini.root, mini.folder)
    with pytest.raises(StackError) as missing:
        find_folder(tmp_path / "nope")
    assert _error(missing.value) == (
        tmp_path / "nope",
        None,
        None,
        "no .devcontainer/devcontainer.json here",
        "pass --root pointing at a repository that has .devcontainer/devcontainer.json",
    )


def test_profiles(mini: MiniStack) -> None:
    mini.put("profiles/online.env", "A=1\n")
    mini.put("profiles/offline.env", "A=2\nB=3\n")
    assert active_profile(mini.folder) is None
    assert resolve_profile(mini.folder, None) is None
    assert resolve_profile(mini.folder, "offline") == "offline"
    assert profile_values(mini.folder, "offline") == {"A": "2", "B": "3"}
    with pytest.raises(StackError) as unknown:
        profile_values(mini.folder, "gpu")
    assert _error(unknown.value) == (
        mini.folder / "profiles/gpu.env",
        None,
        "--profile",
        "no profile 'gpu'",
        "use one of: offline, online",
    )
    (mini.folder / ".env").write_text("SECRET=x\n" + apply_profile("", "online", {}))
    assert active_profile(mini.folder) == "online"
    assert resolve_profile(mini.folder, None) == resolve_profile(mini.folder, "online") == "online"
    with pytest.raises(StackError) as other:
        resolve_profile(mini.folder, "offline")
    assert _error(other.value) == (
        mini.folder / ".env",
        None,
        "MCP_PROFILE",
        "selects image profile 'online', but --profile offline was given",
        "switch every consumer with `invoke env.init --profile offline`, or drop --profile",
    )
    assert interpolation_env(mini.folder, "online")["A"] == "1"
    assert "A" not in interpolation_env(mini.folder)
    assert interpolation_env(mini.folder)["DB_IP"] == "172.20.0.20"
    assert load_stack(mini.root).profile == "online"


def test_no_profile_is_named_when_none_exists(mini: MiniStack) -> None:
    with pytest.raises(StackError) as unknown:
        profile_values(mini.folder, "x")
    assert unknown.value.fix == "use one of: none defined"


def test_what_the_stack_reads(mini: MiniStack) -> None:
    mini.put("containers/db/config/db.env", "X=1\n")
    mini.put("node_modules/pkg/Dockerfile", "FROM x\n")
    stack = load_stack(mini.root)
    assert (stack.root, stack.folder, stack.profile) == (mini.root, mini.folder, None)
    assert stack.dev_service == "devcontainer"
    assert sorted(str(p.relative_to(mini.folder)) for p in stack.dockerfiles) == [
        "Dockerfile",
        "containers/db/Dockerfile",
        "mcp/filesystem/Dockerfile",
        "mcp/memory/Dockerfile",
    ]
    assert sorted(str(p.relative_to(mini.folder)) for p in stack.env_files) == [
        "containers/db/config/db.env",
        "devcontainer.env",
    ]
    assert stack.secret_names == {"DB_PASSWORD", "GITHUB_PERSONAL_ACCESS_TOKEN"}
    assert [c.kind for c in stack.clients] == ["vscode", "portable"]
    assert stack.env.path == mini.folder / "devcontainer.env"
    assert len(stack.docs) == 4
    assert stack.versions is None
    assert stack.rel(mini.root / "a" / "b") == "a/b"
    assert stack.rel(Path("/elsewhere/y")) == "/elsewhere/y"
    dockerfile = mini.folder / "containers/db/Dockerfile"
    assert stack.dockerfile_for(dockerfile) is stack.dockerfiles[dockerfile]
    assert stack.dockerfile_for(None) is None
    assert stack.dockerfile_for(mini.folder / "none") is None


def test_every_referenced_path_with_where_it_is_named(mini: MiniStack) -> None:
    stack = load_stack(mini.root)
    folder = mini.folder
    compose = folder / "docker-compose.mcp.yml"
    dc = folder / "devcontainer.json"
    memory, fs = folder / "mcp/memory", folder / "mcp/filesystem"
    assert [(r.kind, r.declared, r.resolved, r.source, r.line, r.key) for r in stack.references] == [
        ("dockerComposeFile", "docker-compose.mcp.yml", compose, dc, 4, "dockerComposeFile[0]"),
        ("build context", str(folder / "containers/db"), folder / "containers/db", compose, 5, "services.db.build.context"),
        ("dockerfile", str(folder / "containers/db/Dockerfile"), folder / "containers/db/Dockerfile", compose, 5, "services.db.build.dockerfile"),
        ("env_file", "devcontainer.env", folder / "devcontainer.env", compose, 43, "services.devcontainer.env_file"),
        ("build context", str(folder), folder, compose, 32, "services.devcontainer.build.context"),
        ("dockerfile", str(folder / "Dockerfile"), folder / "Dockerfile", compose, 32, "services.devcontainer.build.dockerfile"),
        ("bind mount", "..", mini.root, compose, 49, "services.devcontainer.volumes[0]"),
        ("build context", str(fs), fs, fs / "config/filesystem.yml", 3, "build.context"),
        ("dockerfile", str(fs / "Dockerfile"), fs / "Dockerfile", fs / "config/filesystem.yml", 5, "build.dockerfile"),
        ("build context", str(memory), memory, memory / "config/memory.yml", 3, "build.context"),
        ("dockerfile", str(memory / "Dockerfile"), memory / "Dockerfile", memory / "config/memory.yml", 5, "build.dockerfile"),
    ]  # fmt: skip
    assert all(r.exists for r in stack.references)


def test_a_dockerfile_reference_must_be_a_file(tmp_path: Path) -> None:
    def ref(kind: str) -> Reference:
        return Reference(kind, "x", tmp_path, tmp_path / "f", 1, "k")

    assert not ref("dockerfile").exists
    assert ref("build context").exists
    assert not Reference("env_file", "x", tmp_path / "none", tmp_path, 1, "k").exists


def test_the_compose_file_falls_back_to_the_default(mini: MiniStack) -> None:
    mini.edit_json("devcontainer.json", lambda d: d.update(dockerComposeFile="missing.yml"))
    stack = load_stack(mini.root)
    assert stack.compose.path == mini.folder / "docker-compose.mcp.yml"
    assert [(r.declared, r.exists) for r in stack.references[:1]] == [("missing.yml", False)]
    (mini.folder / "docker-compose.mcp.yml").unlink()
    with pytest.raises(StackError) as missing:
        load_stack(mini.root)
    assert _error(missing.value) == (
        mini.folder / "devcontainer.json",
        3,
        "dockerComposeFile",
        "no compose file found",
        "set dockerComposeFile relative to .devcontainer/ (e.g. docker-compose.mcp.yml)",
    )


def test_the_dev_service_is_the_one_devcontainer_json_names(mini: MiniStack) -> None:
    mini.edit_json("devcontainer.json", lambda d: d.update(service="db"))
    assert load_stack(mini.root).dev_service == "db"


def test_a_stack_without_an_env_file_or_example(mini: MiniStack) -> None:
    mini.edit_yaml(
        "docker-compose.mcp.yml",
        lambda d: d["services"]["devcontainer"].pop("env_file"),
    )
    (mini.folder / "devcontainer.env").unlink()
    (mini.folder / ".env.example").unlink()
    stack = load_stack(mini.root)
    assert stack.env.entries == () and stack.env.path == mini.folder / "devcontainer.env"
    assert stack.secret_names == frozenset()


def test_an_env_file_given_as_a_mapping(mini: MiniStack) -> None:
    mini.edit_yaml(
        "docker-compose.mcp.yml",
        lambda d: d["services"]["devcontainer"].update(
            env_file=[{"path": "devcontainer.env", "required": True}]
        ),
    )
    stack = load_stack(mini.root)
    ref = next(r for r in stack.references if r.kind == "env_file")
    assert (ref.declared, ref.resolved) == ("devcontainer.env", mini.folder / "devcontainer.env")
    assert stack.compose.services["devcontainer"].env_files == (mini.folder / "devcontainer.env",)
