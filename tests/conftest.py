"""Shared fixtures; the unit tier never reaches a Docker engine."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ministack import MiniStack

REPO = Path(__file__).resolve().parents[1]
DEAD_ENGINE = "unix:///nonexistent/mcp-cluster-unit-tier/docker.sock"


ENGINE_TIERS = {"integration", "e2e"}


@pytest.fixture(scope="module", autouse=True)
def no_engine_for_unit_modules(request: pytest.FixtureRequest) -> Iterator[None]:
    """Unit modules (and every CLI their tests run) talk to a dead socket: a live stack on this
    machine can neither change their results nor be touched by them. No module mixes the
    tiers. A registry set in the developer's shell never reaches any test's builds. Set once
    per module, not per test, so that a test run by several threads at once
    (pytest-run-parallel) never sees another thread undo it."""
    patch = pytest.MonkeyPatch()
    patch.delenv("MCP_REGISTRY", raising=False)
    if not ENGINE_TIERS & {marker.name for marker in request.node.iter_markers()}:
        patch.setenv("DOCKER_HOST", DEAD_ENGINE)
    try:
        yield
    finally:
        patch.undo()


@pytest.fixture
def mini(tmp_path: Path) -> MiniStack:
    """A clean stack in a temporary folder."""
    return MiniStack(tmp_path)


TEST_FOLDERS = {"tmp_path", "tmpdir"}


def _shares_a_folder(item: pytest.Item) -> str:
    """The fixture of `item` built on the test's own folder, if any: pytest-run-parallel gives
    each thread its own tmp_path, but a fixture made from it (a mini stack, a copy of the
    repository) is made once and shared by every thread of the test."""
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs if info is not None else {}
    for name in getattr(item, "fixturenames", ()):
        todo, seen = [name], set()
        while todo:
            current = todo.pop()
            for definition in definitions.get(current, ()):
                arguments = set(definition.argnames)
                if arguments & TEST_FOLDERS and name not in TEST_FOLDERS:
                    return str(name)
                todo += [a for a in arguments if a not in seen]
                seen |= arguments
    return ""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests whose fixture is a folder on disk that the test edits run in one thread under
    pytest-run-parallel (marked `thread_unsafe`, with the reason)."""
    for item in items:
        shared = _shares_a_folder(item)
        if shared and item.get_closest_marker("thread_unsafe") is None:
            reason = f"fixture {shared} is one folder on disk, shared by the test's threads"
            item.add_marker(pytest.mark.thread_unsafe(reason=reason))


RAN: dict[str, int] = {"integration": 0, "e2e": 0}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count the engine-tier tests that really ran (not skipped)."""
    if report.when == "call" and not report.skipped:
        for tier in ENGINE_TIERS & set(report.keywords):
            RAN[tier] += 1


def _write_thread_unsafe(config: pytest.Config, path: Path) -> None:
    """The tests pytest-run-parallel ran in one thread, with the reason, as Markdown."""
    plugin = config.pluginmanager.get_plugin("_run-parallel")
    unsafe: dict[str, str] = dict(getattr(plugin, "thread_unsafe", {}) or {})
    threads = config.getoption("parallel_threads", default=1)
    lines = [
        f"# Unit tests run in one thread ({len(unsafe)}; the others in {threads} threads)",
        "",
        "| test | reason |",
        "|---|---|",
        *(f"| `{node}` | {reason} |" for node, reason in sorted(unsafe.items())),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a whole run must have run both engine tiers: a run that skipped them fails. Under
    pytest-run-parallel, THREAD_UNSAFE_REPORT names a file for the tests run in one thread."""
    report = os.environ.get("THREAD_UNSAFE_REPORT")
    if report and session.config.pluginmanager.has_plugin("_run-parallel"):
        _write_thread_unsafe(session.config, Path(report))
    options = session.config.option
    default = list(session.config.getini("testpaths"))
    whole = not options.markexpr and not options.keyword and session.config.args == default
    if os.environ.get("CI") and whole and exitstatus == 0 and not all(RAN.values()):
        session.config.get_terminal_writer().line(
            f"CI ran {RAN['integration']} integration and {RAN['e2e']} e2e tests: both tiers "
            "must run (is the engine up? scripts/setup.sh --host)",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
