"""Hardening: the atomic writer (unique temporary files, never through a planted link, flushed
to disk), the metrics exporter's timeouts, credentials inside URLs masked by `env.show`, and
control characters from outside kept off the terminal."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from invoke.context import Context
from rich.console import Console

from tasks import env_tasks, files
from tasks.contract import present, table
from tasks.errors import Failure
from tasks.outcome import Outcome
from tasks.servers.probe import ProbeResult
from tasks.servers.probetable import COLUMNS, probe_rows
from tasks.terminal import printable
from tasks.workflows.secrets import MASK, mask
from tests.ministack import MiniStack

# --- the atomic writer --------------------------------------------------------------------


def test_concurrent_writes_of_one_file_never_collide(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    payloads = [json.dumps({"writer": n, "pad": "x" * 4096}) for n in range(4)]
    failures: list[BaseException] = []

    def write(payload: str) -> None:
        try:
            for _ in range(150):
                files.write_atomic(target, payload)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert target.read_text() in payloads
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_a_link_planted_at_the_temporary_name_is_never_written_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    target = tmp_path / ".env"
    target.write_text("OLD=1\n")
    planted = tmp_path / ".env.fixed.partial"
    planted.symlink_to(victim)
    monkeypatch.setattr(files, "_temp_name", lambda path: planted)
    with pytest.raises(Failure) as refused:
        files.write_atomic(target, "NEW=2\n", private=True)
    assert ".env.fixed.partial" in str(refused.value) and "remove" in str(refused.value)
    assert victim.read_text() == "keep me\n" and target.read_text() == "OLD=1\n"


def test_the_file_and_its_folder_reach_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real = os.fsync

    def fsync(handle: int) -> None:
        mode = os.fstat(handle).st_mode
        synced.append("folder" if stat.S_ISDIR(mode) else "file")
        real(handle)

    monkeypatch.setattr(os, "fsync", fsync)
    files.write_atomic(tmp_path / "a.json", "{}\n")
    assert synced == ["file", "folder"]


def test_a_temporary_name_is_hidden_beside_its_file_and_unguessable(tmp_path: Path) -> None:
    names = {files._temp_name(tmp_path / "a.json").name for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert re.fullmatch(r"\.a\.json\.[0-9a-f]{12}\.partial", name), name
    assert files._ATTEMPTS == 8


def test_a_taken_temporary_name_is_passed_over_for_a_fresh_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = tmp_path / ".a.json.taken.partial"
    taken.write_text("another run's")
    names = iter([taken, tmp_path / ".a.json.free.partial"])
    monkeypatch.setattr(files, "_temp_name", lambda path: next(names))
    files.write_atomic(tmp_path / "a.json", "{}\n")
    assert (tmp_path / "a.json").read_text() == "{}\n" and taken.read_text() == "another run's"


def test_a_new_file_gets_the_usual_mode_and_a_private_one_600(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    files.write_atomic(tmp_path / "open.txt", "x")
    files.write_atomic(tmp_path / "closed.txt", "x", private=True)
    assert stat.S_IMODE((tmp_path / "open.txt").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((tmp_path / "closed.txt").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("code", "raised"), [(errno.EINVAL, False), (errno.ENOTSUP, False), (errno.EIO, True)]
)
def test_a_folder_that_cannot_be_flushed_is_skipped_only_when_it_never_can(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, raised: bool
) -> None:
    real = os.fsync

    def fsync(handle: int) -> None:
        if stat.S_ISDIR(os.fstat(handle).st_mode):
            raise OSError(code, os.strerror(code))
        real(handle)

    monkeypatch.setattr(os, "fsync", fsync)
    if raised:
        with pytest.raises(OSError):
            files.write_atomic(tmp_path / "a.json", "{}")
    else:
        files.write_atomic(tmp_path / "a.json", "{}")
    assert (tmp_path / "a.json").read_text() == "{}"


def test_a_lock_makes_its_folders(tmp_path: Path) -> None:
    lock = tmp_path / "a" / "b" / ".lock"
    with files.locked(lock):
        assert lock.is_file()
    with files.locked(lock):
        assert lock.read_text() == ""


def test_modes_private_new_and_kept(tmp_path: Path) -> None:
    secret = tmp_path / ".env"
    files.write_atomic(secret, "A=1\n", private=True)
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o750)
    files.write_atomic(script, "#!/bin/sh\necho hi\n")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(script.stat().st_mode) == 0o750
    assert script.read_text() == "#!/bin/sh\necho hi\n"


def test_runs_that_take_the_same_lock_take_turns(tmp_path: Path) -> None:
    order: list[str] = []
    inside = threading.Event()

    def second() -> None:
        with files.locked(tmp_path / "build.lock"):
            order.append("second")

    with files.locked(tmp_path / "build.lock"):
        waiting = threading.Thread(target=second)
        waiting.start()
        inside.wait(0.5)  # gives the second run its chance to (wrongly) get in
        order.append("first")
    waiting.join()
    assert order == ["first", "second"]


# --- the exporters' HTTP server -----------------------------------------------------------


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, int]]:
    import serving
    from prometheus_client import CollectorRegistry, Gauge

    monkeypatch.setattr(serving._Quiet, "timeout", 0.5)
    registry = CollectorRegistry()
    Gauge("mcp_server_up", "up", registry=registry).set(1)
    server = serving.server("127.0.0.1", 0, registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_a_client_that_sends_nothing_is_dropped(exporter: tuple[str, int]) -> None:
    with socket.create_connection(exporter, timeout=30) as silent:
        silent.sendall(b"GET /metrics HTTP/1.1\r\n")  # and never the rest
        assert silent.recv(1024) == b""  # closed by the server, long before 30 s


def test_a_scrape_is_still_answered(exporter: tuple[str, int]) -> None:
    with socket.create_connection(exporter, timeout=30) as client:
        client.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        reply = b"".join(iter(lambda: client.recv(4096), b""))
    assert reply.startswith(b"HTTP/1.0 200") and b"\nmcp_server_up 1.0\n" in reply


# --- credentials in URLs and DSNs ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("postgres://app:s3cret@db:5432/app", f"postgres://app:{MASK}@db:5432/app"),
        ("redis://:s3cret@cache:6379/0", f"redis://:{MASK}@cache:6379/0"),
        ("jdbc:mariadb://root:s3cret@mariadb/db", f"jdbc:mariadb://root:{MASK}@mariadb/db"),
        ("app:s3cret@tcp(mariadb:3306)/db", f"app:{MASK}@tcp(mariadb:3306)/db"),
        ("host=db user=app password=s3cret dbname=x", f"host=db user=app password={MASK} dbname=x"),
        ("Server=db;Password=s3cret;User Id=app", f"Server=db;Password={MASK};User Id=app"),
        ("https://user@example.com/a:b@c", "https://user@example.com/a:b@c"),
        ("postgres://u:p${w}@db/x", f"postgres://u:{MASK}@db/x"),
        ("https://example.com/path", "https://example.com/path"),
        ("a:b", "a:b"),
    ],
)
def test_a_password_inside_a_url_or_dsn_is_masked(value: str, shown: str) -> None:
    assert mask("DATABASE_URL", value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("user=app pwd=s3cret", f"user=app pwd={MASK}"),
        ("passwd = s3cret;x=1", f"passwd = {MASK};x=1"),
        ("password='s3 cret' user=app", f"password={MASK} user=app"),
        ('password="s3 cret" user=app', f"password={MASK} user=app"),
        ("password=s3cret&sslmode=off", f"password={MASK}&sslmode=off"),
        ("app:s3cret@/db", f"app:{MASK}@/db"),
        ("note: a:b@host", "note: a:b@host"),
        ("app:s3cret@db", "app:s3cret@db"),
    ],
)
def test_each_dsn_form_masks_the_password_and_only_it(value: str, shown: str) -> None:
    assert mask("DSN", value) == shown


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("DB_PASSWORD", None, None),
        ("DB_PASSWORD", "", ""),
        ("DB_PASSWORD", "/run/secrets/db", "/run/secrets/db"),
        ("DB_PASSWORD", "${DB_PASSWORD}", "${DB_PASSWORD}"),
        ("DB_PASSWORD", "s3cr${et", MASK),  # only a value that IS a reference stays readable
        ("DB_PASSWORD", "x/run/secrets/db", MASK),
        ("DB_PASSWORD", "plain", MASK),
        ("NOTE", "token ghp_abc", MASK),
        ("NOTE", "github_pat_abc", MASK),
        ("NOTE", "AKIA" + "A1" * 8, MASK),
        ("NOTE", "AKIA" + "a1" * 8, "AKIA" + "a1" * 8),
        ("NOTE", "AKIA" + "A" * 15, "AKIA" + "A" * 15),
        ("NOTE", "-----BEGIN OPENSSH PRIVATE KEY-----", MASK),
        ("NOTE", "----BEGIN", "----BEGIN"),
        ("DB_PASSWORD_FILE", "/secrets/db", "/secrets/db"),
        ("NOTE", "/run/secret/x", "/run/secret/x"),
    ],
)
def test_what_a_secret_value_shows(key: str, value: str | None, shown: str | None) -> None:
    assert mask(key, value) == shown


def test_env_show_never_prints_a_url_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mini = MiniStack(tmp_path)
    url = "postgresql://app:s3cret-pw@db:5432/app"
    mini.edit_yaml(
        "docker-compose.mcp.yml",
        lambda d: d["services"]["devcontainer"].update(environment={"DATABASE_URL": url}),
    )
    for as_json in (True, False):
        env_tasks.env_show(Context(), service="devcontainer", json=as_json, root=str(tmp_path))
        out = capsys.readouterr().out
        assert "s3cret-pw" not in out and f"postgresql://app:{MASK}@db:5432/app" in out, out


# --- control characters from outside ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("\x1b[31mred\x1b[0m", "[31mred[0m"),
        ("title\x1b]0;pwned\x07", "title]0;pwned"),
        ("a\rb\x08c\x00d\x7f\x9b2J", "abcd2J"),
        ("safe\u202eexe.txt\u2066", "safeexe.txt"),
        ("lines\nand\ttabs", "lines\nand\ttabs"),
    ],
)
def test_printable_drops_what_a_terminal_would_act_on(text: str, kept: str) -> None:
    assert printable(text) == kept


# Each edge of the stripped ranges: the first and last character dropped, and the neighbours
# kept (tab and newline sit inside the C0 range; NBSP follows C1; the marks around the bidi
# controls are ordinary text).
DROPPED = "\x00\x08\x0b\x1f\x7f\x9f\u200e\u200f\u202a\u202e\u2066\u2069"
KEPT = "\t\n\x20\x7e\xa0\u200d\u2010\u2029\u202f\u2065\u206a"


@pytest.mark.parametrize("char", DROPPED)
def test_printable_drops_each_edge_of_its_ranges(char: str) -> None:
    assert printable(f"a{char}b") == "ab"


@pytest.mark.parametrize("char", KEPT)
def test_printable_keeps_the_neighbours_of_its_ranges(char: str) -> None:
    assert printable(f"a{char}b") == f"a{char}b"


def test_the_probe_table_shows_a_servers_answers_as_text() -> None:
    answer = ProbeResult(
        name="evil",
        server="srv\x1b]0;owned\x07\x1b[2J",
        version="1.0\u202e",
        protocol="[bold]2025[/bold]",
        error="\x1b[31mfailed",
    )
    shown = io.StringIO()
    console = Console(file=shown, width=200, force_terminal=False, color_system=None)
    console.print(table("MCP probe", COLUMNS, probe_rows([answer])))
    console.print(printable(f"evil: {answer.error}"))
    text = shown.getvalue()
    assert not {"\x1b", "\x07", "\u202e"} & set(text), repr(text)
    assert "[bold]2025[/bold]" in text and "srv]0;owned[2J" in text


def test_the_probe_tables_rows() -> None:
    answered = ProbeResult("git", True, "mcp-git", "1.2", "2025-06-18", 12, 812.5, [10.0, 30.0])
    assert probe_rows([answered, ProbeResult("fetch")]) == [
        ("git", "[green]yes[/]", "mcp-git 1.2", "2025-06-18", "12", "812", "20", "30"),
        ("fetch", "[red]no[/]", " ", "", "0", "0", "0", "0"),
    ]


def test_present_strips_control_characters_from_lines(capsys: pytest.CaptureFixture[str]) -> None:
    present(Outcome({}, ["error from a server: \x1b[2Jgone"]), as_json=False)
    assert capsys.readouterr().out == "error from a server: [2Jgone\n"
