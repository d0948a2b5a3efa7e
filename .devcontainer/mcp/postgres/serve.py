"""Runs postgres-mcp with a connection pool that survives a database restart, and with DNS
rebinding protection that accepts the names the server is reached by: MCP_SSE_ALLOWED_HOSTS
(comma-separated `host:port`), as mysql-mcp-server reads it. The package's own default accepts
only the loopback, which refuses clients on the cluster network (HTTP 421)."""

import os

from mcp.server.transport_security import TransportSecuritySettings
from psycopg_pool import AsyncConnectionPool

import postgres_mcp
from postgres_mcp import server
from postgres_mcp.sql import sql_driver


class CheckedPool(AsyncConnectionPool):
    """The server's connection pool, checking each connection before handing it out: after the
    database restarts, the next call gets a fresh connection instead of failing on a dead one
    ("terminating connection due to administrator command")."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("check", AsyncConnectionPool.check_connection)
        super().__init__(*args, **kwargs)


sql_driver.AsyncConnectionPool = CheckedPool

hosts = [h.strip() for h in os.environ.get("MCP_SSE_ALLOWED_HOSTS", "").split(",") if h.strip()]
server.mcp.settings.transport_security = TransportSecuritySettings(
    enable_dns_rebinding_protection=True,
    allowed_hosts=hosts or ["127.0.0.1:*", "localhost:*"],
    allowed_origins=[f"http://{host}" for host in hosts],
)
postgres_mcp.main()
