"""The git operations the phases need, run with the user's own git and identity."""

from __future__ import annotations

import hashlib
import subprocess
from functools import cached_property
from pathlib import Path

from tasks.errors import StackError


def blob_id(data: bytes) -> str:
    """Git's object id of a blob with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class GitRepo:
    """A work tree; every path argument and result is relative to its root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        probe = self._run("rev-parse", "--show-toplevel", check=False)
        if probe.returncode != 0 or Path(probe.stdout.strip()).resolve() != root.resolve():
            raise StackError(
                root,
                "is not the top folder of a git work tree",
                "run phases from the repository root (or `git init` it first)",
            )

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        try:
            result = subprocess.run(
                ["git", "-C", str(self.root), *args], capture_output=True, text=True, check=False
            )
        except FileNotFoundError:
            raise StackError(
                self.root, "git is not installed", "install it (apt-get install git)"
            ) from None
        if check and result.returncode != 0:
            raise StackError(
                self.root,
                f"`git {' '.join(args[:3])}` failed: {result.stderr.strip()}",
                "fix the repository state git reports, then re-run the phase",
            )
        return result

    @cached_property
    def git_dir(self) -> Path:
        """The repository's .git folder."""
        return Path(self._run("rev-parse", "--absolute-git-dir").stdout.strip())

    def head_blobs(self) -> set[str]:
        """Ids of every file content committed in HEAD (empty before the first commit)."""
        result = self._run("ls-tree", "-r", "HEAD", check=False)
        return {line.split()[2] for line in result.stdout.splitlines() if line}

    def tracked_many(self, paths: tuple[str, ...]) -> list[str]:
        """Files in the index under any of `paths`."""
        return self._run("ls-files", "-z", "--", *paths).stdout.split("\0")[:-1]

    def known(self, folder: str) -> list[str]:
        """Files under `folder` in HEAD or in the index (a staged move still counts)."""
        head = self._run("ls-tree", "-r", "-z", "--name-only", "HEAD", "--", folder, check=False)
        files = set(self.tracked_many((folder,))) | set(head.stdout.split("\0")[:-1])
        return sorted(files)

    def staged(self) -> list[str]:
        """Paths with staged changes (both sides of a rename)."""
        out = self._run("diff", "--cached", "--name-only", "--no-renames", "-z").stdout
        return out.split("\0")[:-1]

    def move(self, source: str, target: str) -> None:
        """`git mv` one file, so history follows it."""
        (self.root / target).parent.mkdir(parents=True, exist_ok=True)
        self._run("mv", "--", source, target)

    def remove(self, path: str) -> None:
        """`git rm` one file."""
        self._run("rm", "--quiet", "--", path)

    def identity(self) -> str:
        """`Name <email>` git will commit as; a clear error when none is configured."""
        result = self._run("var", "GIT_AUTHOR_IDENT", check=False)
        if result.returncode != 0:
            raise StackError(
                self.root,
                "git has no identity to commit with",
                'set it: git config user.name "Your Name" && git config user.email you@example.com',
            )
        return result.stdout.rsplit(">", 1)[0] + ">"

    def commit(self, paths: list[str], message: str) -> str | None:
        """Stage exactly `paths` and commit them; the new commit id, or None if nothing changed."""
        known = set(self.tracked_many(tuple(paths))) if paths else set()
        present = [p for p in paths if p in known or (self.root / p).exists()]
        if present:
            self._run("add", "-A", "--", *present)
        if self._run("diff", "--cached", "--quiet", check=False).returncode == 0:
            return None
        self._run("commit", "--quiet", "-m", message)
        return self._run("rev-parse", "HEAD").stdout.strip()
