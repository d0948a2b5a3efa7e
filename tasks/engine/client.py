"""One Docker client for the task library, and a clear error when the engine is missing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException
from python_on_whales.utils import run

from tasks.errors import EngineError, EngineUnreachable

# What the docker CLI prints when no engine answers (down, wrong socket, no permission).
_UNREACHABLE = re.compile(
    r"Cannot connect to the Docker daemon|Is the docker daemon running|error during connect|"
    r"permission denied while trying to connect to the Docker daemon"
)
ANSWERED_FIX = "the engine refused it for the reason given: fix that and run again"


def engine_unreachable(output: str) -> bool:
    """True when docker CLI output says no engine answered (rather than an engine refusing)."""
    return _UNREACHABLE.search(output) is not None


def docker_client(**options: object) -> DockerClient:
    """A python-on-whales client (options as for `DockerClient`)."""
    return DockerClient(**options)  # type: ignore[arg-type]


@contextmanager
def engine_errors(action: str, fix: str | None = None) -> Iterator[None]:
    """Turn a failed docker CLI call into an `EngineError` naming the action and its real
    cause: `EngineUnreachable` ("start the engine") only when no engine answered, else one with
    `fix` (by default: the engine's own reason, e.g. a container's non-zero exit)."""
    try:
        yield
    except DockerException as error:
        output = (error.stderr or error.stdout or str(error)).strip()
        detail = output.splitlines()
        problem = f"{action} failed: {detail[-1] if detail else error}"
        if engine_unreachable(output):
            raise EngineUnreachable(problem) from None
        raise EngineError(problem, fix or ANSWERED_FIX) from None
    except FileNotFoundError:
        raise EngineUnreachable(f"{action} failed: the docker CLI is not installed") from None


def require_engine(client: DockerClient) -> str:
    """The engine's version, or an `EngineError` when the daemon does not answer."""
    with engine_errors("contacting the Docker engine"):
        server = client.version().server
    if server is None:
        raise EngineError("contacting the Docker engine failed: no server answered")
    return str(server.version)


def inspect_all(client: DockerClient, kind: str, names: list[str]) -> list[dict[str, Any]]:
    """`docker <kind> inspect` of every name in one engine call, as its raw JSON objects. Names
    that do not exist are left out (docker prints the others and fails on those); any other
    failure, such as no engine, is an `EngineError`."""
    if not names:
        return []
    with engine_errors(f"docker {kind} inspect"):
        try:
            output = str(run([*client.client_config.docker_cmd, kind, "inspect", *names]))
        except DockerException as error:
            if "No such" not in str(error.stderr or ""):
                raise
            output = str(error.stdout or "[]")
    found: list[dict[str, Any]] = json.loads(output or "[]")
    return found
