"""Compatibility runs: discover the stack's environments, resolve each against the
free-threaded interpreter, install and import the selected ones, and write the report (JSON and
Markdown) with the changes since the report it replaces; and the Python MCP servers, each
installed and probed on the interpreter."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from tasks.compat.environments import Environment, discover
from tasks.compat.install import check_environment
from tasks.compat.report import Report, changes, environment_report, markdown
from tasks.compat.resolve import resolve
from tasks.compat.servers import ServerVerdict, server_spec, verdict
from tasks.compat.servers import markdown as servers_markdown
from tasks.model.stack import load_stack
from tasks.servers.page import probe_page
from tasks.servers.probe import probe

REPORT_JSON = "compat.json"
REPORT_MD = "compat.md"
PROBE_SECONDS = 60.0


def _previous(folder: Path) -> dict[str, Any] | None:
    """The last run's data, if it left a readable report."""
    try:
        data = json.loads((folder / REPORT_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def compatibility(
    root: Path,
    uv: str,
    python: str,
    version: str,
    workdir: Path,
    checked: Callable[[Environment], bool],
    log: Callable[[str], None] = print,
) -> Report:
    """Resolve every environment for `python` (CPython `version`); install and import those
    `checked` selects, each in a fresh venv under `workdir`."""
    reports = []
    for environment in discover(load_stack(root)):
        resolution = resolve(uv, python, environment, workdir / "locks")
        results = None
        if resolution.packages and checked(environment):
            venv = workdir / "venvs" / environment.name
            results = check_environment(uv, python, resolution.packages, venv, build_sdists=True)
        report = environment_report(resolution, results)
        log(
            f"{environment.name}: {report.resolved} packages resolved"
            + (f" ({resolution.error})" if resolution.error else "")
            + ("" if results is None else ", installed and imported")
        )
        reports.append(report)
    return Report(version, tuple(reports))


def write(report: Report, folder: Path) -> Report:
    """Write compat.json and compat.md to `folder`, the changes since the report found there
    included; the report with its changes."""
    report = replace(report, changes=tuple(changes(_previous(folder), report)))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / REPORT_JSON).write_text(json.dumps(report.to_json(), indent=2) + "\n")
    (folder / REPORT_MD).write_text(markdown(report))
    return report


def server_verdicts(
    root: Path,
    uv: str,
    python: str,
    workdir: Path,
    names: set[str],
    log: Callable[[str], None] = print,
) -> list[ServerVerdict]:
    """Each Python MCP server of the stack (those in `names`, when given) installed from its
    resolved tree into a venv of `python` and probed with PYTHON_GIL=0; one verdict each."""
    stack = load_stack(root)
    verdicts = []
    with probe_page() as page_url:
        for environment in discover(stack):
            if not environment.command or (names and environment.name not in names):
                continue
            resolution = resolve(uv, python, environment, workdir / "locks")
            if resolution.error:
                verdicts.append(verdict(environment.name, None, {}, resolution.error))
                log(f"{environment.name}: cannot be resolved: {resolution.error}")
                continue
            venv = workdir / "venvs" / environment.name
            checked = check_environment(uv, python, resolution.packages, venv, build_sdists=True)
            manifest = stack.manifests.get(environment.name)
            spec = server_spec(environment, venv, manifest, root, page_url, PROBE_SECONDS)
            result = asyncio.run(probe(spec, repeat=1)) if spec else None
            verdicts.append(verdict(environment.name, result, checked))
            log(f"{environment.name}: {verdicts[-1].detail or 'answers, GIL-free'}")
    return verdicts


def write_servers(python: str, verdicts: list[ServerVerdict], folder: Path) -> None:
    """Write servers.json and servers.md to `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    data = {"python": python, "servers": [item.to_json() for item in verdicts]}
    (folder / "servers.json").write_text(json.dumps(data, indent=2) + "\n")
    (folder / "servers.md").write_text(servers_markdown(python, verdicts))
