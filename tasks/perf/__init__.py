"""Phase 12: measure builds, start-up, MCP latency and resources against the plan's targets."""
