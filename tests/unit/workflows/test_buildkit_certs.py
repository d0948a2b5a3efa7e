"""The BuildKit service's mutual-TLS certificates, made with the real openssl: a chain that
verifies, a server that accepts only a client holding the client certificate, and nothing
half-made when a step fails."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tasks.model.stack import load_stack
from tasks.workflows import buildkitcerts
from tasks.workflows.buildkitcerts import CERTS_DIR, CertError, make_certs, server_names
from tests.clirun import REPO, invoke


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / CERTS_DIR.parent).mkdir(parents=True)
    return tmp_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"openssl s_server did not listen on {port}")


def _openssl(*args: str, text: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], input=text, capture_output=True, text=True,
                          check=False, timeout=30)  # fmt: skip


def _compose_buildkit() -> tuple[str, str, list[str]]:
    """The service that mounts the server certificates, read straight from the compose file."""
    compose = yaml.safe_load((REPO / ".devcontainer/docker-compose.mcp.yml").read_text())
    for name, spec in compose["services"].items():
        if f"./{CERTS_DIR.as_posix()}/server:/certs:ro" in spec.get("volumes", []):
            addresses = [n["ipv4_address"] for n in spec["networks"].values() if n]
            return name, spec["hostname"], addresses
    raise AssertionError("no service mounts the BuildKit server certificates")


def test_the_server_is_named_as_compose_reaches_it() -> None:
    name, hostname, addresses = _compose_buildkit()
    names = server_names(load_stack(REPO).compose)
    assert names[:2] == ("DNS:localhost", "IP:127.0.0.1")
    assert set(names[2:]) == {f"DNS:{name}", f"DNS:{hostname}", *(f"IP:{a}" for a in addresses)}
    assert len(names) == len(set(names)) and addresses


def test_the_chain_names_and_key_modes(folder: Path) -> None:
    names = server_names(load_stack(REPO).compose)
    certs = make_certs(folder, 30, ("build.example.org", "10.0.0.9", "localhost"), names)
    assert certs == folder / CERTS_DIR
    files = sorted(str(p.relative_to(certs)) for p in certs.rglob("*") if p.is_file())
    assert files == [
        "ca/cert.pem", "ca/cert.srl", "ca/key.pem", "client/ca.pem", "client/cert.pem",
        "client/key.pem", "server/ca.pem", "server/cert.pem", "server/key.pem",
    ]  # fmt: skip
    assert {(p.stat().st_mode & 0o777) for p in certs.rglob("key.pem")} == {0o600}
    ca = str(certs / "ca/cert.pem")
    for part in ("server", "client"):
        assert _openssl("verify", "-CAfile", ca, str(certs / part / "cert.pem")).returncode == 0
    server = _openssl("x509", "-in", str(certs / "server/cert.pem"), "-noout", "-text").stdout
    service, _, addresses = _compose_buildkit()
    for name in (f"DNS:{service}", *(f"IP Address:{a}" for a in addresses), "DNS:localhost",
                 "DNS:build.example.org", "IP Address:10.0.0.9", "TLS Web Server Authentication"):  # fmt: skip
        assert name in server, name
    assert server.count("DNS:localhost") == 1
    client = _openssl("x509", "-in", str(certs / "client/cert.pem"), "-noout", "-text").stdout
    assert "TLS Web Client Authentication" in client and "Server Authentication" not in client
    with pytest.raises(FileExistsError, match="remove it to make new certificates"):
        make_certs(folder, 30)


def test_the_server_accepts_only_the_client_certificate(folder: Path) -> None:
    certs = make_certs(folder, 30)
    port = free_port()
    server = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert",
         str(certs / "server/cert.pem"), "-key", str(certs / "server/key.pem"), "-CAfile",
         str(certs / "server/ca.pem"), "-Verify", "1", "-verify_return_error"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_port(port)
        connect = ["s_client", "-connect", f"127.0.0.1:{port}", "-servername", "buildkit",
                   "-CAfile", str(certs / "client/ca.pem"), "-verify_return_error", "-brief"]  # fmt: skip
        trusted = _openssl(*connect, "-cert", str(certs / "client/cert.pem"), "-key",
                           str(certs / "client/key.pem"), text="Q\n")  # fmt: skip
        assert "Verification: OK" in trusted.stderr, trusted.stderr
        assert trusted.returncode == 0, trusted.stderr
        # -ign_eof: wait for the server, whose refusal (TLS 1.3) follows the client's finish.
        stranger = _openssl(*connect, "-ign_eof", text="hello\n")
        assert stranger.returncode != 0 and "alert certificate required" in stranger.stderr
    finally:
        server.kill()
        server.wait()


def test_a_failed_step_leaves_nothing(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = buildkitcerts._openssl

    def failing(what: str, *args: str) -> None:
        if "client" in what:
            raise CertError(f"openssl could not make {what}: refused")
        real(what, *args)

    monkeypatch.setattr(buildkitcerts, "_openssl", failing)
    with pytest.raises(CertError, match="the client key"):
        make_certs(folder, 30)
    assert list((folder / CERTS_DIR.parent).iterdir()) == []


def test_the_certificates_folder_is_made_with_its_parents(tmp_path: Path) -> None:
    assert not (tmp_path / "containers").exists()
    certs = make_certs(tmp_path, 30)
    assert certs == tmp_path / CERTS_DIR and (certs / "client/cert.pem").is_file()


def test_without_openssl_no_certificate_is_made(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tasks.workflows.buildkitcerts.shutil.which", lambda name: None)
    with pytest.raises(CertError) as refused:
        make_certs(folder, 30)
    assert str(refused.value) == "openssl is not installed (apt-get install openssl)"
    assert not (folder / CERTS_DIR).exists()


def test_bad_days_and_hosts_are_named(folder: Path) -> None:
    result = invoke("buildkit.certs", "--days", "0")
    assert result.returncode == 2 and "--days 0: give a number of days" in result.stderr
    for host in ("a,DNS:evil", "a\nb", "bad host"):
        with pytest.raises(ValueError, match="is not a host name or IP address"):
            make_certs(folder, 30, (host,))
    assert not (folder / CERTS_DIR).exists()


def test_each_openssl_step_and_its_flags(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = buildkitcerts._openssl
    steps: list[tuple[str, list[str]]] = []

    def recording(what: str, *args: str) -> None:
        scratch = next(a for a in args if a.endswith(".pem") or a.endswith(".csr"))
        base = str(Path(scratch).parents[1])
        steps.append((what, [a.replace(base, "W") for a in args]))
        # made in a hidden scratch folder beside the certificates' place, moved in at the end
        assert Path(base).name == "certs" and Path(base).parent.name.startswith(".certs-")
        assert Path(base).parents[1] == folder / CERTS_DIR.parent
        real(what, *args)
        if "-keyout" in args:  # as an openssl that leaves a new key's mode to the umask
            Path(args[args.index("-keyout") + 1]).chmod(0o644)

    monkeypatch.setattr(buildkitcerts, "_openssl", recording)
    certs = make_certs(folder, 45, ("10.0.0.9",), ("DNS:localhost",))
    keys = sorted(str(p.relative_to(certs)) for p in certs.rglob("key.pem"))
    assert keys == ["ca/key.pem", "client/key.pem", "server/key.pem"]
    assert {(p.stat().st_mode & 0o777) for p in certs.rglob("key.pem")} == {0o600}
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    assert steps == [
        ("the CA", ["req", "-x509", *key, "-keyout", "W/ca/key.pem", "-out", "W/ca/cert.pem",
                    "-days", "45", "-subj", "/CN=mcp-cluster BuildKit CA"]),
        ("the server key", ["req", *key, "-keyout", "W/server/key.pem", "-out",
                            "W/server/request.csr", "-subj", "/CN=buildkit"]),
        ("the server certificate", ["x509", "-req", "-in", "W/server/request.csr", "-CA",
                                    "W/ca/cert.pem", "-CAkey", "W/ca/key.pem", "-CAcreateserial",
                                    "-out", "W/server/cert.pem", "-days", "45", "-extfile",
                                    "W/server/extensions.cnf"]),
        ("the client key", ["req", *key, "-keyout", "W/client/key.pem", "-out",
                            "W/client/request.csr", "-subj", "/CN=mcp-cluster client"]),
        ("the client certificate", ["x509", "-req", "-in", "W/client/request.csr", "-CA",
                                    "W/ca/cert.pem", "-CAkey", "W/ca/key.pem", "-CAcreateserial",
                                    "-out", "W/client/cert.pem", "-days", "45", "-extfile",
                                    "W/client/extensions.cnf"]),
    ]  # fmt: skip
    assert buildkitcerts.LOCAL_NAMES == ("DNS:localhost", "IP:127.0.0.1")


def test_the_scratch_folder_is_hidden_beside_the_certificates(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def failing(what: str, *args: str) -> None:
        seen.append(Path(args[args.index("-keyout") + 1]).parents[2].name)
        raise CertError("stop")

    monkeypatch.setattr(buildkitcerts, "_openssl", failing)
    with pytest.raises(CertError):
        make_certs(folder, 30)
    assert seen[0].startswith(".certs-")


@pytest.mark.parametrize(
    ("stderr", "shown"),
    [("line one\\nbad days value\\n", "bad days value"), ("", "no output")],
)
def test_a_refusal_of_openssl_names_the_step_and_its_last_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stderr: str, shown: str
) -> None:
    fake = tmp_path / "openssl"
    fake.write_text(f"#!/bin/sh\nprintf '{stderr}' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    with pytest.raises(CertError) as refused:
        buildkitcerts._openssl("the CA", "req")
    assert str(refused.value) == f"openssl could not make the CA: {shown}"


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("10.0.0.9", "IP:10.0.0.9"),
        ("fd00::1", "IP:fd00::1"),
        ("build.example", "DNS:build.example"),
        ("b1", "DNS:b1"),
    ],
)
def test_a_host_is_a_name_or_an_address(host: str, name: str) -> None:
    assert buildkitcerts._san(host) == name
