"""Certificates for the stack's BuildKit service, which listens on TCP with mutual TLS only: a
private CA, the server's certificate and one client certificate, made with `openssl`.

They live in `.devcontainer/containers/buildx/certs/` (gitignored):
- `ca/` the CA's certificate and key (the key never leaves this folder);
- `server/` ca.pem, cert.pem, key.pem: mounted read-only into the buildkit service;
- `client/` ca.pem, cert.pem, key.pem: what `docker buildx create --driver remote` is given.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path, PurePosixPath

from tasks.model.compose import ComposeFile

CERTS_DIR = Path("containers") / "buildx" / "certs"
LOCAL_NAMES = ("DNS:localhost", "IP:127.0.0.1")
_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9-]+)*$|^[0-9.]+$|^[0-9a-fA-F:]+$"
)


class CertError(Exception):
    """openssl is missing or refused; the message says which step and why."""


def server_names(compose: ComposeFile) -> tuple[str, ...]:
    """The names the BuildKit service is reached by, as subjectAltName entries: localhost and
    127.0.0.1 (its published port), and the service that mounts the server certificates by
    its service name, hostname and static addresses in the compose file."""
    server = PurePosixPath(CERTS_DIR.as_posix()) / "server"
    names = list(LOCAL_NAMES)
    for service in compose.services.values():
        if any(
            mount.type == "bind" and PurePosixPath(mount.source) == PurePosixPath(".") / server
            for mount in service.mounts
        ):
            names += [f"DNS:{name}" for name in (service.name, service.hostname) if name]
            names += [f"IP:{address}" for address in service.networks.values() if address]
    return tuple(dict.fromkeys(names))


def make_certs(
    folder: Path, days: int, hosts: tuple[str, ...] = (), names: tuple[str, ...] = LOCAL_NAMES
) -> Path:
    """Create the CA, server and client certificates under `folder/CERTS_DIR` (valid `days`
    days; the server's for `names`, subjectAltName entries, and for `hosts`, names or IP
    addresses), all or nothing: they are made in a scratch folder and moved in place at the
    end. Refuses to replace existing ones."""
    target = folder / CERTS_DIR
    bad = [host for host in hosts if not _HOST.match(host)]
    if bad:
        raise ValueError(f"--host {bad[0]!r} is not a host name or IP address")
    if target.exists():
        raise FileExistsError(f"{target} exists; remove it to make new certificates")
    if shutil.which("openssl") is None:
        raise CertError("openssl is not installed (apt-get install openssl)")
    alt_names = list(dict.fromkeys([*names, *(_san(host) for host in hosts)]))
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".certs-", dir=folder / CERTS_DIR.parent) as scratch:
        work = Path(scratch) / "certs"
        for part in ("ca", "server", "client"):
            (work / part).mkdir(parents=True)
        ca_cert, ca_key = work / "ca/cert.pem", work / "ca/key.pem"
        _openssl("the CA", "req", "-x509", *_KEY, "-keyout", str(ca_key), "-out", str(ca_cert),
                 "-days", str(days), "-subj", "/CN=mcp-cluster BuildKit CA")  # fmt: skip
        san = f"subjectAltName={','.join(alt_names)}"
        _signed(work / "server", ca_cert, ca_key, days, "buildkit",
                [san, "extendedKeyUsage=serverAuth"])  # fmt: skip
        _signed(work / "client", ca_cert, ca_key, days, "mcp-cluster client",
                ["extendedKeyUsage=clientAuth"])  # fmt: skip
        for path in work.rglob("key.pem"):
            path.chmod(0o600)
        work.rename(target)
    return target


def _san(host: str) -> str:
    return f"IP:{host}" if host.replace(".", "").isdigit() or ":" in host else f"DNS:{host}"


def _signed(
    folder: Path, ca_cert: Path, ca_key: Path, days: int, name: str, extensions: list[str]
) -> None:
    """A key and a certificate for `name` signed by the CA, with the CA's certificate beside."""
    key, request, cert = folder / "key.pem", folder / "request.csr", folder / "cert.pem"
    _openssl(f"the {folder.name} key", "req", *_KEY, "-keyout", str(key), "-out", str(request),
             "-subj", f"/CN={name}")  # fmt: skip
    extfile = folder / "extensions.cnf"
    extfile.write_text("\n".join(extensions) + "\n", encoding="utf-8")
    _openssl(f"the {folder.name} certificate", "x509", "-req", "-in", str(request),
             "-CA", str(ca_cert), "-CAkey", str(ca_key), "-CAcreateserial", "-out", str(cert),
             "-days", str(days), "-extfile", str(extfile))  # fmt: skip
    request.unlink()
    extfile.unlink()
    shutil.copyfile(ca_cert, folder / "ca.pem")


def _openssl(what: str, *args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise CertError(f"openssl could not make {what}: {detail}")
