"""The MCP cluster task library: the stack's files loaded into a model, the rules `invoke check`
applies, the engine that drives Docker, and the Invoke tasks (`ns`, built when first asked for,
so that importing one module of the library loads no task)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from invoke.collection import Collection

__all__ = ["ns"]


def __getattr__(name: str) -> Any:
    """`tasks.ns`: every task collection of the library (tasks/namespace.py)."""
    if name == "ns":
        from tasks.namespace import namespace

        return namespace
    raise AttributeError(f"module 'tasks' has no attribute {name!r}")


ns: Collection
