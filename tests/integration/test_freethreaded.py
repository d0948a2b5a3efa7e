"""A free-threaded CPython for the host and the Nox sessions that test it (real builds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.pybuild.probe import CHECK_PYTHON, Interpreter, inspect
from tests.clirun import REPO, invoke, invoke_json

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def freethreaded_bin() -> Path:
    """Build (or reuse from the cache) python3.13t; its bin folder."""
    # The offline profile's pin (Debian's copy of 3.13.15): python.org is not reachable here.
    code, data = invoke_json("python.freethreaded", "--profile", "offline", timeout=1800)
    assert code == 0, data
    assert Path(data["python"]).name == "python3.13t"
    return Path(data["bin"])


def test_interpreter_is_free_threaded(freethreaded_bin: Path) -> None:
    python = freethreaded_bin / "python3.13t"
    assert inspect(python) == Interpreter("3.13.15", True, False)

    def check(*args: str, gil: str = "0") -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHON_GIL": gil}
        command = [str(python), str(CHECK_PYTHON), *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=False)

    exact = check("3.13.15")
    assert exact.returncode == 0 and "free-threaded CPython 3.13.15, GIL off" in exact.stdout
    other = check("3.14.6")
    assert other.returncode == 1 and "is 3.13.15, but PYTHON_VERSION says 3.14.6" in other.stderr
    assert check(gil="1").returncode == 1
    assert check("--gil", "on", gil="1").returncode == 0
    again = invoke("python.freethreaded", "--version", "3.13.15")
    assert again.returncode == 0 and "free-threaded Python 3.13.15" in again.stdout


def test_bad_version_and_missing_checksum_are_refused() -> None:
    result = invoke("python.freethreaded", "--version", "3.99.1")
    assert result.returncode == 2 and "no pinned source for 3.99.1" in result.stderr
    result = invoke("python.freethreaded", "--version", "3.14.2", "--tarball", "/tmp/x.tar.xz")
    assert result.returncode == 2 and "--sha256" in result.stderr


def _nox(freethreaded_bin: Path, *sessions: str) -> subprocess.CompletedProcess[str]:
    return _nox_with({"PATH": f"{freethreaded_bin}:{os.environ['PATH']}"}, *sessions)


def _nox_with(env: dict[str, str], *sessions: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nox", "-s", *sessions],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


def test_nox_freethreaded_session(freethreaded_bin: Path) -> None:
    result = _nox(freethreaded_bin, "freethreaded-3.13t")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "passed" in output
    assert "threads ran" in output and "x the work of 1 thread" in output
    assert "N-thread time ratio GIL/free-threaded" in output


def test_nox_compat_session_writes_reports(freethreaded_bin: Path) -> None:
    result = _nox(freethreaded_bin, "compat-3.13t")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    report = json.loads((REPO / "reports/compat/3.13t/compat.json").read_text())
    rows = {row["package"]: row for row in report["packages"]}
    assert rows["pyyaml"]["import"] == "ok" and rows["pyyaml"]["gil_disabled"] is True
    assert rows["python-on-whales"]["import"] == "ok"
    assert all(row["import"].startswith("ok") for row in report["packages"] if row["needed"])
    assert (REPO / "reports/compat/3.13t/compat.md").read_text().startswith("# Free-threaded")


def test_nox_fails_with_the_fix_when_no_free_threaded_python_exists(tmp_path: Path) -> None:
    """Nothing passes by being skipped: a missing interpreter fails the session."""
    env = {
        "XDG_CACHE_HOME": str(tmp_path),
        "PATH": os.pathsep.join(
            p for p in os.environ["PATH"].split(os.pathsep) if "mcp-cluster/python" not in p
        ),
    }
    result = _nox_with(env, "freethreaded-3.14t")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-2000:]
    assert "invoke python.freethreaded --version 3.14" in output
