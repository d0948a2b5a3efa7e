"""Doctor rows from probe facts (pure)."""

from __future__ import annotations

from tasks.engine.cache import parse_size
from tasks.engine.doctor import Facts, evaluate

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
