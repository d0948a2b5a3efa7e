"""versions.json: the single source of each image's CPython, its generated files, the profile
switch in .devcontainer/.env, and `invoke python.pin`'s refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.model.localenv import PROFILE_KEY, apply_profile, block_values
from tasks.model.stack import load_stack, resolve_profile
from tasks.model.versions import load_versions
from tasks.pybuild.pinfiles import pin_image, python_org_url, render_views
from tasks.pybuild.sources import pinned_sources
from tasks.rules.catalog import run_rules
from tests.clirun import REPO, invoke
from tests.ministack import copy_repo

FOLDER = REPO / ".devcontainer"


def test_every_version_fact_agrees_with_the_versions_file() -> None:
    versions = load_versions(FOLDER / "versions.json")
    stack = load_stack(REPO)
    for path, wanted in render_views(FOLDER, versions, stack.compose.path).items():
        assert path.read_text(encoding="utf-8") == wanted, path
    dev = versions.images["devcontainer"].pins
    assert dev["online"].version == "3.14.6" and dev["offline"].version == "3.13.15"
    assert versions.images["python-experimental"].pins["online"].version == "3.15.0b3"
    dockerfile = (FOLDER / "Dockerfile").read_text()
    assert f"ARG PYTHON_SHA256={dev['online'].sha256}" in dockerfile
    assert "PYTHON_VERSION" not in (FOLDER / "devcontainer.env").read_text()
    assert {p.sha256 for p in versions.all_pins()} == {s.sha256 for s in pinned_sources().values()}


def test_drift_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo")
    dockerfile = repo / ".devcontainer/Dockerfile"
    dockerfile.write_text(
        dockerfile.read_text().replace("ARG PYTHON_VERSION=3.14.6", "ARG PYTHON_VERSION=3.14.9", 1)
    )
    findings = [f for f in run_rules(load_stack(repo), {"VER"}) if f.rule == "VER001"]
    assert len(findings) == 1 and findings[0].severity == "error"
    assert findings[0].path.endswith(".devcontainer/Dockerfile") and findings[0].line
    assert "3.14.9" in findings[0].message and "python.sync" in findings[0].fix
    assert invoke("check", "--root", str(repo)).returncode == 1


def test_an_image_whose_build_misses_its_pin_is_flagged(tmp_path: Path) -> None:
    """python-experimental shares the dev container's Dockerfile: without its own build args
    it would build the dev container's CPython under its name."""
    repo = copy_repo(tmp_path / "repo")
    compose = repo / ".devcontainer/docker-compose.mcp.yml"
    text = compose.read_text()
    arg = "        PYTHON_VERSION: ${PYTHON_EXPERIMENTAL_VERSION:-3.15.0b3}\n"
    assert arg in text
    compose.write_text(text.replace(arg, "", 1))
    findings = run_rules(load_stack(repo), {"VER004"})
    assert [(f.path, f.message) for f in findings] == [
        (
            ".devcontainer/docker-compose.mcp.yml",
            "service python-experimental builds with PYTHON_VERSION=None, not its online pin "
            "'3.15.0b3'",
        )
    ]
    assert findings[0].line and "${PYTHON_EXPERIMENTAL_VERSION:-...}" in findings[0].fix
    # A misnamed variable: its default is regenerated from the other image's pin (VER001).
    compose.write_text(text.replace("${PYTHON_EXPERIMENTAL_URL:-", "${PYTHON_URL:-", 1))
    drift = run_rules(load_stack(repo), {"VER001"})
    assert [f.path for f in drift] == [".devcontainer/docker-compose.mcp.yml"]
    assert "Python-3.14.6.tar.xz" in drift[0].message


def test_a_versions_entry_without_its_service_is_flagged(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo")
    path = repo / ".devcontainer/versions.json"
    data = json.loads(path.read_text())
    data["cpython"]["lab"] = data["cpython"].pop("python-experimental")
    path.write_text(json.dumps(data, indent=2))
    findings = run_rules(load_stack(repo), {"VER004"})
    assert [(f.path, f.message) for f in findings] == [
        (".devcontainer/versions.json", "cpython.lab names no compose service that builds an image")
    ]
    assert findings[0].line
    assert run_rules(load_stack(REPO), {"VER004"}) == []


def test_a_tarball_that_is_not_its_version_is_flagged(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo")
    path = repo / ".devcontainer/versions.json"
    data = json.loads(path.read_text())
    data["cpython"]["devcontainer"]["pins"]["offline"]["version"] = "3.14.2"
    path.write_text(json.dumps(data))
    found = [f for f in run_rules(load_stack(repo), {"VER002"})]
    assert [f.severity for f in found] == ["error"]
    assert "python3.13_3.13.15.orig.tar.xz is not CPython 3.14.2" in found[0].message


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("version", "3.14", "cpython.devcontainer.pins.online.version"),
        ("version", "3.15.2-dev", "cpython.devcontainer.pins.online.version"),
        ("sha256", "143B1D", "cpython.devcontainer.pins.online.sha256"),
        ("url", "ftp://example/x.tar.xz", "cpython.devcontainer.pins.online.url"),
    ],
)
def test_malformed_pins_name_the_key(tmp_path: Path, field: str, value: str, key: str) -> None:
    path = tmp_path / "versions.json"
    data = json.loads((FOLDER / "versions.json").read_text())
    data["cpython"]["devcontainer"]["pins"]["online"][field] = value
    path.write_text(json.dumps(data))
    with pytest.raises(StackError) as error:
        load_versions(path)
    assert error.value.key == key and "python.pin" in error.value.fix


def test_pin_rewrites_the_file_and_every_view(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo")
    path = repo / ".devcontainer/versions.json"
    sha = "ab" * 32
    versions = pin_image(path, "devcontainer", "online", "3.14.7", sha, "")
    assert versions.images["devcontainer"].pins["online"].url == python_org_url("3.14.7")
    assert python_org_url("3.15.0b4").endswith("/3.15.0/Python-3.15.0b4.tar.xz")
    views = render_views(
        repo / ".devcontainer", versions, repo / ".devcontainer/docker-compose.mcp.yml"
    )
    dockerfile = views[repo / ".devcontainer/Dockerfile"]
    assert f"ARG PYTHON_SHA256={sha}" in dockerfile and "ARG PYTHON_VERSION=3.14.7" in dockerfile
    assert "${PYTHON_VERSION:-3.14.7}" in views[repo / ".devcontainer/docker-compose.mcp.yml"]
    assert f"PYTHON_SHA256={sha}" in views[repo / ".devcontainer/profiles/online.env"]
    with pytest.raises(StackError):
        pin_image(path, "devcontainer", "online", "3.14.7", "xyz", "")
    assert load_versions(path).images["devcontainer"].pins["online"].sha256 == sha


@pytest.mark.parametrize(
    "args",
    [
        ("3.14", "--sha256", "ab" * 32),
        ("3.14.7", "--sha256", "not-hex"),
        ("3.14.7",),
        ("3.16.0", "--sha256", "ab" * 32),
    ],
)
def test_python_pin_refuses_bad_input_and_changes_nothing(args: tuple[str, ...]) -> None:
    before = (FOLDER / "versions.json").read_text()
    result = invoke("python.pin", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert (FOLDER / "versions.json").read_text() == before


def test_profile_block_replaces_itself_and_keeps_secrets() -> None:
    text = "POSTGRES_PASSWORD=s3cret\nDEBIAN_BASE_IMAGE=old\n# mine\n"
    once = apply_profile(text, "offline", {"DEBIAN_BASE_IMAGE": "mcp-offline/debian:trixie"})
    assert "POSTGRES_PASSWORD=s3cret" in once and "# mine" in once
    assert "DEBIAN_BASE_IMAGE=old" not in once
    assert block_values(once) == {
        PROFILE_KEY: "offline",
        "DEBIAN_BASE_IMAGE": "mcp-offline/debian:trixie",
    }
    assert (
        apply_profile(once, "offline", {"DEBIAN_BASE_IMAGE": "mcp-offline/debian:trixie"}) == once
    )
    online = apply_profile(once, "online", {"PYTHON_VERSION": "3.14.6"})
    assert block_values(online) == {PROFILE_KEY: "online", "PYTHON_VERSION": "3.14.6"}
    assert online.count("# >>> image profile") == 1 and "POSTGRES_PASSWORD=s3cret" in online


def test_tasks_follow_the_profile_in_env_and_refuse_another(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo")
    folder = repo / ".devcontainer"
    assert resolve_profile(folder, None) is None
    result = invoke("env.init", "--profile", "offline", "--root", str(repo))
    assert result.returncode == 0, result.stderr
    assert (folder / ".env").stat().st_mode & 0o777 == 0o600
    assert resolve_profile(folder, None) == "offline"
    stack = load_stack(repo)
    assert stack.profile == "offline"
    build = stack.compose.services["devcontainer"].build
    assert build is not None and build.args["PYTHON_VERSION"] == "3.13.15"
    with pytest.raises(StackError) as error:
        resolve_profile(folder, "online")
    assert "env.init --profile online" in error.value.fix and error.value.key == PROFILE_KEY
    result = invoke("check", "--root", str(repo), "--profile", "online")
    assert result.returncode == 2 and "MCP_PROFILE" in result.stderr + result.stdout
    again = invoke("env.init", "--profile", "online", "--root", str(repo))
    assert again.returncode == 0
    build = load_stack(repo).compose.services["devcontainer"].build
    assert build is not None and build.args["PYTHON_VERSION"] == "3.14.6"
    assert invoke("env.init", "--profile", "nope", "--root", str(repo)).returncode == 2


def test_a_stale_profile_block_is_a_warning(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo")
    env = repo / ".devcontainer/.env"
    env.write_text(apply_profile("", "offline", {"PYTHON_VERSION": "3.13.1"}))
    found = run_rules(load_stack(repo), {"VER003"})
    assert [f.severity for f in found] == ["warning"]
    assert "env.init --profile offline" in found[0].fix
    assert invoke("check", "--root", str(repo)).returncode == 0


def test_online_builds_need_no_variables(tmp_path: Path) -> None:
    """A clone with no .env builds python.org's pinned tarballs: nothing to set by hand."""
    from tasks.images.plan import build_plan

    stack = load_stack(copy_repo(tmp_path / "repo"))
    assert stack.profile is None
    targets = {t.name: t for t in build_plan(stack, None).targets}
    for name, version in (("devcontainer", "3.14.6"), ("python-experimental", "3.15.0b3")):
        args = targets[name].build.args
        assert args["PYTHON_VERSION"] == version
        assert args["PYTHON_URL"].startswith("https://www.python.org/ftp/python/3.1")
        assert args["PYTHON_URL"].endswith(f"/Python-{version}.tar.xz")
        assert len(args["PYTHON_SHA256"]) == 64
