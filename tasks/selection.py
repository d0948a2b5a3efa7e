"""Which compose services a profile can run, in which tier, and why others are not exercised."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tasks.errors import UsageError

if TYPE_CHECKING:  # the stack's model loads when a selection is made, not with `invoke --list`
    from tasks.model.stack import Stack

# The compose label that sets a service's start-up tier, and the last tier.
TIER_LABEL = "dev.mcp-cluster.tier"
MAX_TIER = 4


@dataclass(frozen=True)
class Selection:
    """Services to start, compose profiles to enable, and services left out with the reason."""

    services: tuple[str, ...]
    compose_profiles: tuple[str, ...]
    not_exercised: dict[str, str] = field(default_factory=dict)


def tier_of(stack: Stack, name: str) -> int:
    """A service's tier (label dev.mcp-cluster.tier; untiered services count as the last)."""
    value = stack.compose.services[name].labels.get(TIER_LABEL, str(MAX_TIER))
    return int(value) if value.isdigit() else MAX_TIER


def select_services(
    stack: Stack,
    image_profile: str | None,
    compose_profiles: tuple[str, ...] = (),
    tier: int = MAX_TIER,
) -> Selection:
    """Services up to `tier` that the enabled compose profiles and the image profile allow."""
    from tasks.images.plan import build_plan

    services = stack.compose.services
    unknown = sorted(set(compose_profiles) - {p for s in services.values() for p in s.profiles})
    if unknown:
        raise ValueError(f"no compose profile {unknown[0]!r} in {stack.compose.path.name}")
    skipped: dict[str, str] = {}
    for name, service in services.items():
        if service.profiles and not set(service.profiles) & set(compose_profiles):
            skipped[name] = f"behind compose profile {'/'.join(service.profiles)} (not enabled)"
        elif tier_of(stack, name) > tier:
            skipped[name] = f"tier {tier_of(stack, name)} is above --tier {tier}"
    for item in build_plan(stack, image_profile).unavailable:
        if item.name in services and item.name not in skipped:
            skipped[item.name] = f"cannot run with profile {image_profile}: {item.reason}"
    changed = True
    while changed:
        changed = False
        for name, service in services.items():
            if name in skipped:
                continue
            missing = [d for d, dep in service.depends_on.items() if dep.required and d in skipped]
            if missing:
                skipped[name] = f"needs {missing[0]}, which is not started"
                changed = True
    chosen = tuple(name for name in services if name not in skipped)
    return Selection(chosen, tuple(compose_profiles), skipped)


def require_service(stack: Stack, name: str) -> None:
    """Refuse (exit 2) a name that is not a service of the compose file, listing the ones that
    are."""
    if name not in stack.compose.services:
        raise UsageError(
            f"no service {name!r} in {stack.rel(stack.compose.path)}; choose one of "
            f"{', '.join(sorted(stack.compose.services))}"
        )
