"""A small, clean stack written into a temporary folder; tests mutate it to trip one rule."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tasks.model.manifest import REFERENCE_LABEL, load_manifest
from tasks.servers.docstable import BEGIN, END, table
from tasks.servers.generate import portable_document, servers, vscode_document

REPO = Path(__file__).resolve().parent.parent

FREE_THREADED_DOCKERFILE = """\
ARG BASE_IMAGE=debian:trixie-slim
FROM ${BASE_IMAGE} AS cpython
RUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y build-essential
RUN ./configure --disable-gil && make && make install
FROM ${BASE_IMAGE}
COPY --from=cpython /usr/local /usr/local
ENV PYTHON_GIL=0
RUN useradd -m vscode && mkdir -p /home/vscode/.history && chown vscode /home/vscode/.history
USER vscode
"""

DB_DOCKERFILE = """\
ARG BASE_IMAGE=postgres:17-trixie
FROM ${BASE_IMAGE}
COPY config/postgresql.conf /etc/postgresql/postgresql.conf
"""

NODE_SERVER_DOCKERFILE = """\
ARG BASE_IMAGE=node:22-trixie-slim
FROM ${BASE_IMAGE}
RUN --mount=type=cache,target=/root/.npm npm install -g @modelcontextprotocol/server-{name}
ENTRYPOINT ["mcp-server-{name}"]
"""


def compose() -> dict[str, Any]:
    """The compose file of the clean stack."""
    health = {"test": ["CMD", "true"], "interval": "5s", "timeout": "3s", "retries": 3}
    return {
        "name": "mini",
        "services": {
            "db": {
                "image": "mini-db:latest",
                "build": {"context": "./containers/db", "args": {"BASE_IMAGE": "postgres:17"}},
                "restart": "unless-stopped",
                "healthcheck": {**health, "test": ["CMD", "pg_isready", "-U", "postgres"]},
                "environment": {"POSTGRES_PASSWORD_FILE": "/run/secrets/db_password"},
                "secrets": ["db_password"],
                "volumes": ["db-data:/var/lib/postgresql/data"],
                "networks": {"mcp-cluster": {"ipv4_address": "172.20.0.20"}},
                "ports": ["127.0.0.1:5432:5432"],
            },
            "devcontainer": {
                "image": "mini-dev:latest",
                "build": {"context": ".", "dockerfile": "Dockerfile"},
                "restart": "unless-stopped",
                "healthcheck": health,
                "env_file": ["devcontainer.env"],
                "depends_on": {"db": {"condition": "service_healthy"}},
                "volumes": [
                    "..:/workspaces/mini:cached",
                    "history:/home/vscode/.history",
                    "/var/run/docker.sock:/var/run/docker.sock",
                ],
                "x-security": {"docker-socket": "VS Code starts MCP stdio servers"},
                "networks": {"mcp-cluster": {"ipv4_address": "172.20.0.60"}},
            },
        },
        "networks": {
            "mcp-cluster": {
                "name": "mcp-cluster",
                "ipam": {
                    "config": [
                        {
                            "subnet": "172.20.0.0/16",
                            "ip_range": "172.20.128.0/17",
                            "gateway": "172.20.0.1",
                        }
                    ]
                },
            }
        },
        "volumes": {
            "db-data": {"name": "db-data"},
            "history": {"name": "history"},
            "memory-data": {"name": "memory-data"},
        },
        "secrets": {"db_password": {"environment": "DB_PASSWORD"}},
    }


def manifests() -> dict[str, dict[str, Any]]:
    """The three MCP server manifests of the clean stack, each a reference server."""
    return {
        "filesystem": {
            "name": "filesystem",
            "image": "mini-filesystem:latest",
            "build": {"context": "..", "dockerfile": "Dockerfile"},
            "transport": "stdio",
            "network": "none",
            "args": ["/workspace"],
            "mounts": [{"type": "workspace", "target": "/workspace", "read_only": True}],
            "labels": {REFERENCE_LABEL: "filesystem"},
        },
        "memory": {
            "name": "memory",
            "image": "mini-memory:latest",
            "build": {"context": "..", "dockerfile": "Dockerfile"},
            "transport": "stdio",
            "network": "mcp-cluster",
            "env": {"MEMORY_FILE_PATH": "/memory/memory.jsonl"},
            "mounts": [{"type": "volume", "source": "memory-data", "target": "/memory"}],
            "labels": {REFERENCE_LABEL: "memory"},
        },
        "github": {
            "name": "github",
            "image": "ghcr.io/github/github-mcp-server:v0.20.2",
            "transport": "stdio",
            "args": ["stdio"],
            "env": {"GITHUB_TOOLSETS": "repos,issues"},
            "secrets": [{"name": "GITHUB_PERSONAL_ACCESS_TOKEN", "input": "github-token"}],
            "labels": {REFERENCE_LABEL: "github"},
        },
    }


def devcontainer(servers: dict[str, Any]) -> dict[str, Any]:
    """devcontainer.json of the clean stack, with the generated servers."""
    return {
        "name": "mini",
        "dockerComposeFile": ["docker-compose.mcp.yml"],
        "service": "devcontainer",
        "workspaceFolder": "/workspaces/mini",
        "customizations": {"vscode": {"mcp": {"servers": servers}}},
    }


class MiniStack:
    """A clean stack on disk plus helpers to break it in one place."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / ".devcontainer"
        self.write()

    def write(self) -> None:
        """Write every file of the clean stack."""
        self.put("docker-compose.mcp.yml", yaml.safe_dump(compose(), sort_keys=False))
        self.put(
            "devcontainer.env", "# addresses\nDB_IP=172.20.0.20\nDEVCONTAINER_IP=172.20.0.60\n"
        )
        self.put(".env.example", "DB_PASSWORD=\nGITHUB_PERSONAL_ACCESS_TOKEN=\n")
        self.put("Dockerfile", FREE_THREADED_DOCKERFILE)
        self.put("containers/db/Dockerfile", DB_DOCKERFILE)
        self.put("containers/db/config/postgresql.conf", "listen_addresses = '*'\n")
        for name, spec in manifests().items():
            self.put(f"mcp/{name}/config/{name}.yml", yaml.safe_dump(spec, sort_keys=False))
            self.put(
                f"mcp/{name}/README.md", f"# {name}\n\nSee [the docs](../../docs/README.md).\n"
            )
            if name != "github":
                self.put(f"mcp/{name}/Dockerfile", NODE_SERVER_DOCKERFILE.replace("{name}", name))
        loaded = [
            load_manifest(self.folder / f"mcp/{name}/config/{name}.yml", {}) for name in manifests()
        ]
        generated = servers(loaded, "devcontainer")
        self.put(
            "devcontainer.json", "// mini stack\n" + json.dumps(devcontainer(generated), indent=2)
        )
        self.put_root(".vscode/mcp.json", json.dumps(vscode_document(loaded), indent=2))
        self.put_root(".mcp.json", json.dumps(portable_document(loaded), indent=2))
        names = ", ".join([*compose()["services"], *manifests()])
        readme = self.folder / "docs/README.md"
        rows = "\n".join(table(loaded, readme))
        self.put(
            "docs/README.md",
            f"# Mini stack\n\nServices and servers: {names}.\n\n{BEGIN} -->\n{rows}\n{END}\n",
        )

    def put(self, relative: str, text: str) -> Path:
        """Write a file under `.devcontainer/`."""
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def put_root(self, relative: str, text: str) -> Path:
        """Write a file under the repository root."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def edit_yaml(self, relative: str, change: Callable[[Any], object]) -> None:
        """Load a YAML file, let `change` mutate it, write it back."""
        path = self.folder / relative
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    def edit_json(self, relative: str, change: Callable[[Any], object]) -> None:
        """Load a JSON file, let `change` mutate it, write it back."""
        path = self.folder / relative
        data = json.loads(
            "\n".join(x for x in path.read_text().splitlines() if not x.startswith("//"))
        )
        change(data)
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")

    def replace(self, relative: str, old: str, new: str) -> None:
        """Replace text in a file (the text must be there)."""
        path = self.folder / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    def service(self, data: dict[str, Any], name: str) -> dict[str, Any]:
        """A service mapping inside loaded compose data."""
        return data["services"][name]  # type: ignore[no-any-return]


def copy_repo(root: Path) -> Path:
    """The repository's stack under `root`: what `invoke check` and `invoke mcp.config` read,
    `.devcontainer/` (without what is local to this checkout: `.env`, so the default profile
    applies, the BuildKit keys and an image lock) and the two client configs."""
    shutil.copytree(
        REPO / ".devcontainer",
        root / ".devcontainer",
        ignore=shutil.ignore_patterns(
            ".env", "certs", ".certs-*", "images.lock.json", ".mask", ".mask.d"
        ),
    )
    for name in (".vscode/mcp.json", ".mcp.json", ".mcpignore"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, root / name)
    return root
