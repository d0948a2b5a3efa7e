"""Probe specs from the stack: the command or URL a client uses, with its variables filled in,
checked against the launch allow-list, and one harmless tool call per kind of server."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from tasks.model.clients import StdioServer
from tasks.model.dockerrun import parse_docker_run
from tasks.model.launchpolicy import Scope, scope_of, violations
from tasks.model.manifest import McpManifest, ProbeCall
from tasks.model.stack import Stack

_VARIABLE = re.compile(r"\$\{(?:(?P<kind>localEnv|env):)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}")
_WORKSPACES = {"localWorkspaceFolder", "workspaceFolder"}
PROBE_ORIGIN = "probe"


@dataclass(frozen=True)
class ProbeSpec:
    """What to start (a stdio command) or reach (a URL), and what to ask."""

    name: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    call: ProbeCall | None = None
    timeout: float = 60.0
    url: str = ""
    transport: str = "stdio"
    container: str = ""

    def session(self, index: int) -> ProbeSpec:
        """The spec of concurrent session `index` (0 is this one): a container of its own
        name, in its launch as in `container`, so that sessions never ask for one name."""
        if not index or not self.container:
            return self
        name = f"{self.container}-{index}"
        args = tuple(name if word == self.container else word for word in self.args)
        return replace(self, args=args, container=name)


@dataclass(frozen=True)
class Skipped:
    """A server the probe does not start, and why: not exercisable here, or `refused` (its
    launch leaves the allow-list, which is a failure)."""

    name: str
    reason: str
    refused: bool = False


def substitute(text: str, workspace: Path, container_workspace: str = "") -> str:
    """Fill `${localWorkspaceFolder}`, `${containerWorkspaceFolder}`, `${localEnv:X}` and `${X}`
    as VS Code would (the container's folder is the workspace itself when the command runs on
    this machine)."""

    def value(match: re.Match[str]) -> str:
        name = match.group("name")
        if match.group("kind") is None and name in _WORKSPACES:
            return str(workspace)
        if match.group("kind") is None and name == "containerWorkspaceFolder":
            return container_workspace or str(workspace)
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


def probe_launch(args: list[str], manifest: McpManifest, container: str) -> list[str]:
    """The client's arguments with the probe's own: its container name and the manifest's
    probe options right after `run`, the manifest's probe server arguments at the end."""
    at = args.index("run") + 1 if "run" in args else len(args)
    extra = ["--name", container]
    if manifest.probe is not None:
        extra += list(manifest.probe.docker_args)
    tail = list(manifest.probe.server_args) if manifest.probe is not None else []
    return [*args[:at], *extra, *args[at:], *tail]


def refused(command: str, args: list[str], scope: Scope) -> str:
    """Why a launch leaves the allow-list ('' when it does not)."""
    run = parse_docker_run(command, args)
    if run is None:
        return ""
    return "; ".join(f"{v.problem} ({v.fix})" for v in violations(run, scope))


def probe_specs(
    stack: Stack,
    names: tuple[str, ...],
    workspace: Path,
    page_url: str,
    timeout: float,
    container_workspace: str = "",
    origin: str = PROBE_ORIGIN,
) -> tuple[list[ProbeSpec], list[Skipped]]:
    """Specs for the selected servers as devcontainer.json configures them, their calls marked
    as `origin`'s (MCP_ORIGIN); a launch outside the allow-list is skipped with the reason (and
    `mcp.probe` fails on it)."""
    configured: dict[str, StdioServer] = stack.devcontainer.servers
    scope = scope_of(stack, probe=True)
    specs: list[ProbeSpec] = []
    skipped: list[Skipped] = []
    for manifest in stack.manifests.values():
        if not (manifest.transport == "stdio" or manifest.remote):
            continue
        if names and manifest.name not in names:
            continue
        server = configured.get(manifest.name)
        if server is None:
            skipped.append(Skipped(manifest.name, "not in devcontainer.json (run mcp.config)"))
            continue
        call = harmless_call(manifest, page_url)
        if server.url:
            specs.append(
                ProbeSpec(
                    manifest.name, call=call, timeout=timeout, url=server.url, transport=server.type
                )
            )
            continue
        missing = [s.name for s in manifest.secrets if not os.environ.get(s.name)]
        if missing:
            skipped.append(Skipped(manifest.name, f"{', '.join(missing)} is not set"))
            continue
        container = f"mcp-probe-{manifest.name}-{os.urandom(4).hex()}"
        args = [substitute(a, workspace, container_workspace) for a in server.args]
        args = probe_launch(args, manifest, container)
        problem = refused(server.command, args, scope)
        if problem:
            skipped.append(Skipped(manifest.name, f"launch refused: {problem}", refused=True))
            continue
        env = {k: substitute(v, workspace, container_workspace) for k, v in server.env.items()}
        specs.append(
            ProbeSpec(
                manifest.name,
                server.command,
                tuple(args),
                {**env, "MCP_ORIGIN": origin},
                call,
                timeout,
                container=container,
            )
        )
    return specs, skipped
