"""What the rules share, exactly: image names and tags, secret-looking names, mount paths, the
environment that reaches a service, how each MCP server starts, and the rule registry itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.model.manifest import REFERENCE_LABEL
from tasks.model.masks import is_secret_name
from tasks.model.stack import load_stack
from tasks.rules.base import RULES, Finding, Hit, Severity, rule
from tasks.rules.catalog import run_rules
from tasks.rules.context import (
    copied_scripts,
    dockerfile_env,
    effective_env,
    image_family,
    image_tag,
    is_free_threaded,
    reference_of,
    server_runs,
    service_dockerfile,
    service_images,
    under,
)
from tests.clirun import REPO
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
        54,
        None,
        None,
    )
    assert (manifest.reference, client.reference, runs[-1].reference) == (
        "github",
        "github",
        "memory",
    )
    assert client.env == {
        "GITHUB_PERSONAL_ACCESS_TOKEN": "${localEnv:GITHUB_PERSONAL_ACCESS_TOKEN}",
        "GITHUB_TOOLSETS": "repos,issues",
    }
    filesystem, memory = runs[0], runs[5]
    assert (filesystem.mount_targets, filesystem.mount_sources) == (("/workspace",), ("workspace",))
    assert (memory.mount_targets, memory.mount_sources, memory.network) == (
        ("/memory", "/audit"),
        ("memory-data", "mcp-audit"),
        "mcp-cluster",
    )
    # The devcontainer.json launch of filesystem: the launcher mounts the workspace, whose
    # source the engine sees is the host's folder.
    assert (runs[3].mount_targets, runs[3].mount_sources) == (
        ("/audit", "/workspace"),
        ("mcp-audit", "${localWorkspaceFolder}"),
    )


def test_which_reference_server_a_run_is() -> None:
    """By its own label, else by the manifest whose image it starts; never by a name that
    merely contains a server's (digit-tools is not git, my-memory is not memory)."""
    stack = load_stack(REPO)
    manifests = list(stack.manifests.values())
    labelled = {
        m.image: m.labels[REFERENCE_LABEL] for m in manifests if REFERENCE_LABEL in m.labels
    }
    assert set(labelled.values()) == {"filesystem", "memory", "github", "fetch", "git"}
    for image, reference in labelled.items():
        assert reference_of([], image, manifests) == reference
    own = [f"{REFERENCE_LABEL}=memory", "other=x"]
    assert reference_of(own, "registry.example/anything:1", manifests) == "memory"
    assert reference_of([f"{REFERENCE_LABEL}=git"], next(iter(labelled)), manifests) == "git"
    published = {
        "mcp/git": "git",
        "docker.io/mcp/git:0.6": "git",
        "index.docker.io/mcp/memory@sha256:" + "a" * 64: "memory",
        "ghcr.io/github/github-mcp-server:latest": "github",
        "mcp-filesystem:other-tag": "filesystem",
    }
    for image, reference in published.items():
        assert reference_of([], image, manifests) == reference, image
    strangers = (
        "digit-tools:1",
        "my-memory:latest",
        "example.org/mcp/git",
        "mcp/gitx",
        "not an image",
    )
    for image in strangers:
        assert reference_of(["dev.mcp-cluster.server=git"], image, manifests) is None, image
    runs = {(run.kind, run.name): run.reference for run in server_runs(stack)}
    for (kind, name), found in runs.items():
        manifest = stack.manifests.get(name)
        expected = manifest.labels.get(REFERENCE_LABEL) if manifest else None
        assert found == expected, (kind, name)


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
    from tasks.rules import base as registry

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
        "key": None,
    }
