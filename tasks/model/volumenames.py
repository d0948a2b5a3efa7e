"""The `--volume` option of the volume tasks: Docker volume names, or a usage error."""

from __future__ import annotations

from tasks.errors import UsageError
from tasks.model.backupset import volume_name_problem


def volume_names(names: list[str], task: str) -> list[str]:
    """`names` when each is a volume name Docker accepts; else exit 2 naming the first bad
    one."""
    for name in names:
        problem = volume_name_problem(name)
        if problem is not None:
            raise UsageError(f"{task} --volume {problem}")
    return names
