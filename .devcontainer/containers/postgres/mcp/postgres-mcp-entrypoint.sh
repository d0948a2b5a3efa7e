#!/bin/sh
# Builds DATABASE_URI from DATABASE_HOST/NAME/USER and the password file (never echoed), then
# serves the Postgres MCP server over SSE on 0.0.0.0:8000.
set -eu
password=$(cat "${DATABASE_PASSWORD_FILE:?set DATABASE_PASSWORD_FILE}")
DATABASE_URI=$(PASSWORD="$password" /opt/postgres-mcp/bin/python -c \
  'import os, urllib.parse as u; print("postgresql://%s:%s@%s:5432/%s" % (os.environ["DATABASE_USER"], u.quote(os.environ["PASSWORD"], safe=""), os.environ["DATABASE_HOST"], os.environ["DATABASE_NAME"]))')
export DATABASE_URI
exec /opt/postgres-mcp/bin/postgres-mcp --access-mode=restricted --transport=sse \
  --sse-host=0.0.0.0 --sse-port=8000 "$@"
