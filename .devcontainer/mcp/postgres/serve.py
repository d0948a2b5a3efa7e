"""Runs postgres-mcp with DNS rebinding protection that accepts the names the server is reached
by: MCP_SSE_ALLOWED_HOSTS (comma-separated `host:port`), as mysql-mcp-server reads it. The
package's own default accepts only the loopback, which refuses clients on the cluster network
(HTTP 421)."""

import os

from mcp.server.transport_security import TransportSecuritySettings

import postgres_mcp
from postgres_mcp import server

hosts = [h.strip() for h in os.environ.get("MCP_SSE_ALLOWED_HOSTS", "").split(",") if h.strip()]
server.mcp.settings.transport_security = TransportSecuritySettings(
    enable_dns_rebinding_protection=True,
    allowed_hosts=hosts or ["127.0.0.1:*", "localhost:*"],
    allowed_origins=[f"http://{host}" for host in hosts],
)
postgres_mcp.main()
