"""The engine's one error type, importable without loading the Docker client library."""

from __future__ import annotations

ENGINE_FIX = "start the engine: scripts/provision-engine.sh (or `invoke doctor` for details)"


class EngineError(RuntimeError):
    """Docker is unreachable or refused an operation."""

    def __init__(self, problem: str, fix: str = ENGINE_FIX) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}. Fix: {fix}")


class EngineUnreachable(EngineError):
    """No engine answered (it is down, or the socket is wrong or not ours to use)."""
