"""Images and build cache shared through a registry, on the real engine: Debian's
docker-registry on 127.0.0.1, a second engine as a second machine, and the failures a team
meets (the registry down, a refused push, a lock naming a digest the registry lost)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tasks.images.sharing import registry_ref
from tasks.model.imagelock import LOCK_FILE, load_lock, lock_document
from tests.clirun import invoke, invoke_json
from tests.integration.registryhost import Registry, SecondEngine, free_port
from tests.integration.tinystack import NAMES, TinyStack
from tests.ministack import copy_repo

pytestmark = pytest.mark.integration

LAB = "mcp-python-experimental:latest"
DEV = "mcp-devcontainer:latest"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """One registry for the module, its storage in a temporary folder."""
    running = Registry(tmp_path_factory.mktemp("registry"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, seeded: None) -> Path:
    """The repository's stack (no local .env), built with the offline profile."""
    return copy_repo(tmp_path_factory.mktemp("repo"))


def _untag(*refs: str) -> None:
    subprocess.run(["docker", "rmi", *refs], capture_output=True, check=False)


def _build(repo: Path, name: str, *options: str) -> list[str]:
    return ["build.containers", "--name", name, "--profile", "offline", "--root", str(repo),
            *options]  # fmt: skip


def test_a_second_machine_builds_from_the_registry_cache(registry: Registry, repo: Path) -> None:
    """Pushed once, both free-threaded images build on an engine with no images and no cache
    entirely from the registry: the CPython compile included."""
    prefix = registry.prefix()
    refs = [registry_ref(prefix, tag) for tag in (LAB, DEV)]
    try:
        for name, ref in zip(("python-experimental", "devcontainer"), refs, strict=True):
            code, pushed = invoke_json(*_build(repo, name, "--registry", prefix, "--push"),
                                       timeout=1800)  # fmt: skip
            assert code == 0, pushed
            assert pushed["pushed"] == [ref] and pushed["builder"]["driver"] == "docker"
        second = SecondEngine()
        try:
            second.load("mcp-offline/debian:trixie")
            for name, steps in (("python-experimental", 7), ("devcontainer", 12)):
                code, built = invoke_json(*_build(repo, name, "--registry", prefix),
                                          env={"DOCKER_HOST": second.host}, timeout=900)  # fmt: skip
                assert code == 0, built
                [image] = built["images"]
                assert image["status"] == "cached", image
                assert image["cached_steps"] == image["total_steps"] >= steps, image
            for tag in (LAB, DEV):
                run = second.docker("run", "--rm", "--network", "none", "--entrypoint",
                                    "check-python", tag)  # fmt: skip
                assert run.returncode == 0 and "free-threaded" in run.stdout, run.stderr
        finally:
            second.stop()
        docker0 = subprocess.run(
            ["ip", "link", "show", "docker0"], capture_output=True, check=False
        )
        assert docker0.returncode == 0, "the second engine left the first one's bridge alone"
    finally:
        _untag(*refs)


def test_a_registry_that_is_down_stops_the_build_with_the_fix(repo: Path) -> None:
    prefix = f"127.0.0.1:{free_port()}/mcp"
    result = invoke(*_build(repo, "mariadb", "--registry", prefix, "--push"), timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"reading {prefix}/mcp-mariadb:latest from its registry failed" in result.stderr
    assert "connection refused" in result.stderr and "Fix: start the registry" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_refused_push_is_named(repo: Path, tmp_path: Path) -> None:
    read_only = Registry(tmp_path, read_only=True)
    ref = registry_ref(read_only.prefix(), "mcp-mariadb:latest")
    try:
        result = invoke(*_build(repo, "mariadb", "--registry", read_only.prefix(), "--push"),
                        timeout=600)  # fmt: skip
        assert result.returncode == 1, result.stdout + result.stderr
        assert f"error: pushing {ref} failed" in result.stderr, result.stderr
        assert "docker login" in result.stderr and "Traceback" not in result.stderr
    finally:
        read_only.stop()
        _untag(ref)


@pytest.fixture
def tiny_service(tiny: TinyStack) -> Iterator[TinyStack]:
    """The tiny stack with services that keep running, stopped and removed afterwards."""
    compose = tiny.folder / "docker-compose.mcp.yml"
    data = yaml.safe_load(compose.read_text())
    for service in data["services"].values():
        service["command"] = ["sleep", "infinity"]
    compose.write_text(yaml.safe_dump(data))
    (tiny.folder / "devcontainer.env").write_text("")
    yield tiny
    invoke("stack.down", "--root", str(tiny.root), timeout=120)


def test_push_lock_and_pull_instead_of_building(
    registry: Registry, tiny_service: TinyStack
) -> None:
    """The lock holds every pushed image or is not written; `stack.up --pull` starts the stack
    from the pinned digests with no local build, and a digest the registry lost is named."""
    tiny, prefix = tiny_service, registry.prefix("tiny")
    root, lock = str(tiny_service.root), tiny_service.folder / LOCK_FILE
    refs = [registry_ref(prefix, tiny.tag(name)) for name in NAMES]
    try:
        code, missing = invoke_json("images.lock", "--root", root, "--registry", prefix)
        assert code == 1 and not lock.exists(), missing
        assert all(ref in missing["error"]["problem"] for ref in refs)
        code, built = invoke_json("build.all", "--parallel", "--root", root, "--registry", prefix,
                                  "--push", timeout=600)  # fmt: skip
        assert code == 0 and sorted(built["pushed"]) == sorted(refs), built
        code, locked = invoke_json("images.lock", "--root", root, "--registry", prefix)
        assert code == 0, locked
        pins = load_lock(lock)
        refs += [pinned for _, pinned in pins.images.values()]
        for name in NAMES:
            tag, pinned = pins.images[name]
            digests = subprocess.run(
                ["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", tag],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            assert tag == tiny.tag(name) and pinned in digests, (pinned, digests)
        tiny.remove_images()
        _untag(*refs)
        code, up = invoke_json("stack.up", "--root", root, "--pull", timeout=300)
        assert code == 0, up
        assert sorted(up["pulled"]) == sorted(pins.images[n][1] for n in NAMES)
        assert up["ok"] and {s["service"] for s in up["services"]} == set(NAMES)
        invoke("stack.down", "--root", root, timeout=120)
        lost = f"{prefix}/{tiny.prefix}-alpha@sha256:{'0' * 64}"
        images = {n: pins.images[n] for n in NAMES} | {"alpha": (tiny.tag("alpha"), lost)}
        lock.write_text(lock_document(prefix, "online", images))
        result = invoke("stack.up", "--root", root, "--pull", timeout=300)
        assert result.returncode == 1 and f"pulling {lost} failed" in result.stderr
        assert "run `invoke images.lock` again" in result.stderr, result.stderr
    finally:
        _untag(*refs)
