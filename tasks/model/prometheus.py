"""The Prometheus configuration a compose service mounts: its scrape jobs, what each scrapes, and
how long the first scrapes can take.

Right after a start every target's health is "unknown" until Prometheus scrapes it once, which
happens within the target's scrape interval; a check that reads target health waits that long
(plus a margin) before it calls "unknown" a failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from tasks.errors import StackError
from tasks.model.compose import Service
from tasks.model.source import Document, load_yaml

DEFAULT_CONFIG = "/etc/prometheus/prometheus.yml"
DEFAULT_INTERVAL = 60.0  # Prometheus's own default scrape_interval (1m)
_UNITS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
# Prometheus's duration syntax: each unit at most once, largest first.
_DURATION = re.compile("".join(rf"(?:(\d+){unit})?" for unit in _UNITS))


@dataclass(frozen=True)
class ScrapeJob:
    """One scrape job: its name, interval (seconds) and what it scrapes, as `host:port`: its
    static targets, and the names its DNS discovery resolves with their port."""

    name: str
    interval: float
    targets: tuple[str, ...]
    line: int | None = None


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
    default /etc/prometheus/prometheus.yml), itself or in a mounted folder; None when it mounts
    none."""
    inside = DEFAULT_CONFIG
    for index, word in enumerate(service.command):
        if word.startswith("--config.file="):
            inside = word.split("=", 1)[1]
        elif word == "--config.file" and index + 1 < len(service.command):
            inside = service.command[index + 1]
    wanted = PurePosixPath(inside)
    for mount in service.mounts:
        target = PurePosixPath(mount.target)
        if mount.type == "bind" and (target == wanted or target in wanted.parents):
            return compose_folder / Path(mount.source).expanduser() / wanted.relative_to(target)
    return None


@dataclass(frozen=True)
class PrometheusConfig:
    """A Prometheus configuration file: its scrape jobs and global scrape interval."""

    path: Path
    doc: Document
    jobs: tuple[ScrapeJob, ...]
    interval: float


def load_config(service: Service, compose_folder: Path) -> PrometheusConfig | None:
    """The configuration the service mounts; None when it mounts none, or none that reads as a
    mapping (Prometheus itself reports a broken one)."""
    path = config_path(service, compose_folder)
    try:
        doc = load_yaml(path, "Prometheus configuration") if path else None
    except StackError:
        return None
    if path is None or doc is None or not isinstance(doc.data, dict):
        return None
    default = _interval(doc.data.get("global"), DEFAULT_INTERVAL)
    raw = doc.data.get("scrape_configs")
    jobs = tuple(
        _job(job, default, doc.line_of("scrape_configs", index))
        for index, job in enumerate(raw if isinstance(raw, list) else [])
        if isinstance(job, dict)
    )
    return PrometheusConfig(path, doc, jobs, default)


def _job(raw: dict[str, Any], default: float, line: int | None) -> ScrapeJob:
    targets: list[str] = []
    for static in _mappings(raw.get("static_configs")):
        targets += [str(t) for t in static.get("targets") or [] if isinstance(t, str)]
    for dns in _mappings(raw.get("dns_sd_configs")):
        port = dns.get("port")
        targets += [f"{name}:{port}" for name in dns.get("names") or [] if isinstance(name, str)]
    return ScrapeJob(str(raw.get("job_name", "")), _interval(raw, default), tuple(targets), line)


def _mappings(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def longest_scrape_interval(service: Service, compose_folder: Path) -> float:
    """The longest scrape interval (seconds) in the Prometheus configuration the service
    mounts: each job's own, or the global one; Prometheus's default when there is no readable
    configuration."""
    config = load_config(service, compose_folder)
    if config is None:
        return DEFAULT_INTERVAL
    return max([job.interval for job in config.jobs] or [config.interval])


def _interval(section: Any, fallback: float) -> float:
    raw = section.get("scrape_interval") if isinstance(section, dict) else None
    seconds = duration_seconds(str(raw)) if raw is not None else None
    return fallback if seconds is None else seconds
