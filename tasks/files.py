"""Writing files: never half of one after an interruption, and generated files brought to what
their source gives them."""

from __future__ import annotations

import difflib
from collections.abc import Callable
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


def update_generated(
    files: dict[Path, str],
    name_of: Callable[[Path], str],
    dry_run: bool,
    say: Callable[[str], object],
) -> list[Path]:
    """Bring generated files to the content their source gives them: write each one that
    differs (saying so), or with `dry_run` say its unified diff and write nothing. The paths
    that differ."""
    changed = []
    for path, text in files.items():
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        if old == text:
            continue
        changed.append(path)
        name = name_of(path)
        if dry_run:
            say(
                "".join(
                    difflib.unified_diff(old.splitlines(True), text.splitlines(True), name, name)
                )
            )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, text)
            say(f"wrote {name}\n")
    return changed
