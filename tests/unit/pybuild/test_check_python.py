"""The one free-threading probe, `check-python`, as the images and the task library run it."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import sysconfig

from tasks.pybuild.probe import CHECK_PYTHON, Interpreter, inspect
from tests.clirun import REPO


def run(*args: str, python: str = sys.executable) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, str(CHECK_PYTHON), *args], capture_output=True, text=True, check=False
    )


# The interpreter running the tests: a GIL build in the main tiers, a free-threaded one (GIL
# off) in `nox -s freethreaded`; the probe must tell them apart either way.
FREE_THREADED = sysconfig.get_config_var("Py_GIL_DISABLED") == 1
GIL_ENABLED = bool(getattr(sys, "_is_gil_enabled", lambda: True)())
FACTS = Interpreter(platform.python_version(), FREE_THREADED, GIL_ENABLED)


def test_the_verdict_follows_the_interpreter() -> None:
    result = run()
    if not FREE_THREADED:
        assert result.returncode == 1
        assert result.stderr.strip() == (
            f"check-python: {sys.executable} is not a free-threaded build (Py_GIL_DISABLED != 1)"
        )
    elif GIL_ENABLED:
        assert result.returncode == 1 and "runs with the GIL on" in result.stderr
    else:
        assert result.returncode == 0
        assert f"is free-threaded CPython {FACTS.version}, GIL off" in result.stdout


def test_json_prints_the_facts_and_exits_zero() -> None:
    result = run("--json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "version": FACTS.version,
        "free_threaded_build": FACTS.free_threaded_build,
        "gil_enabled": FACTS.gil_enabled,
    }


def test_the_host_reads_the_facts_or_none() -> None:
    assert inspect(sys.executable) == FACTS
    assert inspect("/nonexistent/python3") is None
    assert inspect("/bin/false") is None


def test_bad_arguments_exit_2() -> None:
    assert run("--gil", "sideways").returncode == 2


def test_it_is_the_probe_everywhere() -> None:
    """The images install it, build with it and check their health with it; no other copy of
    the free-threading test is left in the stack's files."""
    dc = REPO / ".devcontainer"
    text = (dc / "Dockerfile").read_text()
    assert text.count("check-python /usr/local/bin/") == 1, "installed once, in stage cpython"
    assert text.count('RUN check-python "${PYTHON_VERSION}"') == 2, "one per target"
    assert 'check-python "$version"' in (dc / "cpython/build-cpython.sh").read_text()
    for path in [dc / "devcontainer.json", dc / "docker-compose.mcp.yml", REPO / "noxfile.py"]:
        assert "_is_gil_enabled" not in path.read_text(), path
    assert CHECK_PYTHON.stat().st_mode & 0o111, "executable, for PATH and the healthcheck"
