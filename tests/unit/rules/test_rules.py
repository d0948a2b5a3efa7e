"""Each rule: a mutation of the clean stack that trips it; the clean stack trips none."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tasks.model.imagelock import lock_document
from tasks.model.stack import load_stack
from tasks.monitoring.dashboards import PROVIDER_PATH, rendered_files
from tasks.rules.base import RULES, Finding, Severity
from tasks.rules.catalog import run_rules
from tasks.servers.docstable import BEGIN, END
from tests.clirun import REPO, invoke
from tests.ministack import MiniStack

DIGEST = "sha256:" + "ab" * 32

Mutation = Callable[[MiniStack], object]


def findings(mini: MiniStack) -> list[Finding]:
    return run_rules(load_stack(mini.root))


def test_clean_stack_has_no_errors_or_warnings(mini: MiniStack) -> None:
    found = [f for f in findings(mini) if f.severity is not Severity.INFO]
    assert found == []


def _svc(name: str, change: Callable[[dict[str, Any]], object]) -> Mutation:
    return lambda m: m.edit_yaml("docker-compose.mcp.yml", lambda d: change(d["services"][name]))


def _compose(change: Callable[[dict[str, Any]], None]) -> Mutation:
    return lambda m: m.edit_yaml("docker-compose.mcp.yml", change)


def _manifest(name: str, change: Callable[[dict[str, Any]], None]) -> Mutation:
    return lambda m: m.edit_yaml(f"mcp/{name}/config/{name}.yml", change)


def _server(name: str, change: Callable[[dict[str, Any]], None]) -> Mutation:
    return lambda m: m.edit_json(
        "devcontainer.json",
        lambda d: change(d["customizations"]["vscode"]["mcp"]["servers"][name]),
    )


def _devcontainer(values: dict[str, Any]) -> Mutation:
    return lambda m: m.edit_json("devcontainer.json", lambda d: d.update(values))


def _three_service_cycle(data: dict[str, Any]) -> None:
    """db waits on devcontainer, which links to cache, which shares db's network stack."""
    services = data["services"]
    services["cache"] = {"image": "mini-db:latest", "network_mode": "service:db"}
    services["db"]["depends_on"] = {"devcontainer": {"condition": "service_healthy"}}
    services["devcontainer"]["links"] = ["cache"]
    services["devcontainer"].pop("depends_on")


def _versions_dockerfile(dockerfile: str) -> Mutation:
    """The repository's versions.json, its dev container entry pinned in `dockerfile`."""

    def write(m: MiniStack) -> None:
        data = json.loads((REPO / ".devcontainer/versions.json").read_text(encoding="utf-8"))
        data["cpython"]["devcontainer"]["dockerfile"] = dockerfile
        m.put("versions.json", json.dumps(data, indent=2))

    return write


def _append(relative: str, text: str) -> Mutation:
    return lambda m: m.put(relative, (m.folder / relative).read_text() + text)


def _args(name: str, old: str, new: str | None) -> Mutation:
    def change(server: dict[str, Any]) -> None:
        index = server["args"].index(old)
        if new is None:
            del server["args"][index]
        else:
            server["args"][index] = new

    return _server(name, change)


def _all(*mutations: Mutation) -> Mutation:
    def apply(m: MiniStack) -> None:
        for mutation in mutations:
            mutation(m)

    return apply


def _at_root(relative: str, text: str) -> Mutation:
    return lambda m: m.put_root(relative, text)


def _reserve_gpu(service: dict[str, Any]) -> None:
    device = {"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}
    service["deploy"] = {"resources": {"reservations": {"devices": [device]}}}


def _docs_readme(change: Callable[[str], str]) -> Mutation:
    return lambda m: m.put("docs/README.md", change((m.folder / "docs/README.md").read_text()))


def _dashboards(change: Callable[[dict[Any, str]], object]) -> Mutation:
    """db mounts a dashboards folder where Grafana's provider reads; `change` edits the files
    the source gives it before they are written."""

    def apply(m: MiniStack) -> None:
        _svc("db", lambda s: s["volumes"].append(f"./dash:{PROVIDER_PATH}:ro"))(m)
        files = rendered_files(m.folder / "dash")
        change(files)
        for path, text in files.items():
            m.put(f"dash/{path.name}", text)

    return apply


def _prometheus(*targets: str) -> Mutation:
    """A Prometheus service scraping `targets`, and db serving metrics on 9187."""

    def apply(m: MiniStack) -> None:
        jobs = [
            {"job_name": t.split(":")[0], "static_configs": [{"targets": [t]}]} for t in targets
        ]
        m.put("prom/prometheus.yml", yaml.safe_dump({"scrape_configs": jobs}))
        prom = {
            "image": "prom/prometheus:v3",
            "volumes": ["./prom:/etc/prometheus:ro"],
            "x-verify": {"port": 9090, "targets": "/api/v1/targets"},
        }
        _compose(lambda d: d["services"].update(prom=prom))(m)
        _svc("db", lambda s: s.update({"x-verify": {"metrics": 9187}}))(m)

    return apply


def _env_file_on_db(m: MiniStack) -> None:
    _svc("db", lambda s: s.update(env_file=["devcontainer.env"]))(m)


CASES: list[tuple[str, str, Mutation]] = [
    (
        "PY001",
        "compose env on GIL image",
        _svc("db", lambda s: s["environment"].update(PYTHON_GIL="0")),
    ),
    (
        "PY001",
        "shared env file",
        _all(_append("devcontainer.env", "PYTHON_GIL=0\n"), _env_file_on_db),
    ),
    ("PY001", "dockerfile ENV", _append("containers/db/Dockerfile", "ENV PYTHON_GIL=0\n")),
    ("PY002", "PYTHONOPTIMIZE", _append("Dockerfile", "ENV PYTHONOPTIMIZE=2\n")),
    ("PY003", "import-time profiling", _append("devcontainer.env", "PYTHONPROFILEIMPORTTIME=1\n")),
    (
        "PY004",
        "assert check",
        _append("Dockerfile", 'RUN python3 -c "import sys; assert not sys._is_gil_enabled()"\n'),
    ),
    (
        "MCP001",
        "top-level mcpServers",
        lambda m: m.edit_json("devcontainer.json", lambda d: d.update(mcpServers={})),
    ),
    (
        "MCP001",
        "mcp.json mcpServers",
        _at_root(".vscode/mcp.json", '{"mcpServers": {}}'),
    ),
    ("MCP001", ".mcp.json servers", _at_root(".mcp.json", '{"servers": {}}')),
    (
        "MCP002",
        "input in devcontainer.json",
        _server(
            "github",
            lambda s: s["env"].update(GITHUB_PERSONAL_ACCESS_TOKEN="${input:github-token}"),
        ),
    ),
    (
        "MCP003",
        "GITHUB_TOKEN",
        _manifest("github", lambda d: d["secrets"][0].update(name="GITHUB_TOKEN")),
    ),
    (
        "MCP003",
        "dynamic toolsets",
        _manifest("github", lambda d: d["env"].update(GITHUB_DYNAMIC_TOOLSETS="1")),
    ),
    (
        "MCP004",
        "--name",
        _server("memory", lambda s: s["args"].insert(s["args"].index("run") + 1, "--name=x")),
    ),
    ("MCP005", "no -i", _args("memory", "-i", None)),
    ("MCP006", "no allowed dir", _manifest("filesystem", lambda d: d.update(args=[]))),
    ("MCP006", "dir not mounted", _manifest("filesystem", lambda d: d.update(args=["/data"]))),
    (
        "MCP007",
        "workspaceFolder",
        _args("filesystem", "${localWorkspaceFolder}", "${workspaceFolder}"),
    ),
    (
        "MCP008",
        "network without name",
        _compose(lambda d: d["networks"]["mcp-cluster"].pop("name")),
    ),
    ("MCP008", "unknown network", _manifest("memory", lambda d: d.update(network="mcp-net"))),
    (
        "MCP010",
        "hand-edited .vscode/mcp.json",
        _at_root(".vscode/mcp.json", '{"servers": {}, "inputs": []}'),
    ),
    ("MCP010", "missing .mcp.json", lambda m: (m.root / ".mcp.json").unlink()),
    (
        "MCP010",
        "manifest changed, config not regenerated",
        _manifest("memory", lambda d: d.update(image="mini-memory:2")),
    ),
    (
        "MCP009",
        "name differs from folder",
        _manifest("memory", lambda d: d.update(name="memories")),
    ),
    (
        "MCP009",
        "server missing from devcontainer.json",
        lambda m: m.edit_json(
            "devcontainer.json",
            lambda d: d["customizations"]["vscode"]["mcp"]["servers"].pop("memory"),
        ),
    ),
    ("CMP001", "no healthcheck", _svc("db", lambda s: s.pop("healthcheck"))),
    (
        "CMP001",
        "disabled healthcheck",
        _svc("db", lambda s: s.update(healthcheck={"disable": True})),
    ),
    ("CMP002", "no restart", _svc("db", lambda s: s.pop("restart"))),
    (
        "CMP003",
        "env_file from repo root",
        _svc("devcontainer", lambda s: s.update(env_file=[".devcontainer/devcontainer.env"])),
    ),
    (
        "CMP003",
        "dockerComposeFile from repo root",
        lambda m: m.edit_json(
            "devcontainer.json",
            lambda d: d.update(dockerComposeFile=[".devcontainer/docker-compose.mcp.yml"]),
        ),
    ),
    (
        "CMP004",
        "outside subnet",
        _svc("db", lambda s: s["networks"]["mcp-cluster"].update(ipv4_address="172.21.0.20")),
    ),
    (
        "CMP004",
        "clash",
        _svc(
            "devcontainer",
            lambda s: s["networks"]["mcp-cluster"].update(ipv4_address="172.20.0.20"),
        ),
    ),
    (
        "CMP004",
        "gateway",
        _svc("db", lambda s: s["networks"]["mcp-cluster"].update(ipv4_address="172.20.0.1")),
    ),
    (
        "CMP005",
        "no ip_range",
        _compose(lambda d: d["networks"]["mcp-cluster"]["ipam"]["config"][0].pop("ip_range")),
    ),
    (
        "CMP005",
        "static inside range",
        _svc("db", lambda s: s["networks"]["mcp-cluster"].update(ipv4_address="172.20.200.20")),
    ),
    (
        "CMP007",
        "address variable drift",
        lambda m: m.replace("devcontainer.env", "DB_IP=172.20.0.20", "DB_IP=172.20.0.21"),
    ),
    (
        "CMP007",
        "stale address variable",
        _append("devcontainer.env", "FILESYSTEM_MCP_IP=172.20.0.30\n"),
    ),
    (
        "CMP008",
        "GPU on devcontainer besides the GPU service",
        _all(_svc("db", _reserve_gpu), _svc("devcontainer", _reserve_gpu)),
    ),
    (
        "CMP008",
        "gpus: on a second service",
        _all(_svc("db", _reserve_gpu), _svc("devcontainer", lambda s: s.update(gpus="all"))),
    ),
    (
        "CMP008",
        "NVIDIA env via shared env file",
        _append("devcontainer.env", "NVIDIA_VISIBLE_DEVICES=all\n"),
    ),
    ("CMP009", "privileged without reason", _svc("db", lambda s: s.update(privileged=True))),
    ("CMP009", "docker.sock without reason", _svc("devcontainer", lambda s: s.pop("x-security"))),
    ("CMP010", "all interfaces", _svc("db", lambda s: s.update(ports=["5432:5432"]))),
    ("CMP011", "version key", _compose(lambda d: d.update(version="3.8"))),
    (
        "CMP011",
        "GF_INSTALL_PLUGINS",
        _svc("db", lambda s: s["environment"].update(GF_INSTALL_PLUGINS="x")),
    ),
    (
        "CMP012",
        "mysqladmin on mariadb 11",
        _svc(
            "db",
            lambda s: (
                s["build"]["args"].update(BASE_IMAGE="mariadb:11.8"),
                s["healthcheck"].update(test=["CMD", "mysqladmin", "ping"]),
                s.update(volumes=["db-data:/var/lib/mysql"]),
            ),
        ),
    ),
    (
        "CMP012",
        "buildctl without addr",
        _svc(
            "db",
            lambda s: (
                s.update(command=["--addr", "tcp://0.0.0.0:1234"]),
                s["healthcheck"].update(test=["CMD", "buildctl", "debug", "info"]),
            ),
        ),
    ),
    (
        "CMP013",
        "unknown dependency",
        _svc(
            "devcontainer", lambda s: s["depends_on"].update(cache={"condition": "service_healthy"})
        ),
    ),
    ("CMP013", "profiled dependency", _svc("db", lambda s: s.update(profiles=["data"]))),
    (
        "CMP013",
        "started not healthy",
        _svc("devcontainer", lambda s: s["depends_on"]["db"].update(condition="service_started")),
    ),
    ("CMP014", "EPHEMERAL=false", _append("devcontainer.env", "EPHEMERAL=false\n")),
    ("SEC001", "password in env file", _append("devcontainer.env", "DB_PASSWORD=hunter2\n")),
    (
        "SEC001",
        "default password in compose",
        _svc("db", lambda s: s["environment"].update(POSTGRES_PASSWORD="${DB_PASSWORD:-admin}")),
    ),
    (
        "SEC001",
        "password in Dockerfile",
        _append("containers/db/Dockerfile", "ENV POSTGRES_PASSWORD=postgres\n"),
    ),
    (
        "SEC001",
        "token in manifest env",
        _manifest("github", lambda d: d["env"].update(GITHUB_PERSONAL_ACCESS_TOKEN="x")),
    ),
    (
        "SEC001",
        "literal token in client",
        _server("github", lambda s: s["env"].update(GITHUB_PERSONAL_ACCESS_TOKEN="abc")),
    ),
    ("SEC002", "token pattern", _append("docs/README.md", "token: ghp_" + "a1" * 18 + "\n")),
    (
        "SEC003",
        "CA copied into layer",
        _append("containers/db/Dockerfile", "COPY ca.crt /usr/local/share/ca-certificates/\n"),
    ),
    (
        "DF001",
        "install without cache",
        _append("containers/db/Dockerfile", "RUN apt-get update && apt-get install -y curl\n"),
    ),
    (
        "DF002",
        "npm -g as vscode",
        _append("Dockerfile", "RUN --mount=type=cache,target=/x npm install -g typescript\n"),
    ),
    (
        "DF002",
        "pip as vscode",
        _append("Dockerfile", "RUN --mount=type=cache,target=/x pip install ruff\n"),
    ),
    (
        "DF002",
        "sudoers without sudo",
        lambda m: m.replace(
            "Dockerfile",
            "RUN useradd",
            "RUN echo 'vscode ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers && useradd",
        ),
    ),
    (
        "DF003",
        "cuda without OS suffix",
        _svc("db", lambda s: s["build"]["args"].update(BASE_IMAGE="nvidia/cuda:12.9.0-base")),
    ),
    (
        "DF003",
        "free-threaded python tag",
        lambda m: m.replace("containers/db/Dockerfile", "postgres:17-trixie", "python:3.14t-slim"),
    ),
    (
        "DF003",
        "pre-release",
        lambda m: m.replace(
            "containers/db/Dockerfile", "postgres:17-trixie", "python:3.15.0a1-slim-bookworm"
        ),
    ),
    (
        "DF004",
        "syntax directive",
        lambda m: m.put(
            "containers/db/Dockerfile",
            "# syntax=docker/dockerfile:1\n" + (m.folder / "containers/db/Dockerfile").read_text(),
        ),
    ),
    (
        "DF005",
        "COPY source excluded by .dockerignore",
        lambda m: m.put("containers/db/.dockerignore", "*\n"),
    ),
    (
        "DF006",
        "build target no stage has",
        _svc("devcontainer", lambda s: s["build"].update(target="dev")),
    ),
    (
        "CMP016",
        "BuildKit on TCP with a certificate but no CA",
        _svc("db", lambda s: s.update(command=["--addr", "tcp://0.0.0.0:1234", "--tlscert=/c"])),
    ),
    (
        "IMG001",
        "a lock from another profile, with a stale name, a foreign registry and an unknown image",
        lambda m: m.put(
            "images.lock.json",
            lock_document(
                "r.io/t",
                "offline",
                {
                    "memory": ("mini-memory:old", f"r.io/t/mini-memory@{DIGEST}"),
                    "filesystem": ("mini-filesystem:latest", f"evil.io/x@{DIGEST}"),
                    "ghost": ("ghost:latest", f"r.io/t/ghost@{DIGEST}"),
                    "db": ("mini-db:latest", f"r.io/t/mini-db@{DIGEST}"),
                },
            ),
        ),
    ),
    ("VOL001", "database without volume", _svc("db", lambda s: s.pop("volumes"))),
    ("VOL001", "memory without MEMORY_FILE_PATH", _manifest("memory", lambda d: d.pop("env"))),
    (
        "VOL001",
        "memory file off the volume",
        _manifest("memory", lambda d: d["env"].update(MEMORY_FILE_PATH="/app/memory.jsonl")),
    ),
    (
        "VOL002",
        "undeclared volume",
        _svc("db", lambda s: s.update(volumes=["pgdata:/var/lib/postgresql/data"])),
    ),
    ("VOL002", "volume without name", _compose(lambda d: d["volumes"]["history"].pop("name"))),
    (
        "VOL003",
        "mount point not owned",
        lambda m: m.replace(
            "Dockerfile",
            "mkdir -p /home/vscode/.history && chown vscode /home/vscode/.history",
            "true",
        ),
    ),
    (
        "DOC001",
        "too long",
        lambda m: m.put(
            "docs/README.md", (m.folder / "docs/README.md").read_text() + "line\n" * 100
        ),
    ),
    (
        "MCP011",
        "launch without --cap-drop ALL",
        _server(
            "memory",
            lambda s: s.update(args=[a for a in s["args"] if a not in ("--cap-drop", "ALL")]),
        ),
    ),
    (
        "MCP011",
        "portable launch without --read-only",
        lambda m: m.put_root(
            ".mcp.json", (m.root / ".mcp.json").read_text().replace('"--read-only",', "", 1)
        ),
    ),
    (
        "MCP012",
        "privileged in a client's launch",
        _server("memory", lambda s: s["args"].insert(s["args"].index("run") + 1, "--privileged")),
    ),
    (
        "MCP012",
        "host path as a manifest's volume",
        _manifest("memory", lambda d: d["mounts"][0].update(source="/")),
    ),
    (
        "MCP012",
        "probe options beyond the host network",
        _manifest("memory", lambda d: d.update(probe={"tool": "t", "docker_args": ["--pid=host"]})),
    ),
    ("MCP013", "env file with a password", lambda m: m.put(".env", "DB_PASSWORD=hunter2\n")),
    ("MCP014", "a path with a typo", _at_root(".mcpignore", "/.devcontainer/.evn\n")),
    ("MCP014", "an unclosed bracket", _at_root(".mcpignore", "# keys\nsecrets[0-9\n")),
    (
        "CMP015",
        "service depends on itself",
        _svc("db", lambda s: s.update(depends_on={"db": {"condition": "service_healthy"}})),
    ),
    ("CMP015", "a cycle through three services and links", _compose(_three_service_cycle)),
    ("DEV001", "service that compose does not define", _devcontainer({"service": "dev"})),
    ("DEV001", "runServices names an unknown service", _devcontainer({"runServices": ["dbb"]})),
    ("DEV002", "remoteUser the image never creates", _devcontainer({"remoteUser": "vsc0de"})),
    (
        "DEV002",
        "containerUser of an image without build",
        lambda m: (
            _svc("devcontainer", lambda s: (s.pop("build"), s.update(image="node:22-slim")))(m),
            _devcontainer({"containerUser": "vscode"})(m),
        ),
    ),
    ("DEV003", "MCP inputs at the top level", _devcontainer({"inputs": []})),
    ("DEV003", "a misspelt key", _devcontainer({"remoteUsr": "vscode"})),
    ("DEV003", "a key like no other", _devcontainer({"zqxjv": 1})),
    (
        "DF007",
        "FROM an undeclared ARG",
        lambda m: m.replace("Dockerfile", "ARG BASE_IMAGE=debian:trixie-slim\n", ""),
    ),
    ("VER005", "pinned Dockerfile that is not there", _versions_dockerfile("images/Dockerfile")),
    ("DOC002", "broken link", _append("docs/README.md", "[gone](setup/missing.md)\n")),
    (
        "MON001",
        "hand-edited dashboard",
        _dashboards(
            lambda f: f.update({p: t.replace("Error ratio", "Errors") for p, t in f.items()})
        ),
    ),
    ("MON001", "missing dashboard", _dashboards(lambda f: f.popitem())),
    ("MON002", "a service with metrics Prometheus does not scrape", _prometheus("prom:9090")),
    ("MON002", "a target that is no service", _prometheus("db:9187", "gone:9100")),
    ("MON002", "a target on another port", _prometheus("db:9100")),
    (
        "DOC003",
        "service not documented",
        lambda m: m.put("docs/README.md", "# Mini\n\ndb, filesystem, memory, github\n"),
    ),
    (
        "DOC004",
        "a server's row missing from the table",
        _docs_readme(lambda t: "\n".join(x for x in t.split("\n") if "[memory](" not in x)),
    ),
    (
        "DOC004",
        "a row the manifest no longer generates",
        _manifest("memory", lambda d: d.update(image="mini-memory:2")),
    ),
    ("DOC004", "begin marker without end", _docs_readme(lambda t: t.replace(END, ""))),
    ("DOC004", "no docs table at all", _docs_readme(lambda t: t.split(BEGIN)[0])),
    ("ENV001", "undefined variable", _svc("db", lambda s: s.update(image="mini-db:${DB_TAG}"))),
    (
        "ENV002",
        "default not listed",
        _svc("db", lambda s: s.update(image="mini-db:${DB_TAG:-latest}")),
    ),
    (
        "ENV002",
        "secret source not in .env.example",
        lambda m: m.replace(".env.example", "DB_PASSWORD=\n", ""),
    ),
]


@pytest.mark.parametrize(
    ("rule_id", "case", "mutate"), CASES, ids=[f"{r}-{c}" for r, c, _ in CASES]
)
def test_mutation_trips_rule(mini: MiniStack, rule_id: str, case: str, mutate: Mutation) -> None:
    mutate(mini)
    hits = [f for f in findings(mini) if f.rule == rule_id]
    assert hits, f"{rule_id} did not fire for: {case}"
    assert all(h.path and h.message and h.fix for h in hits)


def test_every_rule_has_a_tripping_case() -> None:
    from tasks.rules import catalog  # noqa: F401

    # The VER rules need the real versions.json and Dockerfiles: tests/unit/rules/test_versions.py.
    elsewhere = {"CMP006", "VER001", "VER002", "VER003", "VER004"}
    tested = {rule_id for rule_id, _, _ in CASES} | elsewhere
    assert set(RULES) == tested


def test_pool_overlap_is_a_note_and_quiet_elsewhere(mini: MiniStack) -> None:
    assert [f.severity for f in findings(mini) if f.rule == "CMP006"] == [Severity.INFO]
    mini.edit_yaml(
        "docker-compose.mcp.yml",
        lambda d: d["networks"]["mcp-cluster"]["ipam"]["config"][0].update(
            subnet="10.99.0.0/16", ip_range="10.99.128.0/17", gateway="10.99.0.1"
        ),
    )
    assert not [f for f in findings(mini) if f.rule == "CMP006"]


def test_secret_values_never_appear_in_findings(mini: MiniStack) -> None:
    _append("devcontainer.env", "DB_PASSWORD=hunter2-very-secret\n")(mini)
    assert all("hunter2" not in f.message + f.fix for f in findings(mini))


def test_a_declared_hardening_exception_is_not_a_finding(mini: MiniStack) -> None:
    path = mini.folder / "mcp/memory/config/memory.yml"
    path.write_text(
        path.read_text() + "hardening: {read_only: writes its graph next to the code}\n"
    )
    assert invoke("mcp.config", "--root", str(mini.root)).returncode == 0
    assert not [f for f in findings(mini) if f.rule in ("MCP011", "MCP010")]
    memory = json.loads((mini.root / ".vscode/mcp.json").read_text())["servers"]["memory"]["args"]
    assert "--read-only" not in memory and "--cap-drop" in memory


def test_a_hardening_exception_needs_a_reason(mini: MiniStack) -> None:
    path = mini.folder / "mcp/memory/config/memory.yml"
    path.write_text(path.read_text() + "hardening: {read_only: ''}\n")
    result = invoke("check", "--root", str(mini.root))
    message = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 1 and "[hardening.read_only]" in message, message
