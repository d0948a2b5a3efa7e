"""The monitoring tier as the library sees it: PromQL against the stack's Prometheus, the proof
that MCP calls are counted, and the Grafana dashboards generated from one source."""
