"""A corpus of broken stacks, each made at test time from the clean mini stack: every one ends
with a precise message (file, line, key) and the right exit code, as text and as JSON, and
never with a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from invoke.context import Context
from invoke.exceptions import Exit

from tasks.check_tasks import check
from tasks.errors import StackError
from tasks.model.stack import load_stack
from tests.clirun import REPO, invoke
from tests.ministack import MiniStack

COMPOSE = "docker-compose.mcp.yml"
Mutation = Callable[[MiniStack], object]


def _service(name: str, key: str, value: Any) -> Mutation:
    return lambda m: m.edit_yaml(COMPOSE, lambda d: d["services"][name].__setitem__(key, value))


def _top(key: str, value: Any) -> Mutation:
    return lambda m: m.edit_yaml(COMPOSE, lambda d: d.__setitem__(key, value))


def _text(relative: str, text: str | bytes) -> Mutation:
    def write(m: MiniStack) -> None:
        path = m.folder / relative
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)

    return write


def _devcontainer(change: Callable[[dict[str, Any]], object]) -> Mutation:
    return lambda m: m.edit_json("devcontainer.json", change)


def _versions(change: Callable[[dict[str, Any]], object]) -> Mutation:
    """The repository's versions.json, changed, written into the stack."""

    def write(m: MiniStack) -> None:
        data = json.loads((REPO / ".devcontainer/versions.json").read_text(encoding="utf-8"))
        change(data)
        m.put("versions.json", json.dumps(data, indent=2))

    return write


def _pins(image: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda d: d["cpython"][image]["pins"]


PINS = _pins("devcontainer")


def _dockerfile_as_folder(m: MiniStack) -> None:
    path = m.folder / "mcp/memory/Dockerfile"
    path.unlink()
    path.mkdir()


ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdef", "bcdefg", strict=True)
)

# (case, mutation, exit code, file the message names; for exit 2 the key the error names, else
# RULE:KEY, a finding of RULE whose key starts with KEY)
CORPUS: list[tuple[str, Mutation, int, str, str]] = [
    ("service is a string", lambda m: m.edit_yaml(COMPOSE, lambda d: d["services"].__setitem__(
     "db", "oops")), 1, COMPOSE, "SCHEMA:services.db"),
    ("networks as a list", _top("networks", ["mcp-cluster"]), 1, COMPOSE, "SCHEMA:networks"),
    ("volumes as a list", _top("volumes", ["data"]), 1, COMPOSE, "SCHEMA:volumes"),
    ("healthcheck test is a number", _service("db", "healthcheck", {"test": 5}), 1, COMPOSE,
     "SCHEMA:services.db.healthcheck.test"),
    ("depends_on is a string", _service("db", "depends_on", "devcontainer"), 1, COMPOSE,
     "SCHEMA:services.db.depends_on"),
    ("x-generated is a list", _service("db", "x-generated", ["./certs"]), 2, COMPOSE,
     "services.db.x-generated"),
    ("env entry is a list", _service("db", "environment", {"A": [1, 2]}), 1, COMPOSE,
     "SCHEMA:services.db.environment.A"),
    ("IP out of range", lambda m: m.replace(COMPOSE, "172.20.0.20", "172.20.0.999"), 2, COMPOSE,
     "services.db.networks.mcp-cluster.ipv4_address"),
    ("service depends on itself", _service("db", "depends_on", {"db": {"condition":
     "service_healthy"}}), 1, COMPOSE, "CMP015"),
    ("depends_on cycle", lambda m: m.edit_yaml(COMPOSE, lambda d: d["services"]["db"].__setitem__(
     "depends_on", {"devcontainer": {"condition": "service_healthy"}})), 1, COMPOSE, "CMP015"),
    ("duplicate YAML key", lambda m: m.put(COMPOSE, (m.folder / COMPOSE).read_text().replace(
     "services:\n", "services:\n  db:\n    image: x\n", 1)), 2, COMPOSE, "services.db"),
    ("YAML alias bomb", _text(COMPOSE, ALIAS_BOMB + "services: {}\n"), 2, COMPOSE, ""),
    ("non-UTF-8 bytes", _text(COMPOSE, b"services:\n  db:\n    image: \xff\xfe\n"), 2, COMPOSE, ""),
    ("control characters", _text(COMPOSE, "services:\n  db:\n    image: a\x07b\x00\n"), 2, COMPOSE,
     ""),
    ("devcontainer.json is an array", _text("devcontainer.json", "[1, 2]"), 1,
     "devcontainer.json", "SCHEMA:"),
    ("servers is a list", lambda m: m.edit_json("devcontainer.json", lambda d:
     d["customizations"]["vscode"]["mcp"].__setitem__("servers", [])), 1, "devcontainer.json",
     "SCHEMA:customizations.vscode.mcp.servers"),
    ("manifest key has the wrong type", lambda m: m.edit_yaml("mcp/memory/config/memory.yml",
     lambda d: d.__setitem__("args", "--flag")), 1, "memory.yml", "SCHEMA:args"),
    ("unknown Dockerfile instruction", _text("Dockerfile", "FROM debian\nFOO bar\n"), 2,
     "Dockerfile", "FOO"),
    ("bare FROM", _text("Dockerfile", "FROM\n"), 2, "Dockerfile", ""),
    ("unterminated ${ in a Dockerfile", _text("Dockerfile", "ARG X\nFROM debian:${X\n"), 2,
     "Dockerfile", "FROM"),
    ("${VAR:?} in a Dockerfile", _text("Dockerfile", "ARG X\nFROM debian:${X:?set X}\n"), 2,
     "Dockerfile", "FROM"),
    ("unbalanced quote in ENV", _text("Dockerfile", 'FROM debian\nENV A="b\n'), 2, "Dockerfile",
     "ENV"),
    ("manifest's Dockerfile is missing", lambda m: (m.folder / "mcp/memory/Dockerfile").unlink(),
     1, "memory.yml", "CMP003"),
    ("manifest's Dockerfile is a directory", _dockerfile_as_folder, 1, "memory.yml",
     "CMP003"),
    # devcontainer.json against the Dev Containers specification's schema
    ("remoteUser is a number", _devcontainer(lambda d: d.__setitem__("remoteUser", 5)), 1,
     "devcontainer.json", "SCHEMA:remoteUser"),
    ("forwardPorts is a string", _devcontainer(lambda d: d.__setitem__("forwardPorts", "x")), 1,
     "devcontainer.json", "SCHEMA:forwardPorts"),
    ("unknown devcontainer.json key", _devcontainer(lambda d: d.__setitem__("remoteUsr", "x")),
     0, "devcontainer.json", "DEV003:remoteUsr"),
    # versions.json against tasks/schemas/versions.schema.json
    ("sha256 is not hex", _versions(lambda d: PINS(d)["online"].__setitem__("sha256", "143B1D")),
     1, "versions.json", "SCHEMA:cpython.devcontainer.pins.online.sha256"),
    ("offline pin is missing", _versions(lambda d: PINS(d).pop("offline")), 1, "versions.json",
     "SCHEMA:cpython.devcontainer.pins"),
    ("pin is a string", _versions(lambda d: PINS(d).__setitem__("online", "3.14.6")), 1,
     "versions.json", "SCHEMA:cpython.devcontainer.pins.online"),
    ("two images own one Dockerfile's ARG defaults", _versions(lambda d: d["cpython"][
     "python-experimental"].__setitem__("dockerfile", "Dockerfile")), 2, "versions.json",
     "cpython.python-experimental.dockerfile"),
]  # fmt: skip


def check_json(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    """`invoke check --root ROOT --json`, run in this process: the exit code and the JSON."""
    capsys.readouterr()
    try:
        check(Context(), root=str(root), json=True)
        code = 0
    except Exit as stopped:
        code = stopped.code
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return code, data


@pytest.mark.parametrize(
    ("case", "mutate", "code", "file", "where"), CORPUS, ids=[c[0] for c in CORPUS]
)
def test_broken_input_is_named_precisely(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    mutate: Mutation,
    code: int,
    file: str,
    where: str,
) -> None:
    mini = MiniStack(tmp_path)
    mutate(mini)
    found, data = check_json(tmp_path, capsys)
    assert found == code, data
    if code == 2:
        error = data["error"]
        assert error["file"].endswith(file) and error["problem"] and error["fix"], error
        if where:
            assert error["key"] == where or str(error["key"]).startswith(where), error
            assert error["line"], error
    else:
        rule, _, key = where.partition(":")
        hits = [f for f in data["findings"] if f["rule"] == rule]
        hits = [f for f in hits if not key or str(f["key"]).startswith(key)]
        assert hits and hits[0]["path"].endswith(file), data["findings"]
        assert hits[0]["line"] or (rule == "SCHEMA" and not key), hits


@pytest.mark.parametrize("index", [0, 7, 16])
def test_text_output_names_the_same_place(tmp_path: Path, index: int) -> None:
    _case, mutate, code, file, where = CORPUS[index]
    mutate(MiniStack(tmp_path))
    result = invoke("check", "--root", str(tmp_path), timeout=60)
    assert result.returncode == code and "Traceback" not in result.stderr
    output = " ".join((result.stdout + result.stderr).split())
    rule, _, key = where.rpartition(":") if code == 1 else ("", "", where)
    assert file in output and f"[{key}" in output and rule in output, output
    assert code == 1 or "Fix:" in output, output


def test_bad_cli_arguments_are_refused_without_a_traceback() -> None:
    for args in (("phase", "³"), ("phase", "-1"), ("python.pin", "3.x", "--sha256", "0")):
        result = invoke(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr and "error:" in result.stderr


# (case, mutation, file, key (None: the whole document), words the problem must contain)
NAMED: list[tuple[str, Mutation, str, str | None, str]] = [
    ("devcontainer.json is an array", _text("devcontainer.json", "[1, 2]"), "devcontainer.json",
     None, "is not of type 'object'"),
    ("compose config without workspaceFolder", _devcontainer(lambda d: d.pop("workspaceFolder")),
     "devcontainer.json", None, "'workspaceFolder' is a required property"),
    ("image in a compose config", _devcontainer(lambda d: d.__setitem__("image", "x")),
     "devcontainer.json", None, "matches more than one of the alternatives"),
    ("image in a compose config that stops compose", _devcontainer(lambda d: d.update(
     image="x", shutdownAction="stopCompose")), "devcontainer.json", "image",
     "key 'image' is unknown or not allowed"),
    ("mount without target", _devcontainer(lambda d: d.__setitem__("mounts", [{"type": "bind"}])),
     "devcontainer.json", "mounts.0", "'target' is a required property"),
    ("version is not a release", _versions(lambda d: _pins("python-experimental")(d)["offline"]
     .__setitem__("version", "3.14")), "versions.json",
     "cpython.python-experimental.pins.offline.version", "a CPython release like"),
    ("unknown profile", _versions(lambda d: PINS(d).__setitem__("ofline", PINS(d)["offline"])),
     "versions.json", "cpython.devcontainer.pins.ofline", "unknown key 'ofline'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "mutate", "file", "key", "words"), NAMED, ids=[c[0] for c in NAMED]
)
def test_schema_violation_is_the_one_that_matters(
    tmp_path: Path, case: str, mutate: Mutation, file: str, key: str | None, words: str
) -> None:
    """Of the violations a schema's branches report, the message is the one the author meant:
    a compose devcontainer.json is judged as one, not as an image-based one."""
    mutate(MiniStack(tmp_path))
    with pytest.raises(StackError) as raised:
        load_stack(tmp_path)
    error = raised.value
    assert error.path.name == file and error.key == key, (case, error)
    assert words in error.problem and "(schema: " in error.problem, (case, error)
    assert key is None or error.line, (case, error)


def test_check_lists_every_schema_violation_of_every_file_in_one_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mini = MiniStack(tmp_path)
    mini.edit_yaml(COMPOSE, lambda d: d["services"]["db"].update(restart=5, ports="5432"))
    mini.edit_yaml(COMPOSE, lambda d: d.update(bogus=1))
    mini.edit_yaml("mcp/memory/config/memory.yml", lambda d: d.update(args="--flag", env=[]))
    mini.edit_json("devcontainer.json", lambda d: d.update(forwardPorts="x", inputs=[]))
    code, data = check_json(tmp_path, capsys)
    assert code == 1 and data["rules_ran"] is False, data
    found = {(f["rule"], f["path"].rsplit("/", 1)[-1], f["key"]) for f in data["findings"]}
    assert found == {
        ("SCHEMA", COMPOSE, "services.db.restart"),
        ("SCHEMA", COMPOSE, "services.db.ports"),
        ("SCHEMA", COMPOSE, "bogus"),
        ("SCHEMA", "memory.yml", "args"),
        ("SCHEMA", "memory.yml", "env"),
        ("SCHEMA", "devcontainer.json", "forwardPorts"),
        ("DEV003", "devcontainer.json", "inputs"),
    }
    assert all(f["line"] and f["fix"] for f in data["findings"]), data["findings"]
    text = invoke("check", "--root", str(tmp_path)).stdout
    assert "[services.db.restart]" in " ".join(text.split()) and "rules run once" in text


def _link(path: Path, target: str) -> None:
    path.unlink()
    path.symlink_to(target)


# (case, mutation, the state CMP003 names): a path that is there, but is not a file
NOT_A_FILE: list[tuple[str, Mutation, str]] = [
    ("env file replaced by a folder", lambda m: m.edit_yaml(COMPOSE, lambda d: d["services"][
     "devcontainer"].update(env_file=["containers"])), "which is a folder, not a file"),
    ("Dockerfile replaced by a broken link", lambda m: _link(m.folder / "Dockerfile", "gone"),
     "resolves to .devcontainer/Dockerfile, which is a symbolic link to gone, which does not "
     "exist"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "mutate", "words"), NOT_A_FILE, ids=[c[0] for c in NOT_A_FILE])
def test_a_reference_to_something_that_is_not_a_file_says_what_is_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, mutate: Mutation, words: str
) -> None:
    mutate(MiniStack(tmp_path))
    code, data = check_json(tmp_path, capsys)
    messages = [f["message"] for f in data["findings"] if f["rule"] == "CMP003"]
    assert code == 1 and any(words in m for m in messages), data
