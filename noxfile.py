"""Nox sessions: tests, linters, mutation testing, the free-threaded interpreter, package
compatibility under PYTHON_GIL=0, and the stack's image build matrix (`nox -l` lists them)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nox
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

nox.options.sessions = ["lint", "tests"]
nox.options.default_venv_backend = "venv"
# A missing free-threaded interpreter fails its session: nothing passes by being skipped.
nox.options.error_on_missing_interpreters = True

FREE_THREADED = ["3.14t", "3.13t"]
# Interpreters `invoke python.freethreaded` built are found without touching PATH.
BUILT = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mcp-cluster" / "python"
for _bin in sorted(BUILT.glob("*t/bin")):
    os.environ["PATH"] = f"{_bin}{os.pathsep}{os.environ.get('PATH', '')}"
for _line in FREE_THREADED:
    if shutil.which(f"python{_line}") is None:
        print(
            f"noxfile: python{_line} not found; build it with `invoke python.freethreaded "
            f"--version {_line.rstrip('t')}.N` (pinned versions: .devcontainer/versions.json)",
            file=sys.stderr,
        )
UNIT = "not integration and not e2e"
# The engine tiers, which the freethreaded session leaves to the host's interpreter.
ENGINE_TIERS = ("tests/integration", "tests/e2e")
# Packages the stack needs (the library's dependencies and the devcontainer's Python tools),
# and well-known C-extension packages checked for information.
NEEDED = [
    "invoke",
    "nox",
    "python-on-whales",
    "pydantic-core",
    "pyyaml",
    "rich",
    "packaging",
    "json5",
    "dockerfile-parse",
    "pytest",
    "ruff",
]
OPTIONAL = ["mypy", "markupsafe", "cffi", "msgpack"]


def _constraints(session: nox.Session) -> dict[str, str]:
    """pip constraints for this free-threaded line, if the project keeps any."""
    path = ROOT / "constraints" / f"freethreaded-{str(session.python).rstrip('t')}.txt"
    if not path.is_file():
        return {}
    return {"PIP_CONSTRAINT": str(path), "PIP_CONSTRAINT_FILE": str(path)}


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (pytest options after --, e.g. -- -m 'not e2e')."""
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Run ruff (lint and format check) and mypy."""
    session.install("-e", ".[dev]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    session.run("mypy", "tasks.py")


# mutmut, pinned: tests/mutants.py patches two of its internals (see its docstring).
MUTMUT = "mutmut==3.8.1"


@nox.session(default=False)
def mutants(session: nox.Session) -> None:
    """Mutation testing of the core: mutmut against the unit tier (hours; runs outside CI).

    Prints the score per module and group and the surviving mutants, and fails when a group
    kills under 90% (tests/mutants-equivalent.txt lists the survivors no test can kill). Pick
    groups after --: rules, model, report, jsonc_edit, phases; `-- --sample 300 rules` runs 300
    of a group's mutants for an estimate. On 2 shared cores a full run of every group takes
    about six hours (rules ~5 s a mutant, model ~2 s; report, jsonc_edit and phases minutes).
    """
    from tests.mutants import GROUPS

    session.install("-e", ".[dev]", MUTMUT)
    args = list(session.posargs)
    options: list[str] = []
    while len(args) > 1 and args[0] in ("--sample", "--seed"):
        options, args = [*options, *args[:2]], args[2:]
    groups = args or list(GROUPS)
    for group in groups:
        started = time.monotonic()
        session.run("python", "-m", "tests.mutants", "run", *options, group)
        session.log(f"mutants of {group}: {time.monotonic() - started:.0f} s")
    session.run("python", "-m", "tests.mutants", "report", *groups)


def _dependencies(exclude: set[str], extra: str = "") -> list[str]:
    """The project's requirements from pyproject.toml (runtime, or the optional `extra`), minus
    `exclude`."""
    project = nox.project.load_toml(ROOT / "pyproject.toml")["project"]
    specs = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return [spec for spec in specs if Requirement(spec).name not in exclude]


def _gil_baseline() -> str | None:
    """A GIL-enabled CPython to compare thread scaling with: the one running nox, else python3."""
    from tasks.pybuild.probe import inspect

    for path in (sys.executable, shutil.which("python3")):
        facts = inspect(path) if path else None
        if facts is not None and not facts.free_threaded_build:
            return path
    return None


@nox.session(python=FREE_THREADED)
def freethreaded(session: nox.Session) -> None:
    """Prove the interpreter is free-threaded, run the unit tests on it, measure thread scaling."""
    from tasks.pybuild.probe import CHECK_PYTHON

    session.run("python", str(CHECK_PYTHON), "--gil", "off", env={"PYTHON_GIL": "0"})
    session.run("python", str(CHECK_PYTHON), "--gil", "on", env={"PYTHON_GIL": "1"})
    # matplotlib needs a C build (no cp313t wheel here), so the unit tests run without it (the
    # report's chart test skips).
    session.install("-e", ".", "--no-deps")
    session.install(
        *_dependencies(exclude={"matplotlib"}),
        *_dependencies(exclude={"ruff", "mypy", "types-PyYAML", "types-jsonschema"}, extra="dev"),
        "setuptools>=61",
        env=_constraints(session),
    )
    ignored = [f"--ignore={path}" for path in ENGINE_TIERS]
    session.run(
        "pytest", "-q", "-m", UNIT, *ignored, "-p", "no:cacheprovider", env={"PYTHON_GIL": "0"}
    )
    output = session.run(
        "python", "benchmarks/thread_scaling.py", silent=True, env={"PYTHON_GIL": "0"}
    )
    free = json.loads(str(output).strip().splitlines()[-1])
    session.log(
        f"free-threaded {free['python']}: {free['threads']} threads ran "
        f"{free['speedup']}x the work of 1 thread"
    )
    baseline = _gil_baseline()
    if baseline is None:
        session.log("no GIL interpreter on PATH to compare with")
        return
    gil_output = session.run(baseline, "benchmarks/thread_scaling.py", silent=True, external=True)
    gil = json.loads(str(gil_output).strip().splitlines()[-1])
    session.log(
        f"GIL {gil['python']}: {gil['speedup']}x; N-thread time ratio GIL/free-threaded "
        f"= {gil['seconds_n_threads'] / free['seconds_n_threads']:.2f}"
    )


@nox.session(python=FREE_THREADED)
def compat(session: nox.Session) -> None:
    """Install and import packages under PYTHON_GIL=0; write JSON and Markdown reports.

    Give packages after -- to check those instead of the default list.
    """
    needed = ",".join(session.posargs or NEEDED)
    optional = "" if session.posargs else ",".join(OPTIONAL)
    out = ROOT / "reports" / "compat" / str(session.python)
    session.run(
        "python",
        "benchmarks/compat.py",
        "--needed",
        needed,
        "--optional",
        optional,
        "--out",
        str(out),
        env=_constraints(session),
    )


def _images() -> tuple[list[tuple[str, str]], str]:
    """(image, group) pairs of the build matrix, read from the stack model, and the reason the
    stack could not be read ('' when it could)."""
    from tasks.errors import StackError
    from tasks.images.plan import build_plan
    from tasks.model.stack import load_stack

    try:
        return [(t.name, t.group) for t in build_plan(load_stack(ROOT), None).targets], ""
    except StackError as error:
        return [("unreadable-stack", "")], str(error)


MATRIX, MATRIX_ERROR = _images()


@nox.session(venv_backend="none")
@nox.parametrize("profile", ["online", "offline"])
@nox.parametrize("image", [name for name, _ in MATRIX])
def stack(session: nox.Session, image: str, profile: str) -> None:
    """Build one image of the stack with one profile through the build tasks (skipped, with the
    reason, where the profile cannot provide the image)."""
    from tasks.images.plan import build_plan
    from tasks.model.stack import active_profile, load_stack

    if MATRIX_ERROR:
        session.error(f"the stack cannot be read: {MATRIX_ERROR}")
    selected = active_profile(ROOT / ".devcontainer")
    if selected and selected != profile:
        session.skip(
            f".devcontainer/.env selects profile {selected}: run `invoke env.init --profile "
            f"{profile}` to build this one"
        )
    unavailable = build_plan(load_stack(ROOT, profile), profile).unavailable
    reason = next((u.reason for u in unavailable if u.name == image), "")
    if reason:
        session.skip(f"{image} cannot be built with profile {profile}: {reason}")
    group = dict(MATRIX)[image]
    session.run(
        sys.executable,
        "-m",
        "invoke",
        f"build.{group}",
        "--name",
        image,
        "--profile",
        profile,
        external=True,
    )


@nox.session(venv_backend="none")
@nox.parametrize("image", ["devcontainer", "python-experimental"])
def images(session: nox.Session, image: str) -> None:
    """Run the free-threading checks inside a built image (3.14t/3.15t online, 3.13t offline):
    the build is free-threaded and is the version it says, the GIL stays off, threads scale."""
    tag = f"mcp-{image}:latest"
    inspected = subprocess.run(
        ["docker", "image", "inspect", tag], check=False, capture_output=True
    )
    if inspected.returncode:
        session.error(f"{tag} is not built: run `invoke build.all` (or build.containers)")
    bench = ROOT / "benchmarks" / "thread_scaling.py"
    run = ["docker", "run", "--rm", "--user", "root", "-e", "PYTHON_GIL=0"]
    session.run(
        *run, "--entrypoint", "sh", tag, "-c", 'check-python "$PYTHON_VERSION"', external=True
    )
    output = session.run(
        *run,
        "-v",
        f"{bench}:/tmp/thread_scaling.py:ro",
        "--entrypoint",
        "python3",
        tag,
        "/tmp/thread_scaling.py",
        external=True,
        silent=True,
    )
    free = json.loads(str(output).strip().splitlines()[-1])
    session.log(
        f"{tag}: free-threaded {free['python']}: {free['threads']} threads ran "
        f"{free['speedup']}x the work of 1 thread"
    )
