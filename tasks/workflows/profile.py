"""The stack as `--profile` selects it, in one value: `--profile offline,grafana` split into the
image profile and the compose profiles, the stack loaded with the image profile, and what
follows from them: the services to start, the compose project's client and state, a verifier,
the images to pull."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from python_on_whales import DockerClient

from tasks.engine.registry import pull_as
from tasks.engine.stack import compose_client, statuses
from tasks.engine.status import ServiceStatus
from tasks.engine.verify import Verifier
from tasks.errors import UsageError
from tasks.images.plan import build_plan
from tasks.images.sharing import registry_ref, registry_setting, required_registry
from tasks.model.stack import PROFILES_DIR, Stack, find_folder, load_stack
from tasks.report import REPO_ROOT
from tasks.selection import Selection, select_services


def split_profiles(folder: Path, profile: str) -> tuple[str | None, tuple[str, ...]]:
    """`--profile offline,grafana` -> image profile `offline`, compose profiles (grafana,)."""
    names = [p for p in profile.split(",") if p]
    images = [p for p in names if (folder / PROFILES_DIR / f"{p}.env").is_file()]
    if len(images) > 1:
        raise ValueError(f"choose one image profile, not {', '.join(images)}")
    return (images[0] if images else None), tuple(p for p in names if p not in images)


@dataclass(frozen=True)
class Profiled:
    """The stack loaded with its image profile, and the compose profiles `--profile` names."""

    stack: Stack
    image_profile: str | None
    compose_profiles: tuple[str, ...]

    @classmethod
    def load(cls, profile: str = "", root: str | Path = "") -> Profiled:
        """Read `--profile` and load the stack of `root` (default: this repository); an
        unknown or doubled image profile is a `UsageError`."""
        base = Path(root) if root else REPO_ROOT
        try:
            image_profile, compose_profiles = split_profiles(find_folder(base)[1], profile)
        except ValueError as error:
            raise UsageError(str(error)) from None
        stack = load_stack(base, image_profile)
        return cls(stack, stack.profile, compose_profiles)

    @cached_property
    def client(self) -> DockerClient:
        """A client of the stack's compose project with the profile's env files."""
        return compose_client(self.stack, self.image_profile, self.compose_profiles)

    @property
    def network(self) -> str:
        """Docker's name of the network the dev container joins (the stack's main one)."""
        service = self.stack.compose.services.get(self.stack.dev_service)
        keys = list(service.networks) if service and service.networks else []
        networks = self.stack.compose.networks
        main = networks.get(keys[0]) if keys else None
        return main.name if main else next(iter(networks.values())).name

    def selection(self, tier: int | None = None) -> Selection:
        """The services to start (up to `tier`); an unknown compose profile is a
        `UsageError`."""
        try:
            if tier is None:
                return select_services(self.stack, self.image_profile, self.compose_profiles)
            return select_services(self.stack, self.image_profile, self.compose_profiles, tier)
        except ValueError as error:
            raise UsageError(str(error)) from None

    def statuses(self) -> dict[str, ServiceStatus]:
        """The state of each container of the compose project."""
        return statuses(self.client, self.network)

    def verifier(self) -> Verifier:
        """A Verifier of the compose project, told which services the profiles leave out."""
        return Verifier(self.stack, self.client, self.network, self.selection().not_exercised)

    def pull_images(self, selection: Selection, registry: str) -> list[str]:
        """Pull every image the stack builds that the selected services or the MCP servers
        run, under its local name: the digest images.lock.json pins, else the registry's tag.
        The references pulled."""
        stack = self.stack
        try:
            prefix = (
                registry_setting(stack.folder, registry) or stack.lock.registry
                if stack.lock
                else required_registry(stack.folder, registry, "--pull")
            )
        except ValueError as error:
            raise UsageError(str(error)) from None
        refs = {}
        for target in build_plan(stack, stack.profile).targets:
            if target.name in selection.services or target.source != stack.compose.path:
                locked = stack.lock.images.get(target.name) if stack.lock else None
                refs[target.tag] = locked[1] if locked else registry_ref(prefix, target.tag)
        for tag, ref in refs.items():
            pull_as(self.client, ref, tag)
        return list(refs.values())

    def require_generated(self, services: list[str]) -> None:
        """A `UsageError` naming each path the services mount (`x-generated`) that its task
        has not made yet, with the command that makes it."""
        for name in services:
            for path, command in self.stack.compose.services[name].generated.items():
                if not (self.stack.compose.folder / path).exists():
                    raise UsageError(
                        f"service {name} mounts {path}, which does not exist yet. "
                        f"Fix: run `{command}`"
                    )
