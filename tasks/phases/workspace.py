"""The repository a phase works on, the template it converges to, and safe file writes."""

from __future__ import annotations

import difflib
import os
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from tasks.model.errors import StackError
from tasks.phases.gitrepo import GitRepo, blob_id
from tasks.phases.state import PhaseState

TEMPLATE_PATHS = (".devcontainer", ".vscode/mcp.json", ".mcp.json", ".mcpignore")
"""What the target layout consists of, in the template repository."""


def diff(path: str, old: str, new: str) -> str:
    """Unified diff of one file's text."""
    lines = difflib.unified_diff(
        old.splitlines(True), new.splitlines(True), f"a/{path}", f"b/{path}"
    )
    return "".join(lines)


@dataclass
class Workspace:
    """The target repository (`root`) and the template repository whose layout it gets."""

    root: Path
    template: Path
    git: GitRepo
    state: PhaseState

    @classmethod
    def open(cls, root: Path, template: Path) -> Workspace:
        """A workspace on the git work tree at `root`."""
        git = GitRepo(root)
        return cls(root, template, git, PhaseState.load(git.git_dir))

    @classmethod
    def for_option(cls, root: str, repo: Path) -> Workspace:
        """The workspace a task's `--root` names (default: `repo`), with `repo`, this
        repository, as the template of the target layout."""
        return cls.open(Path(root).resolve() if root else repo, repo)

    @cached_property
    def template_files(self) -> list[str]:
        """Every file of the target layout, as tracked in the template repository."""
        return sorted(GitRepo(self.template).tracked_many(TEMPLATE_PATHS))

    @cached_property
    def committed(self) -> set[str]:
        """Contents committed in HEAD: overwriting one of these loses nothing."""
        return self.git.head_blobs()

    def read(self, path: str) -> bytes | None:
        """A file's bytes, or None when it does not exist."""
        target = self.root / path
        return target.read_bytes() if target.is_file() else None

    def template_bytes(self, path: str) -> bytes:
        """The template's content of `path`."""
        return (self.template / path).read_bytes()

    def template_text(self, path: str) -> str:
        """The template's text of `path`."""
        return self.template_bytes(path).decode("utf-8")

    def ensure_replaceable(self, path: str, phase: int) -> None:
        """Stop unless the file's content is committed or was written by a phase: a hand edit
        that is only in the work tree is never overwritten."""
        current = self.read(path)
        if current is None:
            return
        content = blob_id(current)
        if content in self.committed or self.state.written.get(path) == content:
            return
        raise StackError(
            self.root / path,
            f"has changes that are not committed, and phase {phase} would overwrite them",
            "commit them (they stay in history) or move them aside, then run the phase again",
        )

    def delete(self, path: str) -> None:
        """Remove a file the phases replace (the phase's commit records the deletion)."""
        (self.root / path).unlink(missing_ok=True)
        self.state.written.pop(path, None)
        self.state.save()

    def write(self, path: str, data: bytes, mode_of: Path | None = None) -> None:
        """Write atomically and remember the content as the phases' own."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = target.with_name(f".{target.name}.phase-tmp")
        scratch.write_bytes(data)
        if mode_of is not None:
            shutil.copymode(mode_of, scratch)
        os.replace(scratch, target)
        self.state.written[path] = blob_id(data)
        self.state.save()

    def remember_duplicate(self, source: str, content: str) -> None:
        """Record that `source`'s new home already holds the same content."""
        self.state.duplicates[source] = content
        self.state.save()
