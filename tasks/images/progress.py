"""Reads BuildKit's plain progress output into per-image step counts, states and logs."""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

_VERTEX = re.compile(r"^#(?P<id>\d+) (?P<rest>.*)$")
_NAME = re.compile(
    r"^\[(?P<target>[^\s\]]+)(?: (?P<index>\d+)/(?P<total>\d+)| internal)?\] ?(?P<what>.*)$"
)
_DONE = re.compile(r"^DONE (?P<seconds>[0-9.]+)s$")
_TARGET_ERROR = re.compile(r"^ERROR: target (?P<target>[^\s:]+): (?P<message>.*)$")
TAIL = 20


@dataclass
class Step:
    """One BuildKit vertex, and every (image, step number) it serves (bake shares vertices)."""

    name: str
    owners: list[tuple[str, int | None]] = field(default_factory=list)
    state: str = "running"
    seconds: float = 0.0
    output: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL))


@dataclass
class ImageProgress:
    """What one image's build has done so far."""

    name: str
    total_steps: int = 0
    steps: dict[int, str] = field(default_factory=dict)
    error: str | None = None
    log_tail: list[str] = field(default_factory=list)
    started: float | None = None
    finished: float | None = None

    @property
    def seconds(self) -> float:
        """Wall time from the first to the last line about this image."""
        if self.started is None or self.finished is None:
            return 0.0
        return self.finished - self.started

    @property
    def status(self) -> str:
        """failed, cached (every step from cache), built, or building."""
        if self.failed:
            return "failed"
        if self.total_steps and self.finished_steps >= self.total_steps:
            return "cached" if self.cached_steps == self.total_steps else "built"
        return "building"

    @property
    def cached_steps(self) -> int:
        """Numbered steps served from the cache."""
        return sum(1 for state in self.steps.values() if state == "cached")

    @property
    def finished_steps(self) -> int:
        """Numbered steps that are cached or done."""
        return sum(1 for state in self.steps.values() if state in ("cached", "done"))

    @property
    def failed(self) -> bool:
        """True when a step or the target failed."""
        return self.error is not None


@dataclass
class BuildLog:
    """Accumulates plain-progress lines for several images built by one bake."""

    steps: dict[str, Step] = field(default_factory=dict)
    images: dict[str, ImageProgress] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    failure: str = ""

    def image(self, name: str) -> ImageProgress:
        """Progress of one image (created on first mention); marks the time it was seen."""
        image = self.images.setdefault(name, ImageProgress(name))
        now = self.clock()
        image.started = now if image.started is None else image.started
        image.finished = now
        return image

    def new_round(self) -> None:
        """Start reading another bake run: vertex numbers restart, image totals carry on."""
        self.steps.clear()

    def feed(self, line: str) -> None:
        """Take one output line."""
        line = line.rstrip("\n")
        failure = _TARGET_ERROR.match(line)
        if failure:
            image = self.image(failure.group("target"))
            image.error = image.error or failure.group("message")
            return
        match = _VERTEX.match(line)
        if match is None:
            return
        vertex, rest = match.group("id"), match.group("rest")
        named = _NAME.match(rest)
        if named is not None:
            self._name(vertex, rest, named)
        elif vertex in self.steps:
            self._update(self.steps[vertex], rest)

    def _name(self, vertex: str, rest: str, named: re.Match[str]) -> None:
        step = self.steps.setdefault(vertex, Step(rest))
        index = int(named.group("index")) if named.group("index") else None
        owner = (named.group("target"), index)
        if owner in step.owners:
            return
        step.owners.append(owner)
        image = self.image(owner[0])
        if named.group("total"):
            image.total_steps = max(image.total_steps, int(named.group("total")))
        if index is not None:
            image.steps.setdefault(index, "running")
            if step.state != "running":
                self._record(image, index, step.state)

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
        for target, index in step.owners:
            image = self.image(target)
            if step.state == "error":
                image.error = image.error or f"{step.name}: {rest[6:].strip()}"
                image.log_tail = [*step.output, rest]
            if index is not None:
                self._record(image, index, step.state)

    @staticmethod
    def _record(image: ImageProgress, index: int, state: str) -> None:
        if image.steps.get(index) != "done":
            image.steps[index] = state
