"""Each rule's findings in full for every tripping case of tests/unit/rules/test_rules.py: severity, file,
line, message and fix are what `invoke check` shows, and what users act on."""

from __future__ import annotations

import pytest

from tests.ministack import MiniStack
from tests.unit.rules.test_rules import CASES, Mutation, findings

E, W, N = "error", "warning", "info"
RELOCK = "push the images (`invoke build.all --push`), then run `invoke images.lock` again"

Expected = tuple[str, str, int | None, str, str]

EXPECTED: dict[str, list[Expected]] = {
    "MON001-hand-edited dashboard": [
        (
            E,
            ".devcontainer/dash/mcp.json",
            119,
            "mcp.json differs from what tasks/monitoring/dashboards.py generates",
            "edit the panels in tasks/monitoring/dashboards.py and run `invoke monitoring.dashboards` (the JSON is generated)",
        ),
    ],
    "MON001-missing dashboard": [
        (
            E,
            ".devcontainer/dash/mcp.json",
            None,
            "mcp.json is missing",
            "run `invoke monitoring.dashboards`",
        ),
    ],
    "MON002-a service with metrics Prometheus does not scrape": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            31,
            "db serves metrics on port 9187, but .devcontainer/prom/prometheus.yml has no target db:9187",
            "add a scrape job with the target db:9187 (a dns_sd_configs entry for a service behind a compose profile)",
        ),
        (
            E,
            ".devcontainer/prom/prometheus.yml",
            2,
            "job prom scrapes prom:9090, but prom declares no metrics port",
            "declare x-verify: {metrics: 9090} on prom in the compose file",
        ),
    ],
    "MON002-a target that is no service": [
        (
            E,
            ".devcontainer/prom/prometheus.yml",
            6,
            "job gone scrapes gone:9100, but gone is no service of .devcontainer/docker-compose.mcp.yml",
            "scrape a compose service by its name (SERVICE:PORT), or remove the job",
        ),
    ],
    "MON002-a target on another port": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            31,
            "db serves metrics on port 9187, but .devcontainer/prom/prometheus.yml has no target db:9187",
            "add a scrape job with the target db:9187 (a dns_sd_configs entry for a service behind a compose profile)",
        ),
        (
            E,
            ".devcontainer/prom/prometheus.yml",
            2,
            "job db scrapes db:9100, but db serves metrics on port 9187",
            "scrape db:9187",
        ),
    ],
    "PY001-compose env on GIL image": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            21,
            "PYTHON_GIL=0 reaches service db, whose Python is not free-threaded",
            "set PYTHON_GIL=0 only in images whose Python is built with --disable-gil (a 3.14t interpreter); on a GIL build every Python process aborts at start with it",
        ),
    ],
    "PY001-shared env file": [
        (
            E,
            ".devcontainer/devcontainer.env",
            4,
            "PYTHON_GIL=0 reaches service db, whose Python is not free-threaded",
            "set PYTHON_GIL=0 only in images whose Python is built with --disable-gil (a 3.14t interpreter); on a GIL build every Python process aborts at start with it",
        ),
    ],
    "PY001-dockerfile ENV": [
        (
            E,
            ".devcontainer/containers/db/Dockerfile",
            4,
            "PYTHON_GIL=0 in an image whose Python is not free-threaded",
            "set PYTHON_GIL=0 only in images whose Python is built with --disable-gil (a 3.14t interpreter); on a GIL build every Python process aborts at start with it",
        ),
    ],
    "PY002-PYTHONOPTIMIZE": [
        (
            E,
            ".devcontainer/Dockerfile",
            10,
            "PYTHONOPTIMIZE=2 in .devcontainer/Dockerfile: asserts vanish and tools reading __doc__ break",
            "remove PYTHONOPTIMIZE from development images",
        ),
    ],
    "PY003-import-time profiling": [
        (
            E,
            ".devcontainer/devcontainer.env",
            4,
            "PYTHONPROFILEIMPORTTIME=1 in devcontainer.env prints import timings to stderr from every Python process",
            "remove it; use `python -X importtime` when profiling",
        ),
    ],
    "PY004-assert check": [
        (
            W,
            ".devcontainer/Dockerfile",
            10,
            "build check uses assert, which optimisation strips",
            'exit explicitly: python3 -c "import sys; sys.exit(0 if ok else 1)"',
        ),
    ],
    "MCP001-top-level mcpServers": [
        (
            E,
            ".devcontainer/devcontainer.json",
            142,
            "top-level `mcpServers` is not read by this client (devcontainer)",
            "move it to `customizations.vscode.mcp.servers`",
        ),
    ],
    "MCP001-mcp.json mcpServers": [
        (
            E,
            ".vscode/mcp.json",
            1,
            "top-level `mcpServers` is not read by this client (vscode)",
            "move it to `servers`",
        ),
    ],
    "MCP001-.mcp.json servers": [
        (
            E,
            ".mcp.json",
            1,
            "top-level `servers` is not read by this client (portable)",
            "move it to `mcpServers`",
        ),
    ],
    "MCP002-input in devcontainer.json": [
        (
            E,
            ".devcontainer/devcontainer.json",
            94,
            "`${input:...}` is not substituted in devcontainer.json",
            "pass the secret with ${localEnv:VAR}; prompts belong in .vscode/mcp.json",
        ),
    ],
    "MCP003-GITHUB_TOKEN": [
        (
            E,
            ".devcontainer/mcp/github/config/github.yml",
            1,
            "server github passes GITHUB_TOKEN, which the GitHub MCP server ignores",
            "pass GITHUB_PERSONAL_ACCESS_TOKEN instead",
        ),
    ],
    "MCP003-dynamic toolsets": [
        (
            E,
            ".devcontainer/mcp/github/config/github.yml",
            1,
            "server github sets GITHUB_DYNAMIC_TOOLSETS, removed from the server",
            "use GITHUB_TOOLSETS=... and GITHUB_READ_ONLY=1",
        ),
    ],
    "MCP004---name": [
        (
            E,
            ".devcontainer/devcontainer.json",
            97,
            "server memory runs with --name x",
            "drop --name; find containers by --label dev.mcp-cluster.server=NAME",
        ),
    ],
    "MCP005-no -i": [
        (
            E,
            ".devcontainer/devcontainer.json",
            97,
            "server memory: docker run without -i",
            "add -i so the server reads JSON-RPC from stdin",
        ),
    ],
    "MCP006-no allowed dir": [
        (
            E,
            ".devcontainer/mcp/filesystem/config/filesystem.yml",
            1,
            "server filesystem gets no allowed directory",
            "pass the mount point (e.g. /workspace) after the image",
        ),
    ],
    "MCP006-dir not mounted": [
        (
            E,
            ".devcontainer/mcp/filesystem/config/filesystem.yml",
            1,
            "server filesystem allows /data, which no mount provides",
            "mount the workspace at /data",
        ),
    ],
    "MCP007-workspaceFolder": [
        (
            E,
            ".devcontainer/devcontainer.json",
            12,
            "server filesystem mounts ${workspaceFolder}, a path the Docker daemon on the host cannot see",
            "use ${localWorkspaceFolder} (or a named volume)",
        ),
    ],
    "MCP008-network without name": [
        (
            E,
            ".devcontainer/devcontainer.json",
            98,
            "server memory: --network mcp-cluster does not exist",
            "add `name: mcp-cluster` under networks.mcp-cluster in docker-compose.mcp.yml (compose names it mini_mcp-cluster)",
        ),
        (
            E,
            ".devcontainer/mcp/memory/config/memory.yml",
            1,
            "server memory: --network mcp-cluster does not exist",
            "add `name: mcp-cluster` under networks.mcp-cluster in docker-compose.mcp.yml (compose names it mini_mcp-cluster)",
        ),
        (
            E,
            ".mcp.json",
            81,
            "server memory: --network mcp-cluster does not exist",
            "add `name: mcp-cluster` under networks.mcp-cluster in docker-compose.mcp.yml (compose names it mini_mcp-cluster)",
        ),
        (
            E,
            ".vscode/mcp.json",
            94,
            "server memory: --network mcp-cluster does not exist",
            "add `name: mcp-cluster` under networks.mcp-cluster in docker-compose.mcp.yml (compose names it mini_mcp-cluster)",
        ),
    ],
    "MCP008-unknown network": [
        (
            E,
            ".devcontainer/mcp/memory/config/memory.yml",
            1,
            "server memory: --network mcp-net does not exist",
            "use a network the stack creates (mcp-cluster, mini_default) or bridge/none",
        ),
    ],
    "MCP010-hand-edited .vscode/mcp.json": [
        (
            E,
            ".vscode/mcp.json",
            1,
            "mcp.json differs from what the manifests generate",
            "edit the manifest in mcp/<name>/config/ and run `invoke mcp.config`",
        ),
    ],
    "MCP010-missing .mcp.json": [
        (E, ".mcp.json", None, ".mcp.json is missing", "run `invoke mcp.config`"),
    ],
    "MCP010-manifest changed, config not regenerated": [
        (
            E,
            ".devcontainer/devcontainer.json",
            12,
            "devcontainer.json differs from what the manifests generate (servers memory)",
            "edit the manifest in mcp/<name>/config/ and run `invoke mcp.config`",
        ),
        (
            E,
            ".mcp.json",
            2,
            ".mcp.json differs from what the manifests generate",
            "edit the manifest in mcp/<name>/config/ and run `invoke mcp.config`",
        ),
        (
            E,
            ".vscode/mcp.json",
            10,
            "mcp.json differs from what the manifests generate",
            "edit the manifest in mcp/<name>/config/ and run `invoke mcp.config`",
        ),
    ],
    "MCP009-name differs from folder": [
        (
            E,
            ".devcontainer/devcontainer.json",
            12,
            "server memories has a manifest but is missing from devcontainer.json",
            "run `invoke mcp.config` to regenerate the client configs",
        ),
        (
            E,
            ".devcontainer/mcp/memory/config/memory.yml",
            1,
            "manifest name 'memories' in folder mcp/memory/",
            "set name: memory",
        ),
    ],
    "MCP009-server missing from devcontainer.json": [
        (
            E,
            ".devcontainer/devcontainer.json",
            11,
            "server memory has a manifest but is missing from devcontainer.json",
            "run `invoke mcp.config` to regenerate the client configs",
        ),
    ],
    "CMP001-no healthcheck": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            3,
            "service db has no healthcheck",
            "add healthcheck: {test: [...], interval, timeout, retries, start_period}",
        ),
    ],
    "CMP001-disabled healthcheck": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            10,
            "service db disables its healthcheck",
            "give it a healthcheck test that proves the service answers",
        ),
    ],
    "CMP002-no restart": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            3,
            "service db has no restart policy",
            "add restart: unless-stopped",
        ),
    ],
    "CMP003-env_file from repo root": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            43,
            "services.devcontainer.env_file: env_file '.devcontainer/devcontainer.env' resolves to .devcontainer/.devcontainer/devcontainer.env, which does not exist",
            "paths in docker-compose.mcp.yml are relative to .devcontainer/: write devcontainer.env",
        ),
    ],
    "CMP003-dockerComposeFile from repo root": [
        (
            E,
            ".devcontainer/devcontainer.json",
            3,
            "dockerComposeFile[0]: dockerComposeFile '.devcontainer/docker-compose.mcp.yml' resolves to .devcontainer/.devcontainer/docker-compose.mcp.yml, which does not exist",
            "paths in devcontainer.json are relative to .devcontainer/: write docker-compose.mcp.yml",
        ),
    ],
    "CMP004-outside subnet": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            26,
            "db: 172.21.0.20 is outside mcp-cluster's subnet 172.20.0.0/16",
            "pick an address inside 172.20.0.0/16",
        ),
    ],
    "CMP004-clash": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            55,
            "devcontainer and db both claim 172.20.0.20",
            "give every service its own address",
        ),
    ],
    "CMP004-gateway": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            26,
            "db: 172.20.0.1 is the gateway, network or broadcast address",
            "pick a host address",
        ),
    ],
    "CMP005-no ip_range": [
        (
            W,
            ".devcontainer/docker-compose.mcp.yml",
            26,
            "mcp-cluster has static addresses but no ip_range",
            "add ipam.config[].ip_range (e.g. 172.20.128.0/17) that excludes them",
        ),
        (
            W,
            ".devcontainer/docker-compose.mcp.yml",
            55,
            "mcp-cluster has static addresses but no ip_range",
            "add ipam.config[].ip_range (e.g. 172.20.128.0/17) that excludes them",
        ),
    ],
    "CMP005-static inside range": [
        (
            W,
            ".devcontainer/docker-compose.mcp.yml",
            26,
            "db: 172.20.200.20 lies inside the dynamic ip_range",
            "move the address out of ip_range",
        ),
    ],
    "CMP007-address variable drift": [
        (
            E,
            ".devcontainer/devcontainer.env",
            2,
            "DB_IP=172.20.0.21 but db has 172.20.0.20",
            "make the two agree",
        ),
    ],
    "CMP007-stale address variable": [
        (
            W,
            ".devcontainer/devcontainer.env",
            4,
            "FILESYSTEM_MCP_IP names no service with a static address (stale?)",
            "remove it, or give the service that address",
        ),
    ],
    "CMP008-GPU on devcontainer besides the GPU service": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            65,
            "service devcontainer reserves a GPU",
            "reserve GPUs only for db, the GPU service (the first that reserves one)",
        ),
    ],
    "CMP008-gpus: on a second service": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            65,
            "service devcontainer reserves a GPU (gpus:)",
            "reserve GPUs only for db, the GPU service (the first that reserves one)",
        ),
    ],
    "CMP008-NVIDIA env via shared env file": [
        (
            E,
            ".devcontainer/devcontainer.env",
            4,
            "NVIDIA_VISIBLE_DEVICES reaches service devcontainer",
            "set NVIDIA_* only in the GPU service's own environment: (never in a shared env_file)",
        ),
    ],
    "CMP009-privileged without reason": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            30,
            "service db is privileged without a stated reason",
            "drop privileged, or add x-security: {privileged: <why it is needed>}",
        ),
    ],
    "CMP009-docker.sock without reason": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            48,
            "service devcontainer mounts the Docker socket without a stated reason",
            "remove the mount, or add x-security: {docker-socket: <why>}",
        ),
    ],
    "CMP010-all interfaces": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            29,
            "service db publishes 5432 on all interfaces",
            'bind to loopback: "127.0.0.1:5432:5432"',
        ),
    ],
    "CMP011-version key": [
        (
            W,
            ".devcontainer/docker-compose.mcp.yml",
            75,
            "`version:` is obsolete in Compose v2",
            "delete the version key",
        ),
    ],
    "CMP011-GF_INSTALL_PLUGINS": [
        (
            W,
            ".devcontainer/docker-compose.mcp.yml",
            21,
            "GF_INSTALL_PLUGINS is deprecated since Grafana 12.1",
            "use GF_PLUGINS_PREINSTALL",
        ),
    ],
    "CMP012-mysqladmin on mariadb 11": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            10,
            "db: MariaDB 11 images have no mysqladmin",
            "use healthcheck.sh --connect --innodb_initialized",
        ),
    ],
    "CMP012-buildctl without addr": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            10,
            "db: buildctl dials the unix socket, but buildkitd listens on tcp only",
            "use buildctl --addr tcp://127.0.0.1:1234 debug workers",
        ),
    ],
    "CMP013-unknown dependency": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            48,
            "devcontainer depends on unknown service cache",
            "fix the name or remove the dependency",
        ),
    ],
    "CMP013-profiled dependency": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            48,
            "devcontainer requires db, which only starts with profile data",
            "add required: false to the dependency",
        ),
    ],
    "CMP013-started not healthy": [
        (
            W,
            ".devcontainer/docker-compose.mcp.yml",
            46,
            "devcontainer starts before db is healthy",
            "use condition: service_healthy",
        ),
    ],
    "CMP014-EPHEMERAL=false": [
        (
            E,
            ".devcontainer/devcontainer.env",
            4,
            "EPHEMERAL=false still turns ephemeral mode on",
            "leave EPHEMERAL unset to disable it; set EPHEMERAL=1 to enable it",
        ),
    ],
    "SEC001-password in env file": [
        (
            E,
            ".devcontainer/devcontainer.env",
            4,
            "DB_PASSWORD has a value",
            "keep the value out of the repo: compose secrets / ${VAR} from the shell or the gitignored .env",
        ),
    ],
    "SEC001-default password in compose": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            21,
            "service db: POSTGRES_PASSWORD has a literal value or default",
            "keep the value out of the repo: compose secrets / ${VAR} from the shell or the gitignored .env",
        ),
    ],
    "SEC001-password in Dockerfile": [
        (
            E,
            ".devcontainer/containers/db/Dockerfile",
            4,
            "ENV POSTGRES_PASSWORD bakes a secret into the image",
            "pass it at run time, or as a BuildKit secret while building",
        ),
    ],
    "SEC001-token in manifest env": [
        (
            E,
            ".devcontainer/mcp/github/config/github.yml",
            8,
            "GITHUB_PERSONAL_ACCESS_TOKEN is in env:, where values are committed",
            "list it under secrets: (passed by reference)",
        ),
    ],
    "SEC001-literal token in client": [
        (
            E,
            ".devcontainer/devcontainer.json",
            54,
            "server github: GITHUB_PERSONAL_ACCESS_TOKEN has a literal value",
            "use ${input:...} in .vscode/mcp.json or ${localEnv:VAR}",
        ),
    ],
    "SEC002-token pattern": [
        (
            E,
            ".devcontainer/docs/README.md",
            12,
            "a credential is written in this file",
            "remove it, revoke it, and pass it by reference",
        ),
    ],
    "SEC003-CA copied into layer": [
        (
            E,
            ".devcontainer/containers/db/Dockerfile",
            4,
            "COPY puts a certificate, key or env file into a layer",
            "RUN --mount=type=secret,id=NAME ... and pass --secret at build time",
        ),
    ],
    "DF001-install without cache": [
        (
            E,
            ".devcontainer/containers/db/Dockerfile",
            4,
            "installs packages without a cache mount",
            "add --mount=type=cache,target=<the tool's cache dir> to this RUN",
        ),
    ],
    "DF002-npm -g as vscode": [
        (
            E,
            ".devcontainer/Dockerfile",
            10,
            "npm install -g as a non-root user fails with EACCES",
            "install global packages before USER",
        ),
    ],
    "DF002-pip as vscode": [
        (
            E,
            ".devcontainer/Dockerfile",
            10,
            "pip install as a non-root user lands in ~/.local, off PATH",
            "install into a venv before USER, or into a user-owned venv on PATH",
        ),
    ],
    "DF002-sudoers without sudo": [
        (
            E,
            ".devcontainer/Dockerfile",
            8,
            "writes /etc/sudoers but sudo is never installed",
            "install sudo and write /etc/sudoers.d/<user>, or drop it",
        ),
    ],
    "DF003-cuda without OS suffix": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            5,
            "nvidia/cuda:12.9.0-base: nvidia/cuda tags carry an OS suffix",
            "use e.g. 12.9.0-base-ubuntu24.04",
        ),
    ],
    "DF003-free-threaded python tag": [
        (
            E,
            ".devcontainer/containers/db/Dockerfile",
            2,
            "python:3.14t-slim: there are no free-threaded python images",
            "build CPython with --disable-gil or install 3.14t with uv",
        ),
    ],
    "DF003-pre-release": [
        (
            W,
            ".devcontainer/containers/db/Dockerfile",
            2,
            "python:3.15.0a1-slim-bookworm: a pre-release tag",
            "use the final release line",
        ),
    ],
    "DF004-syntax directive": [
        (
            W,
            ".devcontainer/containers/db/Dockerfile",
            1,
            "# syntax= needs the frontend image from a registry",
            "drop the directive; the engine's built-in frontend is used",
        ),
    ],
    "DF005-COPY source excluded by .dockerignore": [
        (
            E,
            ".devcontainer/containers/db/Dockerfile",
            3,
            "COPY source config/postgresql.conf is excluded by .dockerignore in the build context "
            ".devcontainer/containers/db",
            "add a `!config/postgresql.conf` line to that context's .dockerignore",
        ),
    ],
    "CMP016-BuildKit on TCP with a certificate but no CA": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            30,
            "service db listens on TCP without --tlscacert, --tlskey",
            "pass --tlscacert, --tlscert and --tlskey (`invoke buildkit.certs` makes them), "
            "or listen on a unix socket only",
        ),
    ],
    "DF006-build target no stage has": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            35,
            "service devcontainer: build target 'dev' is not a stage of .devcontainer/Dockerfile",
            "name one of its stages: cpython",
        ),
    ],
    "IMG001-a lock from another profile, with a stale name, a foreign registry and an unknown image": [
        (
            E,
            ".devcontainer/images.lock.json",
            4,
            "pins images built with the offline profile, but the stack runs online",
            "push the images (`invoke build.all --push`), then run `invoke images.lock` again "
            "with the online profile, or switch with `invoke env.init --profile offline`",
        ),
        (
            E,
            ".devcontainer/images.lock.json",
            10,
            f"pins filesystem at evil.io/x@sha256:{'ab' * 32}, which is not in its registry r.io/t",
            RELOCK,
        ),
        (
            E,
            ".devcontainer/images.lock.json",
            14,
            "pins ghost, which the stack does not build",
            RELOCK,
        ),
        (
            E,
            ".devcontainer/images.lock.json",
            18,
            "pins memory as mini-memory:old, but the stack builds it as mini-memory:latest",
            RELOCK,
        ),
    ],
    "VOL001-database without volume": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            3,
            "service db keeps its data in /var/lib/postgresql/data, which is not on a volume",
            "mount a named volume at /var/lib/postgresql/data",
        ),
    ],
    "VOL001-memory without MEMORY_FILE_PATH": [
        (
            E,
            ".devcontainer/mcp/memory/config/memory.yml",
            1,
            "server memory writes its graph inside the package folder; it is lost when the container exits",
            "set MEMORY_FILE_PATH to a file on the mounted volume, e.g. /memory/memory.jsonl",
        ),
    ],
    "VOL001-memory file off the volume": [
        (
            E,
            ".devcontainer/mcp/memory/config/memory.yml",
            1,
            "server memory: MEMORY_FILE_PATH=/app/memory.jsonl is not on a mounted volume",
            "mount a named volume at its folder",
        ),
    ],
    "VOL002-undeclared volume": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            24,
            "service db mounts undeclared volume pgdata",
            "declare volumes.pgdata with name: pgdata",
        ),
    ],
    "VOL002-volume without name": [
        (
            W,
            ".devcontainer/docker-compose.mcp.yml",
            68,
            "volume history will be called mini_history",
            "add name: history so backups and stdio servers find it",
        ),
    ],
    "VOL003-mount point not owned": [
        (
            W,
            ".devcontainer/docker-compose.mcp.yml",
            30,
            "service devcontainer runs as vscode but its image does not create /home/vscode/.history for that user",
            "RUN mkdir -p /home/vscode/.history && chown vscode /home/vscode/.history in the Dockerfile",
        ),
    ],
    "DOC001-too long": [
        (
            E,
            ".devcontainer/docs/README.md",
            101,
            "111 lines (limit 100)",
            "split it and link the parts",
        ),
    ],
    "MCP012-privileged in a client's launch": [
        (
            E,
            ".devcontainer/devcontainer.json",
            97,
            "server memory: --privileged is not an allowed launch option",
            "remove --privileged",
        ),
    ],
    "MCP012-host path as a manifest's volume": [
        (
            E,
            ".devcontainer/mcp/memory/config/memory.yml",
            10,
            "server memory mounts '/', not a named volume of the stack",
            "declare the volume under `volumes:` in the compose file (host paths are refused; the workspace is `type: workspace`)",
        ),
    ],
    "MCP012-probe options beyond the host network": [
        (
            E,
            ".devcontainer/mcp/memory/config/memory.yml",
            18,
            "probe of memory: --pid host is not an allowed launch option",
            "remove --pid; a workspace mount or user comes from the manifest's mounts/user (the launcher adds them)",
        ),
    ],
    "MCP013-env file with a password": [
        (
            E,
            ".devcontainer/.env",
            None,
            ".devcontainer/.env is an env file that sets DB_PASSWORD, visible to filesystem",
            "add `.devcontainer/.env` (or a pattern) to .mcpignore",
        ),
    ],
    "MCP014-a path with a typo": [
        (
            E,
            ".mcpignore",
            1,
            "`/.devcontainer/.evn` matches no file here and nothing the stack writes",
            "fix the path (it is relative to the workspace root) or remove the line",
        ),
    ],
    "MCP014-an unclosed bracket": [
        (
            E,
            ".mcpignore",
            2,
            "`secrets[0-9` can match nothing (git reads an unclosed `[`, an unknown `[:class:]` "
            "or a trailing `\\` that way)",
            "close the bracket, or escape a literal `[` or `\\` with a backslash",
        ),
    ],
    "MCP011-launch without --cap-drop ALL": [
        (
            E,
            ".devcontainer/devcontainer.json",
            97,
            "server memory starts without --cap-drop ALL (cap_drop)",
            "run `invoke mcp.config`, or declare `hardening: {cap_drop: reason}` in .devcontainer/mcp/memory/config/memory.yml",
        ),
    ],
    "MCP011-portable launch without --read-only": [
        (
            E,
            ".mcp.json",
            3,
            "server filesystem starts without --read-only --tmpfs (read_only)",
            "run `invoke mcp.config`, or declare `hardening: {read_only: reason}` in .devcontainer/mcp/filesystem/config/filesystem.yml",
        ),
    ],
    "CMP015-service depends on itself": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            31,
            "dependency cycle: db -> db; compose cannot start any of them",
            "remove one dependency of the cycle (a tier waits only on lower tiers)",
        ),
    ],
    "DOC002-broken link": [
        (
            E,
            ".devcontainer/docs/README.md",
            12,
            "link setup/missing.md leads nowhere",
            "fix the path (relative to this file) or remove the link",
        ),
    ],
    "DOC003-service not documented": [
        (
            W,
            ".devcontainer/docker-compose.mcp.yml",
            30,
            "service devcontainer is not mentioned in docs/",
            "describe it in docs/services/services-reference.md",
        ),
    ],
    "DOC004-a server's row missing from the table": [
        (
            E,
            ".devcontainer/docs/README.md",
            5,
            "the MCP servers table differs from the manifests (missing or stale: memory)",
            "run `invoke mcp.config` (edit the manifest, not the table)",
        ),
    ],
    "DOC004-a row the manifest no longer generates": [
        (
            E,
            ".devcontainer/docs/README.md",
            5,
            "the MCP servers table differs from the manifests (missing or stale: memory; not generated: memory)",
            "run `invoke mcp.config` (edit the manifest, not the table)",
        ),
    ],
    "DOC004-begin marker without end": [
        (
            E,
            ".devcontainer/docs/README.md",
            5,
            "the MCP servers table has a begin marker but no end marker",
            "put <!-- mcp-servers:end --> on its own line after the table",
        ),
    ],
    "DOC004-no docs table at all": [
        (
            E,
            ".devcontainer/docs",
            None,
            "no doc in docs/ holds the generated MCP servers table",
            "put the lines `<!-- mcp-servers:begin -->` and `<!-- mcp-servers:end -->` in docs/services/mcp-servers-reference.md and run `invoke mcp.config`",
        ),
    ],
    "ENV001-undefined variable": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            4,
            "services.db.image: ${DB_TAG} is not defined",
            "define DB_TAG in devcontainer.env or write ${DB_TAG:-value}",
        ),
    ],
    "ENV002-default not listed": [
        (
            W,
            ".devcontainer/docker-compose.mcp.yml",
            4,
            "DB_TAG has a default here but is listed nowhere",
            "add DB_TAG to devcontainer.env (or a profile's env file)",
        ),
    ],
    "ENV002-secret source not in .env.example": [
        (
            W,
            ".devcontainer/docker-compose.mcp.yml",
            73,
            "secret db_password reads DB_PASSWORD, which .env.example does not list",
            "add `DB_PASSWORD=` to .devcontainer/.env.example",
        ),
    ],
    "CMP015-a cycle through three services and links": [
        (
            E,
            ".devcontainer/docker-compose.mcp.yml",
            61,
            "dependency cycle: cache -> db -> devcontainer -> cache; compose cannot start any of them",
            "remove one dependency of the cycle (a tier waits only on lower tiers)",
        ),
    ],
    "DEV001-service that compose does not define": [
        (
            E,
            ".devcontainer/devcontainer.json",
            6,
            "service 'dev' is not a service of .devcontainer/docker-compose.mcp.yml: `devcontainer up` fails",
            "name one of: db, devcontainer",
        ),
    ],
    "DEV001-runServices names an unknown service": [
        (
            E,
            ".devcontainer/devcontainer.json",
            142,
            "runServices 'dbb' is not a service of .devcontainer/docker-compose.mcp.yml: `devcontainer up` fails",
            "name one of: db, devcontainer",
        ),
    ],
    "DEV002-remoteUser the image never creates": [
        (
            E,
            ".devcontainer/devcontainer.json",
            142,
            "remoteUser 'vsc0de' is not a user of service devcontainer's image (it has vscode)",
            "create it in the Dockerfile (useradd -m vsc0de) or name an existing user",
        ),
    ],
    "DEV002-containerUser of an image without build": [
        (
            E,
            ".devcontainer/devcontainer.json",
            142,
            "containerUser 'vscode' is not a user of service devcontainer's image (it has node)",
            "create it in the Dockerfile (useradd -m vscode) or name an existing user",
        ),
    ],
    "DEV003-MCP inputs at the top level": [
        (
            W,
            ".devcontainer/devcontainer.json",
            142,
            "VS Code ignores key 'inputs': the Dev Containers specification has no such top-level key",
            "MCP inputs go under customizations.vscode.mcp.inputs",
        ),
    ],
    "DEV003-a misspelt key": [
        (
            W,
            ".devcontainer/devcontainer.json",
            142,
            "VS Code ignores key 'remoteUsr': the Dev Containers specification has no such top-level key",
            "did you mean 'remoteUser'? Otherwise remove it",
        ),
    ],
    "DEV003-a key like no other": [
        (
            W,
            ".devcontainer/devcontainer.json",
            142,
            "VS Code ignores key 'zqxjv': the Dev Containers specification has no such top-level key",
            "remove it",
        ),
    ],
    "DF007-FROM an undeclared ARG": [
        (
            E,
            ".devcontainer/Dockerfile",
            1,
            "FROM ${BASE_IMAGE}: no ARG declares BASE_IMAGE before the first FROM, so the base is blank and the build fails",
            "declare `ARG BASE_IMAGE=<default image>` at the top of the file, before the first FROM",
        ),
        (
            E,
            ".devcontainer/Dockerfile",
            4,
            "FROM ${BASE_IMAGE}: no ARG declares BASE_IMAGE before the first FROM, so the base is blank and the build fails",
            "declare `ARG BASE_IMAGE=<default image>` at the top of the file, before the first FROM",
        ),
    ],
    "VER005-pinned Dockerfile that is not there": [
        (
            E,
            ".devcontainer/versions.json",
            6,
            "cpython.devcontainer.dockerfile 'images/Dockerfile' not found",
            "name the Dockerfile relative to .devcontainer/, or remove `dockerfile` (the compose service then passes the pin)",
        ),
    ],
}


@pytest.mark.parametrize(
    ("rule_id", "case", "mutate"), CASES, ids=[f"{r}-{c}" for r, c, _ in CASES]
)
def test_each_case_reports_exactly(
    mini: MiniStack, rule_id: str, case: str, mutate: Mutation
) -> None:
    mutate(mini)
    found = [
        (f.severity.value, f.path, f.line, f.message, f.fix)
        for f in findings(mini)
        if f.rule == rule_id
    ]
    key = f"{rule_id}-{case}"
    assert key in EXPECTED, f"add the findings of {key} to EXPECTED: {found}"
    assert found == EXPECTED[key]


def test_every_case_has_its_expectation() -> None:
    assert set(EXPECTED) == {f"{r}-{c}" for r, c, _ in CASES}
