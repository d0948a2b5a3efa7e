"""The download-and-verify path of the CPython builds, against a server on 127.0.0.1: the
script every image build runs (fetch-verified.sh) and the host builder's own download."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tasks.pybuild.builder import BuildFailed, fetch
from tasks.pybuild.sources import Source
from tests.clirun import REPO

SCRIPT = REPO / ".devcontainer/cpython/fetch-verified.sh"
BODY = b"not really a tarball, but bytes with a known digest\n" * 100
GOOD = hashlib.sha256(BODY).hexdigest()


class _Files(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/Python-3.14.6.tar.xz":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 serving one file; yields its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def silent() -> Iterator[str]:
    """A listener on 127.0.0.1 that accepts and never answers; yields its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/Python-3.14.6.tar.xz"
    listener.close()


def _script(
    url: str, sha: str, dest: Path, timeout: str = "20"
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "FETCH_TIMEOUT": timeout}
    return subprocess.run(
        ["sh", str(SCRIPT), url, sha, str(dest)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_script_downloads_verifies_and_then_reuses(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "cache/Python-3.14.6.tar.xz"
    first = _script(f"{server}/Python-3.14.6.tar.xz", GOOD, dest)
    assert first.returncode == 0, first.stderr
    assert dest.read_bytes() == BODY and "matches" in first.stdout
    again = _script("http://127.0.0.1:9/unreachable.tar.xz", GOOD, dest)
    assert again.returncode == 0 and "already verified" in again.stdout


def test_script_refuses_a_wrong_checksum_and_keeps_nothing(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "Python-3.14.6.tar.xz"
    wrong = "0" * 64
    result = _script(f"{server}/Python-3.14.6.tar.xz", wrong, dest)
    assert result.returncode == 1
    assert f"has SHA-256 {GOOD}, expected {wrong}" in result.stderr
    assert "versions.json" in result.stderr and "invoke python.pin" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_script_names_a_missing_file(server: str, tmp_path: Path) -> None:
    result = _script(f"{server}/Python-9.9.9.tar.xz", GOOD, tmp_path / "x.tar.xz")
    assert result.returncode == 1
    assert "cannot download" in result.stderr and "404" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_script_gives_up_on_a_server_that_never_answers(silent: str, tmp_path: Path) -> None:
    started = time.monotonic()
    result = _script(silent, GOOD, tmp_path / "x.tar.xz", timeout="2")
    assert result.returncode == 1 and "cannot download" in result.stderr
    assert time.monotonic() - started < 30
    assert list(tmp_path.iterdir()) == []


def test_host_builder_download_verifies(server: str, tmp_path: Path) -> None:
    good = Source("3.14.6", f"{server}/Python-3.14.6.tar.xz", GOOD, "test")
    path = fetch(good, tmp_path, lambda _: None)
    assert path.read_bytes() == BODY
    with pytest.raises(BuildFailed, match="is not 0000"):
        fetch(Source("3.14.6", good.url, "0" * 64, "test"), tmp_path / "other", lambda _: None)
    assert not list((tmp_path / "other" / "downloads").iterdir())
    with pytest.raises(BuildFailed, match=r"cannot download .*404"):
        fetch(Source("9.9.9", f"{server}/Python-9.9.9.tar.xz", GOOD, "t"), tmp_path, print)


def test_host_builder_gives_up_on_a_silent_server(silent: str, tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(BuildFailed, match="cannot download"):
        fetch(Source("3.14.6", silent, GOOD, "t"), tmp_path, lambda _: None, timeout=2)
    assert time.monotonic() - started < 30
    assert not list((tmp_path / "downloads").iterdir())
