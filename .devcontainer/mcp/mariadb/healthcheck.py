"""Healthcheck of mariadb-mcp: the database accepts this service's credentials, and the MCP
server listens. A login failure says which password disagrees with the data, and the fix."""

import os
import socket
import sys

import mysql.connector

try:
    with open(os.environ["MYSQL_PASSWORD_FILE"], encoding="utf-8") as handle:
        password = handle.read().strip()
    mysql.connector.connect(
        host=os.environ["MYSQL_HOST"],
        user=os.environ["MYSQL_USER"],
        password=password,
        database=os.environ["MYSQL_DATABASE"],
        connection_timeout=3,
    ).close()
except mysql.connector.Error as error:
    if getattr(error, "errno", None) == 1045:
        sys.exit(
            "mariadb-mcp: the database does not accept account mcp_server with "
            "MARIADB_MCP_PASSWORD. Fix: restart the database (invoke stack.restart mariadb), which "
            "sets the account's password from .devcontainer/.env at every start"
        )
    sys.exit(f"mariadb-mcp: cannot log in to {os.environ['MYSQL_HOST']}: {error}")
socket.create_connection(("127.0.0.1", 8000), 3).close()
