"""The host's CPython builds and pins: which source a version means, the verified download
(a local tarball stands in for the network), where a finished build lives and when it is
reused, a failed step's message, and the files versions.json generates."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.model.localenv import apply_profile
from tasks.model.versions import load_versions
from tasks.pybuild import builder, pinfiles, sources
from tasks.pybuild.builder import BuildFailed, fetch, interpreter, is_built, prefix_for
from tasks.pybuild.probe import CHECK_PYTHON, Interpreter, inspect
from tasks.pybuild.sources import FOLDER, Source, default_version, pinned_sources, resolve_source
from tests.clirun import REPO
from tests.ministack import MiniStack

BODY = b"a tarball's bytes\n" * 64
SHA = hashlib.sha256(BODY).hexdigest()
ONLINE = "143b1dddefaec3bd2e21e3b839b34a2b7fb9842272883c576420d605e9f30c63"


def _source(tmp_path: Path, sha256: str = SHA) -> Source:
    tarball = tmp_path / "given" / "Python-3.14.6.tar.xz"
    tarball.parent.mkdir(exist_ok=True)
    tarball.write_bytes(BODY)
    return Source("3.14.6", str(tarball), sha256, "given with --tarball")


# ---------------------------------------------------------------- sources


def test_a_source_knows_its_line_and_file() -> None:
    source = Source("3.15.0b3", "https://x/3.15.0/Python-3.15.0b3.tar.xz", SHA, "o")
    assert (source.line, source.filename) == ("3.15", "Python-3.15.0b3.tar.xz")
    assert Source("3.15.0b3", "Python-3.15.0b3.tgz", SHA, "o").filename == "Python-3.15.0b3.tgz"


def test_the_pinned_sources_are_versions_json_s() -> None:
    assert FOLDER == REPO / ".devcontainer"
    pinned = pinned_sources()
    assert sorted(pinned) == ["3.13.15", "3.14.6", "3.15.0b3"]
    assert pinned["3.14.6"] == Source(
        "3.14.6",
        "https://www.python.org/ftp/python/3.14.6/Python-3.14.6.tar.xz",
        ONLINE,
        "pinned in versions.json",
    )
    assert resolve_source("3.14.6") == pinned["3.14.6"]
    assert default_version("offline") == "3.13.15" and default_version("online") == "3.14.6"


def test_a_tarball_is_taken_only_with_its_checksum() -> None:
    given = resolve_source("3.16.0a1", "/t/Python-3.16.0a1.tgz", SHA)
    assert given == Source("3.16.0a1", "/t/Python-3.16.0a1.tgz", SHA, "given with --tarball")
    for bad in ("", SHA[:-1], SHA.upper(), SHA + "0"):
        with pytest.raises(ValueError) as refused:
            resolve_source("3.16.0a1", "/t/x.tgz", bad)
        assert str(refused.value) == (
            "--tarball needs --sha256 with the tarball's SHA-256 (64 hex digits)"
        )


@pytest.mark.parametrize("version", ["3.14", "3.x.1", "v3.14.6", "3.14.6 ", ""])
def test_a_version_that_is_not_a_release_is_refused(version: str) -> None:
    with pytest.raises(ValueError) as refused:
        resolve_source(version, "/t/x.tgz", SHA)
    assert str(refused.value) == (
        f"--version {version!r}: give a full release like 3.14.6 or 3.15.0b3"
    )


def test_a_version_without_a_pin_says_how_to_pin_it() -> None:
    with pytest.raises(ValueError) as refused:
        resolve_source("3.12.1")
    assert str(refused.value) == (
        "no pinned source for 3.12.1 (pinned: 3.13.15, 3.14.6, 3.15.0b3); pin it with "
        "`invoke python.pin 3.12.1 --sha256 HEX`, or pass --tarball URL_OR_PATH --sha256 HEX"
    )


# ---------------------------------------------------------------- the verified download


def test_a_verified_tarball_lands_in_the_cache_once(tmp_path: Path) -> None:
    source = _source(tmp_path)
    said: list[str] = []
    cache = tmp_path / "cache"
    target = fetch(source, cache, said.append)
    assert target == cache / "downloads" / "Python-3.14.6.tar.xz"
    assert target.read_bytes() == BODY and sorted(os.listdir(target.parent)) == [target.name]
    Path(source.url).unlink()
    assert fetch(source, cache, said.append) == target and said == []


def test_a_tarball_with_another_checksum_leaves_nothing(tmp_path: Path) -> None:
    wanted = "0" * 64
    with pytest.raises(BuildFailed) as failed:
        fetch(_source(tmp_path, wanted), tmp_path / "cache", print)
    assert str(failed.value) == (
        f"Python-3.14.6.tar.xz: SHA-256 {SHA} is not {wanted}. Fix: compare with the sum its "
        "publisher lists; correct a wrong pin with `invoke python.pin VERSION --sha256 HEX`"
    )
    assert os.listdir(tmp_path / "cache" / "downloads") == []


def test_a_cached_tarball_that_changed_is_fetched_again(tmp_path: Path) -> None:
    source, cache = _source(tmp_path), tmp_path / "cache"
    stale = cache / "downloads" / "Python-3.14.6.tar.xz"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"truncated")
    assert fetch(source, cache, print).read_bytes() == BODY


def test_a_download_lands_in_a_partial_file_first(tmp_path: Path) -> None:
    given = _source(tmp_path)
    url = Path(given.url).as_uri()
    seen: list[list[str]] = []
    downloads = tmp_path / "cache" / "downloads"

    def say(text: str) -> None:
        assert text == f"downloading {url}"
        seen.append(os.listdir(downloads))

    target = fetch(Source("3.14.6", url, SHA, "o"), tmp_path / "cache", say)
    assert target.read_bytes() == BODY and os.listdir(downloads) == [target.name]
    [[partial]] = seen
    assert re.fullmatch(r"\.Python-3\.14\.6\.tar\.xz\.\w+\.partial", partial)


def test_a_download_waits_two_minutes_at_most(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    def urlopen(url: str, timeout: float) -> None:
        waits.append(timeout)
        raise OSError("timed out")

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    with pytest.raises(BuildFailed):
        fetch(Source("3.14.6", "https://x/Python-3.14.6.tar.xz", SHA, "o"), tmp_path, print)
    assert waits == [120]


def test_a_download_that_fails_names_the_url_and_the_fix(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/Python-3.14.6.tar.xz"
    said: list[str] = []
    with pytest.raises(BuildFailed) as failed:
        fetch(Source("3.14.6", url, SHA, "o"), tmp_path, said.append, timeout=5)
    assert str(failed.value).startswith(f"cannot download {url} (")
    assert str(failed.value).endswith(
        "). Fix: check the network or proxy, or build the offline profile's version "
        "(--profile offline)"
    )
    assert said == [f"downloading {url}"] and os.listdir(tmp_path / "downloads") == []


# ---------------------------------------------------------------- where a build lives


def test_a_build_lives_under_its_version_and_is_reused_only_for_its_tarball(
    tmp_path: Path,
) -> None:
    source = Source("3.14.6", "u", SHA, "o")
    assert prefix_for(source, tmp_path) == tmp_path / "3.14.6t"
    assert interpreter(source, tmp_path) == tmp_path / "3.14.6t/bin/python3.14t"
    assert not is_built(source, tmp_path)
    marker = tmp_path / "3.14.6t" / builder.MARKER
    marker.parent.mkdir()
    marker.write_text(f"{'1' * 64}\n")
    assert not is_built(source, tmp_path)
    marker.write_text(f"{SHA}\n")
    assert is_built(source, tmp_path)
    said: list[str] = []
    assert builder._build(source, tmp_path, 2, said.append) == interpreter(source, tmp_path)
    assert said == [f"reusing {tmp_path / '3.14.6t'}"]
    assert builder.MARKER == ".freethreaded-complete"


def test_the_cache_is_the_users(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert builder.cache_root() == tmp_path / "mcp-cluster" / "python"


def test_a_failed_step_shows_its_command_and_the_end_of_the_log(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    said: list[str] = []
    script = (
        "import sys\nfor n in range(19): print(f'line {n}')\n"
        "sys.stdout.flush(); sys.stdout.buffer.write(b'line \\xff19\\n'); sys.exit(3)"
    )
    command = [sys.executable, "-c", script, "extra"]
    with pytest.raises(BuildFailed) as failed:
        builder._run(command, tmp_path, log, said.append)
    tail = "\n".join(f"line {n}" for n in range(5, 19)) + "\nline \ufffd19"
    assert str(failed.value) == f"`{' '.join(command)}` failed (log: {log}):\n{tail}"
    assert said == [f"{sys.executable} -c {script} ..."]
    builder._run([sys.executable, "-c", "print('ok')"], tmp_path, log, said.append)
    assert said[-1] == f"{sys.executable} -c print('ok')" and log.read_bytes().endswith(b"ok\n")


def test_the_probe_reads_an_interpreter_or_says_none(tmp_path: Path) -> None:
    assert CHECK_PYTHON == REPO / ".devcontainer/cpython/check-python"
    facts = inspect(sys.executable, {"PYTHON_GIL": "1"})
    assert facts is not None and facts.version == ".".join(map(str, sys.version_info[:3]))
    assert isinstance(facts, Interpreter) and facts.gil_enabled
    assert inspect(tmp_path / "python-missing") is None
    assert inspect("/bin/false") is None
    lying = tmp_path / "lying-python"
    facts_json = '{"version": "3.14.6", "free_threaded_build": true, "gil_enabled": false}'
    lying.write_text(f"#!/bin/sh\necho '{facts_json}'\nexit $EXIT\n")
    lying.chmod(0o755)
    assert inspect(lying, {"EXIT": "1"}) is None
    assert inspect(lying, {"EXIT": "0"}) == Interpreter("3.14.6", True, False)


def test_the_probe_waits_half_a_minute_for_an_interpreter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []

    def hung(command: list[str], **options: object) -> None:
        assert command[1:] == [str(CHECK_PYTHON), "--json"]
        waits.append(float(options["timeout"]))  # type: ignore[arg-type]
        raise subprocess.TimeoutExpired(command, 30)

    monkeypatch.setattr(subprocess, "run", hung)
    assert inspect("/opt/python3.14t") is None and waits == [30.0]


# ---------------------------------------------------------------- files versions.json generates


@pytest.mark.parametrize(
    ("version", "url"),
    [
        ("3.14.6", "https://www.python.org/ftp/python/3.14.6/Python-3.14.6.tar.xz"),
        ("3.15.0b3", "https://www.python.org/ftp/python/3.15.0/Python-3.15.0b3.tar.xz"),
        ("3.15", "https://www.python.org/ftp/python/3.15/Python-3.15.tar.xz"),
    ],
)
def test_python_org_urls(version: str, url: str) -> None:
    assert pinfiles.python_org_url(version) == url


def test_the_image_of_a_version_is_the_one_tracking_its_line() -> None:
    versions = load_versions(FOLDER / "versions.json")
    assert pinfiles.image_for_version(versions, "3.14.9") == "devcontainer"
    assert pinfiles.image_for_version(versions, "3.15.0rc1") == "python-experimental"
    with pytest.raises(ValueError) as refused:
        pinfiles.image_for_version(versions, "3.13.16")
    assert str(refused.value) == "no single image tracks Python 3.13 (none); pass --image"


def test_pins_are_written_into_each_kind_of_file() -> None:
    versions = load_versions(FOLDER / "versions.json")
    pin = versions.images["devcontainer"].pins["online"]
    dockerfile = "FROM x\nARG PYTHON_VERSION=1\nARG PYTHON_URL=u\nARG PYTHON_SHA256=s\n#ARG PYTHON_URL=keep\n"
    assert pinfiles._dockerfile(dockerfile, pin) == (
        f"FROM x\nARG PYTHON_VERSION=3.14.6\nARG PYTHON_URL={pin.url}\n"
        f"ARG PYTHON_SHA256={ONLINE}\n#ARG PYTHON_URL=keep\n"
    )
    compose = "v: ${PYTHON_VERSION:-3.0.0}\nw: ${PYTHON_VERSION}\n"
    assert (
        pinfiles._compose(compose, versions)
        == "v: ${PYTHON_VERSION:-3.14.6}\nw: ${PYTHON_VERSION}\n"
    )
    assert pinfiles._env("A=1\nPYTHON_VERSION=old", {"PYTHON_VERSION": "3.14.6", "B": "x"}) == (
        "A=1\nPYTHON_VERSION=3.14.6\nB=x\n"
    )
    assert pinfiles._env("", {"B": "x"}) == "B=x\n"
    assert pinfiles._env("A=1\n", {"B": "x", "C": "y"}) == "A=1\nB=x\nC=y\n"
    assert pinfiles._env("A=1\n", {"A": "1"}) == "A=1\n"
    assert pinfiles._literal("a\\1b") == "a\\\\1b"


def test_a_pin_for_an_unknown_image_or_profile_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "versions.json"
    text = (FOLDER / "versions.json").read_text()
    path.write_text(text)
    with pytest.raises(ValueError) as refused:
        pinfiles.pin_image(path, "devcontainr", "online", "3.14.7", SHA, "")
    assert str(refused.value) == (
        "no image 'devcontainr' in versions.json; choose devcontainer, python-experimental"
    )
    with pytest.raises(ValueError) as refused:
        pinfiles.pin_image(path, "devcontainer", "onlin", "3.14.7", SHA, "")
    assert str(refused.value) == "no profile 'onlin'; choose online, offline"
    assert path.read_text() == text
    pinned = pinfiles.pin_image(path, "devcontainer", "online", "3.14.7", SHA, "")
    assert pinned.images["devcontainer"].pins["online"].url == (
        "https://www.python.org/ftp/python/3.14.7/Python-3.14.7.tar.xz"
    )
    assert json.loads(path.read_text())["cpython"]["devcontainer"]["pins"]["online"] == {
        "version": "3.14.7",
        "url": "https://www.python.org/ftp/python/3.14.7/Python-3.14.7.tar.xz",
        "sha256": SHA,
    }
    written = path.read_text()
    assert written == json.dumps(json.loads(written), indent=2) + "\n"
    with pytest.raises(StackError) as bad:
        pinfiles.pin_image(path, "devcontainer", "online", "3.14.8", "f" * 63, "")
    assert bad.value.key == "--sha256.sha256" and path.read_text() == written


# ---------------------------------------------------------------- a whole build, of a stand-in tree

CONFIGURE = """#!/bin/sh
echo "configure $*"
echo "in $PWD" >&2
for word in "$@"; do case $word in --prefix=*) echo "${word#--prefix=}" > prefix.txt ;; esac; done
"""
MAKEFILE = """PREFIX := $(shell cat prefix.txt)
all:
\t@echo "make all"
install:
\t@mkdir -p "$(DESTDIR)$(PREFIX)/bin"
\t@cp fake-python "$(DESTDIR)$(PREFIX)/bin/python3.14t"
\t@echo "installed into $(DESTDIR)"
"""
# A stand-in interpreter: `-c` is the standard modules' import, anything else check-python.
FAKE_PYTHON = """#!/bin/sh
if [ "$1" = "-c" ]; then
  [ "$2" = "import ssl, zlib, ctypes, sqlite3, bz2, lzma" ] || { echo "asked $2" >&2; exit 1; }
  [ "$PYTHONHOME/bin/python3.14t" = "$0" ] || { echo "PYTHONHOME $PYTHONHOME" >&2; exit 1; }
  [ -n "$FAKE_SILENT" ] && exit 1
  [ -n "$FAKE_MISSING" ] && { printf 'Traceback\\n%s\\n' "$FAKE_MISSING" >&2; exit 1; }
  exit 0
fi
[ -n "$FAKE_CHECK" ] && { echo "$FAKE_CHECK" >&2; exit 1; }
[ "${1##*/}" = check-python ] && [ -f "$1" ] && [ "$2" = 3.14.6 ] || { echo "ran $*" >&2; exit 1; }
[ "$PYTHON_GIL" = 0 ] && [ "$PYTHONHOME/bin/python3.14t" = "$0" ] || { echo "wrong environment" >&2; exit 1; }
exit 0
"""


# A build extracts the fake tree and runs its scripts: under pytest-run-parallel a fork in
# another thread can still hold an extracted script open for writing (exec then fails with
# ETXTBSY, "Text file busy"), so tests that build run in one thread.
BUILDS = pytest.mark.thread_unsafe(reason="runs scripts it has just extracted (ETXTBSY)")


def _tree(tmp_path: Path) -> Source:
    tree = tmp_path / "src" / "Python-3.14.6"
    tree.mkdir(parents=True)
    for name, text, mode in (
        ("configure", CONFIGURE, 0o755),
        ("Makefile", MAKEFILE, 0o644),
        ("fake-python", FAKE_PYTHON, 0o755),
    ):
        (tree / name).write_text(text)
        (tree / name).chmod(mode)
    tarball = tmp_path / "Python-3.14.6.tar.xz"
    with tarfile.open(tarball, "w:xz") as archive:
        archive.add(tree, arcname="Python-3.14.6")
    return Source("3.14.6", str(tarball), hashlib.sha256(tarball.read_bytes()).hexdigest(), "o")


@BUILDS
def test_a_build_configures_compiles_installs_and_verifies(tmp_path: Path) -> None:
    source, root = _tree(tmp_path), tmp_path / "cache"
    said: list[str] = []
    python = builder.build(source, root, 3, said.append)
    prefix = root / "3.14.6t"
    assert python == prefix / "bin/python3.14t" and python.is_file()
    assert (prefix / builder.MARKER).read_text() == f"{source.sha256}\n"
    assert is_built(source, root) and not (root / "3.14.6t.partial").exists()
    partial = root / "3.14.6t.partial"
    assert said == [
        f"./configure --disable-gil --prefix={prefix} ...",
        "make -j3",
        f"make install DESTDIR={partial}",
    ]
    log = (root / "build-3.14.6t.log").read_text().splitlines()
    assert log[:1] + log[2:] == [
        f"configure --disable-gil --prefix={prefix} --with-ensurepip=install",
        "make all",
        f"installed into {partial}",
    ]
    # the steps' stderr goes to the log too; they run in a fresh work folder of their own
    assert re.fullmatch(r"in /\S*/cpython-\w+/Python-3\.14\.6", log[1]), log[1]
    assert (root / "downloads/Python-3.14.6.tar.xz").is_file()
    assert builder.build(source, root, 3, said.append) == python
    assert said[-1] == f"reusing {prefix}"


@BUILDS
@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "FAKE_CHECK",
            "3.14.6 is not a free-threaded build",
            "3.14.6 is not a free-threaded build",
        ),
        (
            "FAKE_MISSING",
            "ModuleNotFoundError: No module named '_ssl'",
            "the build lacks standard modules (ModuleNotFoundError: No module named '_ssl'). Fix: "
            "install the build dependencies (scripts/setup.sh --host) and run the task again",
        ),
        (
            "FAKE_SILENT",
            "1",
            "the build lacks standard modules (a module). Fix: "
            "install the build dependencies (scripts/setup.sh --host) and run the task again",
        ),
    ],
)
def test_a_build_that_is_not_what_it_should_be_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    source, root = _tree(tmp_path), tmp_path / "cache"
    with pytest.raises(BuildFailed) as failed:
        builder.build(source, root, 2, print)
    assert str(failed.value) == message
    assert not (root / "3.14.6t").exists() and not is_built(source, root)


@BUILDS
def test_a_half_installed_build_of_an_earlier_run_is_replaced(tmp_path: Path) -> None:
    source, root = _tree(tmp_path), tmp_path / "cache"
    stale = root / "3.14.6t.partial" / str(root / "3.14.6t").lstrip("/") / "bin" / "stale"
    stale.parent.mkdir(parents=True)
    stale.write_text("")
    old = root / "3.14.6t" / "bin" / "old"
    old.parent.mkdir(parents=True)
    old.write_text("")
    builder.build(source, root, 1, print)
    assert not (root / "3.14.6t.partial").exists() and not old.exists()
    assert sorted(os.listdir(root / "3.14.6t" / "bin")) == ["python3.14t"]


@BUILDS
def test_a_build_downloads_its_tarball_first(tmp_path: Path) -> None:
    given = _tree(tmp_path)
    url = Path(given.url).as_uri()
    said: list[str] = []
    builder.build(Source("3.14.6", url, given.sha256, "o"), tmp_path / "cache", 1, said.append)
    assert said[0] == f"downloading {url}"


def test_a_source_tarball_cannot_write_outside_its_work_folder(tmp_path: Path) -> None:
    escaped = Path(tempfile.gettempdir()) / f"mcp-escape-{os.getpid()}-{tmp_path.name}.txt"
    tarball = tmp_path / "Python-3.14.6.tar.xz"
    member = tmp_path / "member.txt"
    member.write_text("outside")
    with tarfile.open(tarball, "w:xz") as archive:
        archive.add(member, arcname=f"../{escaped.name}")
    source = Source("3.14.6", str(tarball), hashlib.sha256(tarball.read_bytes()).hexdigest(), "o")
    try:
        with pytest.raises(tarfile.OutsideDestinationError):
            builder.build(source, tmp_path / "cache", 1, print)
        assert not escaped.exists()
    finally:
        escaped.unlink(missing_ok=True)


def test_two_images_on_one_line_need_image_named(tmp_path: Path) -> None:
    data = json.loads((FOLDER / "versions.json").read_text())
    experimental = data["cpython"]["python-experimental"]["pins"]
    experimental["online"] = data["cpython"]["devcontainer"]["pins"]["online"]
    (tmp_path / "versions.json").write_text(json.dumps(data))
    versions = load_versions(tmp_path / "versions.json")
    with pytest.raises(ValueError) as refused:
        pinfiles.image_for_version(versions, "3.14.7")
    assert str(refused.value) == (
        "no single image tracks Python 3.14 (devcontainer, python-experimental); pass --image"
    )


def test_a_profile_without_its_env_file_gets_one_with_its_values(tmp_path: Path) -> None:
    versions = load_versions(FOLDER / "versions.json")
    views = pinfiles.render_views(tmp_path, versions, tmp_path / "missing-compose.yml")
    assert sorted(views) == [tmp_path / "profiles/offline.env", tmp_path / "profiles/online.env"]
    online = views[tmp_path / "profiles/online.env"]
    assert online == "".join(f"{k}={v}\n" for k, v in versions.profile_values("online").items())


@pytest.mark.parametrize(
    ("name", "what"),
    [("Dockerfile", "Dockerfile"), ("compose.yml", "compose file"), ("profiles/online.env", "env file")],
)  # fmt: skip
def test_a_file_the_pins_go_into_that_is_not_utf8_is_named(
    tmp_path: Path, name: str, what: str
) -> None:
    for other in ("Dockerfile", "compose.yml", "profiles/online.env"):
        (tmp_path / other).parent.mkdir(exist_ok=True)
        (tmp_path / other).write_text("\n")
    (tmp_path / name).write_bytes(b"FROM x\n\xff\n")
    versions = load_versions(FOLDER / "versions.json")
    with pytest.raises(StackError) as refused:
        pinfiles.render_views(tmp_path, versions, tmp_path / "compose.yml")
    assert refused.value.problem == f"{what} is not UTF-8: byte 0xff at column 1"
    assert refused.value.line == 2 and refused.value.path == tmp_path / name


def test_regenerating_lists_each_pin_and_what_changed(mini: MiniStack) -> None:
    versions = load_versions(FOLDER / "versions.json")
    first = pinfiles.regenerate(mini.root, versions)
    assert first.data == {
        "pins": {
            name: {profile: pin.to_json() for profile, pin in image.pins.items()}
            for name, image in versions.images.items()
        },
        "changed": [".devcontainer/profiles/online.env", ".devcontainer/profiles/offline.env"],
    }
    online = versions.images["devcontainer"].pins["online"]
    assert first.views[0] == f"devcontainer \\[online]: CPython {online.version}  {online.url}"
    assert len(first.views) == 4 + 2
    assert first.views[4:] == [
        "regenerated .devcontainer/profiles/online.env",
        "regenerated .devcontainer/profiles/offline.env",
    ]
    again = pinfiles.regenerate(mini.root, versions)
    assert again.data["changed"] == [] and len(again.views) == 5
    assert again.views[-1] == "every generated file already agrees with versions.json"


def test_the_default_version_is_the_profile_dot_env_selects_else_online(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "versions.json").write_text((FOLDER / "versions.json").read_text())
    monkeypatch.setattr(sources, "FOLDER", tmp_path)
    assert default_version() == "3.14.6"
    (tmp_path / ".env").write_text(apply_profile("", "offline", {}))
    assert default_version() == "3.13.15" and default_version("online") == "3.14.6"
