"""The root invoke namespace: every task of the library, collected from the task modules.

A task joins the namespace by being defined in its module: each module's tasks form the
collection COLLECTIONS names for it (the root for `invoke check`, `invoke up`...)."""

from types import ModuleType
from typing import Any

from invoke.collection import Collection
from invoke.tasks import Task

from tasks import (
    build_tasks,
    buildkit_tasks,
    check_tasks,
    docs_tasks,
    doctor_tasks,
    env_tasks,
    images_tasks,
    mcp_tasks,
    monitoring_tasks,
    perf_tasks,
    phase_tasks,
    python_tasks,
    stack_tasks,
    up_tasks,
    verify_tasks,
    volume_tasks,
)

# Each task module and the collection its tasks join ("" for the root).
COLLECTIONS: dict[ModuleType, str] = {
    check_tasks: "",
    doctor_tasks: "",
    perf_tasks: "",
    up_tasks: "",
    build_tasks: "build",
    buildkit_tasks: "buildkit",
    docs_tasks: "docs",
    env_tasks: "env",
    images_tasks: "images",
    mcp_tasks: "mcp",
    monitoring_tasks: "monitoring",
    phase_tasks: "phase",
    python_tasks: "python",
    stack_tasks: "stack",
    verify_tasks: "verify",
    volume_tasks: "volumes",
}


def tasks_of(module: ModuleType) -> list[Task[Any]]:
    """The tasks a module defines, in the order it defines them."""
    return [value for value in vars(module).values() if isinstance(value, Task)]


def build() -> Collection:
    """Every task module's tasks, each module's in its collection."""
    root = Collection()
    for module, name in COLLECTIONS.items():
        if name:
            root.add_collection(Collection(name, *tasks_of(module)))
        else:
            for found in tasks_of(module):
                root.add_task(found)
    return root


namespace = build()
