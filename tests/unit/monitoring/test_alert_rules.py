"""The alerting rules' shape (containers/monitoring/config/prometheus/alerts.yml): what the
team asked to be told, each rule labelled and explained, each with a promtool test that sees it
fire and stay quiet, and Prometheus loading the file. `promtool check` and `test rules` run in
tests/integration/test_monitoring.py."""

from __future__ import annotations

from typing import Any

import yaml

from tests.clirun import REPO

FOLDER = REPO / ".devcontainer/containers/monitoring/config/prometheus"


def load(name: str) -> Any:
    return yaml.safe_load((FOLDER / name).read_text())


def rules() -> dict[str, dict[str, Any]]:
    return {r["alert"]: r for g in load("alerts.yml")["groups"] for r in g["rules"]}


def test_the_alerts_the_team_asked_for() -> None:
    found = rules()
    assert found["ScrapeTargetDown"]["expr"] == "up == 0"
    assert "container_restarts_total" in found["ContainerRestarting"]["expr"]
    assert "[5m]" in found["McpErrorRatioHigh"]["expr"]
    latency = " ".join(found["McpLatencyHigh"]["expr"].split())
    assert latency.startswith("histogram_quantile(0.95,") and latency.endswith("> 0.5")
    assert "max_connections" in found["PostgresNearConnectionLimit"]["expr"]
    assert "max_connections" in found["MariaDBNearConnectionLimit"]["expr"]
    assert "pg_up == 0" in found["DatabaseDown"]["expr"]
    assert found["McpServerDown"]["expr"] == "mcp_probe_up == 0"


def test_every_rule_is_labelled_and_explained() -> None:
    for name, rule in rules().items():
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name


def test_every_rule_has_a_test_that_sees_it_fire_and_stay_quiet() -> None:
    tests = load("alerts.test.yml")
    assert tests["rule_files"] == ["alerts.yml"]
    cases: dict[str, list[bool]] = {}
    for test in tests["tests"]:
        for case in test["alert_rule_test"]:
            cases.setdefault(case["alertname"], []).append(bool(case["exp_alerts"]))
    assert set(cases) == set(rules())
    for name, fired in cases.items():
        assert True in fired and False in fired, f"{name}: test both a firing and a quiet case"


def test_prometheus_loads_the_rules() -> None:
    config = load("prometheus.yml")
    assert config["rule_files"] == ["alerts.yml"]
    assert (FOLDER / "alerts.yml").is_file()
