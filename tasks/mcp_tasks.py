"""`invoke mcp.*`: the MCP servers' client configs, generated from their manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from invoke.context import Context

from tasks.contract import present, table, task
from tasks.outcome import Outcome


@task(
    name="config",
    help={
        "dry_run": "show the diff, write nothing (exit 1 when a file would change)",
        "root": "repository; default: this repository",
    },
)
def mcp_config(c: Context, dry_run: bool = False, root: str = "") -> None:
    """Write devcontainer.json's MCP servers, .vscode/mcp.json, .mcp.json and the docs' MCP
    servers table (between its markers) from the manifests.

    Only files whose content changes are written; devcontainer.json keeps its comments.
    """
    from tasks.workflows.generate import regenerate_clients

    present(regenerate_clients(root, dry_run), False)


@task(name="list", help={"json": "print JSON", "root": "repository; default: this repository"})
def mcp_list(c: Context, json: bool = False, root: str = "") -> None:
    """List the MCP servers: transport, image or URL, network, mounts, secrets, and what VS
    Code in the dev container runs (or connects to)."""
    from tasks.model.stack import load_stack
    from tasks.report import REPO_ROOT
    from tasks.servers.generate import client_manifests, servers

    stack = load_stack(Path(root) if root else REPO_ROOT)
    configured = servers(stack.manifests.values(), "devcontainer")
    rows: list[dict[str, Any]] = [
        {
            "name": m.name,
            "transport": m.transport,
            "image": m.url or m.image,
            "network": "mcp-cluster (service " + m.url.split("/")[2] + ")"
            if m.remote
            else m.network,
            "mounts": [
                f"{x.source or 'workspace'}:{x.target}{':ro' if x.read_only else ''}"
                for x in m.mounts
            ],
            "secrets": [s.name for s in m.secrets],
            "devcontainer": configured[m.name],
        }
        for m in client_manifests(stack.manifests.values())
    ]
    view = table(
        "MCP servers",
        ("server", "transport", "image / URL", "network", "mounts", "secrets"),
        [
            (
                r["name"],
                r["transport"],
                r["image"],
                r["network"],
                "\n".join(r["mounts"]),
                ", ".join(r["secrets"]),
            )
            for r in rows
        ],
    )
    present(Outcome({"servers": rows}, [view]), json)


@task(
    name="probe",
    help={
        "name": "one server (default: every stdio server)",
        "repeat": "warm requests per session (the harmless tool call)",
        "concurrency": "concurrent sessions per server (stress: K sessions x N requests)",
        "timeout": "seconds any single wait may take",
        "json": "print JSON",
    },
)
def mcp_probe(
    c: Context,
    name: str = "",
    repeat: int = 5,
    concurrency: int = 1,
    timeout: int = 60,
    json: bool = False,
) -> None:
    """Speak MCP to each server exactly as VS Code in the dev container reaches it: stdio
    servers by the command devcontainer.json runs, SSE/HTTP servers by their URL from inside the
    dev container.

    initialize, initialized, tools/list, then one harmless call per server; reports server
    name and version, protocol, tool count, cold start and warm p50/p95. Exit 1 on any failure,
    and for a launch outside the allow-list (it is not started).
    """
    from tasks.workflows.probe import probe_servers

    present(probe_servers(name, repeat, concurrency, timeout), json)


@task(
    name="audit",
    help={
        "server": "only this server's calls",
        "tool": "only calls of this tool",
        "outcome": "ok, tool_error, error, no_reply, or failed (anything but ok)",
        "origin": "client (MCP clients), probe (mcp-prober, mcp.probe) or verify",
        "since": "from this moment: 2026-12-07, 2026-12-07T14:30 (UTC) or an age: 30m, 2h, 7d",
        "until": "up to this moment (same forms)",
        "limit": "show the newest N calls (0: all)",
        "json": "print JSON",
    },
)
def mcp_audit(
    c: Context,
    server: str = "",
    tool: str = "",
    outcome: str = "",
    origin: str = "",
    since: str = "",
    until: str = "",
    limit: int = 50,
    json: bool = False,
) -> None:
    """List MCP calls from the audit log the relay in front of every stdio server writes.

    One line per call: when, server, origin, method, tool, argument keys (never values),
    outcome or error code, duration and bytes. The log is read from the `mcp-audit` volume
    through the engine (as root: each server owns its own files).
    """
    from tasks.workflows.servers import audit, audit_filter

    present(audit(audit_filter(server, tool, outcome, origin, since, until), limit), json)


@task(
    name="clean",
    help={
        "all": "also remove running servers, whose clients are still connected (asks first)",
        "yes": "do not ask",
        "server": "only this server's containers (its dev.mcp-cluster.server label)",
        "json": "print JSON",
    },
)
def mcp_clean(
    c: Context, all: bool = False, yes: bool = False, server: str = "", json: bool = False
) -> None:
    """Remove the stdio MCP server containers whose client is gone (found by label).

    A running server still has its client (the relay in every image ends a server when its
    client's stdin closes), so it is kept: an open VS Code window keeps its sessions. `--all`
    removes running servers too, after asking.
    """
    from tasks.confirm import confirmed
    from tasks.workflows.servers import clean

    def approve(live: int) -> bool:
        question = f"Remove {live} running MCP server(s), ending their clients' sessions?"
        return yes or confirmed(question, "--all ends live sessions; confirm with --yes")

    present(clean(all, server, approve), json)
