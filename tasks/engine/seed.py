"""Seeds the offline profile's stand-in base images from Debian's archive.

The root image is a minimal Debian made by mmdebstrap and imported; every other stand-in is an
ordinary Dockerfile in `.devcontainer/offline/<name>/` built on it. Stand-ins carry a label;
an image with the same tag but without that label (pulled from a registry) is never replaced.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from python_on_whales import DockerClient

from tasks.engine.bake import ImageResult, run_builds
from tasks.engine.client import engine_errors, inspect_all
from tasks.errors import EngineError
from tasks.images.plan import STAND_IN_PREFIX, BuildPlan, ImageTarget, detect_ca_bundle
from tasks.model.compose import Build
from tasks.model.envfile import load_env_file
from tasks.model.stack import PROFILES_DIR

STAND_IN_LABEL = "dev.mcp-cluster.stand-in"
STAND_IN_FOR = "dev.mcp-cluster.stand-in.for"
OFFLINE_DIR = "offline"
ROOT_SUITE = "trixie"
MIRROR = "http://deb.debian.org/debian"
ROOT_UPSTREAM = "debian:trixie-slim"


@dataclass(frozen=True)
class StandIn:
    """A stand-in image: its tag and the folder holding its Dockerfile (None for the root)."""

    tag: str
    folder: Path | None

    @property
    def name(self) -> str:
        """Short name, e.g. `postgres`."""
        return self.tag.removeprefix(STAND_IN_PREFIX).split(":", 1)[0]


def stand_ins(devcontainer: Path, profile_file: Path) -> list[StandIn]:
    """Stand-ins named by the offline profile, the root (no Dockerfile folder) first."""
    tags = sorted(
        {v for v in load_env_file(profile_file).as_dict().values() if v.startswith(STAND_IN_PREFIX)}
    )
    found = []
    for tag in tags:
        folder = devcontainer / OFFLINE_DIR / tag.removeprefix(STAND_IN_PREFIX).split(":", 1)[0]
        found.append(StandIn(tag, folder if (folder / "Dockerfile").is_file() else None))
    return sorted(found, key=lambda s: s.folder is not None)


def label_states(client: DockerClient, tags: list[str]) -> dict[str, str]:
    """Per tag: `missing`, `stand-in` (ours) or `foreign` (same tag, not ours: never overwrite)."""
    states = dict.fromkeys(tags, "missing")
    for image in inspect_all(client, "image", tags):
        ours = ((image.get("Config") or {}).get("Labels") or {}).get(STAND_IN_LABEL) == "true"
        for tag in image.get("RepoTags") or []:
            if tag in states:
                states[tag] = "stand-in" if ours else "foreign"
    return states


def refuse_foreign(states: dict[str, str]) -> None:
    """Stop before replacing any image that is not one of our stand-ins (`label_states`)."""
    for tag, state in states.items():
        if state == "foreign":
            raise EngineError(
                f"{tag} exists and is not a stand-in (it came from a registry or elsewhere)",
                f"keep it and drop the offline profile, or remove it with `docker rmi {tag}`",
            )


def seed_root(
    client: DockerClient, tag: str, upstream: str, state: str, *, refresh: bool = False
) -> str:
    """Create the root Debian image with mmdebstrap + import (its current `state` from
    `label_states`); returns what was done."""
    if state == "stand-in" and not refresh:
        return "present"
    refuse_foreign({tag: state})
    if shutil.which("mmdebstrap") is None:
        raise EngineError("mmdebstrap is not installed", "apt-get install -y mmdebstrap")
    with tempfile.TemporaryDirectory(prefix="mcp-seed-") as folder:
        tarball = Path(folder) / "root.tar"
        command = [
            "mmdebstrap",
            "--variant=minbase",
            "--include=ca-certificates",
            ROOT_SUITE,
            str(tarball),
            MIRROR,
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = "\n".join(result.stderr.strip().splitlines()[-5:])
            raise EngineError(f"mmdebstrap failed:\n{tail}", "check access to Debian's archive")
        with engine_errors(f"importing {tag}"):
            client.import_(
                tarball,
                tag,
                changes=[
                    f'LABEL {STAND_IN_LABEL}="true" {STAND_IN_FOR}="{upstream}"',
                    'CMD ["bash"]',
                ],
            )
    return "created"


def stand_in_plan(items: list[StandIn]) -> BuildPlan:
    """The Dockerfile stand-ins as a build plan, so they build like every other image."""
    targets = tuple(
        ImageTarget(
            f"stand-in-{item.name}",
            item.tag,
            "stand-ins",
            Build(item.folder, item.folder / "Dockerfile", {}),
            (),
            item.folder / "Dockerfile",
        )
        for item in items
        if item.folder is not None
    )
    return BuildPlan("offline", targets)


@dataclass
class Seeded:
    """What `seed_stand_ins` did: the root's tag and state, the stand-ins already present, and
    the build of the missing ones."""

    root: str
    root_state: str
    present: list[str]
    plan: BuildPlan
    results: list[ImageResult]


def seed_stand_ins(
    client: DockerClient,
    folder: Path,
    *,
    refresh: bool = False,
    only: frozenset[str] | None = None,
) -> Seeded:
    """Make every stand-in the offline profile names that is missing (all with `refresh`; of
    those, only the tags in `only` when given): the root first, then the rest in one parallel
    bake. Image states come from one inspect."""
    items = stand_ins(folder, folder / PROFILES_DIR / "offline.env")
    if only is not None:
        items = [i for i in items if i.folder is None or i.tag in only]
    states = label_states(client, [item.tag for item in items])
    refuse_foreign(states)
    root = next(item for item in items if item.folder is None)
    root_state = seed_root(client, root.tag, ROOT_UPSTREAM, states[root.tag], refresh=refresh)
    todo = [i for i in items if i.folder is not None and (refresh or states[i.tag] == "missing")]
    plan = stand_in_plan(todo)
    results = (
        run_builds(
            client,
            plan,
            plan.bake_definition(detect_ca_bundle()),
            parallel=True,
            no_cache=refresh,
            listener=lambda log: None,
        )
        if plan.targets
        else []
    )
    present = [i.tag for i in items if i.folder is not None and i not in todo]
    return Seeded(root.tag, root_state, present, plan, results)


def seed_for_build(client: DockerClient, folder: Path, bases: frozenset[str]) -> Seeded:
    """Make the missing stand-ins among `bases` (the base images of the images to build) before
    the images build on them; an `EngineError` names every stand-in that failed (the images on
    it would only fail later)."""
    with engine_errors("seeding the offline stand-ins"):
        seeded = seed_stand_ins(client, folder, only=bases)
    failed = [r for r in seeded.results if r.status == "failed"]
    if failed:
        names = ", ".join(f"{r.tag} ({r.error})" for r in failed)
        raise EngineError(
            f"stand-in base images failed to build: {names}", "`invoke build.seed` shows their logs"
        )
    return seeded
