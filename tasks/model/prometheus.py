"""The Prometheus configuration a compose service mounts: how long its first scrapes can take.

Right after a start every target's health is "unknown" until Prometheus scrapes it once, which
happens within the target's scrape interval; a check that reads target health waits that long
(plus a margin) before it calls "unknown" a failure.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tasks.errors import StackError
from tasks.model.compose import Service
from tasks.model.source import load_yaml

DEFAULT_CONFIG = "/etc/prometheus/prometheus.yml"
DEFAULT_INTERVAL = 60.0  # Prometheus's own default scrape_interval (1m)
_UNITS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
# Prometheus's duration syntax: each unit at most once, largest first.
_DURATION = re.compile("".join(rf"(?:(\d+){unit})?" for unit in _UNITS))


def duration_seconds(text: str) -> float | None:
    """A Prometheus duration (`15s`, `1m30s`, `500ms`, `0`) in seconds; None when it is not
    one."""
    text = text.strip()
    if text == "0":
        return 0.0
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        return None
    return float(sum(int(n) * f for n, f in zip(match.groups(), _UNITS.values(), strict=True) if n))


def config_path(service: Service, compose_folder: Path) -> Path | None:
    """The host file the service mounts as its Prometheus configuration (`--config.file`, by
    default /etc/prometheus/prometheus.yml), or None when it mounts none."""
    inside = DEFAULT_CONFIG
    for index, word in enumerate(service.command):
        if word.startswith("--config.file="):
            inside = word.split("=", 1)[1]
        elif word == "--config.file" and index + 1 < len(service.command):
            inside = service.command[index + 1]
    for mount in service.mounts:
        if mount.type == "bind" and mount.target == inside:
            return compose_folder / Path(mount.source).expanduser()
    return None


def longest_scrape_interval(service: Service, compose_folder: Path) -> float:
    """The longest scrape interval (seconds) in the Prometheus configuration the service
    mounts: each job's own, or the global one; Prometheus's default when there is no readable
    configuration (Prometheus itself reports a broken one)."""
    path = config_path(service, compose_folder)
    try:
        data: Any = load_yaml(path, "Prometheus configuration").data if path else None
    except StackError:
        data = None
    if not isinstance(data, dict):
        return DEFAULT_INTERVAL
    default = _interval(data.get("global"), DEFAULT_INTERVAL)
    jobs = data.get("scrape_configs")
    intervals = [_interval(job, default) for job in jobs] if isinstance(jobs, list) else []
    return max(intervals or [default])


def _interval(section: Any, fallback: float) -> float:
    raw = section.get("scrape_interval") if isinstance(section, dict) else None
    seconds = duration_seconds(str(raw)) if raw is not None else None
    return fallback if seconds is None else seconds
