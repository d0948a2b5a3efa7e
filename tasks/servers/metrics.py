"""Prometheus text exposition of MCP probe results, and the handler that serves it."""

from __future__ import annotations

from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler
from typing import Any

from tasks.servers.probe import ProbeResult

_HELP = {
    "mcp_server_up": ("gauge", "1 when the last probe of the server succeeded"),
    "mcp_server_tools": ("gauge", "tools the server lists"),
    "mcp_probe_cold_start_seconds": ("gauge", "spawn to initialize result, last probe"),
    "mcp_probe_latency_seconds": ("summary", "warm request latency, last probe"),
}


def render(results: Iterable[ProbeResult]) -> str:
    """Metrics text for the latest probe of each server."""
    rows: dict[str, list[str]] = {name: [] for name in _HELP}
    for r in results:
        label = f'server="{r.name}"'
        rows["mcp_server_up"].append(f"mcp_server_up{{{label}}} {1 if r.ok else 0}")
        rows["mcp_server_tools"].append(f"mcp_server_tools{{{label}}} {r.tools}")
        rows["mcp_probe_cold_start_seconds"].append(
            f"mcp_probe_cold_start_seconds{{{label}}} {r.cold_start_ms / 1000:.4f}"
        )
        for quantile, value in (("0.5", r.p50_ms), ("0.95", r.p95_ms)):
            rows["mcp_probe_latency_seconds"].append(
                f'mcp_probe_latency_seconds{{{label},quantile="{quantile}"}} {value / 1000:.4f}'
            )
    lines = []
    for name, (kind, text) in _HELP.items():
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", *rows[name]]
    return "\n".join(lines) + "\n"


class MetricsHandler(BaseHTTPRequestHandler):
    """Serves the latest metrics text (`MetricsHandler.text`) at /metrics. A client that sends
    nothing, or stops reading, is dropped after `timeout` seconds instead of holding its
    thread."""

    text = ""
    timeout = 10.0

    def do_GET(self) -> None:
        """Answer with the text, or 404 for any other path."""
        body = self.text.encode()
        self.send_response(200 if self.path == "/metrics" else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: a scrape every few seconds is not news."""
        return
