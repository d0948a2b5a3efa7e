"""A free-threaded CPython for the host and the Nox sessions that test it (real builds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.compat.environments import Environment, discover
from tasks.compat.install import check_imports
from tasks.compat.lock import Locked
from tasks.compat.report import Report, environment_report, problems
from tasks.compat.resolve import Resolution
from tasks.model.stack import load_stack
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
    assert "installed the library's" in output and "resolved packages" in output
    # the unit tier ran with each test in several threads (pytest-run-parallel's report)
    assert "items to run in parallel" in output and "pytest-run-parallel report" in output
    assert "was not run in parallel: fixture mini is one folder on disk" in output
    listed = (REPO / "reports/compat/3.13t/thread-unsafe.md").read_text()
    assert "test_a_rule_registers_under_its_id_and_group` | adds and removes a rule" in listed
    assert "threads ran" in output and "x the work of 1 thread" in output
    assert "N-thread time ratio GIL/free-threaded" in output
    assert "GIL off: 1 thread" in output and "GIL on : 1 thread" in output


def test_nox_compat_session_reports_every_resolved_package(freethreaded_bin: Path) -> None:
    result = _nox(freethreaded_bin, "compat-3.13t", "--", "--free-threaded")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    folder = REPO / "reports/compat/3.13t"
    report = json.loads((folder / "compat.json").read_text())
    environments = {env["name"]: env for env in report["environments"]}
    # every environment discovery finds, the stack's Python servers and tools among them
    discovered = {environment.name for environment in discover(load_stack(REPO))}
    assert set(environments) == discovered
    assert {"library", "devcontainer", "python-experimental", "fetch", "git"} <= discovered
    assert {"postgres-mcp", "mariadb-mcp", "mcp-exporter"} <= discovered
    for env in environments.values():
        assert env["resolved"] == len(env["rows"]), env["name"]
        assert env["resolved"] > 0 or env["error"] or env["name"] == "python-experimental"
    library = {row["name"]: row for row in environments["library"]["rows"]}
    assert library["rpds-py"]["kind"] == library["pydantic-core"]["kind"] == "cp313t"
    assert library["pyyaml"]["kind"] in ("cp313t", "sdist")
    for row in library.values():
        assert row["install"] == "installed", row
        assert row["gil_enabled"] is not True, row
    assert library["pyyaml"]["imports"] is True and library["pyyaml"]["gil_enabled"] is False
    assert environments["fetch"]["rows"][0]["install"] == "not checked"
    text = (folder / "compat.md").read_text()
    assert text.startswith("# Free-threaded compatibility (3.13.15t)")
    assert "## Changes since the last run" in text


def test_nox_servers_session_runs_a_server_gil_free(freethreaded_bin: Path) -> None:
    result = _nox(freethreaded_bin, "servers-3.13t", "--", "mariadb-mcp")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    report = json.loads((REPO / "reports/compat/3.13t/servers.json").read_text())
    (server,) = report["servers"]
    assert server["name"] == "mariadb-mcp" and server["tools"] > 0
    assert server["answers"] and server["gil_free"], server


GILPROBE = {
    "pyproject.toml": '[build-system]\nrequires = ["setuptools>=61"]\n'
    'build-backend = "setuptools.build_meta"\n',
    "setup.py": "from setuptools import Extension, setup\n"
    'setup(name="gilprobe", version="0.1", packages=["gilprobe"],\n'
    '      ext_modules=[Extension("gilprobe._speedups", ["gilprobe/_speedups.c"])])\n',
    "gilprobe/__init__.py": "from gilprobe import _speedups\n",
    # single-phase init, no Py_mod_gil slot: a free-threaded CPython turns the GIL on for it
    "gilprobe/_speedups.c": "#include <Python.h>\n"
    'static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, NULL};\n'
    "PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }\n",
}


def test_a_needed_package_whose_extension_turns_the_gil_on_fails(
    freethreaded_bin: Path, tmp_path: Path
) -> None:
    """A real extension without Py_mod_gil, built for 3.13t: the import check finds the module
    that turned the GIL on, and the decision names package and module."""
    for name, text in GILPROBE.items():
        (tmp_path / "gilprobe" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "gilprobe" / name).write_text(text)
    venv = tmp_path / "venv"
    subprocess.run([str(freethreaded_bin / "python3.13t"), "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(tmp_path / "gilprobe")],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-2000:]
    checked = check_imports(python, ["gilprobe", "pip"])
    assert checked["gilprobe"].gil_enabled is True
    assert checked["gilprobe"].gil_module == "gilprobe._speedups"
    assert checked["pip"].gil_enabled is False and checked["pip"].imports is True
    wheel = Locked("gilprobe", "0.1", "cp313t", "gilprobe-0.1-cp313-cp313t-linux_x86_64.whl")
    needed = Environment("library", "pyproject.toml", ("gilprobe",), free_threaded=True)
    report = Report("3.13.15t", (environment_report(Resolution(needed, (wheel,)), checked),))
    assert problems(report) == [
        "library: gilprobe 0.1 re-enables the GIL (module gilprobe._speedups)"
    ]


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
