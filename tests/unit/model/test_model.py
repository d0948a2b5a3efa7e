"""The pure model: interpolation, env files, Dockerfiles, compose parsing, line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.model.compose import load_compose
from tasks.model.dockerfile import parse_dockerfile_text
from tasks.model.dockerrun import parse_docker_run
from tasks.model.envfile import parse_env_text
from tasks.model.interpolate import InterpolationError, Interpolator, variables_in
from tasks.model.source import load_jsonc
from tasks.model.stack import load_stack
from tests.ministack import MiniStack

ENV = {"SET": "value", "EMPTY": ""}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${SET}", "value"),
        ("$SET/x", "value/x"),
        ("${SET:-d}", "value"),
        ("${EMPTY:-d}", "d"),
        ("${EMPTY-d}", ""),
        ("${UNSET-d}", "d"),
        ("${UNSET:-${SET}}", "value"),
        ("${SET:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("$$SET", "$SET"),
        ("a${SET}b${EMPTY}c", "avaluebc"),
    ],
)
def test_interpolation_matches_compose(text: str, expected: str) -> None:
    assert Interpolator(ENV).resolve(text) == expected


def test_required_variable_raises_with_message() -> None:
    with pytest.raises(InterpolationError, match="UNSET is missing: set it"):
        Interpolator(ENV).resolve("${UNSET:?set it}")
    with pytest.raises(InterpolationError):
        Interpolator(ENV).resolve("${EMPTY:?x}")
    assert Interpolator(ENV).resolve("${EMPTY?x}") == ""


def test_undefined_variables_are_recorded_not_defaulted_ones() -> None:
    interpolator = Interpolator(ENV)
    interpolator.resolve("${A} $B ${C:-x}")
    assert interpolator.undefined == ["A", "B"]
    assert variables_in("${A} $B ${C:-x} $$D") == ["A", "B", "C"]


def test_env_file_rules() -> None:
    text = (
        "# comment\n\nexport A=1\nB = two  # trailing comment\nC='lit ${A}'\n"
        'D="x\\ny ${A}"\nE=${A}-${B}\n'
    )
    env = parse_env_text(text, Path("x.env"))
    assert env.as_dict() == {"A": "1", "B": "two", "C": "lit ${A}", "D": "x\ny 1", "E": "1-two"}
    assert env.line_of("B") == 4


def test_env_file_bad_line_names_line() -> None:
    with pytest.raises(StackError) as error:
        parse_env_text("A=1\nBAD$=x\n", Path("x.env"))
    assert error.value.line == 2 and "KEY=VALUE" in error.value.render()


def test_dockerfile_stages_args_env_mounts() -> None:
    dockerfile = parse_dockerfile_text(
        "# syntax=docker/dockerfile:1\nARG BASE_IMAGE=debian:trixie\nFROM ${BASE_IMAGE} AS build\n"
        "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\\n    apt-get install -y x\n"
        'FROM build\nENV A=1 B="two words"\nUSER vscode\nHEALTHCHECK CMD true\n',
        Path("Dockerfile"),
    )
    assert dockerfile.directives == {"syntax": "docker/dockerfile:1"}
    assert [s.name for s in dockerfile.stages] == ["build", None]
    assert dockerfile.external_bases() == [("debian:trixie", 3)]
    assert dockerfile.external_bases({"BASE_IMAGE": "x:1"}) == [("x:1", 3)]
    run = dockerfile.stages[0].of("RUN")[0]
    assert run.line == 4
    assert run.mounts() == [{"type": "cache", "target": "/var/cache/apt", "sharing": "locked"}]
    assert dockerfile.final.env() == {"A": ("1", 7), "B": ("two words", 7)}
    assert dockerfile.final.user_at(9) == "vscode"
    assert [s.name for s in dockerfile.lineage()] == [None, "build"]


def test_compose_parsing_and_lines(mini: MiniStack) -> None:
    compose = load_compose(mini.folder / "docker-compose.mcp.yml", {})
    db = compose.services["db"]
    assert db.ports[0].host_ip == "127.0.0.1" and db.ports[0].loopback_only
    assert db.mounts[0].type == "volume" and db.mounts[0].target == "/var/lib/postgresql/data"
    assert db.networks == {"mcp-cluster": "172.20.0.20"}
    assert db.build is not None and db.build.context == mini.folder / "containers/db"
    dev = compose.services["devcontainer"]
    assert dev.env_files == (mini.folder / "devcontainer.env",)
    assert dev.mounts[0].type == "bind" and dev.mounts_docker_socket()
    assert compose.networks["mcp-cluster"].name == "mcp-cluster"
    assert compose.networks["default"].name == "mini_default"
    assert compose.volumes["db-data"].name == "db-data"
    assert compose.line("services", "db", "restart") == _line_of(mini, "    restart:")


def _line_of(mini: MiniStack, prefix: str) -> int:
    lines = (mini.folder / "docker-compose.mcp.yml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(prefix))


@pytest.mark.parametrize(
    ("port", "ip", "host", "container"),
    [
        ("80", "", "", "80"),
        ("8080:80", "", "8080", "80"),
        ("127.0.0.1:9090:9090", "127.0.0.1", "9090", "9090"),
        ("127.0.0.1::80", "127.0.0.1", "", "80"),
        ("[::1]:80:80/udp", "::1", "80", "80"),
    ],
)
def test_port_syntax(mini: MiniStack, port: str, ip: str, host: str, container: str) -> None:
    mini.edit_yaml("docker-compose.mcp.yml", lambda d: d["services"]["db"].update(ports=[port]))
    parsed = load_compose(mini.folder / "docker-compose.mcp.yml", {}).services["db"].ports[0]
    assert (parsed.host_ip, parsed.host_port, parsed.container_port) == (ip, host, container)


def test_jsonc_comments_trailing_commas_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text('// c\n{\n  "a": 1, /* x */\n  "b": {"c": [1, 2,],},\n}\n')
    doc = load_jsonc(path)
    assert doc.data == {"a": 1, "b": {"c": [1, 2]}}
    assert doc.line_of("b", "c") == 4


def test_docker_run_parsing() -> None:
    run = parse_docker_run(
        "docker",
        [
            "run",
            "-i",
            "--rm",
            "--label",
            "a=b",
            "-e",
            "X",
            "-e=Y=1",
            "-v",
            "v:/m:ro",
            "--mount",
            "type=volume,source=s,target=/t",
            "--network=none",
            "img:1",
            "stdio",
            "-x",
        ],
    )
    assert run is not None
    assert run.image == "img:1" and run.args == ("stdio", "-x")
    assert run.env == {"X": None, "Y": "1"}
    assert run.mount_targets() == ["/m", "/t"] and run.mount_sources() == ["v", "s"]
    assert {"-i", "--rm"} <= run.flags and run.values("--network") == ["none"]
    assert parse_docker_run("npx", ["-y", "x"]) is None


def test_stack_resolves_paths_relative_to_the_file(mini: MiniStack) -> None:
    mini.edit_json(
        "devcontainer.json",
        lambda d: d.update(dockerComposeFile=[".devcontainer/docker-compose.mcp.yml"]),
    )
    stack = load_stack(mini.root)
    ref = next(r for r in stack.references if r.kind == "dockerComposeFile")
    assert not ref.exists
    assert ref.resolved == mini.folder / ".devcontainer/docker-compose.mcp.yml"
    assert stack.compose.path == mini.folder / "docker-compose.mcp.yml"


def test_stack_accepts_devcontainer_folder_as_root(mini: MiniStack) -> None:
    assert load_stack(mini.folder).root == mini.root
