"""What the end-to-end modules share: refusing to touch a stack they did not create, and
removing every container, volume and image tag they made."""

from __future__ import annotations

import os
import subprocess

import pytest

# The label every client launch gives its server container (mcp/runtime/mcp_launch.py).
SESSION_LABEL = "dev.mcp-cluster.session"
STACK_VOLUMES = (
    "postgres-data",
    "mariadb-data",
    "prometheus-data",
    "memory-data",
    "python-experimental-cache",
    "devcontainer-history",
    "mcp-audit",
)


def docker(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the docker CLI; output captured as text."""
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=False, timeout=timeout
    )


def refuse_existing_stack() -> None:
    """Fail (CI) or skip (elsewhere) when an mcp-cluster stack or its data already exists."""
    existing = [v for v in STACK_VOLUMES if docker("volume", "inspect", v).returncode == 0]
    if existing or docker("network", "inspect", "mcp-cluster").returncode == 0:
        if os.environ.get("CI"):
            pytest.fail(f"a stack already exists on this machine ({existing or 'mcp-cluster'})")
        pytest.skip("an mcp-cluster stack (or its volumes) exists here; not touching its data")


def image_tags() -> set[str]:
    """Tags of the project's images (stand-ins excluded: they are kept as a cache)."""
    out = docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
    return {
        t
        for t in out.split()
        if (t.startswith("mcp-") or t.startswith("vsc-")) and not t.startswith("mcp-offline/")
    }


def remove_sessions() -> None:
    """Remove the MCP server containers the tests' clients launched (each launch carries the
    session label): one still shutting down would keep the stack's network and audit volume in
    use while the stack is taken down."""
    found = docker("ps", "-aq", "--filter", f"label={SESSION_LABEL}").stdout.split()
    if found:
        docker("rm", "-f", *found)


def remove_volumes_and_tags(tags_before: set[str]) -> None:
    """Remove the stack's named volumes, its network (when compose left it) and the image
    tags created since `tags_before`; first the sessions started while the stack was going
    down (the prober's last round), which would keep both in use."""
    remove_sessions()
    docker("volume", "rm", "-f", *STACK_VOLUMES)
    if docker("network", "inspect", "mcp-cluster").returncode == 0:
        docker("network", "rm", "mcp-cluster")
    created = sorted(image_tags() - tags_before)
    if created:
        docker("rmi", "-f", *created)
