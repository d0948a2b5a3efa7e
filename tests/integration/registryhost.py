"""A registry and a second Docker engine on this machine, for the registry tests: Debian's
`docker-registry` (distribution) on 127.0.0.1 with its storage in a temporary folder, and a
dockerd with its own data root, socket and containerd namespace (a "second machine": no
images, no build cache)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Registry:
    """`docker-registry serve` on 127.0.0.1:PORT, storage under `folder`."""

    def __init__(self, folder: Path, *, read_only: bool = False, storage: Path | None = None):
        self.port = free_port()
        self.storage = storage or folder / "storage"
        config = folder / f"config-{self.port}.yml"
        maintenance = "  maintenance: {readonly: {enabled: true}}\n" if read_only else ""
        config.write_text(
            "version: 0.1\nlog: {level: warn}\nstorage:\n"
            f"  filesystem: {{rootdirectory: {self.storage}}}\n  delete: {{enabled: true}}\n"
            f"{maintenance}http:\n  addr: 127.0.0.1:{self.port}\n"
        )
        binary = shutil.which("docker-registry")
        assert binary, "docker-registry is installed by scripts/setup.sh --host"
        self.process = subprocess.Popen(
            [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            _wait(lambda: _answers(f"http://127.0.0.1:{self.port}/v2/"), "the registry")
        except AssertionError:
            self.stop()
            raise

    def prefix(self, path: str = "mcp") -> str:
        """The registry prefix for images under `path`."""
        return f"127.0.0.1:{self.port}/{path}"

    def stop(self) -> None:
        """Stop the registry (its storage stays for the caller to delete)."""
        self.process.terminate()
        self.process.wait(timeout=30)


class SecondEngine:
    """A second dockerd: its own images and build cache, reached through `host`, and its own
    bridge (with `--bridge=none` dockerd deletes docker0, the first engine's)."""

    def __init__(self) -> None:
        # Short path: the socket's path must fit a sockaddr_un.
        self.folder = Path(tempfile.mkdtemp(prefix="mcp-engine2-"))
        self.host = f"unix://{self.folder}/docker.sock"
        self.bridge = f"mcpe2-{os.getpid() % 100000}"
        for command in (
            ["link", "add", "name", self.bridge, "type", "bridge"],
            ["addr", "add", f"10.213.{os.getpid() % 250}.1/24", "dev", self.bridge],
            ["link", "set", self.bridge, "up"],
        ):
            subprocess.run(["ip", *command], check=True, capture_output=True)
        self.log = (self.folder / "dockerd.log").open("wb")
        self.process = subprocess.Popen(
            [
                "dockerd",
                f"--data-root={self.folder}/data",
                f"--exec-root={self.folder}/exec",
                f"--pidfile={self.folder}/docker.pid",
                f"--host={self.host}",
                f"--bridge={self.bridge}",
                "--iptables=false",
                "--ip-masq=false",
                "--containerd-namespace=mcp-engine2",
                "--containerd-plugins-namespace=mcp-engine2-plugins",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait(lambda: self.docker("version").returncode == 0, "the second engine")
        except AssertionError:
            self.stop()
            raise

    def docker(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`docker ARGS` against this engine."""
        return subprocess.run(
            ["docker", "--host", self.host, *args], capture_output=True, text=True, check=False
        )

    def load(self, *images: str) -> None:
        """Copy images from the main engine (`docker save | docker load`)."""
        save = subprocess.Popen(["docker", "save", *images], stdout=subprocess.PIPE)
        subprocess.run(["docker", "--host", self.host, "load"], stdin=save.stdout, check=True,
                       capture_output=True)  # fmt: skip
        assert save.wait() == 0

    def stop(self) -> None:
        """Stop the engine and delete everything it stored."""
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        subprocess.run(
            ["umount", "-R", str(self.folder / "data")], capture_output=True, check=False
        )
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _wait(ready: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.3)
    raise AssertionError(f"{what} did not start within {seconds:.0f} s")
