"""Files that cannot be read as what they should be: other encodings, byte order marks, links
that loop or lead nowhere, folders, pipes and devices where a file belongs, files nobody may
read, files too large, nesting too deep, aliases that contain themselves, numbers too long.
`invoke check` names each (file, line when known, fix) and exits 2, never with a traceback;
what the real consumer accepts (a UTF-8 byte order mark, CRLF lines) is accepted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.model.source import MAX_BYTES, read_text, trouble
from tests.clirun import REPO, invoke
from tests.ministack import MiniStack
from tests.unit.test_bad_input import check_json

COMPOSE = "docker-compose.mcp.yml"
MANIFEST = "mcp/memory/config/memory.yml"
Mutation = Callable[[MiniStack], object]


def _bytes(relative: str, data: bytes) -> Mutation:
    return lambda m: (m.folder / relative).write_bytes(data)


def _prefixed(relative: str, data: bytes) -> Mutation:
    return lambda m: (m.folder / relative).write_bytes(data + (m.folder / relative).read_bytes())


def _replaced(relative: str, make: Callable[[Path], object]) -> Mutation:
    def mutate(m: MiniStack) -> None:
        path = m.folder / relative
        path.unlink()
        make(path)

    return mutate


def _nested(levels: int, key: str = "a") -> str:
    """A mapping holding lists `levels` deep in all."""
    return f"{key}: " + "[" * (levels - 1) + "]" * (levels - 1) + "\n"


def _sparse(path: Path) -> None:
    """A file one byte larger than the reader takes, without writing its bytes."""
    path.write_bytes(b"")
    os.truncate(path, MAX_BYTES + 1)


def _nested_at_the_limit(mini: MiniStack) -> None:
    mini.put(COMPOSE, (mini.folder / COMPOSE).read_text() + _nested(64, "x-deep"))
    deep = json.loads("[" * 62 + "]" * 62)
    mini.edit_json("devcontainer.json", lambda d: d["customizations"].__setitem__("x-deep", deep))


def _block_nested(depth: int) -> str:
    return "".join(f"{'  ' * level}k{level}:\n" for level in range(depth)) + "  " * depth + "x\n"


# (case, mutation, file the error names, its line (None: not known), words of the problem)
UNREADABLE: list[tuple[str, Mutation, str, int | None, str]] = [
    ("env file in Latin-1", _bytes("devcontainer.env", b"# caf\xe9\nA=1\n"), "devcontainer.env",
     1, "is not UTF-8: byte 0xe9 at column 6"),
    (".env in Windows-1252", _bytes(".env", b"A=1\nB=\x93quoted\x94\n"), ".env", 2,
     "is not UTF-8: byte 0x93 at column 3"),
    ("compose file in UTF-16", lambda m: (m.folder / COMPOSE).write_bytes(
     (m.folder / COMPOSE).read_text().encode("utf-16")), COMPOSE, None, "is UTF-16 text"),
    ("Markdown file in Latin-1", _bytes("docs/notes.md", b"# Caf\xe9\n"), "notes.md", 1,
     "is not UTF-8"),
    ("manifest is a symbolic link loop", _replaced(MANIFEST, lambda p: p.symlink_to(p.name)),
     "memory.yml", None, "is a symbolic link loop"),
    ("env file is a broken link", _replaced("devcontainer.env", lambda p: p.symlink_to(
     "gone.env")), "devcontainer.env", None, "is a symbolic link to gone.env, which does not "
     "exist"),
    ("manifest is a broken link", _replaced(MANIFEST, lambda p: p.symlink_to("gone.yml")),
     "memory.yml", None, "is a symbolic link to gone.yml, which does not exist"),
    ("env file replaced by a folder", _replaced("devcontainer.env", Path.mkdir),
     "devcontainer.env", None, "is a folder, not a file"),
    ("devcontainer.json replaced by a folder", _replaced("devcontainer.json", Path.mkdir),
     "devcontainer.json", None, "is a folder, not a file"),
    ("env file is a device", _replaced("devcontainer.env", lambda p: p.symlink_to(
     "/dev/null")), "devcontainer.env", None, "is a character device, not a file"),
    ("env file larger than a stack file can be", _replaced("devcontainer.env", _sparse),
     "devcontainer.env", None, "is larger than"),
    ("YAML nested 20000 lists deep", _bytes(COMPOSE, _nested(20_000).encode()), COMPOSE, 1,
     "nested more than 64 levels deep"),
    ("YAML nested 3000 mappings deep", _bytes(COMPOSE, _block_nested(3000).encode()), COMPOSE,
     65, "nested more than 64 levels deep"),
    ("YAML nested 100 mappings deep", _bytes(COMPOSE, _block_nested(100).encode()), COMPOSE,
     65, "nested more than 64 levels deep"),
    ("YAML nested 65 levels deep", _bytes(COMPOSE, _nested(65).encode()), COMPOSE, 1,
     "nested more than 64 levels deep"),
    ("JSONC nested 20000 objects deep", _bytes("devcontainer.json", b'{"a":' * 20_000 + b"1" +
     b"}" * 20_000), "devcontainer.json", 1, "nested more than 64 levels deep"),
    ("JSON nested 20000 arrays deep", _bytes("versions.json", b"[" * 20_000 + b"]" * 20_000),
     "versions.json", 1, "nested more than 64 levels deep"),
    ("YAML alias inside its own anchor", _bytes(MANIFEST, b"name: &a [*a]\n"), "memory.yml", 1,
     "a YAML alias refers to the mapping or list that contains it"),
    ("YAML integer of 5000 digits", _bytes(MANIFEST, b"name: " + b"9" * 5000 + b"\n"),
     "memory.yml", None, "invalid YAML value: Exceeds the limit (4300 digits)"),
    ("JSON integer of 5000 digits", _bytes("devcontainer.json", b'{"name": ' + b"9" * 5000 +
     b"}"), "devcontainer.json", 1, "Exceeds the limit (4300 digits)"),
    ("a key twice in devcontainer.json", _bytes("devcontainer.json", b'{\n "name": "a",\n '
     b'"name": "b"\n}'), "devcontainer.json", 3, "duplicate key 'name' (first at line 2)"),
    ("unterminated ${ in .env", _bytes(".env", b"A=1\nPASSWORD=pa${ss\n"), ".env", 2,
     "unterminated ${ in the value"),
    ("unterminated ${ in a profile", lambda m: m.put("profiles/offline.env", "BASE=${X\n"),
     "offline.env", 1, "unterminated ${ in the value"),
    ("unterminated /* in devcontainer.json", _prefixed("devcontainer.json", b"/* note\n"),
     "devcontainer.json", 1, "unterminated /* comment"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "mutate", "file", "line", "words"), UNREADABLE, ids=[c[0] for c in UNREADABLE]
)
def test_an_unreadable_file_is_named_with_its_fix(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    mutate: Mutation,
    file: str,
    line: int | None,
    words: str,
) -> None:
    mutate(MiniStack(tmp_path))
    code, data = check_json(tmp_path, capsys)
    assert code == 2, data
    error = data["error"]
    assert error["file"].endswith(file) and words in error["problem"], error
    assert error["line"] == line and error["fix"], error


def test_secrets_in_an_env_file_stay_out_of_its_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for text in (b"PASSWORD=hunter2${x\n", b"PASS$WORD=hunter2\n", b"A=1\nhunter2"):
        (MiniStack(tmp_path).folder / ".env").write_bytes(text)
        code, data = check_json(tmp_path, capsys)
        assert code == 2 and "hunter2" not in str(data), data


# (case, mutation): what compose and VS Code read without complaint
ACCEPTED: list[tuple[str, Mutation]] = [
    ("UTF-8 byte order marks", lambda m: [_prefixed(name, b"\xef\xbb\xbf")(m) for name in (
     COMPOSE, "devcontainer.json", "devcontainer.env", "Dockerfile", MANIFEST)]),
    ("CRLF line ends", lambda m: [(m.folder / name).write_bytes((m.folder / name).read_bytes()
     .replace(b"\n", b"\r\n")) for name in (COMPOSE, "devcontainer.json", "devcontainer.env")]),
    ("empty optional files", lambda m: [(m.folder / name).write_bytes(b"") for name in (
     ".env", ".env.example", "devcontainer.env")]),
    ("YAML and JSONC nested 64 levels deep", _nested_at_the_limit),
]  # fmt: skip


@pytest.mark.parametrize(("case", "mutate"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_what_the_consumer_accepts_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, mutate: Mutation
) -> None:
    mutate(MiniStack(tmp_path))
    code, data = check_json(tmp_path, capsys)
    assert code == 0, data


def test_a_named_pipe_is_refused_without_waiting_on_it(tmp_path: Path) -> None:
    """Opening a FIFO for reading blocks until a writer comes: the reader looks first."""
    mini = MiniStack(tmp_path)
    (mini.folder / COMPOSE).unlink()
    os.mkfifo(mini.folder / COMPOSE)
    result = invoke("check", "--root", str(tmp_path), timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "is a named pipe (FIFO), not a file" in result.stderr, result.stderr


def test_what_stands_where_a_file_should_is_named_with_its_own_fix(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "file").write_text("x")
    fix = "replace it with the file, or point the reference at the file"
    assert trouble(tmp_path / "folder") == ("is a folder, not a file", f"{fix} inside it")
    assert trouble(tmp_path / "pipe") == ("is a named pipe (FIFO), not a file", fix)
    assert trouble(tmp_path / "file") is None


@contextmanager
def _as_nobody() -> Iterator[None]:
    """Run the block as user nobody (root reads any file); only what is imported already may
    be used inside."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.mark.thread_unsafe(reason="switches the whole process to user nobody")
@pytest.mark.parametrize("where", ["an unreadable file", "a folder it cannot enter"])
def test_permission_denied_is_named(where: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        base.chmod(0o755 if where == "an unreadable file" else 0o700)
        path = base / "devcontainer.env"
        path.write_text("A=1\n")
        path.chmod(0o000)
        with _as_nobody(), pytest.raises(StackError) as refused:
            read_text(path, "env file")
        path.chmod(0o600)
    assert refused.value.problem == "env file cannot be read: permission denied", refused.value
    assert "readable for user" in refused.value.fix


def _finishes(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run Python `code` with the library importable; a run past `timeout` fails the test (a
    quadratic scan of the inputs below takes hours)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_an_env_value_with_a_long_run_of_spaces_is_read_in_one_pass() -> None:
    result = _finishes(
        "from pathlib import Path; from tasks.model.envfile import parse_env_text;"
        "print(len(parse_env_text('A=a' + ' ' * 400_000 + 'b\\n', Path('x')).as_dict()['A']))"
    )
    assert result.stdout.strip() == "400002", result.stderr
