"""Rule branches the tripping cases of tests/unit/rules/test_rules.py do not reach: each rule's other
findings, and the near misses it must stay quiet about, with severity, file, line, message and
fix in full."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ministack import MiniStack
from tests.unit.rules.test_rules import (
    Mutation,
    _all,
    _append,
    _args,
    _compose,
    _docs_readme,
    _manifest,
    _server,
    _svc,
    findings,
)

E, W, N = "error", "warning", "info"


def _devcontainer(values: dict[str, Any]) -> Mutation:
    return lambda m: m.edit_json("devcontainer.json", lambda d: d.update(values))


def _dockerfile_user(lines: str) -> Mutation:
    """The dev container's Dockerfile with `lines` in place of the user it creates."""
    return lambda m: m.replace(
        "Dockerfile",
        "RUN useradd -m vscode && mkdir -p /home/vscode/.history && chown vscode "
        "/home/vscode/.history\nUSER vscode\n",
        lines,
    )


def _swap_rows(text: str) -> str:
    """The docs table with the github and memory rows swapped."""
    lines = text.split("\n")
    a = next(i for i, x in enumerate(lines) if x.startswith("| [github]"))
    b = next(i for i, x in enumerate(lines) if x.startswith("| [memory]"))
    lines[a], lines[b] = lines[b], lines[a]
    return "\n".join(lines)


def _nets(service: str, networks: dict[str, Any]) -> Mutation:
    return _svc(service, lambda s: s.update(networks=networks))


CASES: list[tuple[str, str, Mutation]] = [
    ("CMP004", "undeclared network", _nets("db", {"other": {"ipv4_address": "10.1.0.5"}})),
    ("CMP005", "undeclared network", _nets("db", {"other": {"ipv4_address": "10.1.0.5"}})),
    (
        "CMP004",
        "network without a subnet",
        _all(
            _compose(lambda d: d["networks"].update(plain={})),
            _nets("db", {"plain": {"ipv4_address": "10.1.0.5"}}),
        ),
    ),
    (
        "CMP005",
        "network without a subnet",
        _all(
            _compose(lambda d: d["networks"].update(plain={})),
            _nets("db", {"plain": {"ipv4_address": "10.1.0.5"}}),
        ),
    ),
    (
        "CMP004",
        "broadcast address",
        _nets("db", {"mcp-cluster": {"ipv4_address": "172.20.255.255"}}),
    ),
    ("CMP008", "nvidia runtime", _svc("db", lambda s: s.update(runtime="nvidia"))),
    (
        "CMP008",
        "nvidia env set to void",
        _append("devcontainer.env", "NVIDIA_VISIBLE_DEVICES=void\n"),
    ),
    ("CMP008", "MCP server asks for --gpus", _args("memory", "-i", "--gpus=all")),
    ("CMP009", "MCP server privileged", _args("memory", "-i", "--privileged")),
    (
        "CMP009",
        "privileged with a reason",
        _svc(
            "db", lambda s: s.update(privileged=True, **{"x-security": {"privileged": "needs it"}})
        ),
    ),
    ("CMP010", "container port only", _svc("db", lambda s: s.update(ports=["5432"]))),
    (
        "CMP010",
        "host port on all interfaces",
        _svc("db", lambda s: s.update(ports=["0.0.0.0:5432:5432"])),
    ),
    ("CMP011", "legacy links", _svc("db", lambda s: s.update(links=["devcontainer"]))),
    (
        "CMP012",
        "mysqladmin on mariadb 10",
        _svc(
            "db",
            lambda s: (
                s["build"]["args"].update(BASE_IMAGE="mariadb:10.11"),
                s["healthcheck"].update(test=["CMD", "mysqladmin", "ping"]),
            ),
        ),
    ),
    (
        "CMP012",
        "mysqladmin on mariadb latest",
        _svc(
            "db",
            lambda s: (
                s["build"]["args"].update(BASE_IMAGE="mariadb"),
                s["healthcheck"].update(test=["CMD", "mysqladmin", "ping"]),
            ),
        ),
    ),
    (
        "CMP012",
        "curl on nginx",
        _svc(
            "db",
            lambda s: (
                s["build"]["args"].update(BASE_IMAGE="nginx:alpine"),
                s["healthcheck"].update(test=["CMD", "curl", "-f", "http://localhost"]),
            ),
        ),
    ),
    (
        "CMP012",
        "distroless",
        _svc("db", lambda s: s["build"]["args"].update(BASE_IMAGE="gcr.io/app:1-distroless")),
    ),
    (
        "CMP012",
        "buildctl with a unix address too",
        _svc(
            "db",
            lambda s: (
                s.update(
                    command=["--addr", "tcp://0.0.0.0:1234", "--addr", "unix:///run/buildkit.sock"]
                ),
                s["healthcheck"].update(test=["CMD", "buildctl", "debug", "info"]),
            ),
        ),
    ),
    (
        "CMP014",
        "EPHEMERAL=no in a service",
        _svc("db", lambda s: s["environment"].update(EPHEMERAL="no")),
    ),
    (
        "CMP014",
        "EPHEMERAL=1 in a service",
        _svc("db", lambda s: s["environment"].update(EPHEMERAL="1")),
    ),
    (
        "CMP015",
        "two services wait on each other",
        _all(
            _svc(
                "db",
                lambda s: s.update(depends_on={"devcontainer": {"condition": "service_healthy"}}),
            )
        ),
    ),
    (
        "MCP001",
        "mcpServers under customizations.vscode",
        lambda m: m.edit_json(
            "devcontainer.json", lambda d: d["customizations"]["vscode"].update(mcpServers={})
        ),
    ),
    ("MCP005", "no --rm", _args("memory", "--rm", None)),
    (
        "ENV001",
        "secret listed in .env.example",
        _svc("db", lambda s: s.update(image="mini-db:${DB_PASSWORD}")),
    ),
    ("ENV001", "secret not listed", _svc("db", lambda s: s.update(image="mini-db:${API_TOKEN}"))),
    (
        "ENV002",
        "default listed in a profile",
        _all(
            lambda m: m.put("profiles/x.env", "DB_TAG=1\n"),
            _svc("db", lambda s: s.update(image="mini-db:${DB_TAG:-latest}")),
        ),
    ),
    (
        "PY003",
        "profiling in a service",
        _svc("db", lambda s: s["environment"].update(PYTHONPROFILEIMPORTTIME="1")),
    ),
    (
        "PY003",
        "profiling in a manifest",
        _manifest("memory", lambda d: d["env"].update(PYTHONPROFILEIMPORTTIME="1")),
    ),
    (
        "SEC002",
        "token in the gitignored .env",
        lambda m: m.put(".env", "T=ghp_" + "a1" * 18 + "\n"),
    ),
    (
        "VOL003",
        "service runs as root",
        _all(
            _svc("devcontainer", lambda s: s.update(user="root")),
            lambda m: m.replace(
                "Dockerfile",
                "mkdir -p /home/vscode/.history && chown vscode /home/vscode/.history",
                "true",
            ),
        ),
    ),
    (
        "DF003",
        "cuda image in compose",
        _svc("db", lambda s: (s.pop("build"), s.update(image="nvidia/cuda:12.9.0-base"))),
    ),
    (
        "DF003",
        "variable tag",
        _svc("db", lambda s: s["build"]["args"].update(BASE_IMAGE="postgres:${PG_TAG:-17}")),
    ),
    (
        "DOC003",
        "server folder without README",
        lambda m: (m.folder / "mcp/memory/README.md").unlink(),
    ),
    (
        "VER003",
        "a profile versions.json does not know",
        _all(
            lambda m: m.put("profiles/gpu.env", "A=1\n"),
            lambda m: m.put(
                ".env",
                "# >>> image profile (written by `invoke env.init --profile NAME`; do not edit here)\nMCP_PROFILE=gpu\n# <<< image profile\n",
            ),
        ),
    ),
    (
        "VER003",
        "a stale profile block",
        _all(
            lambda m: m.put("profiles/online.env", "PY=3.14\nZ=1\n"),
            lambda m: m.put(
                ".env",
                "S=1\n# >>> image profile (written by `invoke env.init --profile NAME`; do not edit here)\nMCP_PROFILE=online\nPY=3.13\nZ=1\n# <<< image profile\n",
            ),
        ),
    ),
    (
        "VER003",
        "a current profile block",
        _all(
            lambda m: m.put("profiles/online.env", "PY=3.14\n"),
            lambda m: m.put(
                ".env",
                "# >>> image profile (written by `invoke env.init --profile NAME`; do not edit here)\nMCP_PROFILE=online\nPY=3.14\n# <<< image profile\n",
            ),
        ),
    ),
    ("VER003", "no profile block", lambda m: m.put(".env", "SECRET=1\n")),
    (
        "SEC001",
        "password in a compose environment list",
        _svc("db", lambda s: s.update(environment=["POSTGRES_PASSWORD=pw", "POSTGRES_USER=u"])),
    ),
    (
        "SEC001",
        "password as a Dockerfile ARG default",
        _append("containers/db/Dockerfile", 'ARG DB_PASSWORD="pw"\n'),
    ),
    (
        "SEC001",
        "password from a secret file or a reference",
        _all(
            _svc(
                "db",
                lambda s: s["environment"].update(
                    POSTGRES_PASSWORD="/run/secrets/db_password", OTHER_PASSWORD="${DB_PASSWORD}"
                ),
            ),
            _append("containers/db/Dockerfile", 'ENV DB_PASSWORD=""\n'),
        ),
    ),
    (
        "SEC002",
        "token in a git folder",
        lambda m: m.put(".git/notes.md", "ghp_" + "a1" * 18 + "\n"),
    ),
    (
        "SEC002",
        "private key in a script",
        lambda m: m.put("scripts/key.sh", "-----BEGIN RSA PRIVATE KEY-----\n"),
    ),
    (
        "SEC002",
        "token in a client config",
        lambda m: m.put_root(
            ".mcp.json",
            (m.root / ".mcp.json").read_text().replace("repos,issues", "ghp_" + "a1" * 18),
        ),
    ),
    (
        "VOL003",
        "service runs as uid 0",
        _all(
            _svc("devcontainer", lambda s: s.update(user="0")),
            lambda m: m.replace(
                "Dockerfile",
                "mkdir -p /home/vscode/.history && chown vscode /home/vscode/.history",
                "true",
            ),
        ),
    ),
    (
        "VOL001",
        "grafana data path from its variable",
        _svc(
            "db",
            lambda s: (
                s["build"]["args"].update(BASE_IMAGE="grafana/grafana:12"),
                s["environment"].update(GF_PATHS_DATA="/var/lib/postgresql/data"),
            ),
        ),
    ),
    (
        "VOL001",
        "grafana without a volume",
        _svc("db", lambda s: s["build"]["args"].update(BASE_IMAGE="grafana/grafana:12")),
    ),
    (
        "PY001",
        "PYTHON_GIL=1 is harmless",
        _svc("db", lambda s: s["environment"].update(PYTHON_GIL="1")),
    ),
    ("DOC004", "rows out of order", _docs_readme(_swap_rows)),
    (
        "DOC004",
        "a row without a link, extra",
        _docs_readme(
            lambda t: t.replace(
                "<!-- mcp-servers:end -->",
                "| old | gone | `x` | none | | |\n<!-- mcp-servers:end -->",
            )
        ),
    ),
    (
        "DOC004",
        "a stale row whose cells hold bars",
        _docs_readme(
            lambda t: t.replace(
                "| none | workspace at /workspace, read-only |",
                "| bridge | workspace at /workspace, read-only |",
            )
        ),
    ),
    (
        "MCP005",
        "no label",
        _server(
            "memory",
            lambda s: s.update(
                args=[
                    a for a in s["args"] if not a.startswith("dev.mcp-cluster.") and a != "--label"
                ]
            ),
        ),
    ),
    ("MCP005", "--interactive instead of -i", _args("memory", "-i", "--interactive")),
    (
        "DF004",
        "buildkitd as the entrypoint",
        lambda m: m.put(
            "containers/db/Dockerfile",
            'FROM moby/buildkit:v0.20.0\nENTRYPOINT ["buildkitd", "--addr", "tcp://0.0.0.0:1234"]\n',
        ),
    ),
    (
        "DF004",
        "buildkitd in shell form on another image",
        lambda m: m.put(
            "containers/db/Dockerfile", "FROM postgres:17\nENTRYPOINT buildkitd --debug\n"
        ),
    ),
    (
        "CMP001",
        "healthcheck in the image",
        _all(
            _svc("db", lambda s: s.pop("healthcheck")),
            _append("containers/db/Dockerfile", "HEALTHCHECK CMD pg_isready\n"),
        ),
    ),
    (
        "CMP001",
        "image healthcheck switched off",
        _all(
            _svc("db", lambda s: s.pop("healthcheck")),
            _append("containers/db/Dockerfile", "HEALTHCHECK none\n"),
        ),
    ),
    ("CMP002", "restart: always", _svc("db", lambda s: s.update(restart="always"))),
    ("CMP014", "EPHEMERAL=No in the env file", _append("devcontainer.env", "EPHEMERAL=No\n")),
    ("CMP014", "another variable set to no", _append("devcontainer.env", "FEATURE=no\n")),
    (
        "MCP003",
        "GITHUB_TOKEN next to the token it reads",
        _manifest("github", lambda d: d["secrets"].append({"name": "GITHUB_TOKEN"})),
    ),
    ("SEC001", "a password of Xs", _append("containers/db/Dockerfile", 'ARG DB_PASSWORD="XX"\n')),
    (
        "DF005",
        "a source that is excluded",
        lambda m: m.put("containers/db/.dockerignore", "config\n"),
    ),
    (
        "DF005",
        "an excluded folder with its file let back in",
        lambda m: m.put("containers/db/.dockerignore", "*\n!config/postgresql.conf\n"),
    ),
    (
        "DF005",
        "a missing source, in JSON form, next to stage and URL sources",
        _append(
            "containers/db/Dockerfile",
            'COPY ["config/missing.conf", "/etc/x"]\nCOPY --from=busybox /bin/sh /bin/sh\n'
            "ADD https://example.org/x.tgz /tmp/\nCOPY config/*.conf /etc/postgresql/\n",
        ),
    ),
    (
        "DF005",
        "a wildcard that matches nothing sent",
        _append("containers/db/Dockerfile", "COPY config/*.toml /etc/\n"),
    ),
    (
        "PY002",
        "in a stage that is a target but not the last one",
        lambda m: m.replace(
            "Dockerfile",
            "FROM ${BASE_IMAGE}\nCOPY --from=cpython",
            "FROM ${BASE_IMAGE} AS lab\nENV PYTHONOPTIMIZE=2\nFROM ${BASE_IMAGE}\nCOPY --from=cpython",
        ),
    ),
    (
        "DF006",
        "a target that names a stage",
        _svc("devcontainer", lambda s: s["build"].update(target="cpython")),
    ),
    (
        "DF006",
        "a target in a Dockerfile without named stages",
        _svc("db", lambda s: s["build"].update(target="db")),
    ),
    ("DEV001", "every named service exists", _devcontainer({"runServices": ["db"]})),
    ("DEV002", "root is in every image", _devcontainer({"remoteUser": "root"})),
    ("DEV002", "a user id", _devcontainer({"remoteUser": "1000:1000"})),
    ("DEV002", "a user from the host", _devcontainer({"remoteUser": "${localEnv:USER}"})),
    (
        "DEV002",
        "a feature may add the user",
        _devcontainer({"remoteUser": "dev", "features": {"ghcr.io/x/common-utils:2": {}}}),
    ),
    (
        "DEV002",
        "a user named by an ARG the Dockerfile sets",
        _all(
            _dockerfile_user("ARG NAME=dev\nRUN useradd --shell /bin/bash -m $NAME\n"),
            _devcontainer({"remoteUser": "dev"}),
        ),
    ),
    (
        "DEV002",
        "a user named by an ARG without a value",
        _all(
            _dockerfile_user("ARG NAME\nRUN useradd -m ${NAME}\n"),
            _devcontainer({"remoteUser": "dev"}),
        ),
    ),
    (
        "DEV002",
        "a user the Dockerfile creates with options",
        _all(
            _dockerfile_user("RUN useradd -u 1000 -G sudo,docker -m -s /bin/zsh dev\n"),
            _devcontainer({"remoteUser": "sudo"}),
        ),
    ),
    (
        "DEV002",
        "an image nobody here knows",
        _all(
            _svc("devcontainer", lambda s: (s.pop("build"), s.update(image="acme/dev:1"))),
            _devcontainer({"remoteUser": "dev"}),
        ),
    ),
    (
        "DF007",
        "a default for an undeclared ARG, and ARG lines with several names",
        lambda m: m.put(
            "Dockerfile",
            "ARG A=1 BASE\nFROM ${BASE} AS one\nFROM ${OTHER:-debian:trixie} AS two\n"
            "FROM one\nUSER vscode\n",
        ),
    ),
    (
        "CMP015",
        "volumes from a container, not a service",
        _all(
            _svc("db", lambda s: s.update(volumes_from=["container:devcontainer"])),
            _svc("devcontainer", lambda s: s.update(links=["db:database"])),
        ),
    ),
]

EXPECTED: dict[str, list[tuple[str, str, int | None, str, str]]] = {
    "CMP004-undeclared network": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            26,
            "db joins undeclared network other",
            "declare networks.other",
        ),
    ],
    "CMP005-undeclared network": [],
    "CMP004-network without a subnet": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            26,
            "db sets ipv4_address on plain, which has no subnet",
            "add ipam.config[].subnet to networks.plain",
        ),
    ],
    "CMP005-network without a subnet": [],
    "CMP004-broadcast address": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            26,
            "db: 172.20.255.255 is the gateway, network or broadcast address",
            "pick a host address",
        ),
    ],
    "CMP008-nvidia runtime": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            30,
            "service db uses the nvidia runtime",
            "remove runtime: nvidia",
        ),
    ],
    "CMP008-nvidia env set to void": [],
    "CMP008-MCP server asks for --gpus": [
        (
            E,
            ".devcontainer/devcontainer.json",
            97,
            "MCP server memory asks for --gpus",
            "MCP stdio servers get no GPU",
        ),
    ],
    "CMP009-MCP server privileged": [
        (
            E,
            ".devcontainer/devcontainer.json",
            97,
            "MCP server memory runs privileged or with the Docker socket",
            "stdio servers need neither; remove it",
        ),
    ],
    "CMP009-privileged with a reason": [],
    "CMP010-container port only": [],
    "CMP010-host port on all interfaces": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            29,
            "service db publishes 5432 on all interfaces",
            'bind to loopback: "127.0.0.1:5432:5432"',
        ),
    ],
    "CMP011-legacy links": [
        (
            W,
            ".devcontainer/docker-compose.mcp.yml",
            30,
            "service db uses legacy links",
            "rely on the network's DNS",
        ),
    ],
    "CMP012-mysqladmin on mariadb 10": [],
    "CMP012-mysqladmin on mariadb latest": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            10,
            "db: MariaDB 11 images have no mysqladmin",
            "use healthcheck.sh --connect --innodb_initialized",
        ),
    ],
    "CMP012-curl on nginx": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            10,
            "db: nginx:alpine has no curl",
            "use wget -q --spider",
        ),
    ],
    "CMP012-distroless": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            10,
            "db: a distroless image has no shell or tools",
            "use the busybox variant or an HTTP check from outside",
        ),
    ],
    "CMP012-buildctl with a unix address too": [],
    "CMP014-EPHEMERAL=no in a service": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            19,
            "db: EPHEMERAL=no still turns ephemeral mode on",
            "remove EPHEMERAL to disable it",
        ),
    ],
    "CMP014-EPHEMERAL=1 in a service": [],
    "CMP015-two services wait on each other": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            31,
            "dependency cycle: db -> devcontainer -> db; compose cannot start any of them",
            "remove one dependency of the cycle (a tier waits only on lower tiers)",
        ),
    ],
    "MCP001-mcpServers under customizations.vscode": [
        (
            E,
            ".devcontainer/devcontainer.json",
            140,
            "customizations.vscode.mcpServers is not read by VS Code",
            "move it to `customizations.vscode.mcp.servers`",
        ),
    ],
    "MCP005-no --rm": [
        (
            W,
            ".devcontainer/devcontainer.json",
            97,
            "server memory: docker run without --rm",
            "add --rm so exited servers do not pile up",
        ),
    ],
    "ENV001-secret listed in .env.example": [],
    "ENV001-secret not listed": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            4,
            "services.db.image: ${API_TOKEN} is not defined",
            "list API_TOKEN in .env.example and read it from the shell or .env",
        ),
    ],
    "ENV002-default listed in a profile": [],
    "PY003-profiling in a service": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            21,
            "PYTHONPROFILEIMPORTTIME=1 in service db prints import timings to stderr from every Python process",
            "remove it; use `python -X importtime` when profiling",
        ),
    ],
    "PY003-profiling in a manifest": [
        (
            E,
            ".devcontainer/mcp/memory/config/memory.yml",
            10,
            "PYTHONPROFILEIMPORTTIME=1 in memory prints import timings to stderr from every Python process",
            "remove it; use `python -X importtime` when profiling",
        ),
    ],
    "SEC002-token in the gitignored .env": [],
    "VOL003-service runs as root": [],
    "DF003-cuda image in compose": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            4,
            "nvidia/cuda:12.9.0-base: nvidia/cuda tags carry an OS suffix",
            "use e.g. 12.9.0-base-ubuntu24.04",
        ),
    ],
    "DF003-variable tag": [],
    "DOC003-server folder without README": [
        (
            W,
            ".devcontainer/mcp/memory/config/memory.yml",
            1,
            "server memory has no README.md",
            "write mcp/memory/README.md",
        ),
    ],
    "VER003-a profile versions.json does not know": [
        (
            W,
            ".devcontainer/.env",
            None,
            "MCP_PROFILE=gpu names no profile",
            "run `invoke env.init --profile gpu` to rewrite it",
        ),
    ],
    "VER003-a stale profile block": [
        (
            W,
            ".devcontainer/.env",
            None,
            "the online profile block is stale (PY differ from profiles/online.env): VS Code and compose would build other versions",
            "run `invoke env.init --profile online` to rewrite it",
        ),
    ],
    "VER003-a current profile block": [],
    "VER003-no profile block": [],
    "SEC001-password in a compose environment list": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            19,
            "service db: POSTGRES_PASSWORD has a literal value or default",
            "keep the value out of the repo: compose secrets / ${VAR} from the shell or the gitignored .env",
        ),
    ],
    "SEC001-password as a Dockerfile ARG default": [
        (
            E,
            ".devcontainer/containers/db/Dockerfile",
            4,
            "ARG DB_PASSWORD bakes a secret into the image",
            "pass it at run time, or as a BuildKit secret while building",
        ),
    ],
    "SEC001-password from a secret file or a reference": [],
    "SEC002-token in a git folder": [],
    "SEC002-private key in a script": [
        (
            E,
            ".devcontainer/scripts/key.sh",
            1,
            "a credential is written in this file",
            "remove it, revoke it, and pass it by reference",
        ),
    ],
    "SEC002-token in a client config": [
        (
            E,
            ".mcp.json",
            74,
            "a credential is written in this file",
            "remove it, revoke it, and pass it by reference",
        ),
    ],
    "VOL003-service runs as uid 0": [],
    "VOL001-grafana data path from its variable": [],
    "VOL001-grafana without a volume": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            3,
            "service db keeps its data in /var/lib/grafana, which is not on a volume",
            "mount a named volume at /var/lib/grafana",
        ),
    ],
    "PY001-PYTHON_GIL=1 is harmless": [],
    "DOC004-rows out of order": [
        (
            E,
            ".devcontainer/docs/README.md",
            5,
            "the MCP servers table differs from the manifests (rows out of order)",
            "run `invoke mcp.config` (edit the manifest, not the table)",
        ),
    ],
    "DOC004-a row without a link, extra": [
        (
            E,
            ".devcontainer/docs/README.md",
            5,
            "the MCP servers table differs from the manifests (not generated: old)",
            "run `invoke mcp.config` (edit the manifest, not the table)",
        ),
    ],
    "DOC004-a stale row whose cells hold bars": [
        (
            E,
            ".devcontainer/docs/README.md",
            5,
            "the MCP servers table differs from the manifests (missing or stale: filesystem; not generated: filesystem)",
            "run `invoke mcp.config` (edit the manifest, not the table)",
        ),
    ],
    "MCP005-no label": [
        (
            W,
            ".devcontainer/devcontainer.json",
            97,
            "server memory: no --label to find its containers",
            "add --label dev.mcp-cluster.server=NAME (invoke mcp.clean reaps by label)",
        ),
    ],
    "MCP005---interactive instead of -i": [],
    "DF004-buildkitd as the entrypoint": [
        (
            W,
            ".devcontainer/containers/db/Dockerfile",
            2,
            "ENTRYPOINT buildkitd replaces the image's entrypoint",
            "keep the image's ENTRYPOINT; pass flags with CMD/command",
        ),
    ],
    "DF004-buildkitd in shell form on another image": [],
    "CMP001-healthcheck in the image": [],
    "CMP001-image healthcheck switched off": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            3,
            "service db has no healthcheck",
            "add healthcheck: {test: [...], interval, timeout, retries, start_period}",
        ),
    ],
    "CMP002-restart: always": [
        (
            W,
            ".devcontainer/docker-compose.mcp.yml",
            9,
            "service db uses restart: always",
            "use restart: unless-stopped",
        ),
    ],
    "CMP014-EPHEMERAL=No in the env file": [
        (
            E,
            ".devcontainer/devcontainer.env",
            4,
            "EPHEMERAL=No still turns ephemeral mode on",
            "leave EPHEMERAL unset to disable it; set EPHEMERAL=1 to enable it",
        ),
    ],
    "CMP014-another variable set to no": [],
    "MCP003-GITHUB_TOKEN next to the token it reads": [],
    "SEC001-a password of Xs": [
        (
            E,
            ".devcontainer/containers/db/Dockerfile",
            4,
            "ARG DB_PASSWORD bakes a secret into the image",
            "pass it at run time, or as a BuildKit secret while building",
        ),
    ],
    "DF005-a source that is excluded": [
        (
            E,
            ".devcontainer/containers/db/Dockerfile",
            3,
            "COPY source config/postgresql.conf is excluded by .dockerignore in the build context "
            ".devcontainer/containers/db",
            "add a `!config/postgresql.conf` line to that context's .dockerignore",
        ),
    ],
    "DF005-an excluded folder with its file let back in": [],
    "DF005-a missing source, in JSON form, next to stage and URL sources": [
        (
            E,
            ".devcontainer/containers/db/Dockerfile",
            4,
            "COPY source config/missing.conf does not exist in the build context "
            ".devcontainer/containers/db",
            "fix the path (it is relative to the build context)",
        ),
    ],
    "DF005-a wildcard that matches nothing sent": [
        (
            E,
            ".devcontainer/containers/db/Dockerfile",
            4,
            "COPY source config/*.toml matches no file sent to the build in the build context "
            ".devcontainer/containers/db",
            "fix the path (it is relative to the build context)",
        ),
    ],
    "PY002-in a stage that is a target but not the last one": [
        (
            E,
            ".devcontainer/Dockerfile",
            6,
            "PYTHONOPTIMIZE=2 in .devcontainer/Dockerfile: asserts vanish and tools reading "
            "__doc__ break",
            "remove PYTHONOPTIMIZE from development images",
        ),
    ],
    "DF006-a target that names a stage": [],
    "DF006-a target in a Dockerfile without named stages": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            9,
            "service db: build target 'db' is not a stage of .devcontainer/containers/db/Dockerfile",
            "remove build.target, or name a stage in the Dockerfile (`FROM ... AS NAME`)",
        ),
    ],
    "DEV001-every named service exists": [],
    "DEV002-root is in every image": [],
    "DEV002-a user id": [],
    "DEV002-a user from the host": [],
    "DEV002-a feature may add the user": [],
    "DEV002-a user named by an ARG the Dockerfile sets": [],
    "DEV002-a user named by an ARG without a value": [],
    "DEV002-a user the Dockerfile creates with options": [
        (
            E,
            ".devcontainer/devcontainer.json",
            142,
            "remoteUser 'sudo' is not a user of service devcontainer's image (it has dev)",
            "create it in the Dockerfile (useradd -m sudo) or name an existing user",
        ),
    ],
    "DEV002-an image nobody here knows": [],
    "DF007-a default for an undeclared ARG, and ARG lines with several names": [],
    "CMP015-volumes from a container, not a service": [],
}


@pytest.mark.parametrize(
    ("rule_id", "case", "mutate"), CASES, ids=[f"{r}-{c}" for r, c, _ in CASES]
)
def test_branch_reports_exactly(mini: MiniStack, rule_id: str, case: str, mutate: Mutation) -> None:
    mutate(mini)
    found = [
        (f.severity.value, f.path, f.line, f.message, f.fix)
        for f in findings(mini)
        if f.rule == rule_id
    ]
    assert found == EXPECTED[f"{rule_id}-{case}"]
