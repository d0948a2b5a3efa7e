"""Nox sessions: tests, linters, mutation testing, the free-threaded interpreter, package
compatibility under PYTHON_GIL=0, and the stack's image build matrix (`nox -l` lists them)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
# The library's packages without its Invoke namespace (tasks.py): listing sessions reads the stack
# model, and must not pay for importing invoke and every task module.
if "tasks" not in sys.modules:
    sys.modules["tasks"] = types.ModuleType("tasks", "the task library's packages")
    sys.modules["tasks"].__path__ = [str(ROOT / "tasks")]

nox.options.sessions = ["lint", "tests"]
nox.options.default_venv_backend = "venv"
# A missing free-threaded interpreter fails its session: nothing passes by being skipped.
nox.options.error_on_missing_interpreters = True


def _pinned_lines() -> dict[str, str]:
    """Each free-threaded line versions.json pins (`3.13t`) and a version pinned for it, newest
    line first. Plain JSON: `invoke check` validates the file (VER rules)."""
    data = json.loads((ROOT / ".devcontainer" / "versions.json").read_text(encoding="utf-8"))
    pins = [pin["version"] for image in data["cpython"].values() for pin in image["pins"].values()]
    lines = {".".join(version.split(".")[:2]): version for version in sorted(pins)}
    order = sorted(lines, key=lambda line: tuple(int(part) for part in line.split(".")))
    return {f"{line}t": lines[line] for line in reversed(order)}


PINNED = _pinned_lines()
FREE_THREADED = list(PINNED)
# Interpreters `invoke python.freethreaded` built are found without touching PATH.
BUILT = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mcp-cluster" / "python"
for _bin in sorted(BUILT.glob("*t/bin")):
    os.environ["PATH"] = f"{_bin}{os.pathsep}{os.environ.get('PATH', '')}"
for _line, _version in PINNED.items():
    if shutil.which(f"python{_line}") is None:
        print(
            f"noxfile: python{_line} not found; build it with `invoke python.freethreaded "
            f"--version {_version}` (pinned in .devcontainer/versions.json)",
            file=sys.stderr,
        )
UNIT = "not integration and not e2e"
# The engine tiers and the layer check (import-linter, of the `lint` extra, has no free-threaded
# build), which the freethreaded session leaves to the host's interpreter.
HOST_ONLY = ("tests/integration", "tests/e2e", "tests/unit/test_layers.py")
# Tools the free-threaded sessions install, pinned: uv resolves and installs the environments,
# pytest-run-parallel runs each unit test in several threads at once.
UV = "uv==0.13.9"
RUN_PARALLEL = "pytest-run-parallel==0.10.0"
PARALLEL_THREADS = 4


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (pytest options after --, e.g. -- -m 'not e2e')."""
    session.install("-e", ".[dev,lint]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Run ruff (lint and format check) and mypy."""
    session.install("-e", ".[dev,lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    session.run("mypy", "tasks.py")


# mutmut, pinned: tests/mutants.py patches two of its internals (see its docstring).
MUTMUT = "mutmut==3.8.1"


@nox.session(default=False)
def mutants(session: nox.Session) -> None:
    """Mutation testing of every module with decisions: mutmut against the unit tier (hours;
    runs outside CI).

    Prints the score per module and group and the surviving mutants, keeps each group's score
    with the run's date, commit, sample size and seed in reports/mutants/, and fails when a group
    kills under 90% (tests/mutants-equivalent.txt lists the survivors no test can kill). Groups
    (pick some after --): rules, model, report, phases, servers, images, pybuild, engine,
    contract, selection, workflows, perf, compat, monitoring, runtime; `-- --sample 300 --seed 2
    servers` runs 300 of a group's mutants, picked by the seed, for an estimate. A run clears its
    groups' earlier results. On 2 shared cores, measured: engine (577 mutants) 3 min, selection
    (72) 2 min, contract (220) 6 min, monitoring (216) 3 min, images, pybuild (about 640 each)
    12 min each, workflows (2713) 20 min, perf (1100) 25 min, compat (2037) 30 min, servers
    (2400) about an hour, runtime (1200, its tests slower) about 1.5 hours; rules ~5 s a
    mutant and model ~2 s: all groups take about 12 hours.
    """
    from tests.mutants import GROUPS

    session.install("-e", ".[dev,lint]", MUTMUT)
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


def _uv(session: nox.Session) -> str:
    """uv, installed into the session's venv."""
    session.install(UV)
    return str(Path(session.bin) / "uv")


def _python(session: nox.Session) -> Path:
    """The interpreter of the session's venv."""
    return Path(session.bin) / "python"


def _install_library(session: nox.Session, uv: str) -> None:
    """The task library's tree resolved for this interpreter (wheels first), installed exactly
    into the session's venv with its build backend; a package that does not install fails the
    session."""
    from tasks.compat.environments import library_environment
    from tasks.compat.install import install
    from tasks.compat.resolve import resolve

    locks = Path(session.create_tmp()).absolute() / "locks"
    library = library_environment(ROOT / "pyproject.toml")
    resolution = resolve(uv, str(_python(session)), library, locks)
    if resolution.error:
        session.error(f"the library cannot be resolved for {session.python}: {resolution.error}")
    outcome = install(uv, _python(session), resolution.packages, build_sdists=True)
    failed = [f"{name}: {why}" for name, why in outcome.items() if why]
    if failed:
        session.error("not installed: " + "; ".join(failed))
    session.log(f"installed the library's {len(resolution.packages)} resolved packages")
    # and its build backend, which the unit tests build a wheel with
    session.install(*nox.project.load_toml(ROOT / "pyproject.toml")["build-system"]["requires"])


def _subprocess_modules() -> list[str]:
    """`--ignore` options for the unit modules that drive the library in subprocesses only
    (pyproject.toml lists them for mutation testing, which skips them for the same reason)."""
    mutmut = nox.project.load_toml(ROOT / "pyproject.toml")["tool"]["mutmut"]
    selection = mutmut["pytest_add_cli_args_test_selection"]
    return [arg for arg in selection if arg.startswith("--ignore=tests/unit/")]


def _gil_baseline() -> str | None:
    """A GIL-enabled CPython to compare thread scaling with: the one running nox, else python3."""
    from tasks.pybuild.probe import inspect

    for path in (sys.executable, shutil.which("python3")):
        facts = inspect(path) if path else None
        if facts is not None and not facts.free_threaded_build:
            return path
    return None


def _interpreter_version(session: nox.Session) -> str:
    """The session interpreter's CPython version, `t` for a free-threaded build."""
    from tasks.pybuild.probe import inspect

    facts = inspect(_python(session))
    if facts is None:
        session.error(f"cannot inspect {session.python}")
    return facts.version + ("t" if facts.free_threaded_build else "")


@nox.session(python=FREE_THREADED)
def freethreaded(session: nox.Session) -> None:
    """The free-threaded interpreter: GIL off and on, the unit tests, in threads, scaling.

    The interpreter is free-threaded with the GIL off under PYTHON_GIL=0 and on under
    PYTHON_GIL=1; the library's resolved tree installs; the unit tests pass, then again with
    each test run by PARALLEL_THREADS threads at once (pytest-run-parallel; a test marked
    `thread_unsafe` runs in one, listed with its reason); thread scaling of a CPU loop and of
    the library's own `check`, with the GIL off and on.
    """
    from tasks.pybuild.probe import CHECK_PYTHON

    session.run("python", str(CHECK_PYTHON), "--gil", "off", env={"PYTHON_GIL": "0"})
    session.run("python", str(CHECK_PYTHON), "--gil", "on", env={"PYTHON_GIL": "1"})
    _install_library(session, _uv(session))
    session.install(RUN_PARALLEL)
    select = ["-m", UNIT, *[f"--ignore={path}" for path in HOST_ONLY], "-p", "no:cacheprovider"]
    session.run("pytest", "-q", *select, env={"PYTHON_GIL": "0"})
    # Threads in the test process exercise the modules that run the library there; at the
    # default verbosity the plugin lists each test it ran in one thread, with the reason.
    session.run(
        "pytest",
        *select,
        *_subprocess_modules(),
        f"--parallel-threads={PARALLEL_THREADS}",
        env={
            "PYTHON_GIL": "0",
            "PYTEST_RUN_PARALLEL_VERBOSE": "1",
            "THREAD_UNSAFE_REPORT": str(
                ROOT / "reports/compat" / str(session.python) / "thread-unsafe.md"
            ),
        },
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
    else:
        gil_output = session.run(
            baseline, "benchmarks/thread_scaling.py", silent=True, external=True
        )
        gil = json.loads(str(gil_output).strip().splitlines()[-1])
        session.log(
            f"GIL {gil['python']}: {gil['speedup']}x; N-thread time ratio GIL/free-threaded "
            f"= {gil['seconds_n_threads'] / free['seconds_n_threads']:.2f}"
        )
    session.run("python", "benchmarks/bench_threads.py")


@nox.session(python=FREE_THREADED)
def compat(session: nox.Session) -> None:
    """Package compatibility of every Python environment of the stack (reports/compat/).

    Resolves each environment for this free-threaded interpreter, installs and imports each
    package, and writes reports/compat/<line>/compat.md and compat.json.

    The environments: the library (pyproject.toml) and each image's `pip install` lines. Every
    resolved package is reported with its version, wheel kind, build result, import result and
    whether the GIL stayed off, with the changes since the last report. The session fails when
    a package of an environment that runs free-threaded today does not install or import, or
    turns the GIL on. After --: `--free-threaded` installs and imports those environments only
    (the others are resolved), or name the environments to install and import.
    """
    from tasks.compat.report import problems
    from tasks.compat.run import compatibility, write

    uv = _uv(session)
    today = "--free-threaded" in session.posargs
    names = {arg for arg in session.posargs if arg != "--free-threaded"}
    report = compatibility(
        ROOT,
        uv,
        str(_python(session)),
        _interpreter_version(session),
        Path(session.create_tmp()).absolute() / "compat",
        lambda env: (env.free_threaded or not today) and (not names or env.name in names),
        session.log,
    )
    folder = ROOT / "reports" / "compat" / str(session.python)
    report = write(report, folder)
    for change in report.changes:
        session.log(f"since the last run: {change}")
    session.log(f"reports: {folder / 'compat.md'}, {folder / 'compat.json'}")
    found = problems(report)
    if found:
        session.error("free-threaded environments broken: " + "; ".join(found))


@nox.session(python=FREE_THREADED)
def servers(session: nox.Session) -> None:
    """The stack's Python MCP servers on this free-threaded interpreter with PYTHON_GIL=0.

    Each server's tree is resolved and installed into a venv of its own, then probed with the
    library's stdio client: handshake, tools/list, one call. Writes
    reports/compat/<line>/servers.md and servers.json: which servers answer, and which can run
    GIL-free (they answer, every package installs, none turns the GIL on by itself). Fails when
    a server that installs does not answer. Name servers after -- to probe those only.
    """
    from tasks.compat.run import server_verdicts, write_servers

    verdicts = server_verdicts(
        ROOT,
        _uv(session),
        str(_python(session)),
        Path(session.create_tmp()).absolute() / "servers",
        set(session.posargs),
        session.log,
    )
    folder = ROOT / "reports" / "compat" / str(session.python)
    write_servers(_interpreter_version(session), verdicts, folder)
    session.log(f"reports: {folder / 'servers.md'}, {folder / 'servers.json'}")
    for item in verdicts:
        session.log(f"{item.name}: answers={item.answers} gil_free={item.gil_free}")
    silent = [item.name for item in verdicts if item.installed and not item.answers]
    if silent:
        session.error(f"installed but not answering the probe: {', '.join(silent)}")


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
