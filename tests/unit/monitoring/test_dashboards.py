"""The Grafana dashboards (tasks/monitoring/dashboards.py, generated into the monitoring
config) and the alerting rules: what they query is what the stack's exporters serve, the files
match their source, and Grafana's provisioning finds them. The live data behind every panel is
proven in tests/e2e/test_offline_stack.py."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import docker_exporter
import mcp_exporter
import mcp_prober
import yaml
from prometheus_client import CollectorRegistry, generate_latest

from tasks.model.stack import load_stack
from tasks.monitoring.dashboards import (
    DASHBOARDS,
    DATASOURCE,
    PROVIDER_PATH,
    _by,
    _quantile,
    dashboards_folder,
    panel_queries,
    render,
    rendered_files,
)
from tests.clirun import REPO, invoke

MONITORING = REPO / ".devcontainer/containers/monitoring/config"
OURS = re.compile(r"\b(?:mcp|container|docker_exporter)_[a-z_]+\b")


def served_names() -> set[str]:
    """Every sample and label name the stack's own exporters serve (each metric with a
    sample)."""
    metrics = mcp_exporter.AuditMetrics()
    for line in (
        json.dumps({"kind": "call", "server": "s", "outcome": "error", "duration_ms": 1,
                    "bytes_in": 1, "bytes_out": 1, "method": "tools/call", "tool": "t"}),
        json.dumps({"kind": "session", "event": "start", "server": "s"}),
        json.dumps({"kind": "session", "event": "end", "server": "s", "duration_s": 1}),
    ):  # fmt: skip
        metrics.add(line.encode())
    sample = docker_exporter.Sample("c", "s", True, True, 0, 1.0)
    probes = mcp_prober.ProbeCollector()
    probes.record("s", mcp_prober.Result(True, 1.0, 1.0, 1), 1.0)
    probes.skipped = {"t": "why"}
    registry = CollectorRegistry()
    for collector in (*metrics.metrics(), probes):
        registry.register(collector)

    class Containers:
        def collect(self) -> object:
            return docker_exporter.families([sample])

    registry.register(Containers())  # type: ignore[arg-type]
    lines = [line for line in generate_latest(registry).decode().splitlines() if line[:1] != "#"]
    labels = {name for line in lines for name in re.findall(r'[{,]([a-z_]+)="', line)}
    return labels | {line.split("{")[0].split(" ")[0] for line in lines}


def alert_exprs() -> list[str]:
    rules = yaml.safe_load((MONITORING / "prometheus/alerts.yml").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def test_queries_name_only_metrics_the_exporters_serve() -> None:
    served = served_names()
    exprs = [expr for spec in DASHBOARDS for _, expr in panel_queries(render(spec))]
    named = {name for expr in exprs + alert_exprs() for name in OURS.findall(expr)}
    assert named, "the queries name the stack's own metrics"
    assert named - served == set(), f"served by no exporter: {sorted(named - served)}"


def test_a_panels_queries_are_read_by_title() -> None:
    text = json.dumps(
        {
            "panels": [
                {"title": "Calls", "targets": [{"expr": "a"}, {"expr": ""}, {"refId": "C"}]},
                {"targets": [{"expr": "b"}]},
                {"title": "Row only"},
                {"title": "Empty", "targets": None},
            ]
        }
    )
    assert panel_queries(text) == [("Calls", "a"), ("", "b")]
    assert panel_queries("{}") == [] and panel_queries('{"panels": null}') == []


def test_a_quantile_is_of_the_rate_over_five_minutes_unless_told() -> None:
    assert _quantile(0.95, "server, le", "x_bucket") == (
        "histogram_quantile(0.95, sum by (server, le) (rate(x_bucket[5m])))"
    )
    assert _quantile(0.5, "le", "y_bucket", "1h") == (
        "histogram_quantile(0.5, sum by (le) (rate(y_bucket[1h])))"
    )
    assert _by("a, b", "m") == "sum by (a, b) (m)"


def test_the_generated_files_are_the_source_s() -> None:
    folder = dashboards_folder(load_stack(REPO))
    assert folder == MONITORING / "grafana/dashboards"
    for path, text in rendered_files(folder).items():
        assert path.read_text() == text, f"{path.name}: run `invoke monitoring.dashboards`"
    assert sorted(p.name for p in folder.iterdir()) == sorted(d.file for d in DASHBOARDS)


def test_grafana_provisions_them_from_the_prometheus_datasource() -> None:
    providers = yaml.safe_load(
        (MONITORING / "grafana/provisioning/dashboards/provider.yml").read_text()
    )
    assert [p["options"]["path"] for p in providers["providers"]] == [PROVIDER_PATH]
    sources = yaml.safe_load(
        (MONITORING / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    assert [(s["type"], s["uid"]) for s in sources["datasources"]] == [DATASOURCE]
    for spec in DASHBOARDS:
        data = json.loads(render(spec))
        panels = [p for p in data["panels"] if p["type"] != "row"]
        assert data["uid"] == spec.uid and panels
        assert len({p["id"] for p in data["panels"]}) == len(data["panels"])
        for panel in panels:
            assert panel["datasource"] == {"type": DATASOURCE[0], "uid": DATASOURCE[1]}
            assert panel["targets"] and panel["type"] in ("stat", "timeseries")
            assert all("$" not in t["expr"] for t in panel["targets"]), panel["title"]
    assert len({spec.uid for spec in DASHBOARDS}) == len(DASHBOARDS)


def test_the_task_writes_only_what_changed_and_the_dry_run_shows_the_diff(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(
        REPO / ".devcontainer", root / ".devcontainer", ignore=shutil.ignore_patterns(".env")
    )
    stale = root / ".devcontainer/containers/monitoring/config/grafana/dashboards/mcp.json"
    stale.write_text(stale.read_text().replace("Error ratio by server", "Errors"))
    dry = invoke("monitoring.dashboards", "--dry-run", "--root", str(root))
    assert dry.returncode == 1 and '+  "title": "Error ratio by server"' in dry.stdout.replace(
        '      "title"', '  "title"'
    )
    assert "Errors" in stale.read_text()
    wrote = invoke("monitoring.dashboards", "--root", str(root))
    assert wrote.returncode == 0 and wrote.stdout.strip().endswith("grafana/dashboards/mcp.json")
    assert invoke("monitoring.dashboards", "--root", str(root)).stdout.strip() == (
        "the dashboards match their source"
    )
