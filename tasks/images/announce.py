"""Build progress as plain lines, for logs and CI where no live table can be drawn: one line
when an image starts, and one when it is built, cached or failed, with its own seconds."""

from __future__ import annotations

from collections.abc import Callable

from tasks.images.progress import BuildLog, ImageProgress


def _line(image: ImageProgress) -> str:
    status = image.status
    if status == "building":
        return f"{image.name}: started"
    steps = f"{image.finished_steps}/{image.total_steps} steps, {image.cached_steps} cached"
    if status == "failed":
        return f"{image.name}: failed after {image.seconds:.1f} s ({steps}): {image.error}"
    return f"{image.name}: {status} in {image.seconds:.1f} s ({steps})"


class Announcer:
    """A build listener that emits a line each time an image changes state."""

    def __init__(self, emit: Callable[[str], None]) -> None:
        self.emit = emit
        self.said: dict[str, str] = {}

    def __call__(self, log: BuildLog) -> None:
        """Emit what changed since the last call."""
        for name, image in log.images.items():
            if self.said.get(name) != image.status:
                self.said[name] = image.status
                self.emit(_line(image))
