"""MCP servers started as VS Code starts them in the dev container: the command from
devcontainer.json, run inside the dev container as its `remoteUser`, variables resolved as VS Code
resolves them (`${localWorkspaceFolder}` is the host path, because the engine is the host's)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tasks.engine.verify import FAIL, PASS, SKIP, Check, Verifier
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
    stack: Stack, remote: Remote, container: str, page_url: str, timeout: float
) -> tuple[list[ProbeSpec], list[Skipped]]:
    """Probe specs whose command runs in `container` as the remote user (URL servers stay
    URLs: the probe reaches them from inside the container).

    Secrets reach `docker exec` by name (`-e NAME`), never as values on a command line.
    """
    specs, skipped = probe_specs(stack, (), stack.root, page_url, timeout, remote.workdir)
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


def client_checks(verifier: Verifier, timeout: float = 60.0) -> list[Check]:
    """Phase 10 client section: every server of devcontainer.json, a stdio server started
    inside the dev container as its remote user and a URL server reached from there, completes
    initialize, tools/list and its probe call.

    A server that cannot start is a failure; only a service the profile leaves out, or a
    secret nobody provided, is not exercised.
    """
    from tasks.probing import reach_for
    from tasks.servers.page import probe_page
    from tasks.servers.probe import run_probes

    stack = verifier.stack
    remote = remote_settings(stack)
    service, user = remote.service, remote.user
    names = sorted(stack.devcontainer.servers)
    if service in verifier.not_exercised:
        return [Check("client", n, SKIP, verifier.not_exercised[service]) for n in names]
    status = verifier.running.get(service)
    if status is None or not status.container:
        return [
            Check("client", n, FAIL, f"dev container ({service}) is not running") for n in names
        ]
    with probe_page() as url:
        specs, skipped = inside_specs(stack, remote, status.container, url, timeout)
        results = run_probes(specs, 1, 1, reach_for(status.container, user))
    checks = [
        Check(
            "client",
            r.name,
            PASS if r.ok else FAIL,
            f"as {user} in {service}: {r.tools} tools, probe call ok, {r.cold_start_ms:.0f} ms"
            if r.ok
            else r.error,
        )
        for r in results
    ]
    return checks + [
        Check("client", s.name, FAIL if s.refused else SKIP, s.reason) for s in skipped
    ]
