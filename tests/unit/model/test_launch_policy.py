"""The allow-list of MCP server launch options: what `invoke check` (MCP012), `mcp.config` and
the probe refuse, wherever a forbidden option sits, and the forms that stay clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tasks.errors import StackError
from tasks.model.dockerrun import parse_docker_run
from tasks.model.launchpolicy import (
    REFERENCE,
    Scope,
    Violation,
    check_manifest,
    image_problem,
    violations,
)
from tasks.model.stack import load_stack
from tasks.rules.catalog import run_rules
from tasks.servers.configfiles import rendered_files
from tasks.servers.generate import portable_document
from tasks.servers.specs import probe_specs, substitute
from tests.clirun import invoke
from tests.ministack import MiniStack

SCOPE = Scope(frozenset({"memory-data", "mcp-audit"}), frozenset({"mcp-cluster"}))

# (option words, what the refusal says)
FORBIDDEN = [
    (["--privileged"], "--privileged is not an allowed launch option"),
    (["-v", "/:/host"], "'/' is not a named volume of the stack"),
    (["-v", "/var/run/docker.sock:/var/run/docker.sock"], "is not a named volume of the stack"),
    (["-v", "./data:/data"], "'./data' is not a named volume of the stack"),
    (["-v", "memory-data"], "'memory-data' is not VOLUME:/PATH[:ro]"),
    (
        ["--mount", "type=bind,src=/,dst=/host"],
        "--mount type=bind,src=/,dst=/host is not an allowed",
    ),
    (["--pid", "host"], "--pid host is not an allowed launch option"),
    (["--ipc=host"], "--ipc host is not an allowed launch option"),
    (["--userns", "host"], "--userns is not an allowed launch option"),
    (["--cap-add", "SYS_ADMIN"], "--cap-add SYS_ADMIN is not an allowed launch option"),
    (["--device", "/dev/sda"], "--device /dev/sda is not an allowed launch option"),
    (["--gpus", "all"], "--gpus all is not an allowed launch option"),
    (
        ["--security-opt", "seccomp=unconfined"],
        "--security-opt seccomp=unconfined is not hardening",
    ),
    (
        ["--security-opt", "apparmor=unconfined"],
        "--security-opt apparmor=unconfined is not hardening",
    ),
    (["--security-opt", "no-new-privileges:false"], "no-new-privileges:false is not hardening"),
    (["--network", "host"], "--network host is not none, bridge or a network of the stack"),
    (["--net=container:x"], "--network container:x is not none, bridge"),
    (["--user", "0"], "--user 0 is not an allowed launch option"),
    (["--entrypoint", "sh"], "--entrypoint sh is not an allowed launch option"),
    (["-p", "8080:80"], "--publish 8080:80 is not an allowed launch option"),
    (["--env-file", "/etc/passwd"], "--env-file /etc/passwd is not an allowed launch option"),
    (["-e", "1BAD=x"], "'1BAD' is not a variable name"),
    (["--label", "com.docker.x=y"], "label 'com.docker.x' is not dev.mcp-cluster.*"),
    (["--name", "fixed"], "a fixed name makes a second client fail"),
    (["-t"], "-t is not an allowed launch option"),
    (["-it"], "-t is not an allowed launch option"),
    (["--memory", "lots"], "'lots' is not a number or size"),
    (["--pull", "always"], "--pull always may fetch any image"),
    (["--tmpfs", "/"], "tmpfs at '/'"),
    (["--volumes-from", "x"], "--volumes-from is not an allowed launch option"),
    (["--cgroupns=host"], "--cgroupns is not an allowed launch option"),
]

ALLOWED = [
    ["-i", "--rm", "--init", "--read-only"],
    ["--interactive"],
    ["--security-opt", "no-new-privileges"],
    ["--security-opt=no-new-privileges:true"],
    ["--cap-drop", "ALL", "--tmpfs", "/tmp:rw,nosuid,nodev,size=64m"],
    ["--memory", "512m", "--cpus", "1.5", "--pids-limit", "256", "--pull", "never"],
    ["-e", "A", "-e", "B_2=x y", "--env=C=1"],
    ["-v", "memory-data:/memory", "-v", "mcp-audit:/audit:ro", "--volume=memory-data:/m:rw"],
    ["--network", "none"],
    ["--net=mcp-cluster"],
    ["--label", "dev.mcp-cluster.server=x"],
]


def refusals(words: list[str], scope: Scope = SCOPE) -> list[str]:
    run = parse_docker_run("docker", ["run", *words, "mcp-x:latest"])
    assert run is not None
    return [v.problem for v in violations(run, scope)]


@pytest.mark.parametrize(("words", "problem"), FORBIDDEN)
def test_each_forbidden_option_is_refused(words: list[str], problem: str) -> None:
    assert any(problem in found for found in refusals(words)), refusals(words)


@pytest.mark.parametrize("words", ALLOWED)
def test_each_allowed_form_stays_clean(words: list[str]) -> None:
    assert refusals(words) == []


def test_the_probe_may_add_the_host_network_and_its_own_name_only() -> None:
    probe = Scope(SCOPE.volumes, SCOPE.networks, probe=True)
    assert refusals(["--network", "host", "--name", "mcp-probe-git-1a2b"], probe) == []
    assert refusals(["--name", "other"], probe) and refusals(["--pid", "host"], probe)


@pytest.mark.parametrize(
    "image",
    [
        "mcp-git:latest",
        "ghcr.io/github/github-mcp-server:v0.20.2",
        "localhost:5000/team/mcp-git:1.0",
        "registry.example.com/a/b/c",
        "[::1]:5000/x:y",
        f"127.0.0.1:5000/mcp-git@sha256:{'a' * 64}",
        f"mcp-git:1@sha256:{'0' * 64}",
        "a__b.c-d",
    ],
)
def test_image_references_of_the_oci_grammar(image: str) -> None:
    assert REFERENCE.fullmatch(image) and image_problem(image) is None


@pytest.mark.parametrize(
    "image",
    [
        "-it",
        "--privileged",
        "UPPER",
        "upper/Case",
        "name:",
        "name:-tag",
        ":tag",
        "a//b",
        "a/-b",
        "name@sha256:short",
        "ex ample",
        "a" * 256,
        "",
    ],
)
def test_anything_else_is_not_an_image(image: str) -> None:
    assert image_problem(image) is not None


def _client_args(mini: MiniStack, insert: list[str]) -> None:
    def change(data: dict[str, Any]) -> None:
        args = data["customizations"]["vscode"]["mcp"]["servers"]["memory"]["args"]
        at = args.index("run") + 1
        args[at:at] = insert

    mini.edit_json("devcontainer.json", change)


@pytest.mark.parametrize(("words", "problem"), FORBIDDEN[:8])
def test_check_names_the_file_line_and_fix_in_a_clients_launch(
    mini: MiniStack, words: list[str], problem: str
) -> None:
    _client_args(mini, words)
    hits = [f for f in run_rules(load_stack(mini.root), {"MCP012"})]
    assert hits and all(h.path == ".devcontainer/devcontainer.json" and h.line for h in hits)
    assert any(problem in h.message and h.fix.startswith("remove") for h in hits)


@pytest.mark.parametrize(("words", "problem"), [f for f in FORBIDDEN if f[0][0] != "--name"])
def test_check_refuses_the_same_options_in_a_manifests_probe(
    mini: MiniStack, words: list[str], problem: str
) -> None:
    mini.edit_yaml(
        "mcp/memory/config/memory.yml",
        lambda d: d.update(probe={"tool": "read_graph", "docker_args": words}),
    )
    hits = [f for f in run_rules(load_stack(mini.root), {"MCP012"})]
    if words == ["--network", "host"]:  # the probe's own allowance
        assert hits == []
        return
    assert any(problem in h.message for h in hits), [h.message for h in hits]
    assert all(h.path == ".devcontainer/mcp/memory/config/memory.yml" for h in hits)


def test_generation_refuses_a_launch_outside_the_allow_list(mini: MiniStack) -> None:
    mini.edit_yaml("mcp/memory/config/memory.yml", lambda d: d.update(network="host"))
    before = (mini.folder / "devcontainer.json").read_text()
    result = invoke("mcp.config", "--root", str(mini.root))
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert ".devcontainer/mcp/memory/config/memory.yml:1 [--network]" in message
    assert "the launch of memory would carry --network host is not none, bridge" in message
    assert (mini.folder / "devcontainer.json").read_text() == before


def test_generation_refuses_an_image_that_would_become_options(mini: MiniStack) -> None:
    mini.edit_yaml("mcp/memory/config/memory.yml", lambda d: d.update(image="--privileged"))
    result = invoke("mcp.config", "--root", str(mini.root))
    assert result.returncode == 2
    assert "'--privileged' is not an image reference" in " ".join(result.stderr.split())


def test_the_probe_starts_nothing_outside_the_allow_list(mini: MiniStack) -> None:
    _client_args(mini, ["--privileged"])
    specs, skipped = probe_specs(load_stack(mini.root), ("memory",), mini.root, "http://x/", 5)
    assert specs == [] and [s.refused for s in skipped] == [True]
    assert "--privileged is not an allowed launch option" in skipped[0].reason


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("mcp/git", "mcp/git"),
        ("mcp/git:0.6", "mcp/git"),
        ("docker.io/mcp/git@sha256:" + "b" * 64, "mcp/git"),
        ("docker.io/library/node:22", "node"),
        ("library/node", "node"),
        ("localhost:5000/team/mcp-git:1", "localhost:5000/team/mcp-git"),
        ("ghcr.io/github/github-mcp-server:latest", "ghcr.io/github/github-mcp-server"),
        ("Upper/Case", None),
        ("", None),
        ("a b", None),
    ],
)
def test_the_repository_an_image_names(image: str, expected: str | None) -> None:
    from tasks.model.launchpolicy import repository

    assert repository(image) == expected


def test_rendering_refuses_a_launch_outside_the_allow_list_naming_the_manifest(
    mini: MiniStack,
) -> None:
    mini.edit_yaml("mcp/memory/config/memory.yml", lambda d: d.update(network="host"))
    with pytest.raises(StackError) as refused:
        rendered_files(load_stack(mini.root))
    error = refused.value
    assert (error.path, error.line, error.key) == (
        mini.folder / "mcp/memory/config/memory.yml",
        1,
        "--network",
    )
    assert error.problem == (
        "the launch of memory would carry --network host is not none, bridge or a network of "
        "the stack"
    )
    assert error.fix == "remove or correct --network host"


def test_a_devcontainer_json_without_the_servers_key_gets_it_nested(mini: MiniStack) -> None:
    path = mini.folder / "devcontainer.json"
    data = json.loads(path.read_text().removeprefix("// mini stack\n"))
    servers = data["customizations"]["vscode"]["mcp"]["servers"]
    del data["customizations"]
    path.write_text(json.dumps(data))
    text = rendered_files(load_stack(mini.root))[path]
    assert json.loads(text) == {**data, "customizations": {"vscode": {"mcp": {"servers": servers}}}}
    assert text.startswith('{\n  "') and text.endswith("}\n")


def test_the_rendered_client_files_are_json_indented_by_two(mini: MiniStack) -> None:
    views = rendered_files(load_stack(mini.root))
    portable = views[mini.root / ".mcp.json"]
    assert portable.endswith("}\n") and portable.startswith('{\n  "mcpServers": {\n    "')
    assert json.loads(portable) == portable_document(load_stack(mini.root).manifests.values())


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("${localWorkspaceFolder}/a", "/ws/a"),
        ("${workspaceFolder}", "/ws"),
        ("${containerWorkspaceFolder}/b", "/in/b"),
        ("${localEnv:PROBE_X}-${env:PROBE_X}-${PROBE_X}", "x1-x1-x1"),
        ("${localEnv:PROBE_UNSET}|", "|"),
        ("${localEnv:workspaceFolder}", ""),
        ("$PROBE_X ${1x}", "$PROBE_X ${1x}"),
    ],
)
def test_variables_are_filled_as_vs_code_would(
    monkeypatch: pytest.MonkeyPatch, text: str, shown: str
) -> None:
    monkeypatch.setenv("PROBE_X", "x1")
    monkeypatch.delenv("PROBE_UNSET", raising=False)
    monkeypatch.delenv("workspaceFolder", raising=False)
    assert substitute(text, Path("/ws"), "/in") == shown
    assert substitute("${containerWorkspaceFolder}", Path("/ws")) == "/ws"


@pytest.mark.parametrize(
    ("words", "image", "expected"),
    [
        (["-v", "memory-data:data"], "mcp-x:1", ("--volume", "'data' is not an absolute path")),
        (
            ["--label", "x=dev.mcp-cluster.y=z"],
            "mcp-x:1",
            ("--label", "label 'x' is not dev.mcp-cluster.*"),
        ),
        ([], "Mcp-X:1", ("image", "'Mcp-X:1' is not an image reference")),
    ],
)
def test_a_refusal_names_the_option_the_value_and_the_fix(
    words: list[str], image: str, expected: tuple[str, str]
) -> None:
    run = parse_docker_run("docker", ["run", *words, image])
    assert run is not None
    option, problem = expected
    fix = "name an image" if option == "image" else f"remove or correct {option} {words[-1]}"
    assert violations(run, SCOPE) == [Violation(option, problem, fix)]


def test_a_label_whose_value_holds_the_prefix_is_judged_by_its_key() -> None:
    assert refusals(["--label", "dev.mcp-cluster.a=b=c"]) == []


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        ({"image": "Bad Image"}, "image", "'Bad Image' is not an image reference"),
        ({"env": {"1BAD": "x"}}, "env", "'1BAD' is not a variable name"),
    ],
)
def test_a_manifest_outside_the_allow_list_is_named_at_its_line(
    mini: MiniStack, change: dict[str, Any], key: str, problem: str
) -> None:
    path = "mcp/memory/config/memory.yml"
    mini.edit_yaml(path, lambda d: d.update(change))
    manifest = load_stack(mini.root).manifests["memory"]
    with pytest.raises(StackError) as refused:
        check_manifest(manifest)
    lines = (mini.folder / path).read_text().splitlines()
    assert refused.value.key == key and refused.value.problem.startswith(problem)
    assert refused.value.line == 1 + next(
        i for i, line in enumerate(lines) if line.startswith(f"{key}:")
    )
