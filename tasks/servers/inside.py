"""MCP servers started as VS Code starts them in the dev container: the command from
devcontainer.json, run inside the dev container as its `remoteUser`, variables resolved as VS Code
resolves them (`${localWorkspaceFolder}` is the host path, because the engine is the host's)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tasks.model.stack import Stack
from tasks.servers.specs import ProbeSpec, Skipped, probe_specs, substitute


@dataclass(frozen=True)
class Remote:
    """How VS Code enters the dev container: its compose service, remoteUser, workspaceFolder
    and remoteEnv (variables resolved)."""

    service: str
    user: str
    workdir: str
    env: dict[str, str]


def remote_settings(stack: Stack) -> Remote:
    """The dev container as devcontainer.json describes it to VS Code."""
    data: Any = stack.devcontainer.doc.data if isinstance(stack.devcontainer.doc.data, dict) else {}
    remote_env = data.get("remoteEnv") if isinstance(data.get("remoteEnv"), dict) else {}
    return Remote(
        stack.dev_service,
        str(data.get("remoteUser") or data.get("containerUser") or "root"),
        str(data.get("workspaceFolder") or "/"),
        {str(k): substitute(str(v), stack.root) for k, v in remote_env.items()},
    )


def inside_specs(
    stack: Stack, remote: Remote, container: str, page_url: str, timeout: float, origin: str
) -> tuple[list[ProbeSpec], list[Skipped]]:
    """Probe specs whose command runs in `container` as the remote user, their calls marked as
    `origin`'s (URL servers stay URLs: the probe reaches them from inside the container).

    Secrets reach `docker exec` by name (`-e NAME`), never as values on a command line.
    """
    specs, skipped = probe_specs(stack, (), stack.root, page_url, timeout, remote.workdir, origin)
    wrapped = []
    for spec in specs:
        if spec.url:
            wrapped.append(spec)
            continue
        options = ["exec", "-i", "-u", remote.user, "-w", remote.workdir]
        for name, value in remote.env.items():
            options += ["-e", f"{name}={value}"]
        for name in sorted(spec.env):
            options += ["-e", name]
        args = (*options, container, spec.command, *spec.args)
        wrapped.append(replace(spec, command="docker", args=args))
    return wrapped, skipped
