"""The image lock: it pins the images this stack builds, with this profile, in its registry."""

from __future__ import annotations

from collections.abc import Iterator

from tasks.images.plan import build_plan
from tasks.images.sharing import pinned_ref
from tasks.model.stack import Stack
from tasks.rules.base import Hit, Severity, rule

_RELOCK = "push the images (`invoke build.all --push`), then run `invoke images.lock` again"


@rule("IMG001", "image lock that does not match the stack", Severity.ERROR)
def lock_matches(stack: Stack) -> Iterator[Hit]:
    """Every entry of images.lock.json is an image the stack builds, under its current name,
    built with the profile the stack runs, and pinned in the lock's registry: otherwise the
    client configs and `stack.up --pull` would run other images than the stack's."""
    lock = stack.lock
    if lock is None:
        return
    profile = stack.profile or "online"
    if lock.profile != profile:
        yield Hit(
            lock.path,
            lock.line("profile"),
            f"pins images built with the {lock.profile} profile, but the stack runs {profile}",
            f"{_RELOCK} with the {profile} profile, or switch with "
            f"`invoke env.init --profile {lock.profile}`",
        )
    tags = {target.name: target.tag for target in build_plan(stack, stack.profile).targets}
    for name, (tag, ref) in lock.images.items():
        digest = ref.rpartition("@")[2]
        if name not in tags:
            problem = f"pins {name}, which the stack does not build"
        elif tag != tags[name]:
            problem = f"pins {name} as {tag}, but the stack builds it as {tags[name]}"
        elif ref != pinned_ref(lock.registry, tag, digest):
            problem = f"pins {name} at {ref}, which is not in its registry {lock.registry}"
        else:
            continue
        yield Hit(lock.path, lock.line("images", name), problem, _RELOCK)
