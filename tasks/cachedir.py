"""Where the task library keeps what it can rebuild: the user's cache folder."""

from __future__ import annotations

import os
from pathlib import Path


def cache_home() -> Path:
    """`$XDG_CACHE_HOME/mcp-cluster`, or `~/.cache/mcp-cluster`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mcp-cluster"
