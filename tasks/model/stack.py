"""Load a whole stack (`.devcontainer/` plus client configs at the repo root) into one object."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TypeVar

from tasks.errors import SchemaErrors, StackError
from tasks.model.clients import ClientConfig, load_client_config
from tasks.model.compose import Build, ComposeFile, load_compose
from tasks.model.dockerfile import Dockerfile, load_dockerfile
from tasks.model.docs import DocFile, load_doc
from tasks.model.envfile import EnvFile, load_env_file, parse_env_text
from tasks.model.imagelock import LOCK_FILE, ImageLock, load_lock
from tasks.model.localenv import PROFILE_KEY, block_values
from tasks.model.manifest import McpManifest, load_manifest, manifest_paths
from tasks.model.source import Document, load_jsonc, present, read_text, trouble
from tasks.model.versions import VERSIONS_FILE, Versions, load_versions

ENV_FILE = "devcontainer.env"
LOCAL_ENV = ".env"
DEVCONTAINER_JSON = "devcontainer.json"
DEFAULT_COMPOSE = "docker-compose.mcp.yml"
PROFILES_DIR = "profiles"
VSCODE_MCP_JSON = ".vscode/mcp.json"
PORTABLE_MCP_JSON = ".mcp.json"
# Where `invoke volumes.backup` writes archives, under the repository root.
BACKUPS = "backups"
_SKIP_DIRS = {".git", "node_modules", ".venv", "__pycache__"}
_T = TypeVar("_T")


@dataclass(frozen=True)
class Reference:
    """A path one file names; `resolved` is where it points from that file's folder."""

    kind: str
    declared: str
    resolved: Path
    source: Path
    line: int | None
    key: str

    @property
    def exists(self) -> bool:
        """True when the referenced path exists (a Dockerfile or an env file must be a file)."""
        if self.kind in ("dockerfile", "env_file"):
            return trouble(self.resolved) is None
        return self.resolved.exists()

    @property
    def state(self) -> str:
        """What is wrong at the referenced path, as a phrase ("does not exist", "is a folder,
        not a file", "is a symbolic link loop", ...); empty when nothing is."""
        if self.exists:
            return ""
        found = trouble(self.resolved) if present(self.resolved) else None
        return found[0] if found else "does not exist"


@dataclass(frozen=True)
class Stack:
    """Everything `.devcontainer/` declares, typed, with the paths it references."""

    root: Path
    folder: Path
    env: EnvFile
    compose: ComposeFile
    devcontainer: ClientConfig
    clients: tuple[ClientConfig, ...]
    manifests: dict[str, McpManifest]
    dockerfiles: dict[Path, Dockerfile]
    env_files: dict[Path, EnvFile]
    docs: tuple[DocFile, ...]
    secret_names: frozenset[str]
    references: tuple[Reference, ...] = field(default=())
    versions: Versions | None = None
    profile: str | None = None
    lock: ImageLock | None = None

    @property
    def dev_service(self) -> str:
        """The compose service VS Code attaches to (devcontainer.json's `service`)."""
        data = self.devcontainer.doc.data
        return str((data.get("service") if isinstance(data, dict) else None) or "devcontainer")

    def dockerfile_for(self, path: Path | None) -> Dockerfile | None:
        """The parsed Dockerfile at `path`, if it exists."""
        return self.dockerfiles.get(path.resolve()) if path else None

    def built_dockerfile(self, build: Build | None) -> Dockerfile | None:
        """The Dockerfile `build` uses, as its target sees it (the stages it reaches); None
        without a build, a Dockerfile or that target (DF006 reports the last)."""
        dockerfile = self.dockerfile_for(build.dockerfile) if build else None
        return dockerfile.for_target(build.target) if dockerfile and build else None

    def produced_paths(self) -> list[str]:
        """Secret-bearing paths the stack writes when asked, relative to the repo root: its
        local env file, the generated bind-mount sources (certificates) and the backups folder.
        (The copy of the env file written before it has a new name each time,
        `.env.<random>.partial`.)"""
        folder = self.folder.relative_to(self.root).as_posix()
        paths = [f"{folder}/{LOCAL_ENV}", BACKUPS]
        for service in self.compose.services.values():
            for source in service.generated:
                target = (self.compose.folder / source).resolve(strict=False)
                paths.append(self.rel(target))
        return paths

    def rel(self, path: Path) -> str:
        """`path` relative to the repo root, for messages."""
        return relative(path, self.root)


def relative(path: Path, root: Path) -> str:
    """`path` relative to `root` when it is inside it, for messages (as written: a symbolic
    link is named, not where it leads)."""
    for candidate in (Path(os.path.normpath(path)), path.resolve()):
        if candidate.is_relative_to(root):
            return str(candidate.relative_to(root))
    return str(path)


def find_folder(root: Path) -> tuple[Path, Path]:
    """Return (repo root, `.devcontainer` folder) for a repo root or a devcontainer folder."""
    root = root.resolve()
    if present(root / ".devcontainer" / DEVCONTAINER_JSON):
        return root, root / ".devcontainer"
    if present(root / DEVCONTAINER_JSON):
        return root.parent, root
    raise StackError(
        root,
        "no .devcontainer/devcontainer.json here",
        "pass --root pointing at a repository that has .devcontainer/devcontainer.json",
    )


def active_profile(folder: Path) -> str | None:
    """The image profile `.devcontainer/.env` selects for every consumer (None: none chosen)."""
    path = folder / LOCAL_ENV
    if not present(path):
        return None
    return block_values(read_text(path, "env file")).get(PROFILE_KEY)


def resolve_profile(folder: Path, asked: str | None) -> str | None:
    """The profile to use: the one asked for, else the one `.env` selects.

    Asking for another profile than `.env` selects is an error: compose would read `.env`'s.
    """
    active = active_profile(folder)
    if asked and active and asked != active:
        raise StackError(
            folder / LOCAL_ENV,
            f"selects image profile {active!r}, but --profile {asked} was given",
            f"switch every consumer with `invoke env.init --profile {asked}`, or drop --profile",
            key=PROFILE_KEY,
        )
    return asked or active


def profile_values(folder: Path, profile: str) -> dict[str, str]:
    """The variables an image profile sets (profiles/NAME.env); an unknown one names the rest."""
    path = folder / PROFILES_DIR / f"{profile}.env"
    if not present(path):
        known = sorted(p.stem for p in (folder / PROFILES_DIR).glob("*.env"))
        raise StackError(
            path,
            f"no profile {profile!r}",
            f"use one of: {', '.join(known) or 'none defined'}",
            key="--profile",
        )
    return load_env_file(path).as_dict()


def interpolation_env(folder: Path, profile: str | None = None) -> dict[str, str]:
    """Variables compose interpolates with: devcontainer.env, then the profile's overrides."""
    env: dict[str, str] = {}
    if present(folder / ENV_FILE):
        env.update(load_env_file(folder / ENV_FILE).as_dict())
    if profile:
        env.update(profile_values(folder, profile))
    return env


class _Checked:
    """Runs the loaders of the stack's files; with `keep_going`, a file that breaks its schema
    is set aside (its violations kept) and the others are still read."""

    def __init__(self, keep_going: bool) -> None:
        self.keep_going = keep_going
        self.errors: list[StackError] = []
        self.notes: list[StackError] = []

    def __call__(self, load: Callable[[], _T]) -> _T | None:
        try:
            return load()
        except SchemaErrors as failed:
            if not self.keep_going:
                raise
            self.errors += failed.errors
            self.notes += failed.notes
            return None

    def stop_if_any(self, notes: tuple[StackError, ...]) -> None:
        """Raise every violation found so far together, with `notes` and the ignored keys
        of the files that broke."""
        if self.errors:
            raise SchemaErrors(self.errors, [*notes, *self.notes])


def load_stack(root: Path, profile: str | None = None, *, keep_going: bool = False) -> Stack:
    """Load the stack under `root`; unreadable input raises one precise `StackError`.

    A file that breaks its schema raises `SchemaErrors`; with `keep_going` every file is
    still read first, so that it holds every violation of every file (a syntax error still
    stops at once: nothing after it can be read)."""
    repo, folder = find_folder(root)
    profile = resolve_profile(folder, profile)
    env_path = folder / ENV_FILE
    env = load_env_file(env_path) if present(env_path) else parse_env_text("", env_path)
    _read_compose_env_files(folder)
    checked = _Checked(keep_going)
    dev_path = folder / DEVCONTAINER_JSON
    devcontainer = checked(lambda: load_client_config(dev_path, "devcontainer"))
    references: list[Reference] = []
    dev_doc = devcontainer.doc if devcontainer else load_jsonc(dev_path, "devcontainer.json")
    compose_path = _compose_path(dev_doc, folder, references)
    variables = interpolation_env(folder, profile)
    compose = checked(lambda: load_compose(compose_path, variables))
    loaded = [checked(partial(load_manifest, path, variables)) for path in manifest_paths(folder)]
    manifests = {m.name: m for m in loaded if m is not None}
    lock_path = folder / LOCK_FILE
    lock = checked(partial(load_lock, lock_path)) if present(lock_path) else None
    clients = tuple(
        client
        for path, kind in (
            (repo / VSCODE_MCP_JSON, "vscode"),
            (repo / PORTABLE_MCP_JSON, "portable"),
        )
        if present(path) and (client := checked(partial(load_client_config, path, kind)))
    )
    versions_path = folder / VERSIONS_FILE
    versions = checked(partial(load_versions, versions_path)) if present(versions_path) else None
    checked.stop_if_any(devcontainer.ignored if devcontainer else ())
    assert devcontainer is not None and compose is not None  # set aside only with errors
    references += _compose_references(compose)
    if lock is not None:
        manifests = {name: replace(m, pinned=lock.pinned(m.image)) for name, m in manifests.items()}
    for manifest in manifests.values():
        if manifest.build is not None:
            references.append(
                Reference(
                    "build context",
                    str(manifest.build.context),
                    manifest.build.context,
                    manifest.path,
                    manifest.doc.line_of("build"),
                    "build.context",
                )
            )
            references.append(
                Reference(
                    "dockerfile",
                    str(manifest.build.dockerfile),
                    manifest.build.dockerfile,
                    manifest.path,
                    manifest.doc.line_of("build", "dockerfile"),
                    "build.dockerfile",
                )
            )
    env_files = {
        ref.resolved: load_env_file(ref.resolved)
        for ref in references
        if ref.kind == "env_file" and ref.exists
    }
    for extra in folder.glob("containers/*/config/*.env"):
        env_files[extra.resolve()] = load_env_file(extra)
    example = folder / ".env.example"
    secret_names = frozenset(load_env_file(example).as_dict()) if present(example) else frozenset()
    return Stack(
        root=repo,
        folder=folder,
        env=env,
        compose=compose,
        devcontainer=devcontainer,
        clients=clients,
        manifests=manifests,
        dockerfiles={p.resolve(): load_dockerfile(p) for p in _walk(folder, "Dockerfile")},
        env_files=env_files,
        docs=tuple(load_doc(p) for p in _walk(folder, "*.md")),
        secret_names=secret_names,
        references=tuple(references),
        versions=versions,
        profile=profile,
        lock=lock,
    )


def _read_compose_env_files(folder: Path) -> None:
    """Read the env files compose interpolates with (`.env`, which `env.init` fills from a
    profile, and the profiles), so that what compose would refuse in them is named here."""
    for path in (folder / LOCAL_ENV, *sorted((folder / PROFILES_DIR).glob("*.env"))):
        if present(path):
            load_env_file(path)


def _walk(folder: Path, pattern: str) -> list[Path]:
    """Files named `pattern` under `folder`, and links among them that lead somewhere (reading
    one that leads to a folder names it). A broken link or a loop is left to the checks of
    whatever refers to it, on every Python (3.13's walk lists broken links, 3.11's does not)."""
    return sorted(
        p
        for p in folder.rglob(pattern)
        if (p.is_file() or (p.is_symlink() and p.exists()))
        and not _SKIP_DIRS & set(p.relative_to(folder).parts)
    )


def _compose_path(devcontainer: Document, folder: Path, refs: list[Reference]) -> Path:
    """The compose file devcontainer.json names, or the stack's default one when it names none
    that exists (the broken reference is kept for the checks to report).
    """
    data = devcontainer.data if isinstance(devcontainer.data, dict) else {}
    declared = data.get("dockerComposeFile") or []
    declared = [declared] if isinstance(declared, str) else list(declared)
    for index, item in enumerate(declared):
        refs.append(
            Reference(
                "dockerComposeFile",
                str(item),
                (folder / str(item)).resolve(strict=False),
                devcontainer.path,
                devcontainer.line_of("dockerComposeFile"),
                f"dockerComposeFile[{index}]",
            )
        )
    existing = [r.resolved for r in refs if r.exists]
    if existing:
        return existing[0]
    fallback = folder / DEFAULT_COMPOSE
    if present(fallback):
        return fallback
    raise StackError(
        devcontainer.path,
        "no compose file found",
        f"set dockerComposeFile relative to {folder.name}/ (e.g. {DEFAULT_COMPOSE})",
        line=devcontainer.line_of("dockerComposeFile"),
        key="dockerComposeFile",
    )


def _compose_references(compose: ComposeFile) -> list[Reference]:
    refs: list[Reference] = []
    for name, service in compose.services.items():
        line = compose.line("services", name)
        raw_env = service.raw.get("env_file") or []
        raw_env = [raw_env] if isinstance(raw_env, (str, dict)) else raw_env
        for declared, resolved in zip(raw_env, service.env_files, strict=True):
            text = declared["path"] if isinstance(declared, dict) else declared
            refs.append(
                Reference(
                    "env_file",
                    str(text),
                    resolved,
                    compose.path,
                    compose.line("services", name, "env_file") or line,
                    f"services.{name}.env_file",
                )
            )
        if service.build is not None:
            refs.append(
                Reference(
                    "build context",
                    str(service.build.context),
                    service.build.context,
                    compose.path,
                    compose.line("services", name, "build") or line,
                    f"services.{name}.build.context",
                )
            )
            refs.append(
                Reference(
                    "dockerfile",
                    str(service.build.dockerfile),
                    service.build.dockerfile,
                    compose.path,
                    compose.line("services", name, "build") or line,
                    f"services.{name}.build.dockerfile",
                )
            )
        for index, mount in enumerate(service.mounts):
            if mount.source in service.generated:
                continue  # made by a task; `stack.up` asks for it (profiles.require_generated)
            if mount.type == "bind" and mount.source.startswith("."):
                refs.append(
                    Reference(
                        "bind mount",
                        mount.source,
                        (compose.folder / mount.source).resolve(strict=False),
                        compose.path,
                        compose.line("services", name, "volumes", index),
                        f"services.{name}.volumes[{index}]",
                    )
                )
    return refs
