"""Writing a file so that an interruption never leaves half of it."""

from __future__ import annotations

from pathlib import Path


def write_atomic(path: Path, text: str, *, private: bool = False) -> None:
    """Write `text` to `path` through `<name>.partial`, renamed over it once complete: the old
    file (or none) survives an interruption. `private`: readable by its owner only (mode 600)
    from the first byte."""
    partial = path.with_name(path.name + ".partial")
    if private:
        partial.touch(mode=0o600)
        partial.chmod(0o600)
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
