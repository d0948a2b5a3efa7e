"""What the phases remember between runs, kept inside the repository's .git folder."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.files import write_atomic

_FIELDS = ("written", "duplicates", "verified", "in_progress")


@dataclass
class PhaseState:
    """Contents the phases wrote, legacy files already copied to their new home (left for
    cleanup), what phase 10 verified, and a phase left unfinished."""

    path: Path
    written: dict[str, str] = field(default_factory=dict)
    duplicates: dict[str, str] = field(default_factory=dict)
    verified: dict[str, str] = field(default_factory=dict)
    in_progress: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, git_dir: Path) -> PhaseState:
        """The saved state (a fresh one when none was saved)."""
        path = git_dir / "mcp-cluster" / "phases.json"
        if not path.is_file():
            return cls(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(path, **{key: dict(data.get(key, {})) for key in _FIELDS})

    def save(self) -> None:
        """Write atomically: an interrupted save leaves the previous state intact."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {key: getattr(self, key) for key in _FIELDS}
        write_atomic(self.path, json.dumps(data, indent=2, sort_keys=True) + "\n")

    def begin(self, phase: int) -> int | None:
        """Mark `phase` as running; the phase an earlier run left unfinished, if any."""
        unfinished = self.in_progress.get("phase")
        self.in_progress = {"phase": phase, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ")}
        self.save()
        return int(unfinished) if unfinished is not None else None

    def finish(self) -> None:
        """The running phase completed."""
        self.in_progress = {}
        self.save()
