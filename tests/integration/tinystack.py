"""A tiny stack of three images built on the offline Debian stand-in, for build tests."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import yaml

BASE = "mcp-offline/debian:trixie"
NAMES = ("alpha", "beta", "gamma")


class TinyStack:
    """Three services with trivial Dockerfiles; one can be broken on purpose."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / ".devcontainer"
        self.prefix = f"mcp-test-{hashlib.sha1(str(root).encode()).hexdigest()[:10]}"
        services = {}
        for name in NAMES:
            context = self.folder / "containers" / name
            context.mkdir(parents=True)
            (context / "Dockerfile").write_text(
                f"ARG BASE_IMAGE={BASE}\nFROM ${{BASE_IMAGE}}\n"
                f"RUN echo {name} > /{name}.txt\nRUN cat /{name}.txt\n"
            )
            services[name] = {
                "image": self.tag(name),
                "build": {"context": f"./containers/{name}"},
                "restart": "unless-stopped",
                "healthcheck": {"test": ["CMD", "true"]},
            }
        (self.folder / "docker-compose.mcp.yml").write_text(
            yaml.safe_dump({"name": self.prefix, "services": services})
        )
        (self.folder / "devcontainer.json").write_text(
            json.dumps(
                {
                    "dockerComposeFile": ["docker-compose.mcp.yml"],
                    "service": "alpha",
                    "workspaceFolder": "/workspaces/tiny",
                }
            )
        )
        (self.folder / "profiles").mkdir()
        (self.folder / "profiles/offline.env").write_text(f"DEBIAN_BASE_IMAGE={BASE}\n")

    def tag(self, name: str) -> str:
        """The image tag of one service."""
        return f"{self.prefix}-{name}:latest"

    def break_image(self, name: str) -> None:
        """Make one Dockerfile fail with a recognisable message."""
        path = self.folder / "containers" / name / "Dockerfile"
        path.write_text(path.read_text() + "RUN echo 'deliberate failure' && exit 3\n")

    def images(self) -> set[str]:
        """Tags of this stack that exist in the engine."""
        out = subprocess.run(
            ["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", f"{self.prefix}-*"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return {line for line in out.split() if line}

    def remove_images(self) -> None:
        """Remove every tag this stack created."""
        tags = [self.tag(name) for name in NAMES]
        subprocess.run(["docker", "rmi", "-f", *tags], capture_output=True, check=False)
