"""The compatibility report of one free-threaded line: every resolved package of every
environment with its version, wheel kind, install and import result and whether the GIL stayed
off; what fails the session; the changes since the last run; Markdown and JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from tasks.compat.install import Checked
from tasks.compat.resolve import Resolution

NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class Row:
    """One resolved package of one environment."""

    name: str
    version: str
    kind: str
    newest: str = ""
    install: str = NOT_CHECKED
    """'installed', why it was not, or 'not checked'."""
    imports: bool | None = None
    gil_enabled: bool | None = None
    gil_module: str = ""
    detail: str = ""


@dataclass(frozen=True)
class EnvironmentReport:
    """One environment: where it is declared, whether it runs free-threaded today, and its
    resolved packages (`resolved` counts the resolution, `rows` the report)."""

    name: str
    source: str
    free_threaded: bool
    resolved: int
    rows: tuple[Row, ...]
    error: str = ""


@dataclass(frozen=True)
class Report:
    """Every environment on one interpreter."""

    python: str
    environments: tuple[EnvironmentReport, ...]
    changes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """The report as plain data (lists, as JSON has them)."""
        data: dict[str, Any] = json.loads(json.dumps(asdict(self)))
        return data


def environment_report(
    resolution: Resolution, checked: dict[str, Checked] | None
) -> EnvironmentReport:
    """Rows for every resolved package, with install and import results where checked."""
    rows = []
    for package in resolution.packages:
        result = (checked or {}).get(package.name)
        base = Row(
            package.name, package.version, package.kind, resolution.newest.get(package.name, "")
        )
        if result is not None:
            base = Row(
                base.name,
                base.version,
                base.kind,
                base.newest,
                "installed" if result.installed else result.build_error,
                result.imports,
                result.gil_enabled,
                result.gil_module,
                result.detail,
            )
        rows.append(base)
    environment = resolution.environment
    return EnvironmentReport(
        environment.name,
        environment.source,
        environment.free_threaded,
        len(resolution.packages),
        tuple(rows),
        resolution.error,
    )


def problems(report: Report) -> list[str]:
    """What fails the session: in an environment that runs on the free-threaded interpreter,
    a tree that cannot be resolved, a package that does not build or import, or one that turns
    the GIL on (named with the module that did)."""
    found = []
    for environment in (e for e in report.environments if e.free_threaded):
        if environment.error:
            found.append(f"{environment.name}: cannot be resolved: {environment.error}")
        for row in environment.rows:
            where = f"{environment.name}: {row.name} {row.version}"
            if row.install not in ("installed", NOT_CHECKED):
                found.append(f"{where} is not installed: {row.install}")
            elif row.gil_enabled:
                found.append(f"{where} re-enables the GIL (module {row.gil_module or '?'})")
            elif row.imports is False:
                found.append(f"{where} does not import: {row.detail}")
    return found


def changes(previous: dict[str, Any] | None, current: Report) -> list[str]:
    """What changed since the previous report's data: packages that started or stopped
    re-enabling the GIL (named with the module), new and removed packages, new versions."""
    if not previous:
        return []
    before = {
        (env["name"], row["name"]): row
        for env in previous.get("environments", [])
        for row in env.get("rows", [])
    }
    now = {(env.name, row.name): row for env in current.environments for row in env.rows}
    found = []
    for key, row in sorted(now.items()):
        old = before.get(key)
        where = f"{key[0]}: {row.name}"
        if row.gil_enabled and not (old or {}).get("gil_enabled"):
            found.append(
                f"{where} {row.version} started re-enabling the GIL (module {row.gil_module})"
            )
        elif old and old.get("gil_enabled") and row.gil_enabled is False:
            found.append(f"{where} {row.version} no longer re-enables the GIL")
        if old is None:
            found.append(f"{where} {row.version} is new")
        elif old.get("version") != row.version:
            found.append(f"{where} {old.get('version')} -> {row.version}")
    found += [f"{env}: {name} is gone" for env, name in sorted(set(before) - set(now))]
    return found


def cell(text: str) -> str:
    """`text` as one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "**no**", None: ""}[value]


def _gil_off(row: Row) -> str:
    """'yes', '**no** MODULE' (the module that turned the GIL on), or '' when not checked."""
    if row.gil_enabled is None:
        return ""
    return f"**no** {row.gil_module}".strip() if row.gil_enabled else "yes"


def markdown(report: Report) -> str:
    """The report as Markdown: a summary table, the changes, then one table per environment."""
    lines = [
        f"# Free-threaded compatibility ({report.python})",
        "",
        "| environment | runs free-threaded today | resolved | in report | GIL re-enabled by |",
        "|---|---|---|---|---|",
    ]
    for env in report.environments:
        checked = any(row.install != NOT_CHECKED for row in env.rows)
        gil = ", ".join(r.name for r in env.rows if r.gil_enabled) or "-"
        gil = gil if checked else ("not checked" if env.rows else "")
        count = env.resolved if not env.error else "unresolvable"
        lines.append(
            f"| {env.name} | {'yes' if env.free_threaded else 'no'} | {count} | {len(env.rows)} "
            f"| {gil} |"
        )
    lines += ["", "## Changes since the last run", ""]
    lines += [f"- {change}" for change in report.changes] or ["- none (or no earlier run)"]
    for env in report.environments:
        lines += ["", f"## {env.name}", "", f"Declared in `{env.source}`."]
        if env.error:
            lines += ["", f"Cannot be resolved for this interpreter: {env.error}"]
        if not env.rows:
            lines += ["", "No packages." if not env.error else ""]
            continue
        lines += [
            "",
            "| package | version | newest | wheel | install | imports | GIL off | detail |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in env.rows:
            imports = "no module" if row.imports is None and row.install == "installed" else ""
            lines.append(
                f"| {row.name} | {row.version} | {row.newest} | {row.kind} | {cell(row.install)} "
                f"| {imports or _yes_no(row.imports)} | {_gil_off(row)} | {cell(row.detail)} |"
            )
    return "\n".join(lines) + "\n"
