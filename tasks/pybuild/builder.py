"""Download, verify, configure `--disable-gil`, compile and install CPython into a cache."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tasks.cachedir import cache_home
from tasks.files import locked
from tasks.pybuild.probe import CHECK_PYTHON
from tasks.pybuild.sources import Source

MARKER = ".freethreaded-complete"

Say = Callable[[str], None]


class BuildFailed(RuntimeError):
    """A step of the interpreter build failed."""


def cache_root() -> Path:
    """Where interpreters and downloads are kept (XDG cache, or ~/.cache)."""
    return cache_home() / "python"


def prefix_for(source: Source, root: Path) -> Path:
    """Install prefix of a source's free-threaded build."""
    return root / f"{source.version}t"


def interpreter(source: Source, root: Path) -> Path:
    """The `python3.Xt` of a finished build."""
    return prefix_for(source, root) / "bin" / f"python{source.line}t"


def is_built(source: Source, root: Path) -> bool:
    """True when a finished, verified build of exactly this tarball is in the cache."""
    marker = prefix_for(source, root) / MARKER
    return marker.is_file() and marker.read_text().strip() == source.sha256


def sha256_of(path: Path) -> str:
    """SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(source: Source, root: Path, say: Say, timeout: float = 120) -> Path:
    """The verified tarball in the cache (downloaded or copied once).

    The download lands in a temporary file of its own and is renamed only after its SHA-256
    matched, so an interrupted or wrong download never looks finished; every wait is bounded
    by `timeout`.
    """
    target = root / "downloads" / source.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_file() and sha256_of(target) == source.sha256:
        return target
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    partial = Path(name)
    try:
        if Path(source.url).is_file():
            shutil.copyfile(source.url, partial)
        else:
            say(f"downloading {source.url}")
            with (
                urllib.request.urlopen(source.url, timeout=timeout) as response,
                partial.open("wb") as out,
            ):
                shutil.copyfileobj(response, out)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise BuildFailed(
            f"cannot download {source.url} ({error}). Fix: check the network or proxy, or "
            "build the offline profile's version (--profile offline)"
        ) from None
    actual = sha256_of(partial)
    if actual != source.sha256:
        partial.unlink()
        raise BuildFailed(
            f"{source.filename}: SHA-256 {actual} is not {source.sha256}. Fix: compare with the "
            "sum its publisher lists; correct a wrong pin with `invoke python.pin VERSION "
            "--sha256 HEX`"
        )
    partial.replace(target)
    return target


def _run(command: list[str], cwd: Path, log: Path, say: Say) -> None:
    say(" ".join(command[:3]) + (" ..." if len(command) > 3 else ""))
    with log.open("a") as out:
        result = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise BuildFailed(f"`{' '.join(command)}` failed (log: {log}):\n{tail}")


def build(source: Source, root: Path, jobs: int, say: Say) -> Path:
    """Build (or reuse) the free-threaded interpreter; returns its path.

    The install goes to `<prefix>.partial` and is renamed only once verified, so an
    interrupted build leaves nothing that looks finished. Two runs building the same version
    take turns (a lock in the cache): the second reuses what the first built.
    """
    with locked(root / f".{source.version}t.lock"):
        return _build(source, root, jobs, say)


def _build(source: Source, root: Path, jobs: int, say: Say) -> Path:
    if is_built(source, root):
        say(f"reusing {prefix_for(source, root)}")
        return interpreter(source, root)
    tarball = fetch(source, root, say)
    prefix = prefix_for(source, root)
    partial = prefix.with_name(prefix.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    log = root / f"build-{source.version}t.log"
    log.write_text("")
    with tempfile.TemporaryDirectory(prefix="cpython-") as work:
        with tarfile.open(tarball) as archive:
            archive.extractall(work, filter="data")
        tree = next(Path(work).iterdir())
        _run(
            ["./configure", "--disable-gil", f"--prefix={prefix}", "--with-ensurepip=install"],
            tree,
            log,
            say,
        )
        _run(["make", f"-j{jobs}"], tree, log, say)
        _run(["make", "install", f"DESTDIR={partial}"], tree, log, say)
    staged = partial / str(prefix).lstrip("/")
    python = staged / "bin" / f"python{source.line}t"
    home = {**os.environ, "PYTHONHOME": str(staged)}
    check = subprocess.run(
        [str(python), str(CHECK_PYTHON), source.version],
        check=False,
        capture_output=True,
        text=True,
        env={**home, "PYTHON_GIL": "0"},
    )
    if check.returncode != 0:
        raise BuildFailed(check.stderr.strip() or f"{python} failed {CHECK_PYTHON.name}")
    modules = subprocess.run(
        [str(python), "-c", "import ssl, zlib, ctypes, sqlite3, bz2, lzma"],
        check=False,
        capture_output=True,
        text=True,
        env=home,
    )
    if modules.returncode != 0:
        missing = (modules.stderr.strip().splitlines() or ["a module"])[-1]
        raise BuildFailed(
            f"the build lacks standard modules ({missing}). Fix: install the build "
            "dependencies (scripts/setup.sh --host) and run the task again"
        )
    shutil.rmtree(prefix, ignore_errors=True)
    staged.replace(prefix)
    shutil.rmtree(partial, ignore_errors=True)
    (prefix / MARKER).write_text(source.sha256 + "\n")
    return interpreter(source, root)
