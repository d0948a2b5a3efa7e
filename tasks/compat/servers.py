"""The stack's Python MCP servers run on the host's free-threaded interpreter, each from a venv
of its resolved tree, with PYTHON_GIL=0: the probe (handshake, `tools/list`, one call) through
the library's own stdio client, and the verdict on whether the server can run GIL-free.

A stdio server takes its arguments and its probe call from its manifest (the workspace mount
becomes a folder on the host). A database server's call needs a database; without one reachable
it must fail cleanly with the database's error, which still proves the server runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.compat.environments import Environment
from tasks.compat.install import Checked
from tasks.compat.report import cell
from tasks.model.manifest import McpManifest, ProbeCall
from tasks.servers.probe import ProbeResult
from tasks.servers.specs import ProbeSpec, harmless_call

# A loopback port nothing listens on: the database servers' calls meet a refused connection.
NO_DATABASE_HOST, NO_DATABASE_PORT = "127.0.0.1", "9"
# The compose services serve over SSE in the stack; here they speak stdio, with their database
# variables pointing at that port. One harmless read-only call each.
DATABASE_SERVERS: dict[str, tuple[tuple[str, ...], dict[str, str], ProbeCall]] = {
    "postgres-mcp": (
        ("--access-mode=restricted", "--transport=stdio"),
        {"DATABASE_URI": f"postgresql://probe@{NO_DATABASE_HOST}:{NO_DATABASE_PORT}/mcp"},
        ProbeCall("list_schemas", {}),
    ),
    "mariadb-mcp": (
        (),
        {
            "MCP_TRANSPORT": "stdio",
            "MYSQL_HOST": NO_DATABASE_HOST,
            "MYSQL_PORT": NO_DATABASE_PORT,
            "MYSQL_USER": "probe",
            "MYSQL_PASSWORD": "",
            "MYSQL_DATABASE": "mcp",
        },
        ProbeCall("execute_sql", {"query": "SELECT 1"}),
    ),
}
DATABASE_ERROR = ("connect", "connection", "refused", "can't", "could not", "2003")


def _local(text: str, mounts: dict[str, str]) -> str:
    """`text` with a container mount target replaced by its folder on the host."""
    for target, host in mounts.items():
        if text == target or text.startswith(f"{target}/"):
            return host + text[len(target) :]
    return text


def server_spec(
    environment: Environment,
    venv: Path,
    manifest: McpManifest | None,
    workspace: Path,
    page_url: str,
    timeout: float,
) -> ProbeSpec | None:
    """How to start the environment's server from `venv` and what to ask it (None when the
    environment runs no MCP server)."""
    command = str(venv / "bin" / environment.command)
    script = (str(environment.script),) if environment.script else ()
    env = {"PYTHON_GIL": "0"}
    if manifest is not None and manifest.transport == "stdio" and manifest.probe is not None:
        mounts = {m.target: str(workspace) for m in manifest.mounts if m.type == "workspace"}
        args = tuple(_local(a, mounts) for a in (*manifest.args, *manifest.probe.server_args))
        call = harmless_call(manifest, page_url)
        assert call is not None
        arguments = {
            key: _local(value, mounts) if isinstance(value, str) else value
            for key, value in call.arguments.items()
        }
        local = ProbeCall(call.tool, arguments, call.expect)
        return ProbeSpec(environment.name, command, (*script, *args), env, local, timeout)
    if environment.name in DATABASE_SERVERS:
        options, variables, database_call = DATABASE_SERVERS[environment.name]
        return ProbeSpec(
            environment.name,
            command,
            (*script, *options),
            {**env, **variables},
            database_call,
            timeout,
        )
    return None


@dataclass(frozen=True)
class ServerVerdict:
    """Whether one server runs GIL-free on the interpreter, and why not."""

    name: str
    installed: bool
    answers: bool
    gil_free: bool
    tools: int
    detail: str

    def to_json(self) -> dict[str, Any]:
        """Plain data."""
        return dict(self.__dict__)


def verdict(
    name: str, result: ProbeResult | None, checked: dict[str, Checked], error: str = ""
) -> ServerVerdict:
    """See `_verdict`; a database server's call always runs with no database behind it."""
    found = _verdict(name, result, checked, error)
    if name in DATABASE_SERVERS and found.answers and not found.detail:
        note = "the call ran with no database behind it and was answered without an error flag"
        return ServerVerdict(name, found.installed, True, found.gil_free, found.tools, note)
    return found


def _verdict(
    name: str, result: ProbeResult | None, checked: dict[str, Checked], error: str = ""
) -> ServerVerdict:
    """The verdict from the probe under PYTHON_GIL=0 and the environment's import results: a
    server runs GIL-free when it answers and none of its packages is missing or turns the GIL
    on. A call refused for want of a database still counts as an answer."""
    missing = [f"{n} ({c.build_error})" for n, c in checked.items() if not c.installed]
    gil = [f"{n} ({c.gil_module})" for n, c in checked.items() if c.gil_enabled]
    if result is None:
        reason = error or "; ".join(missing) or "not started"
        return ServerVerdict(name, not error and not missing, False, False, 0, reason)
    answered = bool(result.server) and result.tools > 0
    database = not result.ok and any(word in result.error.lower() for word in DATABASE_ERROR)
    answers = answered and (result.ok or database)
    notes = []
    if database:
        notes.append(f"the call failed with a database error (no database here): {result.error}")
    elif not result.ok:
        notes.append(result.error)
    if missing:
        notes.append("not installed: " + ", ".join(missing))
    if gil:
        notes.append("turns the GIL on without PYTHON_GIL=0: " + ", ".join(gil))
    gil_free = answers and not missing and not gil
    return ServerVerdict(name, not missing, answers, gil_free, result.tools, "; ".join(notes)[:600])


def markdown(python: str, verdicts: list[ServerVerdict]) -> str:
    """The servers' verdicts as Markdown."""
    lines = [
        f"# Python MCP servers on free-threaded {python} (PYTHON_GIL=0)",
        "",
        "| server | answers the probe | tools | runs GIL-free | detail |",
        "|---|---|---|---|---|",
    ]
    for item in verdicts:
        lines.append(
            f"| {item.name} | {'yes' if item.answers else '**no**'} | {item.tools} "
            f"| {'yes' if item.gil_free else '**no**'} | {cell(item.detail)} |"
        )
    return "\n".join(lines) + "\n"
