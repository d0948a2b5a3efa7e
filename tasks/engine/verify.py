"""Phase 10 verification of a running stack: health, network, volumes, GPU, monitoring,
free-threading and logs. Each check passes, fails, or is not exercised (with the reason)."""

from __future__ import annotations

import json
import re
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from tasks.engine.parallel import Once, each
from tasks.engine.stack import container_logs, restart, statuses, wait_healthy
from tasks.engine.status import ServiceStatus, env_value
from tasks.model.prometheus import longest_scrape_interval
from tasks.model.stack import Stack
from tasks.model.verifyspec import Persist, Verify

PASS, FAIL, SKIP = "pass", "fail", "not exercised"
# How long past its scrape interval a target may stay unscraped after a start (a scrape itself
# takes up to Prometheus's default scrape_timeout, 10s).
FIRST_SCRAPE_MARGIN = 10.0
# Lists the GPUs a container sees (fails when nvidia-smi is missing or sees none).
GPU_LIST = ["nvidia-smi", "-L"]
# How recent a passing run of a service's probe by the engine (its healthcheck runs the same
# command) must be to answer for the probe: the stack's checks run every 5 s.
FRESH_CHECK_SECONDS = 10.0
# Connects to each HOST:PORT argument at once, 5 s each at most; prints one JSON line mapping
# each to '' (connected) or why not. One exec for every port, not one per port.
REACH = """import json, socket, sys
from concurrent.futures import ThreadPoolExecutor
def reach(target):
    host, _, port = target.rpartition(":")
    try:
        socket.create_connection((host, int(port)), 5).close()
        return ""
    except OSError as error:
        return str(error) or type(error).__name__
with ThreadPoolExecutor(len(sys.argv) - 1) as pool:
    print(json.dumps(dict(zip(sys.argv[1:], pool.map(reach, sys.argv[1:])))))
"""
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
class Target:
    """One active target of Prometheus: its job, instance, health, last scrape error and when
    that scrape was (seconds since the epoch; 0 when it never was)."""

    job: str
    instance: str
    health: str
    error: str = ""
    last_scrape: float = 0.0


def scrape_time(stamp: object) -> float:
    """Seconds since the epoch of a targets API `lastScrape` (RFC 3339; 0 when it is none)."""
    try:
        return datetime.fromisoformat(str(stamp)).timestamp()
    except (ValueError, OverflowError):
        return 0.0


def parse_targets(body: str) -> list[Target]:
    """The active targets of a Prometheus targets API answer (none when it is no such answer)."""
    try:
        data = json.loads(body)
    except ValueError:
        return []
    found = (data.get("data") or {}).get("activeTargets") if isinstance(data, dict) else None
    targets = []
    for item in found if isinstance(found, list) else []:
        labels = item.get("labels") if isinstance(item, dict) else None
        if not isinstance(labels, dict):
            continue
        targets.append(
            Target(
                str(labels.get("job", "")),
                str(labels.get("instance", "")),
                str(item.get("health", "")),
                str(item.get("lastError", "")),
                scrape_time(item.get("lastScrape")),
            )
        )
    return targets


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
        self.read_at = time.time()
        # 10.5 restarts the databases only when asked (`--persistence`).
        self.restart_databases = False
        self.probed: Once[str, tuple[bool, str]] = Once()

    def absent(self, section: str, name: str, service: str) -> Check:
        """The check of a service that is not running: not exercised when the profiles leave
        it out (with why), a failure when they should run it."""
        if service in self.not_exercised:
            return Check(section, name, SKIP, self.not_exercised[service])
        return Check(
            section, name, FAIL, f"{service} is not running (the selected profile runs it)"
        )

    def exec(self, service: str, command: list[str]) -> tuple[bool, str]:
        """Run a command in a service's running container; (succeeded, last output line).

        `docker exec` on the container found at the start, not `docker compose exec`, which
        loads the whole project again for every command."""
        status = self.running.get(service)
        if status is None or not status.container:
            return False, f"{service} is not running"
        try:
            out = str(self.client.container.execute(status.container, command, tty=False) or "")
            return True, (out.strip().splitlines() or [""])[-1]
        except DockerException as error:
            text = str(error.stderr or error.stdout or "").strip().splitlines()
            return False, text[-1] if text else f"exit {error.return_code}"

    def variable(self, service: str, name: str) -> str | None:
        """`name` in the environment the service's container runs with, as every process in it
        starts (one inspect, not an exec); None when it is not set or the engine cannot say."""
        try:
            env = self.client.container.inspect(self.running[service].container).config.env
        except DockerException:
            return None
        return env_value(list(env or []), name)

    def probe(self, service: str) -> tuple[bool, str]:
        """The service's own probe (`x-verify.probe`), run in it once however many sections
        ask (health, and free-threading for the free-threaded images). When the service's
        healthcheck is that same command and the engine's latest run of it passed at most
        FRESH_CHECK_SECONDS before verification read the stack, that run is the answer."""
        spec = self.stack.compose.services[service]
        checked = self.running[service].passed_check_at if service in self.running else None
        if spec.healthcheck and spec.healthcheck.runs(spec.verify.probe) and checked is not None:
            age = max(0.0, self.read_at - checked)
            if age <= FRESH_CHECK_SECONDS:
                return True, f"passed in the engine's healthcheck {age:.1f}s earlier"
        return self.probed.get(service, lambda: self.exec(service, list(spec.verify.probe)))

    def health(self) -> list[Check]:
        """Each service answers its own probe (the services at once)."""
        return each(self._health, self.stack.compose.services)

    def _health(self, service: str) -> Check:
        if service not in self.running:
            return self.absent("health", service, service)
        command = list(self.stack.compose.services[service].verify.probe)
        if not command:
            status = self.running[service]
            return Check("health", service, PASS if status.ready else FAIL, status.health)
        ok, detail = self.probe(service)
        return Check(
            "health", service, PASS if ok else FAIL, f"{' '.join(command[:2])}: {detail or 'ok'}"
        )

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
        return checks + self._reach()

    def _reach(self) -> list[Check]:
        """The dev container connects to each running service's `x-verify` port by name."""
        dev = self.stack.dev_service
        services = self.stack.compose.services.items()
        ports = {n: s.verify.port for n, s in services if s.verify.port is not None}
        up = dev in self.running
        errors = self._connect(
            dev, [f"{n}:{p}" for n, p in ports.items() if up and n in self.running]
        )
        checks = []
        for name, port in ports.items():
            why = errors.get(f"{name}:{port}")
            if why is None:
                checks.append(self.absent("network", f"{dev} -> {name}", name if up else dev))
            else:
                label = f"{dev} -> {name}:{port}"
                checks.append(Check("network", label, FAIL if why else PASS, why or "connected"))
        return checks

    def _connect(self, origin: str, targets: list[str]) -> dict[str, str]:
        """Why `origin` cannot connect to each HOST:PORT ('' when it can), all in one exec."""
        if not targets:
            return {}
        ok, out = self.exec(origin, ["python3", "-c", REACH, *targets])
        try:
            found = json.loads(out) if ok else None
        except ValueError:
            found = None
        if not isinstance(found, dict):
            return dict.fromkeys(targets, out or "no answer")
        return {target: str(found.get(target, "no answer")) for target in targets}

    def persistence(self) -> list[Check]:
        """10.5: volumes exist; each database with `persist` stores a fresh token in a scratch
        database it creates and reads it back, again after a restart when `restart_databases`
        is set, and drops the scratch database whatever happened. The user's databases are
        never written, and without `restart_databases` no service restarts."""
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
        for service, spec in self.stack.compose.services.items():
            if spec.verify.persist is None:
                continue
            if service not in self.running:
                checks.append(self.absent("volumes", f"{service} stores data", service))
                continue
            checks += self._persist(service, spec.verify.persist, token)
        return checks

    def _persist(self, service: str, persist: Persist, token: str) -> list[Check]:
        """Write, read back, (restart, read back), always drop: one service's 10.5 checks."""
        write, read = persist.commands(token)
        survives = f"{service} data survives restart"
        checks = []
        try:
            ok, detail = self.exec(service, write)
            if ok:
                ok, detail = self._read_back(service, read, persist.expect)
            where = "token written and read back in a scratch database"
            checks.append(
                Check(
                    "volumes",
                    f"{service} stores data",
                    PASS if ok else FAIL,
                    where if ok else detail,
                )
            )
            if not self.restart_databases:
                why = f"restarts {service}: only with --persistence"
                checks.append(Check("volumes", survives, SKIP, why))
            elif ok:
                restart(self.client, service)
                wait_healthy(self.client, [service], self.network, 120)
                ok, detail = self._read_back(service, read, persist.expect)
                after = "token read back after a restart"
                checks.append(
                    Check("volumes", survives, PASS if ok else FAIL, after if ok else detail)
                )
        finally:
            dropped, why = self.exec(service, list(persist.drop))
        if not dropped:
            checks.append(Check("volumes", f"{service} scratch database dropped", FAIL, why))
        return checks

    def _read_back(self, service: str, read: list[str], expect: str) -> tuple[bool, str]:
        ok, detail = self.exec(service, read)
        if ok and detail.strip() != expect:
            return False, f"read {detail.strip()!r}, expected {expect!r}"
        return ok, detail

    def gpu(self, has_nvidia_runtime: bool, static_violations: list[str]) -> list[Check]:
        """10.6: only the GPU service reserves a GPU; at run time, the runtime is there or not;
        the services declared `no-gpu` see none."""
        gpu = self.stack.compose.gpu_service
        checks = [
            Check(
                "gpu",
                f"only {gpu or 'one service'} reserves a GPU",
                FAIL if static_violations else PASS,
                "; ".join(static_violations) or "compose reservations checked",
            )
        ]
        if gpu is None:
            checks.append(Check("gpu", "a service sees a GPU", SKIP, "no service reserves one"))
        elif not has_nvidia_runtime:
            checks.append(Check("gpu", f"{gpu} sees a GPU", SKIP, "no NVIDIA runtime on this host"))
        elif gpu not in self.running:
            checks.append(self.absent("gpu", f"{gpu} sees a GPU", gpu))
        else:
            ok, detail = self.exec(gpu, GPU_LIST)
            checks.append(Check("gpu", f"{gpu} sees a GPU", PASS if ok else FAIL, detail))
        for other, spec in self.stack.compose.services.items():
            if spec.verify.no_gpu and other in self.running:
                command = f"command -v {GPU_LIST[0]} && {' '.join(GPU_LIST)}"
                ok, _ = self.exec(other, ["sh", "-c", command])
                checks.append(
                    Check(
                        "gpu",
                        f"{other} sees no GPU",
                        FAIL if ok else PASS,
                        "nvidia-smi listed a GPU" if ok else "no GPU visible",
                    )
                )
        return checks

    def monitoring(
        self,
        http: Callable[[str], tuple[int, str]],
        pause: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> list[Check]:
        """10.7: every scrape target up and every running service that declares `metrics`
        among them (services with `targets`), and each proxy route answers (services with
        `routes`). Right after a start, a target Prometheus has not scraped yet, or whose
        last scrape, not up, came before verification began (its container may not have
        existed or listened then), is waited for, at most the longest scrape interval of the
        Prometheus configuration the service mounts plus a margin, before it counts as a
        failure."""
        since = wall()
        checks = []
        for name, spec in self.stack.compose.services.items():
            if spec.verify.targets is not None:
                if name not in self.running:
                    return [self.absent("monitoring", name, name)]
                bound = longest_scrape_interval(spec, self.stack.compose.folder)
                deadline = clock() + bound + FIRST_SCRAPE_MARGIN
                while True:
                    code, targets = self._active_targets(name, http)
                    found = self._target_checks(name, code, targets, since)
                    if clock() >= deadline or not any(_unscraped(c) for c in found):
                        break
                    pause(1.0)
                checks += [_after_wait(c, bound) for c in found]
                checks += self._scraped(targets)
        for name, spec in self.stack.compose.services.items():
            if spec.verify.routes:
                checks += self._routes(name, spec.verify, http)
        return checks

    def _active_targets(
        self, name: str, http: Callable[[str], tuple[int, str]]
    ) -> tuple[int, list[Target]]:
        """The HTTP status of Prometheus service `name`'s targets API and its active targets."""
        spec = self.stack.compose.services[name].verify
        url = f"http://127.0.0.1:{self.published(name, str(spec.port))}{spec.targets}"
        code, body = http(url)
        return code, parse_targets(body) if code == 200 else []

    def _target_checks(
        self, name: str, code: int, targets: list[Target], since: float
    ) -> list[Check]:
        """Each target up, or why not; a down target of a service that is not running is that
        service's absence (not exercised when the profiles leave it out), and one last scraped
        before `since` is "unknown" still."""
        if not targets:
            return [Check("monitoring", f"{name} targets", FAIL, f"HTTP {code}")]
        checks = []
        for target in targets:
            label = f"target {target.job}"
            service = self.service_of(target)
            if target.health == "up":
                checks.append(Check("monitoring", label, PASS, f"up ({target.instance})"))
            elif service and service not in self.running:
                checks.append(self.absent("monitoring", label, service))
            else:
                why = f"{target.health}: {target.error}" if target.error else target.health
                if target.last_scrape < since and target.health != "unknown":
                    why = f"unknown (before verification began: {why})"
                checks.append(Check("monitoring", label, FAIL, why))
        return checks

    def service_of(self, target: Target) -> str:
        """The compose service a target scrapes: its host by name or by address ('' when no
        service has it)."""
        host = target.instance.rpartition(":")[0]
        if host in self.stack.compose.services:
            return host
        by_address = {status.ip: name for name, status in self.running.items() if status.ip}
        return by_address.get(host, target.job if target.job in self.stack.compose.services else "")

    def _scraped(self, targets: list[Target]) -> list[Check]:
        """Every running service that serves metrics (`x-verify.metrics`) is a target."""
        checks = []
        for name, spec in self.stack.compose.services.items():
            port = spec.verify.metrics
            if port is None or name not in self.running:
                continue
            found = [
                t for t in targets if t.instance.endswith(f":{port}") and self.service_of(t) == name
            ]
            detail = (
                f"job {found[0].job}, {found[0].instance}"
                if found
                else f"Prometheus has no target {name}:{port}: add a scrape job for it"
            )
            checks.append(Check("monitoring", f"{name} scraped", PASS if found else FAIL, detail))
        return checks

    def _routes(
        self, name: str, spec: Verify, http: Callable[[str], tuple[int, str]]
    ) -> list[Check]:
        """Each route of proxy `name`, through its published port, answers 200."""
        if name not in self.running:
            return [self.absent("monitoring", f"{name} routes", name)]
        checks = []
        for route, service in spec.routes.items():
            if service not in self.running:
                checks.append(self.absent("monitoring", f"{name} {route}", service))
                continue
            code, _ = http(f"http://127.0.0.1:{self.published(name, str(spec.port))}{route}")
            checks.append(
                Check(
                    "monitoring", f"{name} {route}", PASS if code == 200 else FAIL, f"HTTP {code}"
                )
            )
        return checks

    def published(self, service: str, port: str) -> str:
        """Host port a service's container port is published on (127.0.0.1)."""
        match = re.search(rf"127\.0\.0\.1:(\d+)->{port}/", self.running[service].ports)
        return match.group(1) if match else port

    def freethreading(self) -> list[Check]:
        """10.8: the free-threaded images run with the GIL off (their probe proves it) and
        PYTHON_GIL=0 in the container's environment."""
        checks = []
        for service, spec in self.stack.compose.services.items():
            if not spec.verify.free_threaded:
                continue
            if service not in self.running:
                checks.append(self.absent("free-threading", service, service))
                continue
            ok, _ = self.probe(service)
            gil = self.variable(service, "PYTHON_GIL")
            good = ok and gil == "0"
            checks.append(
                Check(
                    "free-threading",
                    service,
                    PASS if good else FAIL,
                    f"Py_GIL_DISABLED=1, GIL off, PYTHON_GIL={gil}"
                    if good
                    else "GIL is on or the build is not free-threaded",
                )
            )
        return checks

    def stayed_up(self) -> Check:
        """After the other checks: every service that ran when verification began still runs
        and is healthy, so a service that fell over during the run is named."""
        now = statuses(self.client, self.network)
        down = [
            f"{name} is {status.health if status.state == 'running' else status.state}"
            for name in self.running
            if not (status := now.get(name, ServiceStatus(name))).ready
        ]
        if down:
            return Check("stack", "every service stayed up", FAIL, "; ".join(down))
        return Check("stack", "every service stayed up", PASS, f"{len(self.running)} services")

    def logs(self) -> list[Check]:
        """The running services' last 500 log lines, scanned for fatal errors (at once)."""
        return each(self._logs, self.running)

    def _logs(self, service: str) -> Check:
        try:
            text = container_logs(self.client, self.running[service].container, 500)
        except DockerException as error:
            return Check("logs", service, FAIL, str(error)[:200])
        bad = [
            line
            for line in text.splitlines()
            if LOG_ERRORS.search(line) and not LOG_BENIGN.search(line)
        ]
        return Check(
            "logs", service, FAIL if bad else PASS, bad[-1][:200] if bad else "no fatal errors"
        )


def _unscraped(check: Check) -> bool:
    """A failure that only says Prometheus has not scraped (or not answered) yet."""
    return check.status == FAIL and check.detail.startswith(("unknown", "HTTP"))


def _after_wait(check: Check, bound: float) -> Check:
    """`check`, saying how long was waited when it still had no scrape since verification
    began."""
    if check.status == FAIL and check.detail.startswith("unknown"):
        waited = f"no scrape within {bound:g}s (scrape interval) + {FIRST_SCRAPE_MARGIN:g}s"
        return Check(check.section, check.name, FAIL, f"{check.detail}: {waited}")
    return check


def http_get(url: str) -> tuple[int, str]:
    """Status and body of a GET to a loopback URL (0 when it cannot connect)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode(errors="replace")
    except (urllib.error.URLError, OSError):
        return 0, ""
