"""The allow-list of `docker run` options an MCP server launch may carry.

Every option a manifest can produce is listed here with why it is allowed and what values it
takes; anything else (`--privileged`, `--pid host`, `--cap-add`, `--device`, a host path mounted,
an unconfined seccomp profile, ...) is refused: when the client configs are generated, when
`invoke check` reads them (rule MCP012), and before the probe starts a server.
The launcher adds its own options (session label, workspace mount, masks, `--user`) at launch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tasks.errors import StackError
from tasks.model.dockerrun import DockerRun, parse_docker_run
from tasks.model.manifest import McpManifest
from tasks.model.stack import Stack

# The OCI/distribution reference grammar (`[host[:port]/]path[:tag][@algorithm:hex]`).
_ALNUM = r"[a-z0-9]+"
_PATH = rf"{_ALNUM}(?:(?:[._]|__|-+){_ALNUM})*"
_HOST_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_HOST_PART}(?:\.{_HOST_PART})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_NAME = rf"(?:{_HOST}/)?{_PATH}(?:/{_PATH})*"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
REFERENCE = re.compile(rf"(?P<name>{_NAME})(?::[\w][\w.-]{{0,127}})?(?:@{_DIGEST})?")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LABEL_PREFIX = "dev.mcp-cluster."
PROBE_NAME = re.compile(r"mcp-probe-[a-z0-9-]+")
SIZE = re.compile(r"[0-9]+(?:\.[0-9]+)?[bkmgBKMG]?")
BUILTIN_NETWORKS = frozenset({"none", "bridge"})
# The named volume every server's relay appends its audit log to.
AUDIT_VOLUME = "mcp-audit"
AUDIT_TARGET = "/audit"


@dataclass(frozen=True)
class Scope:
    """What a launch may name: the stack's volumes and networks; probe launches may also use
    the host network and a probe container name."""

    volumes: frozenset[str]
    networks: frozenset[str]
    probe: bool = False


def scope_of(stack: Stack, probe: bool = False) -> Scope:
    """What the stack's launches may name: its volumes (and the audit log's) and networks."""
    volumes = {volume.name for volume in stack.compose.volumes.values()} | {AUDIT_VOLUME}
    return Scope(frozenset(volumes), frozenset(stack.compose.network_names()), probe)


@dataclass(frozen=True)
class Violation:
    """One refused option or value, and the fix."""

    option: str
    problem: str
    fix: str


Check = Callable[[str, Scope], str | None]


def _any(value: str, scope: Scope) -> str | None:
    return None


def _label(value: str, scope: Scope) -> str | None:
    key = value.partition("=")[0]
    return None if key.startswith(LABEL_PREFIX) else f"label {key!r} is not {LABEL_PREFIX}*"


def _security(value: str, scope: Scope) -> str | None:
    if value in ("no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"):
        return None
    return f"--security-opt {value} is not hardening"


def _size(value: str, scope: Scope) -> str | None:
    return None if SIZE.fullmatch(value) else f"{value!r} is not a number or size"


def _pull(value: str, scope: Scope) -> str | None:
    return None if value in ("never", "missing") else f"--pull {value} may fetch any image"


def _env(value: str, scope: Scope) -> str | None:
    name = value.partition("=")[0]
    return None if ENV_NAME.fullmatch(name) else f"{name!r} is not a variable name"


def _volume(value: str, scope: Scope) -> str | None:
    parts = value.split(":")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in ("ro", "rw")):
        return f"{value!r} is not VOLUME:/PATH[:ro]"
    if parts[0] not in scope.volumes:
        return f"{parts[0]!r} is not a named volume of the stack (host paths are refused)"
    return None if parts[1].startswith("/") else f"{parts[1]!r} is not an absolute path"


def _network(value: str, scope: Scope) -> str | None:
    if value in BUILTIN_NETWORKS or value in scope.networks or (scope.probe and value == "host"):
        return None
    return f"--network {value} is not none, bridge or a network of the stack"


def _tmpfs(value: str, scope: Scope) -> str | None:
    path = value.partition(":")[0]
    return None if path.startswith("/") and path != "/" else f"tmpfs at {path!r}"


def _name(value: str, scope: Scope) -> str | None:
    if scope.probe and PROBE_NAME.fullmatch(value):
        return None
    return "a fixed name makes a second client fail; containers are found by label"


# option -> (why it is allowed, what values it accepts)
VALUED: dict[str, tuple[str, Check]] = {
    "--label": ("finds and tells apart the server's containers", _label),
    "--security-opt": ("hardening: no new privileges", _security),
    "--cap-drop": ("hardening: drops capabilities", _any),
    "--tmpfs": ("a writable /tmp on a read-only root", _tmpfs),
    "--memory": ("hardening: memory limit", _size),
    "--cpus": ("hardening: CPU limit", _size),
    "--pids-limit": ("hardening: process limit", _size),
    "--pull": ("never pulls, or only a pinned digest", _pull),
    "--env": ("the server's settings and secrets by name", _env),
    "--volume": ("the stack's named volumes (data, audit log)", _volume),
    "--network": ("none, bridge or the stack's network", _network),
    "--name": ("the probe's own container, stopped by name", _name),
}
FLAGS: dict[str, str] = {
    "-i": "stdio needs stdin",
    "--interactive": "stdio needs stdin",
    "--rm": "exited servers do not pile up",
    "--init": "hardening: signals and zombie reaping",
    "--read-only": "hardening: read-only root filesystem",
}


# What the manifest says instead of an option a launch may not carry.
_INSTEAD = {
    "--user": "`user: workspace-owner` in the manifest runs it as the workspace's owner",
    "--mount": "declare `mounts:` in the manifest (a named volume, or the workspace)",
}


def _fix(option: str) -> str:
    return f"remove {option}; " + _INSTEAD.get(
        option, "a launch carries only the options of tasks/model/launchpolicy.py"
    )


def violations(run: DockerRun, scope: Scope) -> list[Violation]:
    """Every option of a parsed launch outside the allow-list, with its fix."""
    found: list[Violation] = []
    for flag in sorted(run.flags - set(FLAGS)):
        found.append(Violation(flag, f"{flag} is not an allowed launch option", f"remove {flag}"))
    for option, value in run.options:
        allowed = VALUED.get(option)
        if allowed is None:
            found.append(
                Violation(
                    option,
                    f"{option} {value} is not an allowed launch option",
                    f"remove {option}; a workspace mount or user comes from the manifest's "
                    "mounts/user (the launcher adds them)",
                )
            )
            continue
        problem = allowed[1](value, scope)
        if problem is not None:
            found.append(Violation(option, problem, f"remove or correct {option} {value}"))
    if run.image and not REFERENCE.fullmatch(run.image):
        found.append(
            Violation("image", f"{run.image!r} is not an image reference", "name an image")
        )
    if run.launcher is not None:
        for word in run.launcher.unknown:
            found.append(
                Violation(word, f"launcher option {word} is unknown", "regenerate: mcp.config")
            )
    return found


def image_problem(image: str) -> str | None:
    """Why an image reference is refused, or None."""
    if not REFERENCE.fullmatch(image) or len(image.split("@", maxsplit=1)[0]) > 255:
        return f"{image!r} is not an image reference ([host[:port]/]name[:tag][@sha256:...])"
    return None


def repository(image: str) -> str | None:
    """The repository an image reference names, as the engine resolves it: no tag or digest,
    Docker Hub's implicit `docker.io/` and `library/` dropped (`mcp/git` for
    `docker.io/mcp/git:latest`); None for what is no reference."""
    found = REFERENCE.fullmatch(image)
    if found is None:
        return None
    name = found["name"]
    for implicit in ("docker.io/", "index.docker.io/", "library/"):
        name = name.removeprefix(implicit)
    return name


def check_manifest(manifest: McpManifest) -> None:
    """Refuse a manifest whose launch would leave the allow-list: a bad image reference, a
    variable name, or probe options outside the probe's allowance (`StackError`, exit 2)."""
    problem = image_problem(manifest.run_image)
    if problem is not None:
        raise StackError(
            manifest.path,
            problem,
            "write a reference such as mcp-git:latest",
            line=manifest.doc.line_of("image"),
            key="image",
        )
    for name in [*manifest.env, *(s.name for s in manifest.secrets)]:
        if not ENV_NAME.fullmatch(name):
            raise StackError(
                manifest.path,
                f"{name!r} is not a variable name",
                "use [A-Za-z_][A-Za-z0-9_]*",
                line=manifest.doc.line_of("env"),
                key="env",
            )


def probe_violations(options: Iterable[str], scope: Scope) -> list[Violation]:
    """The options a manifest's probe adds (`probe.docker_args`), checked as a probe launch."""
    run = parse_docker_run("docker", ["run", *options, "probe-image"])
    assert run is not None
    return violations(run, Scope(scope.volumes, scope.networks, probe=True))
