"""MCP servers: client configs generated from the manifests, and protocol probes."""
