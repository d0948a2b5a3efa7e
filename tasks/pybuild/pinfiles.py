"""The files generated from versions.json: Dockerfile ARG defaults, compose defaults and the
image profiles' env files, generated the library's one way (tasks/model/generated.py):
`render_views` gives the text each should have (drift is a finding), `regenerate` writes them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tasks.files import write_atomic
from tasks.model.generated import Views, write_changed
from tasks.model.source import present, read_text
from tasks.model.stack import PROFILES_DIR
from tasks.model.versions import PROFILES, Pin, Versions, check_pin, load_versions
from tasks.outcome import Outcome


def _dockerfile(text: str, pin: Pin) -> str:
    values = {"VERSION": pin.version, "URL": pin.url, "SHA256": pin.sha256}
    for suffix, value in values.items():
        text = re.sub(
            rf"^ARG PYTHON_{suffix}=.*$", _literal(f"ARG PYTHON_{suffix}={value}"), text, flags=re.M
        )
    return text


def _literal(text: str) -> str:
    """`text` as an `re.sub` replacement that inserts it unchanged."""
    return text.replace("\\", "\\\\")


def _compose(text: str, versions: Versions) -> str:
    for name, value in versions.profile_values("online").items():
        text = re.sub(rf"\$\{{{name}:-[^}}]*\}}", _literal(f"${{{name}:-{value}}}"), text)
    return text


def _env(text: str, values: dict[str, str]) -> str:
    missing = []
    for name, value in values.items():
        line = f"{name}={value}"
        text, count = re.subn(rf"^{name}=.*$", _literal(line), text, flags=re.M)
        if not count:
            missing.append(line)
    if missing:
        text = text + ("" if text.endswith("\n") or not text else "\n") + "\n".join(missing) + "\n"
    return text


def render_views(folder: Path, versions: Versions, compose: Path) -> Views:
    """Path -> the text it should have; only files that exist or a profile needs."""
    views: dict[Path, str] = {}
    for image in versions.images.values():
        path = folder / image.dockerfile if image.dockerfile else None
        if path is not None and present(path):
            text = views.get(path, read_text(path, "Dockerfile"))
            views[path] = _dockerfile(text, image.pins["online"])
    if present(compose):
        views[compose] = _compose(read_text(compose, "compose file"), versions)
    for profile in PROFILES:
        path = folder / PROFILES_DIR / f"{profile}.env"
        text = read_text(path, "env file") if present(path) else ""
        views[path] = _env(text, versions.profile_values(profile))
    return views


def pin_image(
    path: Path, image: str, profile: str, version: str, sha256: str, url: str
) -> Versions:
    """Write a new pin into versions.json (validated before anything is written)."""
    versions = load_versions(path)
    if image not in versions.images:
        raise ValueError(f"no image {image!r} in {path.name}; choose {', '.join(versions.images)}")
    if profile not in PROFILES:
        raise ValueError(f"no profile {profile!r}; choose {', '.join(PROFILES)}")
    url = url or python_org_url(version)
    pin = check_pin(path, "--sha256", {"version": version, "url": url, "sha256": sha256})
    write_atomic(path, json.dumps(versions.with_pin(image, profile, pin), indent=2) + "\n")
    return load_versions(path)


def python_org_url(version: str) -> str:
    """python.org's URL of a release's source tarball (`3.15.0b3` lives under `3.15.0/`)."""
    release = re.match(r"\d+\.\d+\.\d+", version)
    folder = release.group(0) if release else version
    return f"https://www.python.org/ftp/python/{folder}/Python-{version}.tar.xz"


def image_for_version(versions: Versions, version: str) -> str:
    """The image whose online pin is on the same `X.Y` line as `version`."""
    line = ".".join(version.split(".")[:2])
    found = [i.image for i in versions.images.values() if i.pins["online"].line == line]
    if len(found) != 1:
        raise ValueError(
            f"no single image tracks Python {line} ({', '.join(found) or 'none'}); pass --image"
        )
    return found[0]


def regenerate(repo: Path, versions: Versions) -> Outcome:
    """Write every file of `repo` derived from versions.json; the outcome lists the pins and
    what changed."""
    from rich.markup import escape

    from tasks.model.stack import load_stack

    stack = load_stack(repo)
    changed = write_changed(render_views(stack.folder, versions, stack.compose.path))
    rows = {
        name: {profile: pin.to_json() for profile, pin in item.pins.items()}
        for name, item in versions.images.items()
    }
    views = [
        escape(f"{name} [{profile}]: CPython {value['version']}  {value['url']}")
        for name, pins in rows.items()
        for profile, value in pins.items()
    ]
    views += [f"regenerated {path.relative_to(repo)}" for path in changed]
    if not changed:
        views.append("every generated file already agrees with versions.json")
    data = {"pins": rows, "changed": [str(p.relative_to(repo)) for p in changed]}
    return Outcome(data, views)
