"""Doctor rows from probe facts (pure)."""

from __future__ import annotations

from tasks.engine.cache import parse_size
from tasks.engine.prerequisites import Facts, evaluate

GOOD = Facts(
    engine_version="20.10.24",
    api_version="1.41",
    buildx_version="buildx 0.29.1",
    compose_version="Docker Compose version 2.40.3",
    free_bytes=50 * 1024**3,
    runtimes=["runc"],
    free_threaded={"/opt/py/bin/python3.13t": True},
    mmdebstrap=True,
)


def rows(facts: Facts) -> dict[str, tuple[str, str]]:
    return {row.check: (row.status, row.fix) for row in evaluate(facts)}


def test_healthy_host() -> None:
    result = rows(GOOD)
    assert result["docker engine"][0] == "ok"
    assert (
        result["NVIDIA runtime"][0] == "warn" and "Container Toolkit" in result["NVIDIA runtime"][1]
    )
    assert all(status != "fail" for status, _ in result.values())


def test_missing_engine_and_plugins_fail_with_fix() -> None:
    facts = Facts(engine_error="Cannot connect to the Docker daemon", free_bytes=1024**3)
    result = rows(facts)
    for check in ("docker engine", "buildx", "compose v2", "disk space"):
        assert result[check][0] == "fail"
    assert "provision-engine.sh" in result["docker engine"][1]
    assert result["free-threaded Python"][0] == "warn"


def test_gpu_runtime_and_pool_overlap() -> None:
    facts = Facts(
        **{
            **GOOD.to_json(),
            "runtimes": ["nvidia", "runc"],
            "overlapping_networks": ["old_default (172.20.0.0/16)"],
        }
    )
    result = rows(facts)
    assert result["NVIDIA runtime"][0] == "ok"
    assert result["address pool"][0] == "warn"


def test_docker_sizes() -> None:
    assert parse_size("0B") == 0
    assert parse_size("41B") == 41
    assert parse_size("1.5MB") == 1_500_000
    assert parse_size("2GiB") == 2 * 1024**3


def test_what_the_stack_asks_for_is_read_from_its_files() -> None:
    import json

    import yaml

    from tasks.engine.prerequisites import Wanted
    from tasks.model.stack import load_stack
    from tests.clirun import REPO

    stack = load_stack(REPO)
    asked = Wanted.of(list(stack.compose.networks.values()), stack.versions)
    compose = yaml.safe_load((REPO / ".devcontainer/docker-compose.mcp.yml").read_text())
    pinned = [
        c["subnet"]
        for network in compose["networks"].values()
        for c in (network.get("ipam") or {}).get("config", [])
    ]
    assert asked.subnets == pinned and pinned
    versions = json.loads((REPO / ".devcontainer/versions.json").read_text())["cpython"]
    lines = {
        ".".join(pin["version"].split(".")[:2])
        for image in versions.values()
        for pin in image["pins"].values()
    }
    assert set(asked.interpreters) == {f"python{line}t" for line in lines} | {"python3t"}
    assert asked.interpreters[-1] == "python3t"
    assert (
        asked.interpreters[0] == f"python{max(lines, key=lambda v: tuple(map(int, v.split('.'))))}t"
    )


def test_the_pool_row_names_the_stacks_own_subnets() -> None:
    base = GOOD.to_json()
    clash = rows(
        Facts(
            **{
                **base,
                "stack_subnets": ["10.9.0.0/16"],
                "overlapping_networks": ["x (10.9.1.0/24)"],
            }
        )
    )
    assert clash["address pool"][0] == "warn"
    detail = {
        r.check: r.detail for r in evaluate(Facts(**{**base, "stack_subnets": ["10.9.0.0/16"]}))
    }
    assert detail["address pool"] == "10.9.0.0/16 free"
    none = {r.check: r.detail for r in evaluate(Facts(**base))}
    assert none["address pool"] == "the stack pins no subnet"
    missing = {
        r.check: r.detail
        for r in evaluate(
            Facts(**{**base, "free_threaded": {}, "interpreters": ["python3.15t", "python3t"]})
        )
    }
    assert missing["free-threaded Python"] == "none of python3.15t, python3t on PATH"


def test_overlap_needs_the_same_ip_version() -> None:
    import ipaddress

    from tasks.model.compose import overlaps

    pools = [ipaddress.ip_network("172.20.0.0/16"), ipaddress.ip_network("fd00::/8")]
    assert overlaps(ipaddress.ip_network("172.20.5.0/24"), pools)
    assert overlaps(ipaddress.ip_network("172.0.0.0/8"), pools)
    assert not overlaps(ipaddress.ip_network("172.21.0.0/16"), pools)
    assert overlaps(ipaddress.ip_network("fd00:1::/64"), pools)
    assert not overlaps(ipaddress.ip_network("fe80::/64"), pools)
