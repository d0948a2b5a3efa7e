"""Reads BuildKit's plain progress output into per-image step counts, states and logs.

Vertex names look like `[alpha 2/3] RUN ...` (several targets), `[alpha cpython 2/5] RUN ...`
(a named stage), `[2/3] RUN ...` (a single target) or `[alpha internal] load ...`. A vertex
BuildKit shares between targets is announced once per target.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

_VERTEX = re.compile(r"^#(?P<id>\d+) (?P<rest>.*)$")
_HEADER = re.compile(r"^\[(?P<inside>[^\]]+)\] ?(?P<what>.*)$")
_STEP = re.compile(r"^\d+/\d+$")
_DONE = re.compile(r"^DONE (?P<seconds>[0-9.]+)s$")
_TARGET_ERROR = re.compile(r"^ERROR: target (?P<target>[^\s:]+): (?P<message>.*)$")
_ERROR = re.compile(r"^ERROR: (?P<message>.*)$")
TAIL = 20

StepKey = tuple[str, str]


@dataclass
class Step:
    """One BuildKit vertex, and every (image, step) it serves."""

    name: str
    owners: list[tuple[str, StepKey | None]] = field(default_factory=list)
    state: str = "running"
    seconds: float = 0.0
    output: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL))


@dataclass
class ImageProgress:
    """What one image's build has done so far."""

    name: str
    steps: dict[StepKey, str] = field(default_factory=dict)
    completed: bool = False
    error: str | None = None
    log_tail: list[str] = field(default_factory=list)
    started: float | None = None
    finished: float | None = None

    @property
    def total_steps(self) -> int:
        """Numbered Dockerfile steps seen for this image (FROM, the base image, not counted)."""
        return len(self.steps)

    @property
    def cached_steps(self) -> int:
        """Steps served from the cache."""
        return sum(1 for state in self.steps.values() if state == "cached")

    @property
    def finished_steps(self) -> int:
        """Steps that are cached or done."""
        return sum(1 for state in self.steps.values() if state in ("cached", "done"))

    @property
    def failed(self) -> bool:
        """True when a step or the target failed."""
        return self.error is not None

    @property
    def seconds(self) -> float:
        """Wall time from the first to the last progress line about this image's own steps."""
        if self.started is None or self.finished is None:
            return 0.0
        return self.finished - self.started

    @property
    def status(self) -> str:
        """failed, cached (every step from the cache), built, or building."""
        if self.failed:
            return "failed"
        if self.completed:
            return "cached" if self.cached_steps == self.total_steps else "built"
        return "building"


@dataclass
class BuildLog:
    """Accumulates plain-progress lines of one or more bake runs."""

    steps: dict[str, Step] = field(default_factory=dict)
    images: dict[str, ImageProgress] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    failure: str = ""
    targets: tuple[str, ...] = ()

    def image(self, name: str) -> ImageProgress:
        """Progress of one image (created on first mention); marks the time it was seen."""
        image = self.images.setdefault(name, ImageProgress(name))
        now = self.clock()
        image.started = now if image.started is None else image.started
        image.finished = now
        return image

    def new_round(self, targets: tuple[str, ...]) -> None:
        """Start reading a bake of `targets`: vertex numbers restart, image totals carry on."""
        self.steps.clear()
        self.targets = targets
        self.failure = ""

    def complete(self) -> None:
        """The current bake succeeded: every one of its targets is finished (their times stay
        those of their own last step)."""
        for name in self.targets:
            self.images.setdefault(name, ImageProgress(name)).completed = True

    def feed(self, line: str) -> None:
        """Take one output line."""
        line = line.rstrip("\n")
        failure = _TARGET_ERROR.match(line)
        if failure:
            image = self.image(failure.group("target"))
            image.error = image.error or failure.group("message")
            return
        if _ERROR.match(line) and not self.failure:
            self.failure = line
        match = _VERTEX.match(line)
        if match is None:
            return
        vertex, rest = match.group("id"), match.group("rest")
        header = _HEADER.match(rest)
        if header is not None:
            base_image = header.group("what").startswith("FROM ")
            self._name(vertex, rest, header.group("inside").split(), counted=not base_image)
        elif vertex in self.steps:
            self._update(self.steps[vertex], rest)

    def _owner(self, words: list[str]) -> tuple[str, StepKey | None] | None:
        """(image, step key) named by a vertex header, None when it names no known image."""
        target = words[0] if words and words[0] in self.targets else None
        rest = words[1:] if target else words
        if target is None:
            if len(self.targets) != 1:
                return None
            target = self.targets[0]
        if rest and _STEP.match(rest[-1]):
            stage = " ".join(rest[:-1])
            return target, (stage, rest[-1].split("/")[0])
        return target, None

    def _name(self, vertex: str, rest: str, words: list[str], *, counted: bool) -> None:
        owner = self._owner(words)
        if owner is not None and not counted:
            owner = (owner[0], None)
        step = self.steps.setdefault(vertex, Step(rest))
        if owner is None or owner in step.owners:
            return
        step.owners.append(owner)
        image = self.image(owner[0])
        if owner[1] is not None:
            image.steps.setdefault(owner[1], "running")
            if step.state != "running":
                self._record(image, owner[1], step.state)

    def _update(self, step: Step, rest: str) -> None:
        done = _DONE.match(rest)
        if rest == "CACHED":
            step.state = "cached"
        elif done:
            step.state, step.seconds = "done", float(done.group("seconds"))
        elif rest.startswith("ERROR:"):
            step.state = "error"
        elif rest == "CANCELED":
            step.state = "canceled"
        else:
            step.output.append(rest)
            return
        for target, key in step.owners:
            image = self.image(target)
            if step.state == "error":
                image.error = image.error or f"{step.name}: {rest[6:].strip()}"
                image.log_tail = [*step.output, rest]
            if key is not None:
                self._record(image, key, step.state)

    @staticmethod
    def _record(image: ImageProgress, key: StepKey, state: str) -> None:
        if image.steps.get(key) != "done":
            image.steps[key] = state
