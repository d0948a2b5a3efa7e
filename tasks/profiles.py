"""The stack as the selected profiles run it: `--profile` split into the image profile and
compose profiles, the stack loaded with it, the services they select, the state of its compose
project and a verifier of it."""

from __future__ import annotations

from pathlib import Path

from python_on_whales import DockerClient

from tasks.engine.registry import pull_as
from tasks.engine.stack import ServiceStatus, compose_client, statuses
from tasks.engine.verify import Verifier
from tasks.errors import UsageError
from tasks.images.plan import build_plan
from tasks.images.registry import registry_ref, registry_setting, required_registry
from tasks.images.services import Selection, select_services
from tasks.model.stack import PROFILES_DIR, Stack, find_folder, load_stack
from tasks.report import REPO_ROOT

NETWORK_KEY = "mcp-cluster"


def split_profiles(folder: Path, profile: str) -> tuple[str | None, tuple[str, ...]]:
    """`--profile offline,grafana` -> image profile `offline`, compose profiles (grafana,)."""
    names = [p for p in profile.split(",") if p]
    images = [p for p in names if (folder / PROFILES_DIR / f"{p}.env").is_file()]
    if len(images) > 1:
        raise ValueError(f"choose one image profile, not {', '.join(images)}")
    return (images[0] if images else None), tuple(p for p in names if p not in images)


def network_name(stack: Stack) -> str:
    """Docker's name of the stack's main network."""
    network = stack.compose.networks.get(NETWORK_KEY)
    return network.name if network else next(iter(stack.compose.networks.values())).name


def load_profiled(profile: str, root: str = "") -> tuple[Stack, str | None, tuple[str, ...]]:
    """The stack loaded with its image profile, and the compose profiles `--profile` names."""
    base = Path(root) if root else REPO_ROOT
    try:
        image_profile, compose_profiles = split_profiles(find_folder(base)[1], profile)
    except ValueError as error:
        raise UsageError(str(error)) from None
    stack = load_stack(base, image_profile)
    return stack, stack.profile, compose_profiles


def verifier_for(
    stack: Stack, image_profile: str | None, compose_profiles: tuple[str, ...]
) -> Verifier:
    """A Verifier of `stack`'s compose project, told which services the profiles leave out."""
    selection = select_services(stack, image_profile, compose_profiles)
    client = compose_client(stack, image_profile, compose_profiles)
    return Verifier(stack, client, network_name(stack), selection.not_exercised)


def selection_for(
    stack: Stack, image_profile: str | None, compose_profiles: tuple[str, ...], tier: int
) -> Selection:
    """The services to start up to `tier`; an unknown compose profile is a `UsageError`."""
    try:
        return select_services(stack, image_profile, compose_profiles, tier)
    except ValueError as error:
        raise UsageError(str(error)) from None


def current_statuses(profile: str) -> tuple[Stack, dict[str, ServiceStatus]]:
    """The stack of `--profile` and the state of each of its containers."""
    stack, image_profile, compose_profiles = load_profiled(profile)
    client = compose_client(stack, image_profile, compose_profiles)
    return stack, statuses(client, network_name(stack))


def pull_images(
    client: DockerClient, stack: Stack, selection: Selection, registry: str
) -> list[str]:
    """Pull every image the stack builds that the selected services or the MCP servers run,
    under its local name: the digest images.lock.json pins, else the registry's tag. The
    references pulled."""
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
        pull_as(client, ref, tag)
    return list(refs.values())


def require_generated(stack: Stack, services: list[str]) -> None:
    """A `UsageError` naming each path the services mount (`x-generated`) that its task has not
    made yet, with the command that makes it."""
    for name in services:
        for path, command in stack.compose.services[name].generated.items():
            if not (stack.compose.folder / path).exists():
                raise UsageError(
                    f"service {name} mounts {path}, which does not exist yet. Fix: run `{command}`"
                )
