"""The monitoring tier on the real engine, each piece started as the compose file starts it
(its command, user, capabilities, environment) under names of its own: promtool on the
configuration and the rule tests, the exporters' image reading an audit volume and the engine,
the prober probing a workspace's config, and the databases' monitoring accounts."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tasks.model.compose import Service
from tasks.model.stack import load_stack
from tests.clirun import REPO

pytestmark = pytest.mark.integration

SUFFIX = secrets.token_hex(4)
PREFIX = f"mcp-test-mon-{SUFFIX}"
LABEL = f"dev.mcp-cluster.test={SUFFIX}"
PROMETHEUS = "mcp-offline/prometheus:2.53"
CONFIG = REPO / ".devcontainer/containers/monitoring/config/prometheus"
CA = "/etc/ssl/certs/ca-certificates.crt"
SERVICES = load_stack(REPO, "offline").compose.services


def docker(
    *args: str, stdin: str | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )


def build(tag: str, context: Path, base: str) -> None:
    """An image of this repository built on an offline stand-in, as build.all builds it."""
    built = subprocess.run(
        ["docker", "build", "-q", "-t", tag, "--label", LABEL, "--build-arg", f"BASE_IMAGE={base}",
         "--secret", f"id=ca,src={CA}", str(context)],
        capture_output=True, text=True, check=False, timeout=1200,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]


def as_composed(service: Service) -> list[str]:
    """The `docker run` options of a compose service's runtime settings (read from the compose
    file, so the test runs what the stack runs)."""
    raw = service.raw
    options = [f"--user={raw['user']}"] if raw.get("user") else []
    options += [f"--cap-drop={c}" for c in raw.get("cap_drop") or []]
    options += [f"--cap-add={c}" for c in raw.get("cap_add") or []]
    options += [f"--security-opt={o}" for o in raw.get("security_opt") or []]
    options += [f"--tmpfs={t}" for t in raw.get("tmpfs") or []]
    options += ["--read-only"] if raw.get("read_only") else []
    for key, value in (raw.get("environment") or {}).items():
        options += ["-e", f"{key}={value}"]
    if raw.get("entrypoint"):
        options += ["--entrypoint", raw["entrypoint"][0]]
    return options


def arguments(service: Service) -> list[str]:
    """What follows the image: the rest of the entrypoint, then the command."""
    entrypoint = service.raw.get("entrypoint") or []
    return [*entrypoint[1:], *service.command]


@pytest.fixture(scope="module")
def network() -> Iterator[str]:
    """A network of this module's own; every container, volume and image it made is removed."""
    name = f"{PREFIX}-net"
    assert docker("network", "create", "--label", LABEL, name).returncode == 0
    yield name
    containers = docker("ps", "-aq", "--filter", f"label={LABEL}").stdout.split()
    if containers:
        docker("rm", "-f", *containers)
    volumes = docker("volume", "ls", "-q", "--filter", f"label={LABEL}").stdout.split()
    if volumes:
        docker("volume", "rm", "-f", *volumes)
    docker("network", "rm", name)
    images = docker("images", "-q", "--filter", f"label={LABEL}").stdout.split()
    if images:
        docker("rmi", "-f", *sorted(set(images)))


@pytest.fixture(scope="module")
def exporters(seeded: None, network: str) -> str:
    """The exporters' image, built on the Python stand-in."""
    tag = f"{PREFIX}-exporters:latest"
    build(tag, REPO / ".devcontainer/containers/monitoring/exporters", "mcp-offline/python:3.13")
    return tag


def start(name: str, network: str, image: str, *options: str, args: tuple[str, ...] = ()) -> str:
    container = f"{PREFIX}-{name}"
    ran = docker("run", "-d", "--name", container, "--label", LABEL, "--network", network,
                 *options, image, *args)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return container


def metrics(container: str, port: int, want: str, seconds: float = 60) -> str:
    """The container's metrics once they contain `want` (the last text otherwise)."""
    deadline = time.monotonic() + seconds
    text = ""
    while time.monotonic() < deadline:
        text = docker("exec", container, "wget", "-qO-", f"http://127.0.0.1:{port}/metrics").stdout
        if want in text:
            break
        time.sleep(1)
    return text


# ---------------------------------------------------------------- promtool


def promtool(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return docker("run", "--rm", "--label", LABEL, "-v", f"{folder}:/etc/prometheus:ro",
                  "--entrypoint", "promtool", PROMETHEUS, *args)  # fmt: skip


def test_promtool_accepts_the_configuration_the_rules_and_their_tests(seeded: None) -> None:
    checked = promtool(CONFIG, "check", "config", "/etc/prometheus/prometheus.yml")
    assert checked.returncode == 0 and "SUCCESS: 1 rule files found" in checked.stdout, checked
    rules = promtool(CONFIG, "check", "rules", "/etc/prometheus/alerts.yml")
    assert rules.returncode == 0 and "SUCCESS: 8 rules found" in rules.stdout, rules
    tested = promtool(CONFIG, "test", "rules", "/etc/prometheus/alerts.test.yml")
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr


def test_a_rule_that_no_longer_fires_fails_its_test(seeded: None, tmp_path: Path) -> None:
    folder = tmp_path / "prometheus"
    shutil.copytree(CONFIG, folder)
    rules = folder / "alerts.yml"
    rules.write_text(rules.read_text().replace(") > 0.5", ") > 5"))
    tested = promtool(folder, "test", "rules", "/etc/prometheus/alerts.test.yml")
    assert tested.returncode == 1 and "alertname: McpLatencyHigh" in tested.stdout + tested.stderr


# ---------------------------------------------------------------- the stack's own exporters


def audit_volume(files: dict[str, list[dict[str, Any]]]) -> str:
    """A volume laid out as the relays leave it: a sticky 1777 folder of 0600 files owned by
    the servers' uid."""
    volume = f"{PREFIX}-audit-{secrets.token_hex(2)}"
    assert docker("volume", "create", "--label", LABEL, volume).returncode == 0
    for name, records in files.items():
        text = "".join(json.dumps(r) + "\n" for r in records)
        wrote = docker("run", "--rm", "-i", "--label", LABEL, "-v", f"{volume}:/audit",
                       "mcp-offline/debian:trixie", "sh", "-c",
                       f"cat > /audit/{name} && chown 10001:10001 /audit/{name} "
                       f"&& chmod 600 /audit/{name} && chmod 1777 /audit", stdin=text)  # fmt: skip
        assert wrote.returncode == 0, wrote.stderr
    return volume


CALLS: list[dict[str, Any]] = [
    {"kind": "session", "event": "start", "server": "git", "origin": "client"},
    {"kind": "call", "server": "git", "origin": "client", "method": "tools/call", "tool": "git_log",
     "duration_ms": 120.0, "bytes_in": 100, "bytes_out": 300, "outcome": "ok"},
]  # fmt: skip


def exporter_on(volume: str, name: str, network: str, image: str, *, capabilities: bool) -> str:
    """mcp-exporter as composed (or without its added capabilities) on an audit volume, once it
    serves; then the relay appends a call to the file that was there before it started."""
    service = SERVICES["mcp-exporter"]
    options = [o for o in as_composed(service) if capabilities or not o.startswith("--cap-add")]
    container = start(name, network, image, *options, "-v", f"{volume}:/audit",
                      args=tuple(arguments(service)))  # fmt: skip
    assert "mcp_audit_files 1.0" in metrics(container, 9464, "mcp_audit_files 1.0")
    appended = docker("run", "--rm", "-i", "--label", LABEL, "-v", f"{volume}:/audit",
                      "--user", "10001", "mcp-offline/debian:trixie", "sh", "-c",
                      "cat >> /audit/2026-12-07.git.s1.0.jsonl", stdin=json.dumps(CALLS[1]) + "\n")  # fmt: skip
    assert appended.returncode == 0, appended.stderr
    return container


def test_mcp_exporter_reads_and_prunes_the_servers_files_with_two_capabilities(
    exporters: str, network: str
) -> None:
    volume = audit_volume({"2026-12-07.git.s1.0.jsonl": CALLS, "2000-01-01.git.s0.0.jsonl": CALLS})
    container = exporter_on(volume, "mcp-exporter", network, exporters, capabilities=True)
    text = metrics(container, 9464, "mcp_calls_total{")
    counted = ('mcp_calls_total{gen_ai_tool_name="git_log",mcp_method_name="tools/call",'
               'origin="client",outcome="ok",server="git"} 1.0')  # fmt: skip
    assert counted in text, "only the call appended after the start is counted"
    assert "mcp_audit_pruned_files_total 1.0" in text and "mcp_audit_unreadable_files 0.0" in text
    left = docker("run", "--rm", "--label", LABEL, "-v", f"{volume}:/audit:ro",
                  "mcp-offline/debian:trixie", "ls", "/audit").stdout.split()  # fmt: skip
    assert left == ["2026-12-07.git.s1.0.jsonl"], "the file dated 2000 is pruned"


def test_without_its_capabilities_mcp_exporter_reads_nothing_and_says_so(
    exporters: str, network: str
) -> None:
    volume = audit_volume({"2026-12-07.git.s1.0.jsonl": CALLS})
    container = exporter_on(volume, "mcp-exporter-nocap", network, exporters, capabilities=False)
    text = metrics(container, 9464, "mcp_audit_unreadable_files 1.0")
    assert "mcp_audit_unreadable_files 1.0" in text and "mcp_calls_total{" not in text
    logged = docker("logs", container).stderr
    assert "cannot read 2026-12-07.git.s1.0.jsonl: Permission denied" in logged


def test_docker_exporter_serves_the_containers_of_its_own_project_only(
    exporters: str, network: str
) -> None:
    project = f"{PREFIX}-project"
    compose_labels = ["--label", f"com.docker.compose.project={project}",
                      "--label", "com.docker.compose.oneoff=False"]  # fmt: skip
    sibling = start("sibling", network, "mcp-offline/debian:trixie", *compose_labels,
                    "--label", "com.docker.compose.service=sibling", args=("sleep", "300"))  # fmt: skip
    service = SERVICES["docker-exporter"]
    container = start("docker-exporter", network, exporters, *as_composed(service), *compose_labels,
                      "--label", "com.docker.compose.service=docker-exporter",
                      "-v", "/var/run/docker.sock:/var/run/docker.sock:ro",
                      args=tuple(arguments(service)))  # fmt: skip
    text = metrics(container, 9417, f'container_running{{name="{sibling}"')
    assert f'container_running{{name="{sibling}",service="sibling"}} 1.0' in text
    assert f'container_cpu_usage_seconds_total{{name="{sibling}",service="sibling"}}' in text
    names = {part.split('"')[1] for part in text.split("name=")[1:]}
    assert names == {sibling, container}, "containers of other projects are not served"


def test_mcp_prober_probes_the_config_of_the_workspace_it_mounts(
    exporters: str, network: str, tmp_path: Path
) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    shutil.copy(REPO / ".devcontainer/mcp/runtime/mcp_relay.py", workspace)
    shutil.copy(REPO / "tests/fakemcp.py", workspace)
    fake = ["mcp_relay.py", "fake", "--", "python3", "fakemcp.py", "ok"]
    config = {"mcpServers": {"fake": {"command": "python3", "args": fake},
                             "github": {"command": "python3", "args": ["-e", "GITHUB_TOKEN"]}}}  # fmt: skip
    (workspace / ".mcp.json").write_text(json.dumps(config))
    service = SERVICES["mcp-prober"]
    container = start("mcp-prober", network, exporters, *as_composed(service),
                      "-v", f"{workspace}:/workspace:ro",
                      "-v", "/var/run/docker.sock:/var/run/docker.sock",
                      args=tuple(arguments(service)))  # fmt: skip
    text = metrics(container, 9465, 'mcp_probe_up{server="fake"}')
    assert (
        'mcp_probe_up{server="fake"} 1.0' in text and 'mcp_probe_tools{server="fake"} 3.0' in text
    )
    assert 'mcp_probe_skipped{server="github"} 1.0' in text
    assert "mcp-prober: fake up" in docker("logs", container).stderr


# ---------------------------------------------------------------- the databases' exporters


def secret_files(folder: Path, names: list[str]) -> list[str]:
    """A random password file per compose secret, mounted where compose mounts secrets."""
    options = []
    for name in names:
        path = folder / name
        path.write_text(secrets.token_urlsafe(18))
        path.chmod(0o644)
        options += ["-v", f"{path}:/run/secrets/{name}:ro"]
    return options


def ready(container: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while docker("exec", container, "test", "-f", "/tmp/mcp-role.ready").returncode != 0:
        assert time.monotonic() < deadline, docker("logs", container).stderr[-2000:]
        time.sleep(1)


@pytest.mark.parametrize(
    ("database", "base", "exporter", "port", "up", "read_as_monitor"),
    [
        ("postgres-db", "mcp-offline/postgres:17", "postgres-exporter", 9187, "pg_up 1",
         ["sh", "-c", 'PGPASSWORD="$(cat /run/secrets/postgres_monitor_password)" psql -h 127.0.0.1 '
          "-U mcp_monitor -d mcp -tA -c 'SELECT * FROM kept'"]),
        ("mariadb", "mcp-offline/mariadb:11.8", "mariadb-exporter", 9104, "mysql_up 1",
         ["sh", "-c", 'MYSQL_PWD="$(cat /run/secrets/mariadb_monitor_password)" mariadb '
          "-h 127.0.0.1 -u mcp_monitor -N -e 'SELECT * FROM mcp.kept'"]),
    ],
)  # fmt: skip
def test_each_database_gives_its_exporter_a_monitoring_account_and_no_data(
    seeded: None, network: str, tmp_path: Path, database: str, base: str, exporter: str,
    port: int, up: str, read_as_monitor: list[str],
) -> None:  # fmt: skip
    service = SERVICES[database]
    tag = f"{PREFIX}-{database}:latest"
    assert service.build is not None
    build(tag, service.build.context, base)
    env = [f"-e{k}={v}" for k, v in service.environment.items() if v is not None]
    db = start(database, network, tag, "--init", "--network-alias", database, *env,
               *secret_files(tmp_path, list(service.secrets)), args=service.command)  # fmt: skip
    ready(db)
    owner = (["psql", "-U", "postgres", "-d", "mcp", "-c", "CREATE TABLE kept (n int)"]
             if database == "postgres-db" else
             ["sh", "-c", 'MYSQL_PWD="$(cat /run/secrets/mariadb_root_password)" mariadb -uroot '
              "-e 'CREATE TABLE mcp.kept (n int)'"])  # fmt: skip
    assert docker("exec", db, *owner).returncode == 0
    denied = docker("exec", db, *read_as_monitor)
    assert denied.returncode != 0 and ("denied" in denied.stderr.lower()), denied
    spec = SERVICES[exporter]
    image = str(spec.image)
    mounts = [f"-v{tmp_path / name}:/run/secrets/{name}:ro" for name in spec.secrets]
    container = start(exporter, network, image, *as_composed(spec), *mounts,
                      args=tuple(arguments(spec)))  # fmt: skip
    assert up in metrics(container, port, up)
