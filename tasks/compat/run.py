"""One compatibility run: discover the stack's environments, resolve each against the
free-threaded interpreter, install and import the selected ones, and write the report (JSON and
Markdown) with the changes since the report it replaces."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from tasks.compat.environments import Environment, discover
from tasks.compat.install import check_environment
from tasks.compat.report import Report, changes, environment_report, markdown
from tasks.compat.resolve import resolve
from tasks.model.stack import load_stack

REPORT_JSON = "compat.json"
REPORT_MD = "compat.md"


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
