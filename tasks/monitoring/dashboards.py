"""The Grafana dashboards of the monitoring tier, from one source: the panels below, built with
Grafana's typed SDK (grafana-foundation-sdk) into the JSON files Grafana's provisioning loads.
`invoke monitoring.dashboards` writes them, `invoke check` (MON001) holds the files to this
source, and the end-to-end tests run every panel's query against the stack's Prometheus.

Queries name no Grafana variable, so each runs as written against Prometheus's API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.model.stack import Stack

# Where Grafana's dashboard provider (config/grafana/provisioning/dashboards) reads the files.
PROVIDER_PATH = "/var/lib/grafana-dashboards"
DATASOURCE = ("prometheus", "prometheus")  # the provisioned datasource's type and uid
TAGS = ["mcp-cluster"]


@dataclass(frozen=True)
class Query:
    """One PromQL expression of a panel and its legend."""

    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    """A panel: `stat` (the latest value) or `timeseries`, its unit and queries."""

    title: str
    kind: str
    unit: str
    queries: tuple[Query, ...]
    description: str = ""
    width: int = 12


@dataclass(frozen=True)
class Row:
    """A titled row of panels."""

    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Dashboard:
    """A dashboard: its uid, title, file name and rows."""

    uid: str
    title: str
    file: str
    rows: tuple[Row, ...]


def _by(labels: str, metric: str) -> str:
    return f"sum by ({labels}) ({metric})"


CPU = "rate(container_cpu_usage_seconds_total[2m])"
CONTAINERS = Dashboard(
    "mcp-containers",
    "MCP cluster: containers",
    "containers.json",
    (
        Row(
            "Stack",
            (
                Panel(
                    "Containers running",
                    "stat",
                    "none",
                    (Query("sum(container_running)"),),
                    width=6,
                ),
                Panel("Scrape targets up", "stat", "none", (Query("count(up == 1)"),), width=6),
                Panel(
                    "Stack memory (working set)",
                    "stat",
                    "bytes",
                    (Query("sum(container_memory_working_set_bytes)"),),
                    width=6,
                ),
                Panel("Stack CPU", "stat", "percentunit", (Query(f"sum({CPU})"),), width=6),
            ),
        ),
        Row(
            "Per container",
            (
                Panel(
                    "CPU (1 = one core)",
                    "timeseries",
                    "percentunit",
                    (Query(_by("service", CPU), "{{service}}"),),
                ),
                Panel(
                    "Memory (working set)",
                    "timeseries",
                    "bytes",
                    (Query(_by("service", "container_memory_working_set_bytes"), "{{service}}"),),
                ),
                Panel(
                    "Network received",
                    "timeseries",
                    "Bps",
                    (
                        Query(
                            _by("service", "rate(container_network_receive_bytes_total[2m])"),
                            "{{service}}",
                        ),
                    ),
                ),
                Panel(
                    "Network sent",
                    "timeseries",
                    "Bps",
                    (
                        Query(
                            _by("service", "rate(container_network_transmit_bytes_total[2m])"),
                            "{{service}}",
                        ),
                    ),
                ),
                Panel(
                    "Restarts in the last hour",
                    "timeseries",
                    "none",
                    (
                        Query(
                            _by("service", "increase(container_restarts_total[1h])"), "{{service}}"
                        ),
                    ),
                    "restarts by the restart policy; the ContainerRestarting alert fires on any",
                ),
                Panel(
                    "Healthy",
                    "timeseries",
                    "none",
                    (Query(_by("service", "container_healthy"), "{{service}}"),),
                ),
            ),
        ),
        Row(
            "Databases and proxy",
            (
                Panel(
                    "Database connections used",
                    "timeseries",
                    "percentunit",
                    (
                        Query(
                            "sum by (instance) (pg_stat_database_numbackends) / on (instance) "
                            "pg_settings_max_connections",
                            "postgres",
                        ),
                        Query(
                            "mysql_global_status_threads_connected / "
                            "mysql_global_variables_max_connections",
                            "mariadb",
                        ),
                    ),
                    "alerts above 80% (PostgresNearConnectionLimit, MariaDBNearConnectionLimit)",
                ),
                Panel(
                    "Databases answering their exporter",
                    "stat",
                    "none",
                    (Query("pg_up", "postgres"), Query("mysql_up", "mariadb")),
                ),
                Panel(
                    "nginx requests",
                    "timeseries",
                    "reqps",
                    (Query("rate(nginx_http_requests_total[2m])", "requests"),),
                ),
                Panel(
                    "nginx connections",
                    "timeseries",
                    "none",
                    (Query("nginx_connections_active", "active"),),
                ),
            ),
        ),
    ),
)

CALL = "mcp_server_operation_duration_seconds_bucket"
TOOL_CALLS = f'{CALL}{{mcp_method_name="tools/call"}}'


def _quantile(q: float, labels: str, buckets: str, window: str = "5m") -> str:
    return f"histogram_quantile({q}, sum by ({labels}) (rate({buckets}[{window}])))"


MCP = Dashboard(
    "mcp-servers",
    "MCP cluster: MCP servers",
    "mcp.json",
    (
        Row(
            "Calls",
            (
                Panel(
                    "Calls per second by server and origin",
                    "timeseries",
                    "reqps",
                    (
                        Query(
                            _by("server, origin", "rate(mcp_calls_total[5m])"),
                            "{{server}} ({{origin}})",
                        ),
                    ),
                ),
                Panel(
                    "Tool calls per second by tool",
                    "timeseries",
                    "reqps",
                    (
                        Query(
                            _by(
                                "server, gen_ai_tool_name",
                                'rate(mcp_calls_total{mcp_method_name="tools/call"}[5m])',
                            ),
                            "{{server}} {{gen_ai_tool_name}}",
                        ),
                    ),
                ),
                Panel(
                    "Error ratio by server",
                    "timeseries",
                    "percentunit",
                    (
                        Query(
                            '(sum by (server) (rate(mcp_calls_total{outcome!="ok"}[5m])) or '
                            "sum by (server) (rate(mcp_calls_total[5m])) * 0) / sum by (server) "
                            "(rate(mcp_calls_total[5m]))",
                            "{{server}}",
                        ),
                    ),
                    "errors, tool errors and unanswered requests; McpErrorRatioHigh fires "
                    "above 10% for 5 minutes",
                ),
                Panel(
                    "Errors in the last hour by type",
                    "timeseries",
                    "none",
                    (
                        Query(
                            _by(
                                "server, gen_ai_tool_name, error_type",
                                "increase(mcp_call_errors_total[1h])",
                            ),
                            "{{server}} {{gen_ai_tool_name}} {{error_type}}",
                        ),
                    ),
                    "error_type: a JSON-RPC error code, tool_error or no_reply",
                ),
            ),
        ),
        Row(
            "Latency",
            (
                Panel(
                    "Request latency percentiles",
                    "timeseries",
                    "s",
                    tuple(
                        Query(_quantile(q, "le", CALL), f"p{round(q * 100)}")
                        for q in (0.5, 0.95, 0.99)
                    ),
                    "every request, from the histogram; the goal is a p95 under 500 ms",
                ),
                Panel(
                    "Tool call p95 by tool",
                    "timeseries",
                    "s",
                    (
                        Query(
                            _quantile(0.95, "server, gen_ai_tool_name, le", TOOL_CALLS),
                            "{{server}} {{gen_ai_tool_name}}",
                        ),
                    ),
                    "McpLatencyHigh fires above 500 ms for 5 minutes",
                ),
            ),
        ),
        Row(
            "Sessions and health",
            (
                Panel(
                    "Sessions started in the last hour",
                    "timeseries",
                    "none",
                    (
                        Query(
                            _by("server, origin", "increase(mcp_sessions_started_total[1h])"),
                            "{{server}} ({{origin}})",
                        ),
                    ),
                ),
                Panel(
                    "Session lifetime p95",
                    "timeseries",
                    "s",
                    (
                        Query(
                            _quantile(
                                0.95,
                                "server, le",
                                "mcp_server_session_duration_seconds_bucket",
                                "1h",
                            ),
                            "{{server}}",
                        ),
                    ),
                ),
                Panel(
                    "Server health (mcp-prober)",
                    "stat",
                    "none",
                    (Query("mcp_probe_up", "{{server}}"),),
                    "1: started as a client starts it, the server completed initialize and "
                    "tools/list",
                ),
                Panel(
                    "Handshake time (mcp-prober)",
                    "timeseries",
                    "s",
                    (Query("mcp_probe_handshake_seconds", "{{server}}"),),
                ),
            ),
        ),
    ),
)

DASHBOARDS = (CONTAINERS, MCP)


def build(spec: Dashboard) -> dict[str, Any]:
    """The dashboard as Grafana's JSON model, built with the typed SDK."""
    from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models.dashboard import DataSourceRef

    source = DataSourceRef(type_val=DATASOURCE[0], uid=DATASOURCE[1])
    made = (
        dashboard.Dashboard(spec.title)
        .uid(spec.uid)
        .tags(TAGS)
        .refresh("30s")
        .time("now-1h", "now")
        .timezone("browser")
        .readonly()
    )
    ids = iter(range(1, 1000))
    for row in spec.rows:
        made = made.with_row(dashboard.Row(row.title).id(next(ids)))
        for panel in row.panels:
            built = stat.Panel() if panel.kind == "stat" else timeseries.Panel()
            built = built.id(next(ids)).title(panel.title).unit(panel.unit).datasource(source)
            built = built.height(8).span(panel.width)
            if panel.description:
                built = built.description(panel.description)
            for ref, query in zip("ABCDEFGH", panel.queries, strict=False):
                target = prometheus.Dataquery().expr(query.expr).ref_id(ref).datasource(source)
                if query.legend:
                    target = target.legend_format(query.legend)
                built = built.with_target(target)
            made = made.with_panel(built)
    data: dict[str, Any] = json.loads(json.dumps(made.build(), cls=JSONEncoder))
    return data


def render(spec: Dashboard) -> str:
    """The dashboard's file content."""
    return json.dumps(build(spec), indent=2, sort_keys=True) + "\n"


def dashboards_folder(stack: Stack) -> Path | None:
    """The folder of dashboard files: what a compose service mounts at Grafana's provider path
    (None when no service does)."""
    for service in stack.compose.services.values():
        for mount in service.mounts:
            if mount.type == "bind" and mount.target == PROVIDER_PATH:
                return (stack.compose.folder / mount.source).resolve()
    return None


def rendered_files(folder: Path) -> dict[Path, str]:
    """Each dashboard file in `folder` and the content the source gives it."""
    return {folder / spec.file: render(spec) for spec in DASHBOARDS}


def panel_queries(text: str) -> list[tuple[str, str]]:
    """(panel title, PromQL) of every panel of a dashboard file's content."""
    data = json.loads(text)
    return [
        (str(panel.get("title", "")), str(target["expr"]))
        for panel in data.get("panels") or []
        for target in panel.get("targets") or []
        if target.get("expr")
    ]
