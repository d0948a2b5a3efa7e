"""The repository a phase works on, the template it converges to, and safe file writes."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from tasks.errors import StackError
from tasks.files import write_atomic
from tasks.model.source import decode, present, read_bytes, read_text
from tasks.phases.gitrepo import GitRepo, blob_id
from tasks.phases.state import PhaseState
from tasks.phases.template import listed_files

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
        """Every file of the target layout: as tracked in the template repository, or, when the
        task library is a copy that is not a git clone, as its files and `.gitignore` say."""
        try:
            template = GitRepo(self.template)
        except StackError:
            return listed_files(self.template, TEMPLATE_PATHS)
        return sorted(template.tracked_many(TEMPLATE_PATHS))

    @cached_property
    def committed(self) -> set[str]:
        """Contents committed in HEAD: overwriting one of these loses nothing."""
        return self.git.head_blobs()

    def read(self, path: str) -> bytes | None:
        """A file's bytes, or None when nothing is there (a folder, a broken link or an
        unreadable file in its place is a `StackError`)."""
        target = self.root / path
        return read_bytes(target, path) if present(target) else None

    def text(self, path: str) -> str | None:
        """A file's UTF-8 text, or None when nothing is there."""
        data = self.read(path)
        return None if data is None else decode(data, self.root / path, path)

    def template_bytes(self, path: str) -> bytes:
        """The template's content of `path`."""
        return read_bytes(self.template / path, f"template file {path}")

    def template_text(self, path: str) -> str:
        """The template's text of `path`."""
        return read_text(self.template / path, f"template file {path}")

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
        write_atomic(target, data, mode_of=mode_of)
        self.state.written[path] = blob_id(data)
        self.state.save()

    def remember_duplicate(self, source: str, content: str) -> None:
        """Record that `source`'s new home already holds the same content."""
        self.state.duplicates[source] = content
        self.state.save()
