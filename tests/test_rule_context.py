"""What the rules share, exactly: image names and tags, secret-looking names, mount paths, the
environment that reaches a service, how each MCP server starts, and the rule registry itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.model.stack import load_stack
from tasks.rules.context import (
    ServerRun,
    copied_scripts,
    dockerfile_env,
    effective_env,
    image_family,
    image_tag,
    is_free_threaded,
    is_secret_name,
    server_runs,
    service_dockerfile,
    service_images,
    under,
)
from tasks.rules.registry import RULES, Finding, Hit, Severity, rule, run_rules
from tests.ministack import MiniStack


@pytest.mark.parametrize(
    ("ref", "family", "tag"),
    [
        ("postgres", "postgres", "latest"),
        ("postgres:17-trixie", "postgres", "17-trixie"),
        ("ghcr.io/org/Name:1.2@sha256:abc", "name", "1.2"),
        ("localhost:5000/img", "img", "latest"),
        ("localhost:5000/img:tag", "img", "tag"),
        ("img@sha256:x", "img", "latest"),
    ],
)
def test_image_family_and_tag(ref: str, family: str, tag: str) -> None:
    assert (image_family(ref), image_tag(ref)) == (family, tag)


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("DB_PASSWORD", True),
        ("MY_PASSWD", True),
        ("GITHUB_TOKEN", True),
        ("API_KEY", True),
        ("APIKEY", True),
        ("AWS_ACCESS_KEY", True),
        ("private_key", True),
        ("SECRETARY", True),
        ("db_password_file", False),
        ("TOKEN_URL", False),
        ("PRIVATE_KEY_PATH", False),
        ("SECRET_NAME", False),
        ("TOKEN_INPUT", False),
        ("CLIENT_SECRET_ID", False),
        ("USER", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


@pytest.mark.parametrize(
    ("path", "targets", "inside"),
    [
        ("/a/b", ("/a",), True),
        ("/a", ("/a/",), True),
        ("/a/", ["/a"], True),
        ("/ab", ("/a",), False),
        ("/b", ("/a", "/c"), False),
        ("/c/d", ("/a", "/c"), True),
        ("/", ("/",), True),
        ("/x", ("/",), True),
        ("/x", (), False),
    ],
)
def test_under_a_mount(path: str, targets: tuple[str, ...], inside: bool) -> None:
    assert under(path, targets) is inside


def test_images_dockerfiles_and_environment(mini: MiniStack) -> None:
    mini.put("containers/db/build.sh", "./configure --disable-gil\n")
    mini.put("containers/db/notes.txt", "--disable-gil\n")
    mini.put(
        "containers/db/Dockerfile",
        "ARG BASE_IMAGE=postgres:17\nFROM ${BASE_IMAGE} AS base\nENV A=1 B=2\nFROM base\nENV B=3\n"
        "COPY build.sh notes.txt /x/\nCOPY --from=base /y /z\n",
    )
    mini.edit_yaml(
        "docker-compose.mcp.yml",
        lambda d: d["services"]["db"].update(
            env_file=["devcontainer.env"], environment={"B": "4", "C": None}
        ),
    )
    stack = load_stack(mini.root)
    db, dev = stack.compose.services["db"], stack.compose.services["devcontainer"]
    dockerfile = service_dockerfile(stack, db)
    assert dockerfile is not None and dockerfile.path == mini.folder / "containers/db/Dockerfile"
    assert service_images(stack, db) == ["postgres:17"]
    assert service_images(stack, dev) == ["debian:trixie-slim"]
    assert copied_scripts(dockerfile) == "./configure --disable-gil\n"
    assert is_free_threaded(dockerfile)
    assert is_free_threaded(service_dockerfile(stack, dev))
    assert not is_free_threaded(None)
    path = mini.folder / "containers/db/Dockerfile"
    assert {k: (s.value, s.path, s.line) for k, s in dockerfile_env(dockerfile).items()} == {
        "A": ("1", path, 3),
        "B": ("3", path, 5),
    }
    env = effective_env(stack, db)
    compose = mini.folder / "docker-compose.mcp.yml"
    assert (env["A"].value, env["A"].path, env["A"].line) == ("1", path, 3)
    assert (env["B"].value, env["B"].path, env["B"].line) == ("4", compose, 20)
    assert (env["C"].value, env["C"].path, env["C"].line) == (None, compose, 21)
    assert (env["DB_IP"].value, env["DB_IP"].path) == (
        "172.20.0.20",
        mini.folder / "devcontainer.env",
    )


def test_images_without_a_build(mini: MiniStack) -> None:
    mini.edit_yaml(
        "docker-compose.mcp.yml",
        lambda d: (d["services"]["db"].pop("build"), d["services"]["db"].update(image="pg:1")),
    )
    stack = load_stack(mini.root)
    db = stack.compose.services["db"]
    assert service_dockerfile(stack, db) is None and service_images(stack, db) == ["pg:1"]
    assert not is_free_threaded(service_dockerfile(stack, db))


def test_free_threading_installed_by_uv(tmp_path: Path, mini: MiniStack) -> None:
    mini.put("containers/db/Dockerfile", "FROM x\nRUN uv python install  cpython-3.14t\n")
    stack = load_stack(mini.root)
    assert is_free_threaded(service_dockerfile(stack, stack.compose.services["db"]))
    mini.put("containers/db/Dockerfile", "FROM x\nRUN uv python install 3.14\n")
    stack = load_stack(mini.root)
    assert not is_free_threaded(service_dockerfile(stack, stack.compose.services["db"]))


def test_how_each_server_starts(mini: MiniStack) -> None:
    mini.edit_json(
        "devcontainer.json",
        lambda d: d["customizations"]["vscode"]["mcp"]["servers"].update(
            npx={"command": "npx", "args": ["-y", "x"]}
        ),
    )
    runs = server_runs(load_stack(mini.root))
    assert [(r.name, r.kind) for r in runs] == [
        (name, kind)
        for kind in ("manifest", "devcontainer", "vscode", "portable")
        for name in ("filesystem", "github", "memory")
    ]
    manifest, client = runs[1], runs[4]
    assert (manifest.path, manifest.line, manifest.image, manifest.args) == (
        mini.folder / "mcp/github/config/github.yml",
        1,
        "ghcr.io/github/github-mcp-server:v0.20.2",
        ("stdio",),
    )
    assert manifest.env == {"GITHUB_TOOLSETS": "repos,issues", "GITHUB_PERSONAL_ACCESS_TOKEN": None}
    assert (manifest.network, manifest.run, manifest.manifest is not None) == ("bridge", None, True)
    assert (client.path, client.line, client.network, client.manifest) == (
        mini.folder / "devcontainer.json",
        47,
        None,
        None,
    )
    assert client.env == {
        "GITHUB_PERSONAL_ACCESS_TOKEN": "${localEnv:GITHUB_PERSONAL_ACCESS_TOKEN}",
        "GITHUB_TOOLSETS": "repos,issues",
    }
    filesystem, memory = runs[0], runs[5]
    assert (filesystem.mount_targets, filesystem.mount_sources) == (("/workspace",), ("workspace",))
    assert (memory.mount_targets, memory.mount_sources, memory.network) == (
        ("/memory",),
        ("memory-data",),
        "mcp-cluster",
    )
    assert runs[3].mount_sources == ("${localWorkspaceFolder}",)


@pytest.mark.parametrize(
    ("name", "image", "looks_like"),
    [
        ("fs", "mcp/filesystem:1", "filesystem"),
        ("my-memory", "x", "memory"),
        ("gh", "ghcr.io/github/github-mcp-server", "github"),
        ("web", "mcp/fetch", "fetch"),
        ("repo", "mcp/git", "git"),
        ("Other", "thing", "Other"),
    ],
)
def test_which_reference_server_a_run_is(name: str, image: str, looks_like: str) -> None:
    run = ServerRun(name, Path("p"), 1, "vscode", image, (), {}, (), (), None, None)
    assert run.looks_like == looks_like


def test_the_registry() -> None:
    from tasks.rules import catalog  # noqa: F401  (registers every rule)

    entry = RULES["CMP002"]
    assert (entry.id, entry.group, entry.severity) == ("CMP002", "CMP", Severity.ERROR)
    assert entry.title == "restart policy is not unless-stopped"
    assert RULES["DF001"].group == "DF" and RULES["VOL003"].group == "VOL"
    with pytest.raises(ValueError, match=r"^duplicate rule id CMP002$"):
        rule("CMP002", "again", Severity.INFO)(lambda stack: [])
    assert RULES["CMP002"] is entry


@pytest.mark.thread_unsafe(reason="adds and removes a rule of the one global registry")
def test_a_rule_registers_under_its_id_and_group() -> None:
    def found(stack: object) -> list[Hit]:
        return []

    assert rule("ZZZ902", "a title", Severity.INFO)(found) is found
    try:
        entry = RULES["ZZZ902"]
        assert (entry.id, entry.title, entry.severity, entry.group, entry.function) == (
            "ZZZ902",
            "a title",
            Severity.INFO,
            "ZZZ",
            found,
        )
    finally:
        del RULES["ZZZ902"]


@pytest.mark.thread_unsafe(reason="adds and removes a rule of the one global registry")
def test_run_rules_filters_dedupes_and_sorts(mini: MiniStack) -> None:
    from tasks.rules import registry

    path = mini.folder / "docker-compose.mcp.yml"

    def twice(stack: object) -> list[Hit]:
        return [
            Hit(path, 9, "b", "f"),
            Hit(path, 9, "b", "f"),
            Hit(path, None, "a", "f", Severity.INFO),
            Hit(path, 2, "c", "f", Severity.ERROR),
        ]

    registry.RULES["ZZZ901"] = registry.Rule("ZZZ901", "test", Severity.WARNING, "ZZZ", twice)
    try:
        stack = load_stack(mini.root)
        found = run_rules(stack, ["ZZZ"])
        assert run_rules(stack, ["ZZZ901"]) == found
        assert run_rules(stack, ["CMP002"]) == []
    finally:
        del registry.RULES["ZZZ901"]
    rel = ".devcontainer/docker-compose.mcp.yml"
    assert found == [
        Finding("ZZZ901", Severity.ERROR, rel, 2, "c", "f"),
        Finding("ZZZ901", Severity.WARNING, rel, 9, "b", "f"),
        Finding("ZZZ901", Severity.INFO, rel, None, "a", "f"),
    ]
    assert [f.location for f in found] == [f"{rel}:2", f"{rel}:9", rel]
    assert found[0].to_json() == {
        "rule": "ZZZ901",
        "severity": "error",
        "path": rel,
        "line": 2,
        "message": "c",
        "fix": "f",
    }
