"""Install a resolved tree into a fresh virtualenv of the free-threaded interpreter (exact
versions, no resolution of its own) and import every package there. Wheels go in with one
`uv pip install`; each sdist is built on its own, so one that fails costs only itself and its
reason is kept."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tasks.compat.lock import SDIST, Locked

IMPORTCHECK = Path(__file__).resolve().with_name("importcheck.py")
BUILD_TIMEOUT = 900
# cargo retries an unreachable registry for a while; a build that needs crates.io fails at once.
BUILD_ENV = {"CARGO_NET_RETRY": "0"}
_EXCEPTION = re.compile(r"^\s*((?:[A-Za-z_][\w.]*)?(?:Error|Exception)): (.+)$", re.M)
_HEADER = re.compile(r"fatal error: (\S+\.h): No such file")
_DOWNLOAD = re.compile(r"could not get (https?://[^/\s;]+)")


@dataclass(frozen=True)
class Checked:
    """What installing and importing one package gave."""

    installed: bool
    build_error: str = ""
    imports: bool | None = None
    gil_enabled: bool | None = None
    gil_module: str = ""
    detail: str = ""


def build_failure(log: str) -> str:
    """Why an sdist did not build, in a few words, from the build's output."""
    if "crates.io" in log:
        return "needs crates.io (its Rust crates), which this host cannot reach"
    if re.search(r"can't find Rust compiler|cargo: (command )?not found|Rust toolchain", log):
        return "needs a Rust toolchain"
    header = _HEADER.search(log)
    if header:
        return f"needs the C header {header.group(1)} (a -dev package)"
    download = _DOWNLOAD.search(log)
    if download:
        return f"downloads from {download.group(1)} while building, which this host cannot reach"
    exceptions = _EXCEPTION.findall(log)
    if exceptions:
        kind, message = exceptions[-1]
        return f"{kind}: {message.strip()}"[:300]
    errors = [line.strip() for line in log.splitlines() if "error" in line.lower()]
    return (errors[-1] if errors else "the build failed")[:300]


def _uv(uv: str, *args: str, timeout: float) -> tuple[bool, str]:
    """Run `uv ARGS`; (succeeded, its output), a timeout counted as a failure."""
    try:
        result = subprocess.run(
            [uv, *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            env={**os.environ, **BUILD_ENV},
        )
    except subprocess.TimeoutExpired:
        return False, f"took longer than {timeout:.0f} s"
    return result.returncode == 0, result.stdout + result.stderr


def make_venv(uv: str, python: str, path: Path) -> Path:
    """A fresh virtualenv of `python` at `path`; its interpreter."""
    ok, output = _uv(uv, "venv", "--quiet", "--clear", "--python", python, str(path), timeout=120)
    if not ok:
        raise RuntimeError(f"cannot create a virtualenv of {python}: {output.strip()}")
    return path / "bin" / "python"


def install(
    uv: str, venv_python: Path, packages: tuple[Locked, ...], build_sdists: bool
) -> dict[str, str]:
    """Install the exact versions: name -> '' when installed, else why not."""
    target = ["pip", "install", "--quiet", "--no-deps", "--python", str(venv_python)]
    wheels = [p for p in packages if p.kind != SDIST]
    outcome: dict[str, str] = {}
    if wheels:
        pins = [f"{p.name}=={p.version}" for p in wheels]
        ok, output = _uv(uv, *target, "--only-binary", ":all:", *pins, timeout=BUILD_TIMEOUT)
        outcome.update(
            {p.name: "" if ok else f"install failed: {output.strip()[-300:]}" for p in wheels}
        )
    for package in (p for p in packages if p.kind == SDIST):
        if not build_sdists:
            outcome[package.name] = "not built (sdist builds were not asked for)"
            continue
        pin = f"{package.name}=={package.version}"
        ok, output = _uv(uv, *target, f"--no-binary={package.name}", pin, timeout=BUILD_TIMEOUT)
        outcome[package.name] = "" if ok else build_failure(output)
    return outcome


def check_imports(venv_python: Path, names: list[str]) -> dict[str, Checked]:
    """Import each installed distribution's modules (importcheck.py, run in the venv)."""
    if not names:
        return {}
    env = {key: value for key, value in os.environ.items() if key != "PYTHON_GIL"}
    result = subprocess.run(
        [str(venv_python), "-P", str(IMPORTCHECK), *names],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=venv_python.parent,
    )
    checked: dict[str, Checked] = {}
    for line in result.stdout.splitlines():
        data = json.loads(line)
        failed = data["failed"]
        notes = [f"{module}: {error}" for module, error in failed.items()]
        if data["gil_by_dependency"]:
            notes.insert(0, f"imports {data['gil_module']}, which turns the GIL on")
        detail = "; ".join(notes)
        checked[data["name"]] = Checked(
            True,
            "",
            data["imports"],
            data["gil_enabled"],
            "" if data["gil_by_dependency"] else data["gil_module"],
            detail[:400],
        )
    return checked


def check_environment(
    uv: str, python: str, packages: tuple[Locked, ...], venv: Path, build_sdists: bool
) -> dict[str, Checked]:
    """Install `packages` into a fresh venv at `venv` and import them: name -> result."""
    venv_python = make_venv(uv, python, venv.absolute())
    outcome = install(uv, venv_python, packages, build_sdists)
    imported = check_imports(venv_python, [name for name, error in outcome.items() if not error])
    return {
        name: imported.get(name, Checked(not error, error)) if not error else Checked(False, error)
        for name, error in outcome.items()
    }
