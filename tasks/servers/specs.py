"""Probe specs from the stack: the command VS Code runs, with its variables filled in, and one
harmless tool call per kind of server."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.model.clients import StdioServer
from tasks.model.manifest import McpManifest
from tasks.model.stack import Stack

_VARIABLE = re.compile(r"\$\{(?:(?P<kind>localEnv|env):)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}")
FETCH_PAGE_TEXT = "mcp-cluster probe page"


@dataclass(frozen=True)
class ToolCall:
    """A harmless tool call and the text its result must contain."""

    tool: str
    arguments: dict[str, Any]
    expect: str = ""


@dataclass(frozen=True)
class ProbeSpec:
    """What to start and what to ask."""

    name: str
    command: str
    args: tuple[str, ...]
    env: dict[str, str]
    call: ToolCall | None
    timeout: float = 60.0


@dataclass(frozen=True)
class Skipped:
    """A server the probe cannot exercise here, and why."""

    name: str
    reason: str


def substitute(text: str, workspace: Path) -> str:
    """Fill `${localWorkspaceFolder}`, `${localEnv:X}` and `${X}` as VS Code would."""

    def value(match: re.Match[str]) -> str:
        name = match.group("name")
        if match.group("kind") is None and name in ("localWorkspaceFolder", "workspaceFolder"):
            return str(workspace)
        return os.environ.get(name, "")

    return _VARIABLE.sub(value, text)


def _workspace_target(manifest: McpManifest) -> str:
    return next((m.target for m in manifest.mounts if m.type == "workspace"), "/workspace")


def harmless_call(manifest: McpManifest, page_url: str) -> ToolCall | None:
    """One read-only call per reference server."""
    kind = manifest.name
    target = _workspace_target(manifest)
    calls = {
        "git": ToolCall("git_log", {"repo_path": target, "max_count": 1}),
        "filesystem": ToolCall("list_directory", {"path": target}),
        "memory": ToolCall("read_graph", {}),
        "fetch": ToolCall("fetch", {"url": page_url}, FETCH_PAGE_TEXT),
    }
    return calls.get(kind)


def _fetch_reaches_loopback(args: list[str]) -> list[str]:
    """The fetch server's command, able to reach a page on the host's 127.0.0.1: host network
    and private addresses allowed (the probe reports that it did this)."""
    image_at = next(
        i
        for i, a in enumerate(args)
        if not a.startswith("-")
        and i > 0
        and args[i - 1] not in ("--label", "-e", "-v", "--network")
    )
    return [*args[:image_at], "--network", "host", *args[image_at:], "--allow-private-ips"]


def probe_specs(
    stack: Stack, names: tuple[str, ...], workspace: Path, page_url: str, timeout: float
) -> tuple[list[ProbeSpec], list[Skipped]]:
    """Specs for the selected stdio servers as devcontainer.json configures them."""
    configured: dict[str, StdioServer] = stack.devcontainer.servers
    specs: list[ProbeSpec] = []
    skipped: list[Skipped] = []
    for manifest in stack.manifests.values():
        if manifest.transport != "stdio" or (names and manifest.name not in names):
            continue
        server = configured.get(manifest.name)
        if server is None:
            skipped.append(Skipped(manifest.name, "not in devcontainer.json (run mcp.config)"))
            continue
        missing = [s.name for s in manifest.secrets if not os.environ.get(s.name)]
        if missing:
            skipped.append(Skipped(manifest.name, f"{', '.join(missing)} is not set"))
            continue
        args = [substitute(a, workspace) for a in server.args]
        if manifest.name == "fetch":
            args = _fetch_reaches_loopback(args)
        env = {k: substitute(v, workspace) for k, v in server.env.items()}
        specs.append(
            ProbeSpec(
                manifest.name,
                server.command,
                tuple(args),
                env,
                harmless_call(manifest, page_url),
                timeout,
            )
        )
    return specs, skipped
