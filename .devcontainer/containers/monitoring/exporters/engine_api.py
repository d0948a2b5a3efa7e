"""The Docker engine API over its unix socket, for the exporters that read the engine: GET
requests answered with JSON, and the id of the container this process runs in. Standard
library only."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
from typing import Any

SOCKET = os.environ.get("DOCKER_SOCKET", "/var/run/docker.sock")
TIMEOUT = 10.0
# Every container's /etc/hostname, /etc/hosts and /etc/resolv.conf are bind-mounted from the
# engine's folder of that container, named by its id: this works on cgroup v1 and v2 alike.
_OWN_ID = re.compile(r"/containers/([0-9a-f]{64})/(?:hostname|hosts|resolv\.conf)\s")


class EngineError(RuntimeError):
    """The engine did not answer, or answered with an error status."""


class _UnixConnection(http.client.HTTPConnection):
    """An HTTP connection to the engine's unix socket."""

    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=TIMEOUT)
        self.path = path

    def connect(self) -> None:
        """Connect to the socket instead of a TCP address."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT)
        sock.connect(self.path)
        self.sock = sock


def get(path: str, socket_path: str = SOCKET) -> Any:
    """The JSON answer to `GET path` (e.g. /containers/json); `EngineError` otherwise."""
    connection = _UnixConnection(socket_path)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    except OSError as error:
        raise EngineError(f"GET {path}: {error}") from None
    finally:
        connection.close()
    if response.status != 200:
        raise EngineError(f"GET {path}: HTTP {response.status} {body[:200]!r}")
    return json.loads(body)


def own_container_id(mountinfo: str) -> str:
    """The id of the container whose /proc/self/mountinfo this is ('' outside a container)."""
    match = _OWN_ID.search(mountinfo)
    return match.group(1) if match else ""


def own_container(socket_path: str = SOCKET) -> dict[str, Any]:
    """`docker inspect` of the container this process runs in."""
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        ident = own_container_id(handle.read())
    if not ident:
        raise EngineError("cannot tell which container this is (/proc/self/mountinfo)")
    found: dict[str, Any] = get(f"/containers/{ident}/json", socket_path)
    return found
