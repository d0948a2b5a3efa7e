"""How long the first scrapes can take, read from the Prometheus configuration a compose service
mounts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.model.compose import load_compose
from tasks.model.prometheus import (
    ScrapeJob,
    config_path,
    duration_seconds,
    load_config,
    longest_scrape_interval,
)
from tasks.model.stack import load_stack
from tests.clirun import REPO


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("15s", 15.0),
        ("1m30s", 90.0),
        ("500ms", 0.5),
        ("1s500ms", 1.5),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("1w", 604800.0),
        ("0", 0.0),
        (" 30s ", 30.0),
    ],
)
def test_prometheus_durations(text: str, seconds: float) -> None:
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "15", "s", "1m1m", "30s1m", "1.5s", "-5s", "15 s", "1M"])
def test_what_prometheus_would_refuse_is_no_duration(text: str) -> None:
    assert duration_seconds(text) is None


def test_the_repo_s_prometheus_scrapes_every_service_by_name() -> None:
    compose = load_stack(REPO).compose
    prometheus = compose.services["prometheus"]
    folder = compose.folder / "containers/monitoring/config/prometheus"
    assert config_path(prometheus, compose.folder) == folder / "prometheus.yml"
    assert longest_scrape_interval(prometheus, compose.folder) == 15.0
    config = load_config(prometheus, compose.folder)
    assert config is not None
    jobs = {job.name: job for job in config.jobs}
    # mcp-exporter overrides the global interval on the line after its name: read as written
    lines = (folder / "prometheus.yml").read_text().splitlines()
    at = lines.index("  - job_name: mcp-exporter")
    key, _, value = lines[at + 1].partition(":")
    interval = duration_seconds(value.strip())
    assert key == "    scrape_interval" and interval is not None and interval != 15.0
    assert jobs["mcp-exporter"] == ScrapeJob(
        "mcp-exporter", interval, ("mcp-exporter:9464",), at + 1
    )
    assert jobs["grafana"].targets == ("grafana:3000",)  # discovered by name
    assert {job.name for job in config.jobs} == {
        "prometheus", "postgres-exporter", "mariadb-exporter", "nginx-exporter",
        "docker-exporter", "mcp-exporter", "mcp-prober", "grafana", "buildkit",
    }  # fmt: skip


def _prometheus(tmp_path: Path, command: str, mount: str, config: str | None) -> float:
    (tmp_path / "docker-compose.yml").write_text(
        f"services:\n  prom:\n    image: p\n    command: {command}\n    volumes: [{mount}]\n"
    )
    if config is not None:
        (tmp_path / "prom.yml").write_text(config)
    compose = load_compose(tmp_path / "docker-compose.yml", {})
    return longest_scrape_interval(compose.services["prom"], compose.folder)


@pytest.mark.parametrize(
    ("command", "mount", "config", "seconds"),
    [
        # the global interval, and a job's own
        ("[]", "./prom.yml:/etc/prometheus/prometheus.yml", "global: {scrape_interval: 2m}\n", 120),
        (
            "[]",
            "./prom.yml:/etc/prometheus/prometheus.yml",
            "global: {scrape_interval: 5s}\nscrape_configs: [{job_name: a, scrape_interval: 45s},"
            " {job_name: b}]\n",
            45,
        ),
        # Prometheus's default when the file sets none
        ("[]", "./prom.yml:/etc/prometheus/prometheus.yml", "scrape_configs: []\n", 60),
        # --config.file in either form picks the mounted file
        ('["--config.file=/c/p.yml"]', "./prom.yml:/c/p.yml", "global: {scrape_interval: 7s}\n", 7),
        # ... also in a mounted folder
        ('["--config.file=/c/prom.yml"]', ".:/c:ro", "global: {scrape_interval: 9s}\n", 9),
        (
            '["--config.file", "/c/p.yml"]',
            "./prom.yml:/c/p.yml",
            "global: {scrape_interval: 7s}\n",
            7,
        ),
        # no configuration mounted, a missing file, a broken one, a bad duration: the default
        ('["--config.file=/c/p.yml"]', "./prom.yml:/etc/prometheus/prometheus.yml", "", 60),
        ("[]", "./prom.yml:/etc/prometheus/prometheus.yml", None, 60),
        ("[]", "./prom.yml:/etc/prometheus/prometheus.yml", "global: [\n", 60),
        ("[]", "./prom.yml:/etc/prometheus/prometheus.yml", "global: {scrape_interval: x}\n", 60),
    ],
)
def test_the_longest_interval_of_the_mounted_configuration(
    tmp_path: Path, command: str, mount: str, config: str | None, seconds: float
) -> None:
    assert _prometheus(tmp_path, command, mount, config) == seconds
