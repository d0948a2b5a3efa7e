"""What the phases remember between runs, kept inside the repository's .git folder."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.errors import StackError
from tasks.files import write_atomic
from tasks.model.source import load_json, present

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
        if not present(path):
            return cls(path)
        fix = (
            "delete it (the phases then treat every file as yours, and stop before "
            "overwriting one that is not committed)"
        )
        data = load_json(path, "phase state", fix).data
        if not isinstance(data, dict) or not all(
            isinstance(data.get(key, {}), dict) for key in _FIELDS
        ):
            raise StackError(path, "phase state is not what the phases write", fix)
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
