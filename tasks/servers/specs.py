"""Probe specs from the stack: the command VS Code runs, with its variables filled in, and one
harmless tool call per kind of server."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from tasks.model.clients import StdioServer
from tasks.model.dockerrun import parse_docker_run
from tasks.model.manifest import McpManifest, ProbeCall
from tasks.model.stack import Stack

_VARIABLE = re.compile(r"\$\{(?:(?P<kind>localEnv|env):)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class ProbeSpec:
    """What to start and what to ask."""

    name: str
    command: str
    args: tuple[str, ...]
    env: dict[str, str]
    call: ProbeCall | None
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


PAGE_VARIABLE = "${PROBE_PAGE_URL}"
PAGE_TEXT = "mcp-cluster probe page"


def harmless_call(manifest: McpManifest, page_url: str) -> ProbeCall | None:
    """The manifest's probe call, the probe page's URL filled in."""
    if manifest.probe is None:
        return None
    arguments = {
        key: page_url if value == PAGE_VARIABLE else value
        for key, value in manifest.probe.arguments.items()
    }
    return ProbeCall(manifest.probe.tool, arguments, manifest.probe.expect)


def _probe_launch(command: str, args: list[str], probe: ProbeCall) -> list[str]:
    """The server's `docker run` arguments with the manifest's probe-only additions: options
    before the image, server arguments at the end."""
    run = parse_docker_run(command, args)
    if run is None:
        return args
    image_at = len(args) - len(run.args) - 1
    return [*args[:image_at], *probe.docker_args, *args[image_at:], *probe.server_args]


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
        if manifest.probe is not None:
            args = _probe_launch(server.command, args, manifest.probe)
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
