"""`docker run` argument lists as configured for stdio MCP servers, parsed into parts: plain,
inside `sh -c`, or behind the launcher (`python3 .../mcp_launch.py OPTIONS -- run ...`)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

LAUNCHER_NAME = "mcp_launch.py"
# The launcher's options: those that take a value, and flags.
LAUNCHER_VALUED = frozenset({"--workspace", "--source", "--guard"})
LAUNCHER_FLAGS = frozenset({"--as-owner", "--git-identity"})

# Options of `docker run` that take a value (a following word, or `--opt=value`).
_VALUED = {
    "-v",
    "--volume",
    "-e",
    "--env",
    "--env-file",
    "--network",
    "--net",
    "--name",
    "-l",
    "--label",
    "--mount",
    "-w",
    "--workdir",
    "-u",
    "--user",
    "--entrypoint",
    "--gpus",
    "--cpus",
    "-m",
    "--memory",
    "-p",
    "--publish",
    "--platform",
    "--pull",
    "--restart",
    "-h",
    "--hostname",
    "--add-host",
    "--cap-add",
    "--cap-drop",
    "--security-opt",
    "--tmpfs",
    "--device",
    "--ulimit",
    "--log-driver",
    "--log-opt",
    "--shm-size",
    "--ipc",
    "--pid",
    "--runtime",
    "--stop-signal",
    "--stop-timeout",
    "--health-cmd",
    "--dns",
    "--label-file",
    "--cidfile",
    "--group-add",
    "--pids-limit",
}
_SHORT = {
    "-v": "--volume",
    "-e": "--env",
    "-l": "--label",
    "-w": "--workdir",
    "-u": "--user",
    "-m": "--memory",
    "-p": "--publish",
    "-h": "--hostname",
    "--net": "--network",
}


@dataclass(frozen=True)
class Launcher:
    """The launcher's options in front of a `docker run` (the workspace it mounts, and how)."""

    options: tuple[tuple[str, str], ...] = ()
    flags: frozenset[str] = field(default_factory=frozenset)
    unknown: tuple[str, ...] = ()

    def values(self, option: str) -> list[str]:
        """Every value given for an option, e.g. `--guard`."""
        return [value for name, value in self.options if name == option]

    @property
    def workspace(self) -> tuple[str, bool] | None:
        """(target, read-only) of the workspace mount, or None."""
        given = self.values("--workspace")
        if not given:
            return None
        target, _, mode = given[-1].partition(":")
        return target, mode == "ro"


@dataclass(frozen=True)
class DockerRun:
    """A parsed `docker run` call: options (long names), flags, image and container args, and
    the launcher in front of it, if any."""

    options: tuple[tuple[str, str], ...] = ()
    flags: frozenset[str] = field(default_factory=frozenset)
    image: str = ""
    args: tuple[str, ...] = ()
    launcher: Launcher | None = None

    def values(self, option: str) -> list[str]:
        """Every value given for a long option, e.g. `--volume`."""
        return [value for name, value in self.options if name == option]

    @property
    def env(self) -> dict[str, str | None]:
        """`-e NAME=value` pairs; `-e NAME` (taken from the caller) maps to None."""
        return {
            key: (value if sep else None)
            for key, sep, value in (item.partition("=") for item in self.values("--env"))
        }

    def mount_targets(self) -> list[str]:
        """Container paths of `-v SRC:DST[:mode]` and `--mount ...,target=DST` mounts, and of
        the launcher's workspace mount."""
        targets = [v.split(":")[1] for v in self.values("--volume") if ":" in v]
        workspace = self.launcher.workspace if self.launcher else None
        if workspace is not None:
            targets.append(workspace[0])
        for spec in self.values("--mount"):
            for part in spec.split(","):
                key, _, value = part.partition("=")
                if key in ("target", "dst", "destination"):
                    targets.append(value)
        return targets

    def mount_sources(self) -> list[str]:
        """Host sides of `-v` and `--mount` mounts, and the launcher's `--source`."""
        sources = [v.split(":")[0] for v in self.values("--volume")]
        if self.launcher is not None:
            sources += self.launcher.values("--source")
        for spec in self.values("--mount"):
            for part in spec.split(","):
                key, _, value = part.partition("=")
                if key in ("source", "src"):
                    sources.append(value)
        return sources


def unwrap_shell(command: str, args: tuple[str, ...] | list[str]) -> tuple[str, list[str]]:
    """`sh -c '... exec docker run ...'` -> (`docker`, [`run`, ...]); anything else unchanged."""
    if command.rsplit("/", 1)[-1] in ("sh", "bash") and len(args) >= 2 and args[0] == "-c":
        try:
            words = shlex.split(args[1])
        except ValueError:
            return command, list(args)
        if "exec" in words[:-1]:
            start = words.index("exec") + 1
            return words[start], words[start + 1 :]
    return command, list(args)


def unwrap_launcher(
    command: str, args: tuple[str, ...] | list[str]
) -> tuple[Launcher | None, str, list[str]]:
    """`python3 .../mcp_launch.py OPTIONS run ...` -> (its options, `docker`, [`run`, ...]);
    anything else unchanged, without a launcher."""
    words = list(args)
    if not (command.rsplit("/", 1)[-1].startswith("python") and words):
        return None, command, words
    if not words[0].endswith(LAUNCHER_NAME):
        return None, command, words
    options: list[tuple[str, str]] = []
    flags: set[str] = set()
    unknown: list[str] = []
    index = 1
    while index < len(words) and words[index] != "run":
        name, sep, value = words[index].partition("=")
        if name in LAUNCHER_VALUED:
            if not sep:
                index += 1
                value = words[index] if index < len(words) else ""
            options.append((name, value))
        elif name in LAUNCHER_FLAGS:
            flags.add(name)
        else:
            unknown.append(words[index])
        index += 1
    return Launcher(tuple(options), frozenset(flags), tuple(unknown)), "docker", words[index:]


def parse_docker_run(command: str, args: tuple[str, ...] | list[str]) -> DockerRun | None:
    """Parse `command args` (also inside `sh -c` or behind the launcher); None unless it is
    `docker run ...`."""
    command, args = unwrap_shell(command, args)
    launcher, command, args = unwrap_launcher(command, args)
    if command.rsplit("/", 1)[-1] not in ("docker", "podman") or not args or args[0] != "run":
        return None
    options: list[tuple[str, str]] = []
    flags: set[str] = set()
    words = list(args[1:])
    index = 0
    while index < len(words):
        word = words[index]
        if not word.startswith("-") or word == "-":
            return DockerRun(
                tuple(options), frozenset(flags), word, tuple(words[index + 1 :]), launcher
            )
        name, sep, value = word.partition("=")
        if name in _VALUED:
            if not sep:
                index += 1
                value = words[index] if index < len(words) else ""
            options.append((_SHORT.get(name, name), value))
        elif name.startswith("-") and not name.startswith("--") and len(name) > 2:
            flags.update(f"-{letter}" for letter in name[1:])
        else:
            flags.add(name)
        index += 1
    return DockerRun(tuple(options), frozenset(flags), launcher=launcher)
