"""Probe figures and their Prometheus exposition (pure)."""

from __future__ import annotations

from tasks.servers import metrics, probe


def test_percentiles_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert probe.percentile(values, 95) == 95.0
    assert probe.percentile([3.0], 95) == 3.0
    assert probe.percentile([], 95) == 0.0
    result = probe.ProbeResult("x", latencies_ms=[10.0, 20.0, 30.0, 400.0])
    assert (result.p50_ms, result.p95_ms) == (25.0, 400.0)


def test_metrics_text() -> None:
    up = probe.ProbeResult("git", ok=True, tools=12, cold_start_ms=590.0, latencies_ms=[5.0, 7.0])
    down = probe.ProbeResult("fetch", ok=False)
    text = metrics.render([up, down])
    assert 'mcp_server_up{server="git"} 1' in text
    assert 'mcp_server_up{server="fetch"} 0' in text
    assert 'mcp_server_tools{server="git"} 12' in text
    assert 'mcp_probe_latency_seconds{server="git",quantile="0.95"} 0.0070' in text
    assert "# TYPE mcp_probe_latency_seconds summary" in text
