#!/bin/sh
# Builds DATABASE_URI from DATABASE_HOST/NAME/USER and the password file (never echoed), then
# serves the Postgres MCP server over SSE on 0.0.0.0:8000: restricted (read-only statements)
# unless DB_MCP_ACCESS=write, on top of the role's own privileges.
set -eu
case "${DB_MCP_ACCESS:-read}" in
  read) mode=restricted ;;
  write) mode=unrestricted ;;
  *) echo "postgres-mcp: DB_MCP_ACCESS must be read or write" >&2; exit 1 ;;
esac
password=$(cat "${DATABASE_PASSWORD_FILE:?set DATABASE_PASSWORD_FILE}")
DATABASE_URI=$(PASSWORD="$password" /opt/postgres-mcp/bin/python -c \
  'import os, urllib.parse as u; print("postgresql://%s:%s@%s:5432/%s" % (os.environ["DATABASE_USER"], u.quote(os.environ["PASSWORD"], safe=""), os.environ["DATABASE_HOST"], os.environ["DATABASE_NAME"]))')
export DATABASE_URI
exec /opt/postgres-mcp/bin/python /usr/local/lib/postgres-mcp-serve.py --access-mode="$mode" \
  --transport=sse --sse-host=0.0.0.0 --sse-port=8000 "$@"
