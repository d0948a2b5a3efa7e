"""MCP client configuration: keys VS Code reads, secrets, names, mounts and networks."""

from __future__ import annotations

from collections.abc import Iterator

from tasks.model.clients import SERVER_KEYS
from tasks.model.dockerrun import DockerRun
from tasks.model.launchpolicy import image_problem, probe_violations, scope_of, violations
from tasks.model.manifest import HARDENING
from tasks.model.masks import matcher, secret_files
from tasks.model.stack import Stack
from tasks.rules.base import Hit, Severity, rule
from tasks.rules.context import BUILTIN_NETWORKS, ServerRun, server_runs, under
from tasks.servers.configfiles import client_documents
from tasks.servers.generate import (
    client_manifests,
)

# Keys a client file may use by mistake, and the key that client really reads.
_WRONG_KEYS: dict[str, dict[str, str]] = {
    "devcontainer": {
        "mcpServers": "customizations.vscode.mcp.servers",
        "servers": "customizations.vscode.mcp.servers",
        "mcp": "customizations.vscode.mcp",
        "inputs": ".vscode/mcp.json `inputs` (devcontainer.json has none)",
    },
    "vscode": {"mcpServers": "servers", "mcp": "servers"},
    "portable": {"servers": "mcpServers"},
}


@rule("MCP001", "MCP servers under a key the client never reads", Severity.ERROR)
def unread_keys(stack: Stack) -> Iterator[Hit]:
    """devcontainer.json has no top-level mcpServers; mcp.json uses `servers`; .mcp.json
    uses `mcpServers`.
    """
    for client in (stack.devcontainer, *stack.clients):
        data = client.doc.data if isinstance(client.doc.data, dict) else {}
        for key, right in _WRONG_KEYS[client.kind].items():
            if key in data:
                yield Hit(
                    client.path,
                    client.doc.line_of(key),
                    f"top-level `{key}` is not read by this client ({client.kind})",
                    f"move it to `{right}`",
                )
        vscode = (data.get("customizations") or {}).get("vscode") or {}
        if client.kind == "devcontainer" and "mcpServers" in vscode:
            yield Hit(
                client.path,
                client.doc.line_of("customizations", "vscode", "mcpServers"),
                "customizations.vscode.mcpServers is not read by VS Code",
                f"move it to `{'.'.join(SERVER_KEYS['devcontainer'])}`",
            )


@rule("MCP002", "`${input:...}` outside .vscode/mcp.json", Severity.ERROR)
def inputs_outside_mcp_json(stack: Stack) -> Iterator[Hit]:
    """Input prompts exist only in mcp.json; devcontainer.json must use `${localEnv:VAR}`."""
    for number, line in enumerate(stack.devcontainer.doc.text.splitlines(), start=1):
        if "${input:" in line and not line.lstrip().startswith("//"):
            yield Hit(
                stack.devcontainer.path,
                number,
                "`${input:...}` is not substituted in devcontainer.json",
                "pass the secret with ${localEnv:VAR}; prompts belong in .vscode/mcp.json",
            )


@rule("MCP003", "GitHub server token or toolset variables it does not read", Severity.ERROR)
def github_variables(stack: Stack) -> Iterator[Hit]:
    """The GitHub MCP server reads GITHUB_PERSONAL_ACCESS_TOKEN; GITHUB_DYNAMIC_TOOLSETS is gone."""
    for run in server_runs(stack):
        if run.reference != "github":
            continue
        if "GITHUB_TOKEN" in run.env and "GITHUB_PERSONAL_ACCESS_TOKEN" not in run.env:
            yield Hit(
                run.path,
                run.line,
                f"server {run.name} passes GITHUB_TOKEN, which the GitHub MCP server ignores",
                "pass GITHUB_PERSONAL_ACCESS_TOKEN instead",
            )
        if "GITHUB_DYNAMIC_TOOLSETS" in run.env:
            yield Hit(
                run.path,
                run.line,
                f"server {run.name} sets GITHUB_DYNAMIC_TOOLSETS, removed from the server",
                "use GITHUB_TOOLSETS=... and GITHUB_READ_ONLY=1",
            )


@rule("MCP004", "fixed container name on a stdio server", Severity.ERROR)
def fixed_names(stack: Stack) -> Iterator[Hit]:
    """`--name` makes a second client (another VS Code window) fail with a name conflict."""
    for run in server_runs(stack):
        if run.run is not None and run.run.values("--name"):
            yield Hit(
                run.path,
                run.line,
                f"server {run.name} runs with --name {run.run.values('--name')[0]}",
                "drop --name; find containers by --label dev.mcp-cluster.server=NAME",
            )


@rule("MCP005", "stdio `docker run` without -i, --rm or a label", Severity.ERROR)
def stdio_run_flags(stack: Stack) -> Iterator[Hit]:
    """Stdio needs stdin open (-i); --rm and a label let leaked containers be found and reaped."""
    for run in server_runs(stack):
        if run.run is None:
            continue
        if not {"-i", "--interactive"} & run.run.flags:
            yield Hit(
                run.path,
                run.line,
                f"server {run.name}: docker run without -i",
                "add -i so the server reads JSON-RPC from stdin",
            )
        if "--rm" not in run.run.flags:
            yield Hit(
                run.path,
                run.line,
                f"server {run.name}: docker run without --rm",
                "add --rm so exited servers do not pile up",
                Severity.WARNING,
            )
        if not run.run.values("--label"):
            yield Hit(
                run.path,
                run.line,
                f"server {run.name}: no --label to find its containers",
                "add --label dev.mcp-cluster.server=NAME (invoke mcp.clean reaps by label)",
                Severity.WARNING,
            )


@rule("MCP006", "filesystem server without an allowed directory", Severity.ERROR)
def filesystem_roots(stack: Stack) -> Iterator[Hit]:
    """The filesystem server serves only the directories given as positional arguments."""
    for run in server_runs(stack):
        if run.reference != "filesystem":
            continue
        if not run.args:
            yield Hit(
                run.path,
                run.line,
                f"server {run.name} gets no allowed directory",
                "pass the mount point (e.g. /workspace) after the image",
            )
        for arg in run.args:
            if arg.startswith("/") and not under(arg, run.mount_targets):
                yield Hit(
                    run.path,
                    run.line,
                    f"server {run.name} allows {arg}, which no mount provides",
                    f"mount the workspace at {arg}",
                )


@rule("MCP007", "`${workspaceFolder}` in a bind mount run from the dev container", Severity.ERROR)
def workspace_folder(stack: Stack) -> Iterator[Hit]:
    """Inside the dev container `${workspaceFolder}` is a container path; the daemon needs the
    host path.
    """
    for run in server_runs(stack):
        if run.kind == "devcontainer" and any("${workspaceFolder}" in s for s in run.mount_sources):
            yield Hit(
                run.path,
                run.line,
                f"server {run.name} mounts ${{workspaceFolder}}, a path the Docker daemon "
                "on the host cannot see",
                "use ${localWorkspaceFolder} (or a named volume)",
            )


def _network_hit(stack: Stack, run: ServerRun) -> Hit | None:
    network = run.network
    if network is None or network in BUILTIN_NETWORKS or network in stack.compose.network_names():
        return None
    declared = stack.compose.networks.get(network)
    fix = (
        f"add `name: {network}` under networks.{network} in {stack.compose.path.name} "
        f"(compose names it {declared.name})"
        if declared
        else f"use a network the stack creates ({', '.join(sorted(stack.compose.network_names()))})"
        " or bridge/none"
    )
    return Hit(run.path, run.line, f"server {run.name}: --network {network} does not exist", fix)


@rule("MCP008", "`docker run --network` names a network that will not exist", Severity.ERROR)
def unknown_network(stack: Stack) -> Iterator[Hit]:
    """Compose prefixes network names with the project unless the network sets `name:`."""
    for run in server_runs(stack):
        hit = _network_hit(stack, run)
        if hit is not None:
            yield hit


@rule("MCP009", "manifest does not match its folder", Severity.ERROR)
def manifest_names(stack: Stack) -> Iterator[Hit]:
    """A manifest's name is its folder's name, and stdio servers are configured in the client."""
    for manifest in stack.manifests.values():
        if manifest.name != manifest.folder_name:
            yield Hit(
                manifest.path,
                manifest.doc.line_of("name"),
                f"manifest name {manifest.name!r} in folder mcp/{manifest.folder_name}/",
                f"set name: {manifest.folder_name}",
            )
        configured = manifest.transport == "stdio" or manifest.remote
        if configured and manifest.name not in stack.devcontainer.servers:
            yield Hit(
                stack.devcontainer.path,
                stack.devcontainer.doc.line_of(*SERVER_KEYS["devcontainer"]),
                f"server {manifest.name} has a manifest but is missing from devcontainer.json",
                "run `invoke mcp.config` to regenerate the client configs",
            )
        if manifest.remote and manifest.bridge not in stack.manifests:
            yield Hit(
                manifest.path,
                manifest.doc.line_of("bridge"),
                f"bridge {manifest.bridge!r} has no manifest",
                "name the bridge manifest (mcp/bridge/config/bridge.yml)",
            )
        if manifest.service is not None and manifest.service not in stack.compose.services:
            yield Hit(
                manifest.path,
                manifest.doc.line_of("service"),
                f"manifest names compose service {manifest.service!r}, which does not exist",
                "set service: to a service of the compose file",
            )


@rule("MCP010", "client config drifted from the manifests", Severity.ERROR)
def drift(stack: Stack) -> Iterator[Hit]:
    """devcontainer.json, .vscode/mcp.json and .mcp.json are generated from the manifests."""
    if not client_manifests(stack.manifests.values()):
        return
    loaded = {client.kind: client for client in (stack.devcontainer, *stack.clients)}
    for kind, (path, expected) in client_documents(stack).items():
        client = loaded.get(kind)
        if client is None:
            yield Hit(path, None, f"{path.name} is missing", "run `invoke mcp.config`")
            continue
        actual = client.doc.data
        if kind == "devcontainer":
            for key in SERVER_KEYS["devcontainer"]:
                actual = actual.get(key) if isinstance(actual, dict) else None
        if actual != expected:
            names = (
                sorted(
                    n
                    for n in set(expected) | set(actual or {})
                    if (actual or {}).get(n) != expected.get(n)
                )
                if kind == "devcontainer"
                else []
            )
            detail = f" (servers {', '.join(names)})" if names else ""
            yield Hit(
                path,
                client.doc.line_of(*client.server_keys),
                f"{path.name} differs from what the manifests generate{detail}",
                "edit the manifest in mcp/<name>/config/ and run `invoke mcp.config`",
            )


def _hardened(run: DockerRun, measure: str) -> bool:
    """True when a parsed `docker run` applies one hardening measure (any limit values)."""
    checks = {
        "init": lambda: "--init" in run.flags,
        "no_new_privileges": lambda: any(
            v in ("no-new-privileges", "no-new-privileges:true", "no-new-privileges=true")
            for v in run.values("--security-opt")
        ),
        "cap_drop": lambda: "ALL" in (v.upper() for v in run.values("--cap-drop")),
        "read_only": lambda: "--read-only" in run.flags,
        "limits": lambda: all(run.values(o) for o in ("--memory", "--cpus", "--pids-limit")),
        "pull_never": lambda: (
            "never" in run.values("--pull")
            or ("@sha256:" in run.image and "missing" in run.values("--pull"))
        ),
    }
    return checks[measure]()


@rule("MCP011", "stdio server launched without the hardening defaults", Severity.ERROR)
def hardening(stack: Stack) -> Iterator[Hit]:
    """Every client launch carries --init, no-new-privileges, --cap-drop ALL, --read-only,
    memory/CPU/pids limits and --pull never (--pull missing for an image pinned by digest),
    unless the manifest declares why it cannot."""
    for run in server_runs(stack):
        manifest = stack.manifests.get(run.name)
        if run.run is None or manifest is None:
            continue
        for measure, words in HARDENING.items():
            if measure in manifest.hardening_exceptions:
                continue
            if not _hardened(run.run, measure):
                yield Hit(
                    run.path,
                    run.line,
                    f"server {run.name} starts without {' '.join(words[:2])} ({measure})",
                    f"run `invoke mcp.config`, or declare `hardening: {{{measure}: reason}}` in "
                    f"{stack.rel(manifest.path)}",
                )


@rule("MCP012", "MCP server launch option outside the allow-list", Severity.ERROR)
def launch_allow_list(stack: Stack) -> Iterator[Hit]:
    """A launch may carry only the options of tasks/model/launchpolicy.py (stdin, labels,
    hardening, limits, env, the stack's named volumes and networks): never a host path, the
    host's namespaces, added capabilities, devices or an unconfined profile. The probe's own
    options (`probe.docker_args`) may add the host network and nothing else."""
    scope = scope_of(stack)
    for run in server_runs(stack):
        if run.run is not None:
            for violation in violations(run.run, scope):
                yield Hit(
                    run.path, run.line, f"server {run.name}: {violation.problem}", violation.fix
                )
    for manifest in stack.manifests.values():
        problem = image_problem(manifest.image) if manifest.image else None
        if problem is not None:
            yield Hit(manifest.path, manifest.doc.line_of("image"), problem, "name an image")
        for mount in manifest.mounts:
            if mount.type == "volume" and mount.source not in scope.volumes:
                yield Hit(
                    manifest.path,
                    manifest.doc.line_of("mounts"),
                    f"server {manifest.name} mounts {mount.source!r}, not a named volume of the "
                    "stack",
                    "declare the volume under `volumes:` in the compose file (host paths are "
                    "refused; the workspace is `type: workspace`)",
                )
        if manifest.probe is not None:
            for violation in probe_violations(manifest.probe.docker_args, scope):
                yield Hit(
                    manifest.path,
                    manifest.doc.line_of("probe", "docker_args"),
                    f"probe of {manifest.name}: {violation.problem}",
                    violation.fix,
                )


def _workspace_servers(stack: Stack) -> list[str]:
    return sorted(m.name for m in stack.manifests.values() if m.workspace is not None)


@rule("MCP013", "secret in the workspace that MCP servers would see", Severity.ERROR)
def unmasked_secrets(stack: Stack) -> Iterator[Hit]:
    """Every server that mounts the workspace sees all of it except what `.mcpignore` masks:
    env files with credentials, private keys, keystores, kubeconfigs and volume backups must be
    masked (a model that reads them can send them anywhere)."""
    readers = _workspace_servers(stack)
    if not readers:
        return
    patterns = matcher().read(stack.root)
    for secret in secret_files(stack.root):
        if not matcher().masked(patterns, secret.rel, secret.is_folder):
            yield Hit(
                stack.root / secret.rel,
                None,
                f"{secret.rel} is {secret.why}, visible to {', '.join(readers)}",
                f"add `{secret.rel}{'/' if secret.is_folder else ''}` (or a pattern) to "
                f"{stack.rel(stack.root / matcher().FILE_NAME)}",
            )


@rule("MCP014", "`.mcpignore` pattern that masks nothing", Severity.ERROR)
def dead_masks(stack: Stack) -> Iterator[Hit]:
    """A pattern that names one path (anchored with a `/`, no wildcard) must name a path that
    exists or that the stack writes (its env file, generated certificates, backups): anything
    else is a typo that leaves the real secret visible. Names that match at any depth and
    patterns with wildcards guard against files to come and are not checked. A pattern git
    reads as matching nothing at all is always reported."""
    path = stack.root / matcher().FILE_NAME
    patterns = matcher().read(stack.root)
    expected = [
        "/".join(parts[:depth])
        for parts in (rel.split("/") for rel in stack.produced_paths())
        for depth in range(1, len(parts) + 1)
    ]
    for pattern in patterns:
        if pattern.matches_nothing:
            yield Hit(
                path,
                pattern.line,
                f"`{pattern.text}` can match nothing (git reads an unclosed `[`, an unknown "
                "`[:class:]` or a trailing `\\` that way)",
                "close the bracket, or escape a literal `[` or `\\` with a backslash",
            )
            continue
        if pattern.negated or not pattern.literal or not pattern.anchored:
            continue
        existing = list(matcher().matches(stack.root, [pattern]))
        if existing or any(pattern.regex.match(rel) for rel in expected):
            continue
        yield Hit(
            path,
            pattern.line,
            f"`{pattern.text}` matches no file here and nothing the stack writes",
            "fix the path (it is relative to the workspace root) or remove the line",
        )
