"""The compose file's 10.5 commands on real databases (the offline stand-ins): they write only
into a scratch database they drop, leave the user's database as it was, and never put the
MariaDB password on a command line."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

from tasks.model.stack import load_stack
from tasks.model.verifyspec import Persist
from tests.clirun import REPO

pytestmark = pytest.mark.integration
PASSWORD = "Pa$$ w\"or\\d #1 'x'"
MARIADB = 'export MYSQL_PWD="$(cat /run/secrets/mariadb_root_password)"; exec mariadb -uroot -N '
# Per database: SQL in the user's database `mcp`, SQL on the server, and its list of databases.
USER_SQL = {
    "postgres-db": (
        ["psql", "-U", "postgres", "-d", "mcp", "-tA", "-v", "ON_ERROR_STOP=1", "-c"],
        ["psql", "-U", "postgres", "-d", "postgres", "-tA", "-c"],
        "SELECT datname FROM pg_database ORDER BY 1",
    ),
    "mariadb": (
        ["sh", "-c", MARIADB + 'mcp -e "$1"', "sh"],
        ["sh", "-c", MARIADB + '-e "$1"', "sh"],
        "SHOW DATABASES",
    ),
}


def _docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=False, timeout=timeout
    )


def _persist(service: str) -> Persist:
    persist = load_stack(REPO).compose.services[service].verify.persist
    assert persist is not None
    return persist


@pytest.fixture(scope="module")
def databases(seeded: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A postgres and a mariadb container (no network), each with a user database `mcp`."""
    tag = uuid.uuid4().hex[:8]
    secret = tmp_path_factory.mktemp("secret") / "mariadb_root_password"
    secret.write_text(PASSWORD)
    secret.chmod(0o644)
    containers = {"postgres-db": f"mcp-test-pg-{tag}", "mariadb": f"mcp-test-maria-{tag}"}
    runs = {
        "postgres-db": ["-e", "POSTGRES_PASSWORD=unused", "-e", "POSTGRES_DB=mcp",
                        "mcp-offline/postgres:17"],
        "mariadb": ["-e", "MARIADB_ROOT_PASSWORD_FILE=/run/secrets/mariadb_root_password",
                    "-e", "MARIADB_DATABASE=mcp",
                    "-v", f"{secret}:/run/secrets/mariadb_root_password:ro",
                    "mcp-offline/mariadb:11.8"],
    }  # fmt: skip
    try:
        for service, name in containers.items():
            started = _docker("run", "-d", "--name", name, "--network", "none", *runs[service])
            assert started.returncode == 0, started.stderr
        for service, name in containers.items():
            server = USER_SQL[service][1]
            deadline = time.monotonic() + 180
            while _docker("exec", name, *server, "SELECT 1").returncode != 0:
                assert time.monotonic() < deadline, _docker("logs", name).stderr[-2000:]
                time.sleep(1)
        for service, name in containers.items():
            sql = "CREATE TABLE kept (n int); INSERT INTO kept VALUES (1), (2), (3)"
            made = _docker("exec", name, *USER_SQL[service][0], sql)
            assert made.returncode == 0, made.stderr
        yield containers
    finally:
        _docker("rm", "-f", *containers.values())


def _user_state(service: str, container: str) -> tuple[str, str]:
    """The databases that exist and the rows of the user's table."""
    in_user_db, server, listing = USER_SQL[service]
    databases = _docker("exec", container, *server, listing).stdout
    rows = _docker("exec", container, *in_user_db, "SELECT n FROM kept ORDER BY n").stdout
    return databases, rows


@pytest.mark.parametrize("service", ["postgres-db", "mariadb"])
def test_the_check_writes_only_into_a_scratch_database_it_drops(
    databases: dict[str, str], service: str
) -> None:
    container, persist = databases[service], _persist(service)
    before = _user_state(service, container)
    assert before[1].split() == ["1", "2", "3"]
    write, read = persist.commands(uuid.uuid4().hex[:12])
    for step in (write, read, list(persist.drop)):
        ran = _docker("exec", container, *step)
        assert ran.returncode == 0, (step, ran.stderr)
    assert _docker("exec", container, *write).returncode == 0  # again, after a drop
    read_back = _docker("exec", container, *read).stdout.strip().splitlines()
    assert read_back[-1:] == [persist.expect]
    assert _docker("exec", container, *persist.drop).returncode == 0
    assert _user_state(service, container) == before  # no mcp_verify left, mcp untouched


def test_the_mariadb_password_is_on_no_command_line(databases: dict[str, str]) -> None:
    """While the check's client runs, no process in the container has the password in its
    arguments (the host's `docker exec` arguments are the compose file's words, without it)."""
    container, persist = databases["mariadb"], _persist("mariadb")
    write, _ = persist.commands("t0k3n")
    assert not [word for word in write if PASSWORD in word]
    slow = [*write[:-1], "SELECT SLEEP(5)"]
    running = subprocess.Popen(
        ["docker", "exec", container, *slow], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline, listing = time.monotonic() + 5, ""
        while "SELECT SLEEP" not in listing and time.monotonic() < deadline:
            listing = _docker("exec", container, "ps", "-eo", "args").stdout
        assert "mariadb -uroot -N -e SELECT SLEEP(5)" in listing, listing
        assert PASSWORD not in listing and "Pa$$" not in listing, listing
    finally:
        running.kill()
        running.wait()
