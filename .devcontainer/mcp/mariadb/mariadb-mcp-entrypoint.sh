#!/bin/sh
# Reads MYSQL_PASSWORD from its secret file (never echoed) and serves the MCP server over SSE.
set -eu
MYSQL_PASSWORD=$(cat "${MYSQL_PASSWORD_FILE:?set MYSQL_PASSWORD_FILE}")
export MYSQL_PASSWORD
exec /opt/mariadb-mcp/bin/mysql_mcp_server "$@"
