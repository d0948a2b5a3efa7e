"""One Docker client for the task library, and a clear error when the engine is missing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

ENGINE_FIX = "start the engine: scripts/provision-engine.sh (or `invoke doctor` for details)"


class EngineError(RuntimeError):
    """Docker is unreachable or refused an operation."""

    def __init__(self, problem: str, fix: str = ENGINE_FIX) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}. Fix: {fix}")


def docker_client(**options: object) -> DockerClient:
    """A python-on-whales client (options as for `DockerClient`)."""
    return DockerClient(**options)  # type: ignore[arg-type]


@contextmanager
def engine_errors(action: str, fix: str = ENGINE_FIX) -> Iterator[None]:
    """Turn a failed docker CLI call into an `EngineError` naming the action (and the fix)."""
    try:
        yield
    except DockerException as error:
        detail = (error.stderr or error.stdout or str(error)).strip().splitlines()
        raise EngineError(f"{action} failed: {detail[-1] if detail else error}", fix) from None
    except FileNotFoundError:
        raise EngineError(f"{action} failed: the docker CLI is not installed") from None


def require_engine(client: DockerClient) -> str:
    """The engine's version, or an `EngineError` when the daemon does not answer."""
    with engine_errors("contacting the Docker engine"):
        return str(client.system.info().server_version)
