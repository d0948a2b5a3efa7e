"""Phase 10 verification of a running stack: health, network, volumes, GPU, monitoring,
free-threading and logs. Each check passes, fails, or is not exercised (with the reason)."""

from __future__ import annotations

import re
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from tasks.engine.stack import ServiceStatus, restart, statuses, wait_healthy
from tasks.model.stack import Stack

PASS, FAIL, SKIP = "pass", "fail", "not exercised"
GIL_OFF = (
    "import sys, sysconfig; sys.exit(0 if sysconfig.get_config_var('Py_GIL_DISABLED') == 1 "
    "and not sys._is_gil_enabled() else 1)"
)
# Service -> command run inside it that proves it answers.
PROBES: dict[str, list[str]] = {
    "postgres-db": ["pg_isready", "-U", "postgres", "-h", "127.0.0.1"],
    "mariadb": ["healthcheck.sh", "--connect", "--innodb_initialized"],
    "postgres-mcp": ["/opt/postgres-mcp/bin/python", "/usr/local/lib/postgres-mcp-healthcheck.py"],
    "mariadb-mcp": ["/opt/mariadb-mcp/bin/python", "/usr/local/lib/mariadb-mcp-healthcheck.py"],
    "buildkit": ["buildctl", "--addr", "tcp://127.0.0.1:1234", "debug", "workers"],
    "runner": ["sh", "-c", "grep -qs Runner.Listener /proc/[0-9]*/cmdline"],
    "k8s-plugin": ["nvidia-smi", "-L"],
    "python-experimental": ["python3", "-c", GIL_OFF],
    "devcontainer": ["python3", "-c", GIL_OFF],
    "nginx": ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1/health"],
    "prometheus": ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9090/-/healthy"],
    "grafana": ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:3000/api/health"],
}
REACH = {
    "postgres-db": 5432,
    "mariadb": 3306,
    "postgres-mcp": 8000,
    "mariadb-mcp": 8000,
    "prometheus": 9090,
    "nginx": 80,
    "grafana": 3000,
    "buildkit": 1234,
}
# Messages that look fatal but are an orderly restart or shutdown.
LOG_BENIGN = re.compile(
    r"terminating connection due to administrator command|"
    r"the database system is (shutting down|starting up)"
)
LOG_ERRORS = re.compile(
    r"\b(FATAL|PANIC|panic:|Traceback \(most recent call last\)|"
    r"Segmentation fault|Killed)\b"
)


@dataclass(frozen=True)
class Check:
    """One verification result."""

    section: str
    name: str
    status: str
    detail: str


class Verifier:
    """Runs the checks against the compose project of `stack`."""

    def __init__(
        self, stack: Stack, client: DockerClient, network: str, not_exercised: dict[str, str]
    ) -> None:
        self.stack = stack
        self.client = client
        self.network = network
        self.not_exercised = not_exercised
        self.running: dict[str, ServiceStatus] = {
            name: s for name, s in statuses(client, network).items() if s.state == "running"
        }

    def absent(self, section: str, name: str, service: str) -> Check:
        """The check of a service that is not running: not exercised when the profiles leave
        it out (with why), a failure when they should run it."""
        if service in self.not_exercised:
            return Check(section, name, SKIP, self.not_exercised[service])
        return Check(
            section, name, FAIL, f"{service} is not running (the selected profile runs it)"
        )

    def exec(self, service: str, command: list[str]) -> tuple[bool, str]:
        """Run a command in a service's container; (succeeded, last output line)."""
        try:
            out = str(self.client.compose.execute(service, command, tty=False) or "")
            return True, (out.strip().splitlines() or [""])[-1]
        except DockerException as error:
            text = str(error.stderr or error.stdout or "").strip().splitlines()
            return False, text[-1] if text else f"exit {error.return_code}"

    def health(self) -> list[Check]:
        """10.2: each service answers its own probe."""
        checks = []
        for service in self.stack.compose.services:
            if service not in self.running:
                checks.append(self.absent("health", service, service))
                continue
            command = PROBES.get(service)
            if command is None:
                status = self.running[service]
                ok = status.ready
                checks.append(Check("health", service, PASS if ok else FAIL, status.health))
                continue
            ok, detail = self.exec(service, command)
            checks.append(
                Check(
                    "health",
                    service,
                    PASS if ok else FAIL,
                    f"{' '.join(command[:2])}: {detail or 'ok'}",
                )
            )
        return checks

    def network_checks(self) -> list[Check]:
        """10.4: the network exists by name, static addresses hold, names resolve."""
        checks = []
        try:
            self.client.network.inspect(self.network)
            checks.append(Check("network", f"network {self.network}", PASS, "exists by name"))
        except DockerException:
            checks.append(Check("network", f"network {self.network}", FAIL, "not found"))
        for name, service in self.stack.compose.services.items():
            wanted = next((a for a in service.networks.values() if a), None)
            if name not in self.running or wanted is None:
                continue
            actual = self.running[name].ip
            checks.append(
                Check(
                    "network",
                    f"{name} address",
                    PASS if actual == wanted else FAIL,
                    f"{actual} (compose: {wanted})",
                )
            )
        origin = "devcontainer" if "devcontainer" in self.running else None
        for target, port in REACH.items():
            if origin is None or target not in self.running:
                missing = target if origin else "devcontainer"
                checks.append(self.absent("network", f"devcontainer -> {target}", missing))
                continue
            code = f"import socket; socket.create_connection(('{target}', {port}), 5)"
            ok, detail = self.exec(origin, ["python3", "-c", code])
            checks.append(
                Check(
                    "network",
                    f"devcontainer -> {target}:{port}",
                    PASS if ok else FAIL,
                    detail or "connected",
                )
            )
        return checks

    def persistence(self) -> list[Check]:
        """10.5: volumes exist; a row written to each database survives a restart."""
        checks = []
        for volume in self.stack.compose.volumes.values():
            users = [
                n
                for n, s in self.stack.compose.services.items()
                if any(m.source == volume.key for m in s.mounts) and n in self.running
            ]
            if not users:
                continue
            try:
                self.client.volume.inspect(volume.name)
                checks.append(
                    Check("volumes", f"volume {volume.name}", PASS, f"used by {users[0]}")
                )
            except DockerException:
                checks.append(Check("volumes", f"volume {volume.name}", FAIL, "missing"))
        token = secrets.token_hex(6)
        databases: dict[str, tuple[list[str], list[str]]] = {
            "postgres-db": (
                [
                    "psql",
                    "-U",
                    "postgres",
                    "-d",
                    "mcp",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-c",
                    "CREATE TABLE IF NOT EXISTS verify_persist (token text); "
                    f"INSERT INTO verify_persist VALUES ('{token}');",
                ],
                [
                    "psql",
                    "-U",
                    "postgres",
                    "-d",
                    "mcp",
                    "-tA",
                    "-c",
                    f"SELECT count(*) FROM verify_persist WHERE token = '{token}';",
                ],
            ),
            "mariadb": (
                [
                    "sh",
                    "-c",
                    'mariadb -uroot -p"$(cat /run/secrets/mariadb_root_password)" mcp -e '
                    f'"CREATE TABLE IF NOT EXISTS verify_persist (token text); '
                    f"INSERT INTO verify_persist VALUES ('{token}');\"",
                ],
                [
                    "sh",
                    "-c",
                    'mariadb -uroot -p"$(cat /run/secrets/mariadb_root_password)" mcp -N '
                    f"-e \"SELECT count(*) FROM verify_persist WHERE token = '{token}';\"",
                ],
            ),
        }
        for service, (write, read) in databases.items():
            if service not in self.running:
                checks.append(self.absent("volumes", f"{service} data survives restart", service))
                continue
            ok, detail = self.exec(service, write)
            if ok:
                restart(self.client, service)
                wait_healthy(
                    self.client, [service], self.network, 120, lambda rows: None, time.monotonic()
                )
                ok, detail = self.exec(service, read)
                ok = ok and detail.strip() == "1"
            checks.append(
                Check(
                    "volumes",
                    f"{service} data survives restart",
                    PASS if ok else FAIL,
                    "row read back after restart" if ok else detail,
                )
            )
        return checks

    def gpu(self, has_nvidia_runtime: bool, static_violations: list[str]) -> list[Check]:
        """10.6: only k8s-plugin reserves a GPU; at run time, the runtime is there or not."""
        checks = [
            Check(
                "gpu",
                "only k8s-plugin reserves a GPU",
                FAIL if static_violations else PASS,
                "; ".join(static_violations) or "compose reservations checked",
            )
        ]
        if not has_nvidia_runtime:
            checks.append(
                Check("gpu", "k8s-plugin sees a GPU", SKIP, "no NVIDIA runtime on this host")
            )
        elif "k8s-plugin" not in self.running:
            checks.append(self.absent("gpu", "k8s-plugin sees a GPU", "k8s-plugin"))
        else:
            ok, detail = self.exec("k8s-plugin", ["nvidia-smi", "-L"])
            checks.append(Check("gpu", "k8s-plugin sees a GPU", PASS if ok else FAIL, detail))
        for other in ("devcontainer", "postgres-db"):
            if other in self.running:
                ok, _ = self.exec(other, ["sh", "-c", "command -v nvidia-smi && nvidia-smi -L"])
                checks.append(
                    Check(
                        "gpu",
                        f"{other} sees no GPU",
                        FAIL if ok else PASS,
                        "nvidia-smi listed a GPU" if ok else "no GPU visible",
                    )
                )
        return checks

    def monitoring(self, http: Callable[[str], tuple[int, str]]) -> list[Check]:
        """10.7: prometheus targets up, nginx routes to prometheus and grafana."""
        if "prometheus" not in self.running:
            return [self.absent("monitoring", "prometheus", "prometheus")]
        checks = []
        code, body = http("http://127.0.0.1:9090/api/v1/targets")
        targets = re.findall(r'"job":"([^"]+)".*?"health":"([a-z]+)"', body) if code == 200 else []
        for job, health in targets:
            service = "devcontainer" if job == "mcp-exporter" else job
            if health == "up":
                checks.append(Check("monitoring", f"target {job}", PASS, "up"))
            elif job == "mcp-exporter":
                reason = "`invoke mcp.exporter --host 0.0.0.0` not running in the dev container"
                checks.append(Check("monitoring", f"target {job}", SKIP, reason))
            elif service not in self.running:
                checks.append(self.absent("monitoring", f"target {job}", service))
            else:
                checks.append(Check("monitoring", f"target {job}", FAIL, health))
        if not targets:
            checks.append(Check("monitoring", "prometheus targets", FAIL, f"HTTP {code}"))
        if "nginx" not in self.running:
            checks.append(self.absent("monitoring", "nginx routes", "nginx"))
            return checks
        for route, service in (
            ("/prometheus/-/healthy", "prometheus"),
            ("/grafana/api/health", "grafana"),
        ):
            if service not in self.running:
                checks.append(self.absent("monitoring", f"nginx {route}", service))
                continue
            code, _ = http(f"http://127.0.0.1:{self.published('nginx', '80')}{route}")
            checks.append(
                Check("monitoring", f"nginx {route}", PASS if code == 200 else FAIL, f"HTTP {code}")
            )
        return checks

    def published(self, service: str, port: str) -> str:
        """Host port a service's container port is published on (127.0.0.1)."""
        match = re.search(rf"127\.0\.0\.1:(\d+)->{port}/", self.running[service].ports)
        return match.group(1) if match else port

    def freethreading(self) -> list[Check]:
        """10.8: the free-threaded images run with the GIL off."""
        checks = []
        for service in ("devcontainer", "python-experimental"):
            if service not in self.running:
                checks.append(self.absent("free-threading", service, service))
                continue
            ok, _ = self.exec(service, ["python3", "-c", GIL_OFF])
            _, gil = self.exec(service, ["printenv", "PYTHON_GIL"])
            good = ok and gil.strip() == "0"
            checks.append(
                Check(
                    "free-threading",
                    service,
                    PASS if good else FAIL,
                    f"Py_GIL_DISABLED=1, GIL off, PYTHON_GIL={gil.strip()}"
                    if good
                    else "GIL is on or the build is not free-threaded",
                )
            )
        return checks

    def logs(self) -> list[Check]:
        """Compose logs of the running services, scanned for fatal errors."""
        checks = []
        for service in self.running:
            try:
                text = str(self.client.compose.logs([service], tail="500", no_log_prefix=True))
            except DockerException as error:
                checks.append(Check("logs", service, FAIL, str(error)[:200]))
                continue
            bad = [
                line
                for line in text.splitlines()
                if LOG_ERRORS.search(line) and not LOG_BENIGN.search(line)
            ]
            checks.append(
                Check(
                    "logs",
                    service,
                    FAIL if bad else PASS,
                    bad[-1][:200] if bad else "no fatal errors",
                )
            )
        return checks


def http_get(url: str) -> tuple[int, str]:
    """Status and body of a GET to a loopback URL (0 when it cannot connect)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return int(error.code), ""
    except (urllib.error.URLError, OSError):
        return 0, ""
