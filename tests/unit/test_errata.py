"""The plan's mistakes, planted into a copy of our stack: `invoke check` names each one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from tests.clirun import REPO, invoke_json


def _edit_yaml(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _plant(root: Path) -> None:
    folder = root / ".devcontainer"
    dockerfile = folder / "Dockerfile"
    dockerfile.write_text(
        "FROM python:3.14.0-slim-bookworm\n"
        "RUN apt-get update && apt-get install -y git\n"
        "ENV PYTHON_GIL=0 PYTHONPROFILEIMPORTTIME=1 PYTHONOPTIMIZE=2\n"
        "RUN useradd -m vscode && echo 'vscode ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers\n"
        "USER vscode\n"
        'RUN python3 -c "import sys; assert not sys._is_gil_enabled()"\n'
        "RUN pip install --no-cache-dir ruff\n"
        "RUN npm install -g typescript\n"
    )
    devcontainer = json.loads(
        "\n".join(
            x
            for x in (folder / "devcontainer.json").read_text().splitlines()
            if not x.lstrip().startswith("//")
        )
    )
    devcontainer["dockerComposeFile"] = [".devcontainer/docker-compose.mcp.yml"]
    devcontainer["mcpServers"] = {
        "github": {
            "type": "stdio",
            "command": "docker",
            "args": [
                "run",
                "-i",
                "--rm",
                "--name",
                "github-mcp",
                "--network",
                "mcp-net",
                "-e",
                "GITHUB_TOKEN=${env:GITHUB_TOKEN}",
                "-e",
                "GITHUB_DYNAMIC_TOOLSETS=1",
                "ghcr.io/github/github-mcp-server:latest",
                "stdio",
            ],
            "env": {"GITHUB_TOKEN": "${input:github-token}"},
        },
        "filesystem": {
            "type": "stdio",
            "command": "docker",
            "args": [
                "run",
                "-i",
                "--rm",
                "-v",
                "${workspaceFolder}:/workspace:ro",
                "mcp-filesystem:latest",
            ],
        },
    }
    devcontainer["inputs"] = [
        {
            "id": "github-token",
            "type": "promptString",
            "description": "GitHub Personal Access Token",
            "password": True,
        }
    ]
    servers = devcontainer["customizations"]["vscode"]["mcp"]["servers"]
    servers["filesystem"]["args"] = [
        a.replace("${localWorkspaceFolder}", "${workspaceFolder}")
        for a in servers["filesystem"]["args"]
    ]
    (folder / "devcontainer.json").write_text(json.dumps(devcontainer, indent=2))
    _edit_yaml(folder / "mcp/memory/config/memory.yml", lambda d: d.pop("env"))
    with (folder / "devcontainer.env").open("a") as env:
        env.write(
            "GRAFANA_ADMIN_PASSWORD=admin\nPYTHON_GIL=0\nFILESYSTEM_MCP_IP=172.20.0.30\n"
            "NVIDIA_VISIBLE_DEVICES=all\n"
        )

    def compose(d: dict[str, Any]) -> None:
        d["version"] = "3.8"
        d["networks"]["mcp-cluster"].pop("name")
        s = d["services"]
        s["runner"]["env_file"] = [".devcontainer/devcontainer.env"]
        s["runner"]["environment"]["EPHEMERAL"] = "false"
        s["runner"]["privileged"] = True
        s["buildkit"]["ports"] = ["1234:1234"]
        s["buildkit"]["healthcheck"]["test"] = ["CMD", "buildctl", "debug", "info"]
        s["buildkit"]["command"] = ["--addr", "tcp://0.0.0.0:1234"]
        s["buildkit"].pop("x-security")
        s["nginx"]["ports"] = ["80:80", "443:443"]
        s["mariadb"]["healthcheck"]["test"] = ["CMD", "mysqladmin", "ping"]
        s["grafana"]["environment"]["GF_INSTALL_PLUGINS"] = "grafana-clock-panel"
        s["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"] = (
            "${GRAFANA_ADMIN_PASSWORD:-admin}"
        )
        s["devcontainer"]["deploy"] = {
            "resources": {
                "reservations": {
                    "devices": [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
                }
            }
        }
        s["devcontainer"]["networks"]["mcp-cluster"]["ipv4_address"] = "172.20.0.20"
        s["k8s-plugin"]["build"]["args"]["BASE_IMAGE"] = "nvidia/cuda:12.9.0-base"
        s["prometheus"].pop("volumes")

    _edit_yaml(folder / "docker-compose.mcp.yml", compose)


# (rule, file the finding must name)
EXPECTED = [
    ("PY001", ".devcontainer/Dockerfile"),
    ("PY001", ".devcontainer/devcontainer.env"),
    ("PY002", ".devcontainer/Dockerfile"),
    ("PY003", ".devcontainer/Dockerfile"),
    ("PY004", ".devcontainer/Dockerfile"),
    ("DF001", ".devcontainer/Dockerfile"),
    ("DF002", ".devcontainer/Dockerfile"),
    ("DF003", ".devcontainer/docker-compose.mcp.yml"),
    ("MCP001", ".devcontainer/devcontainer.json"),
    ("MCP002", ".devcontainer/devcontainer.json"),
    ("MCP007", ".devcontainer/devcontainer.json"),
    ("MCP010", ".devcontainer/devcontainer.json"),
    ("VOL001", ".devcontainer/mcp/memory/config/memory.yml"),
    ("VOL001", ".devcontainer/docker-compose.mcp.yml"),
    ("SEC001", ".devcontainer/devcontainer.env"),
    ("SEC001", ".devcontainer/docker-compose.mcp.yml"),
    ("CMP003", ".devcontainer/devcontainer.json"),
    ("CMP003", ".devcontainer/docker-compose.mcp.yml"),
    ("CMP004", ".devcontainer/docker-compose.mcp.yml"),
    ("CMP007", ".devcontainer/devcontainer.env"),
    ("CMP008", ".devcontainer/docker-compose.mcp.yml"),
    ("CMP008", ".devcontainer/devcontainer.env"),
    ("CMP009", ".devcontainer/docker-compose.mcp.yml"),
    ("CMP010", ".devcontainer/docker-compose.mcp.yml"),
    ("CMP011", ".devcontainer/docker-compose.mcp.yml"),
    ("CMP012", ".devcontainer/docker-compose.mcp.yml"),
    ("CMP014", ".devcontainer/docker-compose.mcp.yml"),
]


def test_our_stack_passes() -> None:
    code, data = invoke_json("check")
    assert code == 0, [f for f in data["findings"] if f["severity"] == "error"]
    assert data["summary"]["warning"] == 0


def test_planted_errata_are_each_named(tmp_path: Path) -> None:
    shutil.copytree(
        REPO / ".devcontainer",
        tmp_path / ".devcontainer",
        ignore=shutil.ignore_patterns(".env"),
    )
    _plant(tmp_path)
    code, data = invoke_json("check", "--root", str(tmp_path))
    assert code == 1
    found = {(f["rule"], f["path"]) for f in data["findings"]}
    missing = [item for item in EXPECTED if item not in found]
    assert not missing, f"not reported: {missing}"
    github_token = [f for f in data["findings"] if f["rule"] == "MCP003"]
    assert len(github_token) >= 2 and all(f["line"] for f in github_token)
    fixed_name = [f for f in data["findings"] if f["rule"] == "MCP004"]
    assert fixed_name and "github-mcp" in fixed_name[0]["message"]
    network = [f for f in data["findings"] if f["rule"] == "MCP008"]
    assert any("mcp-net" in f["message"] for f in network)
    inputs = [f for f in data["findings"] if f["rule"] == "DEV003"]
    assert [(f["key"], f["severity"], f["fix"]) for f in inputs] == [
        ("inputs", "warning", "MCP inputs go under customizations.vscode.mcp.inputs")
    ]
