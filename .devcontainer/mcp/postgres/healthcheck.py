"""Healthcheck of postgres-mcp: the database accepts this service's credentials, and the MCP
server listens. A login failure says which password disagrees with the data, and the fix."""

import os
import socket
import sys

import psycopg

try:
    with open(os.environ["DATABASE_PASSWORD_FILE"], encoding="utf-8") as handle:
        password = handle.read().strip()
    psycopg.connect(
        host=os.environ["DATABASE_HOST"],
        dbname=os.environ["DATABASE_NAME"],
        user=os.environ["DATABASE_USER"],
        password=password,
        connect_timeout=3,
    ).close()
except psycopg.OperationalError as error:
    if "password authentication failed" in str(error):
        sys.exit(
            "postgres-mcp: the database does not accept role mcp_server with POSTGRES_MCP_PASSWORD. "
            "Fix: restart the database (invoke stack.restart postgres-db), which sets the role's "
            "password from .devcontainer/.env at every start"
        )
    sys.exit(f"postgres-mcp: cannot log in to {os.environ['DATABASE_HOST']}: {error}")
socket.create_connection(("127.0.0.1", 8000), 3).close()
