"""Registry sharing, exactly: the registry setting, where images live in it, the bake options
each builder gets, the image lock and the client configs pinned to it (pure: no engine)."""

from __future__ import annotations

from pathlib import Path

import pytest
from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from tasks.engine import registry as engine_registry
from tasks.errors import EngineError, StackError
from tasks.images.sharing import (
    Sharing,
    cache_note,
    cache_ref,
    loaded,
    parse_registry,
    pinned_ref,
    registry_ref,
    registry_setting,
)
from tasks.model.imagelock import LOCK_FILE, load_lock, lock_document
from tasks.model.stack import load_stack
from tasks.rules.catalog import run_rules
from tasks.servers.generate import docker_args
from tests.ministack import MiniStack

DIGEST = "sha256:" + "ab" * 32
TARGET = {"context": "/c", "dockerfile": "/c/Dockerfile", "tags": ["mcp-git:latest"], "args": {}}


@pytest.mark.parametrize(
    "value",
    [
        "ghcr.io/acme/mcp-cluster",
        "127.0.0.1:5000/mcp",
        "localhost/x",
        "registry.local:443/a/b",
        "registry:5000/mcp",
    ],
)
def test_registry_prefixes(value: str) -> None:
    assert parse_registry(value + "/", "--registry") == value
    assert parse_registry(f" {value} ", "--registry") == value  # pasted with spaces
    assert parse_registry(f"{value}/\n", "--registry") == value  # a line read with its end


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("https://ghcr.io/acme", "is not a registry prefix"),
        ("ghcr.io/acme/mcp:1.0", "is not a registry prefix"),
        ("ghcr.io/Acme", "is not a registry prefix"),
        ("user:ghp_token@ghcr.io/acme", "is not a registry prefix"),
        ("user:ghp@tok@ghcr.io/acme", "is not a registry prefix"),
        ("", "is not a registry prefix"),
        ("acme/mcp", "has no registry host"),
    ],
)
def test_bad_registry_prefixes_name_the_source_and_the_fix(value: str, words: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_registry(value, "--registry")
    shown = "...@ghcr.io/acme" if "@" in value else value
    assert str(raised.value).startswith(f"--registry: {shown!r} ") and words in str(raised.value)
    assert "such as ghcr.io/acme/mcp-cluster" in str(raised.value)
    assert "ghp" not in str(raised.value), "a credential in the value is never echoed"


@pytest.mark.parametrize(
    ("tag", "ref", "cache", "pinned"),
    [
        ("mcp-git:latest", "p/mcp-git:latest", "p/mcp-git:buildcache-latest", "p/mcp-git"),
        ("mcp-git", "p/mcp-git:latest", "p/mcp-git:buildcache-latest", "p/mcp-git"),
        ("localhost:5000/x:1", "p/x:1", "p/x:buildcache-1", "p/x"),
        ("localhost:5000/x", "p/x:latest", "p/x:buildcache-latest", "p/x"),
        ("ghcr.io/a/x:1@sha256:00", "p/x:1", "p/x:buildcache-1", "p/x"),
        ("x@sha256:00", "p/x:latest", "p/x:buildcache-latest", "p/x"),
    ],
)
def test_where_images_live_in_the_registry(tag: str, ref: str, cache: str, pinned: str) -> None:
    prefix = "127.0.0.1:5000/t"
    assert registry_ref(prefix, tag) == ref.replace("p/", f"{prefix}/")
    assert cache_ref(prefix, tag) == cache.replace("p/", f"{prefix}/")
    assert pinned_ref(prefix, tag, DIGEST) == f"{pinned.replace('p/', f'{prefix}/')}@{DIGEST}"


def test_the_setting_comes_from_the_option_then_the_shell_then_dot_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MCP_REGISTRY", raising=False)
    assert registry_setting(tmp_path, "") is None
    (tmp_path / ".env").write_text("MCP_REGISTRY=file.io/team\n")
    assert registry_setting(tmp_path, "") == "file.io/team"
    monkeypatch.setenv("MCP_REGISTRY", "shell.io/team")
    assert registry_setting(tmp_path, "") == "shell.io/team"
    assert registry_setting(tmp_path, "option.io/team") == "option.io/team"
    monkeypatch.setenv("MCP_REGISTRY", "shell.io/team\n")
    assert registry_setting(tmp_path, "") == "shell.io/team"
    monkeypatch.setenv("MCP_REGISTRY", "https://shell.io/team")
    with pytest.raises(ValueError) as refused:
        registry_setting(tmp_path, "")
    assert str(refused.value).startswith("$MCP_REGISTRY: 'https://shell.io/team' is not a registry")
    monkeypatch.delenv("MCP_REGISTRY")
    (tmp_path / ".env").write_text("MCP_REGISTRY=team\n")
    with pytest.raises(ValueError, match=r"\.env \[MCP_REGISTRY\]: 'team' has no registry host"):
        registry_setting(tmp_path, "")


def test_the_engine_builder_pushes_inline_cache_and_reads_only_what_exists() -> None:
    ref = "r.io/t/mcp-git:latest"
    first = Sharing("r.io/t", push=True, driver="docker").target(TARGET)
    assert first["tags"] == ["mcp-git:latest", ref]
    assert "cache-from" not in first and first["cache-to"] == ["type=inline"]
    assert "output" not in first
    again = Sharing("r.io/t", push=False, driver="docker", present=frozenset({ref}))
    assert again.target(TARGET)["cache-from"] == [f"type=registry,ref={ref}"]
    assert again.target(TARGET)["tags"] == ["mcp-git:latest"], "no registry tag unless pushed"
    assert "cache-to" not in again.target(TARGET)
    assert again.pushes(["mcp-git:latest"]) == []
    assert Sharing("r.io/t", True, "docker").pushes(["mcp-git:latest"]) == [ref]
    assert "inline" in (cache_note(Sharing("r.io/t", True, "docker")) or "")
    assert cache_note(again) is None


def test_a_container_builder_exports_every_stage_and_loads_into_the_engine() -> None:
    sharing = Sharing(
        "r.io/t",
        push=True,
        driver="docker-container",
        present=frozenset({"r.io/t/mcp-git:buildcache-latest"}),
    )
    assert sharing.cache_sources("mcp-git:latest") == ["r.io/t/mcp-git:buildcache-latest"]
    definition = loaded(sharing.definition({"target": {"git": TARGET}}), "docker-container")
    target = definition["target"]["git"]
    assert target["cache-from"] == ["type=registry,ref=r.io/t/mcp-git:buildcache-latest"]
    assert target["cache-to"] == ["type=registry,ref=r.io/t/mcp-git:buildcache-latest,mode=max"]
    assert target["output"] == ["type=docker"]
    assert cache_note(sharing) is None
    assert loaded({"target": {"git": TARGET}}, "docker") == {"target": {"git": TARGET}}


def _lock(mini: MiniStack, images: dict[str, tuple[str, str]]) -> Path:
    path = mini.folder / LOCK_FILE
    path.write_text(lock_document("127.0.0.1:5000/t", "offline", images))
    return path


def test_a_lock_pins_the_servers_clients_start(mini: MiniStack) -> None:
    ref = f"127.0.0.1:5000/t/mcp-memory@{DIGEST}"
    path = _lock(mini, {"memory": ("mini-memory:latest", ref)})
    lock = load_lock(path)
    assert (lock.registry, lock.profile, lock.pinned("mini-memory:latest")) == (
        "127.0.0.1:5000/t",
        "offline",
        ref,
    )
    stack = load_stack(mini.root)
    memory, filesystem = stack.manifests["memory"], stack.manifests["filesystem"]
    args = docker_args(memory, "vscode")
    assert ref in args and args[args.index("--pull") + 1] == "missing"
    plain = docker_args(filesystem, "vscode")
    assert filesystem.image in plain and plain[plain.index("--pull") + 1] == "never"
    # The client configs still start the local image: `invoke check` holds them to the lock.
    drift = [(f.path, f.message) for f in run_rules(stack, {"MCP010"})]
    assert drift == [
        (
            ".devcontainer/devcontainer.json",
            "devcontainer.json differs from what the manifests generate (servers memory)",
        ),
        (".mcp.json", ".mcp.json differs from what the manifests generate"),
        (".vscode/mcp.json", "mcp.json differs from what the manifests generate"),
    ]


def test_pull_missing_is_hardening_only_for_a_digest(mini: MiniStack) -> None:
    mini.edit_json(
        "devcontainer.json",
        lambda d: d["customizations"]["vscode"]["mcp"]["servers"]["memory"]["args"].__setitem__(
            slice(None),
            [
                "missing" if a == "never" else a
                for a in d["customizations"]["vscode"]["mcp"]["servers"]["memory"]["args"]
            ],
        ),
    )
    hits = [f for f in run_rules(load_stack(mini.root), {"MCP011"}) if "memory" in f.message]
    assert [h.message for h in hits] == ["server memory starts without --pull never (pull_never)"]


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('{"registry": "r", "profile": "offline", "images": {"a": {"tag": "t", "ref": "r/a:1"}}}',
         "images.a.ref", "does not match"),
        ('{"registry": "r", "profile": "dev", "images": {}}', "profile", "is not one of"),
        ('{"registry": "r", "profile": "online"}', None, "'images' is a required property"),
        ("{", None, "not valid JSON"),
    ],
)  # fmt: skip
def test_a_bad_lock_names_the_key_and_the_fix(
    tmp_path: Path, text: str, key: str | None, words: str
) -> None:
    path = tmp_path / LOCK_FILE
    path.write_text(text)
    with pytest.raises(StackError) as raised:
        load_lock(path)
    assert raised.value.key == key and words in raised.value.problem
    assert "invoke images.lock" in raised.value.fix


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("Name: r/x:1\nMediaType: m\nDigest:    " + DIGEST + "\n", DIGEST),
        (DockerException(["docker"], 1, stderr=b"ERROR: r/x:1: not found"), None),
        (DockerException(["docker"], 1, stderr=b"ERROR: denied: requested access"), None),
    ],
)
def test_what_the_registry_says_about_a_tag(
    monkeypatch: pytest.MonkeyPatch, outcome: object, expected: str | None
) -> None:
    def answer(command: list[str], capture_stderr: bool) -> str:
        assert command[-4:] == ["buildx", "imagetools", "inspect", "r/x:1"]
        if isinstance(outcome, Exception):
            raise outcome
        return str(outcome)

    monkeypatch.setattr(engine_registry, "run", answer)
    assert engine_registry.remote_digest(DockerClient(), "r/x:1") == expected


def test_a_registry_that_does_not_answer_is_an_engine_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def down(command: list[str], capture_stderr: bool) -> str:
        raise DockerException(
            ["docker"], 1, stderr=b"ERROR: dial tcp 127.0.0.1:9: connection refused"
        )

    monkeypatch.setattr(engine_registry, "run", down)
    with pytest.raises(EngineError, match=r"reading r/x:1 from its registry failed: .*refused"):
        engine_registry.remote_digest(DockerClient(), "r/x:1")
    assert engine_registry.present_refs(DockerClient(), ["r/x:1"], required=False) is None
    with pytest.raises(EngineError):
        engine_registry.present_refs(DockerClient(), ["r/x:1"], required=True)
