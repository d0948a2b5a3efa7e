"""BuildKit build-cache use (`docker buildx du`) and pruning."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from python_on_whales import DockerClient
from python_on_whales.utils import run

from tasks.engine.client import engine_errors

_UNITS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
}


@dataclass(frozen=True)
class CacheUsage:
    """Build-cache records and their sizes."""

    records: int
    bytes: int
    reclaimable_bytes: int


def parse_size(text: str) -> int:
    """`1.5MB` -> 1500000 (Docker's human sizes; decimal and binary units)."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", text)
    if match is None:
        raise ValueError(f"not a size: {text!r}")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "b").lower()])


def cache_usage(client: DockerClient) -> CacheUsage:
    """Sum of `docker buildx du` records."""
    with engine_errors("docker buildx du"):
        output = str(run([*client.client_config.docker_cmd, "buildx", "du", "--format", "json"]))
    rows = [json.loads(line) for line in output.splitlines() if line.strip().startswith("{")]
    sizes = [(parse_size(str(r.get("Size", "0B"))), bool(r.get("Reclaimable"))) for r in rows]
    return CacheUsage(len(rows), sum(s for s, _ in sizes), sum(s for s, r in sizes if r))


def prune_cache(client: DockerClient) -> None:
    """Remove all build cache."""
    with engine_errors("docker buildx prune"):
        client.buildx.prune(all=True)
