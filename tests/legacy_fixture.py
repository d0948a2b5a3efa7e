"""A repository in the layout the plan starts from, built with real git commits."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Dev",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Dev",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
}
SERVICES = {
    "fetch": "config/fetch.yml",
    "filesystem": "config/filesystem.yml",
    "git": "config/git.yml",
    "github": "config/github.yml",
    "memory": "config/memory.yml",
    "python-experimental": "config/python-experimental.yml",
    "k8s-plugin": "config/k8s-plugin.yml",
    "mariadb": "config/mariadb.yml",
    "postgres": "config/postgresql.conf",
    "sqlite": "config/sqlite.yml",
}
OLD_IPS = {
    "github": "172.20.0.10",
    "postgres-db": "172.20.0.20",
    "mariadb": "172.20.0.21",
    "filesystem": "172.20.0.30",
    "postgres-mcp": "172.20.0.31",
    "mariadb-mcp": "172.20.0.32",
    "memory": "172.20.0.33",
    "git": "172.20.0.34",
    "fetch": "172.20.0.35",
    "python-experimental": "172.20.0.40",
    "k8s-plugin": "172.20.0.50",
    "devcontainer": "172.20.0.60",
}
DEVCONTAINER_JSON = """// Legacy dev container: one image, Python from a feature.
{
  "name": "react-scuba",
  "image": "mcr.microsoft.com/devcontainers/typescript-node:22",
  "features": {
    "ghcr.io/devcontainers/features/python:1": {"version": "3.12"}
  },
  "customizations": {
    "vscode": {
      "extensions": ["dbaeumer.vscode-eslint"]
    }
  }
}
"""
ENV = """# Static IP assignments
GITHUB_MCP_IP=172.20.0.10
POSTGRES_DB_IP=172.20.0.20
MARIADB_IP=172.20.0.21
FILESYSTEM_MCP_IP=172.20.0.30
POSTGRES_MCP_IP=172.20.0.31
MARIADB_MCP_IP=172.20.0.32
MEMORY_MCP_IP=172.20.0.33
GIT_MCP_IP=172.20.0.34
FETCH_MCP_IP=172.20.0.35
PYTHON_EXPERIMENTAL_IP=172.20.0.40
K8S_PLUGIN_IP=172.20.0.50
DEVCONTAINER_IP=172.20.0.60
# Python
PYTHON_GIL=0
PYTHONPROFILEIMPORTTIME=1
# Team settings
TEAM_CHANNEL=dev-env
GITHUB_TOKEN=ghp_fixturetoken0000000000000000000000
"""


def git(root: Path, *args: str) -> str:
    """Run git in `root` as the fixture's user; its stdout."""
    env = {**os.environ, **IDENTITY}
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, env=env
    ).stdout


def _compose() -> str:
    lines = ["version: '3.8'", "services:"]
    for name, ip in OLD_IPS.items():
        lines += [
            f"  {name}:",
            f"    build: ../.github/services/{name}",
            "    env_file: ../devcontainer.env",
            "    networks:",
            "      mcp-network:",
            f"        ipv4_address: {ip}",
        ]
        if name == "memory":
            lines += ["    volumes:", "      - memory-data:/memory"]
    lines += [
        "networks:",
        "  mcp-network:",
        "    ipam:",
        "      config:",
        "        - subnet: 172.20.0.0/16",
        "volumes:",
        "  memory-data:",
    ]
    return "\n".join(lines) + "\n"


def write(root: Path, path: str, text: str) -> None:
    """Write one file of the fixture."""
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def build_legacy_repo(root: Path) -> Path:
    """`git init` a legacy dev-environment repository at `root` with a few commits."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "config", "user.name", IDENTITY["GIT_AUTHOR_NAME"])
    git(root, "config", "user.email", IDENTITY["GIT_AUTHOR_EMAIL"])
    write(root, "README.md", "# react-scuba\n")
    write(root, ".devcontainer/devcontainer.json", DEVCONTAINER_JSON)
    write(
        root,
        ".devcontainer/Dockerfile",
        "FROM mcr.microsoft.com/devcontainers/typescript-node:22\n",
    )
    write(root, ".devcontainer/devcontainer.dockerfile.backup", "FROM node:20\n")
    write(root, ".devcontainer/devcontainer.minimal.dockerfile", "FROM node:22-slim\n")
    write(root, ".devcontainer/devcontainer.env", ENV)
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "Dev container with Node 22 and Python 3.12")
    for name, config in SERVICES.items():
        write(root, f".github/services/{name}/Dockerfile", f"FROM node:22-slim\nLABEL svc={name}\n")
        write(root, f".github/services/{name}/README.md", f"# {name}\n\nThe {name} service.\n")
        write(root, f".github/services/{name}/{config}", f"# {name} settings\nname: {name}\n")
    write(root, ".devcontainer/docker-compose.mcp.yml", _compose())
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "MCP services under .github/services")
    write(root, ".github/services/fetch/Dockerfile", "FROM python:3.12-slim\nLABEL svc=fetch\n")
    write(root, ".devcontainer/mcp/memory/README.md", "# memory\n\nThe memory service.\n")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "fetch on Python; start copying memory docs")
    return root
