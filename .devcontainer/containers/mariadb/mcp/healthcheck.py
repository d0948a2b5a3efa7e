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
            "mariadb-mcp: MARIADB_ROOT_PASSWORD does not match the database in volume "
            "mariadb-data. Fix: restore the .devcontainer/.env that created it, or back it up "
            "(invoke volumes.backup) and recreate it (invoke stack.down --volumes)"
        )
    sys.exit(f"mariadb-mcp: cannot log in to {os.environ['MYSQL_HOST']}: {error}")
socket.create_connection(("127.0.0.1", 8000), 3).close()
