#!/bin/bash
# Initialises /var/lib/mysql on first start (root password from MARIADB_ROOT_PASSWORD or
# MARIADB_ROOT_PASSWORD_FILE; optional MARIADB_DATABASE, MARIADB_USER, MARIADB_PASSWORD[_FILE]),
# creates the healthcheck user healthcheck.sh uses, then runs mariadbd. Values are never echoed.
set -euo pipefail
DATADIR=/var/lib/mysql

file_env() {
  local name=$1 file_var="${1}_FILE"
  if [ -n "${!file_var:-}" ]; then
    export "$name"="$(< "${!file_var}")"
  fi
}

sql_quote() { printf "%s" "$1" | sed "s/'/''/g; s/\\\\/\\\\\\\\/g"; }

if [ "${1:-}" = "mariadbd" ] && [ ! -d "$DATADIR/mysql" ]; then
  file_env MARIADB_ROOT_PASSWORD
  file_env MARIADB_PASSWORD
  if [ -z "${MARIADB_ROOT_PASSWORD:-}" ]; then
    echo "mariadb: set MARIADB_ROOT_PASSWORD or MARIADB_ROOT_PASSWORD_FILE" >&2
    exit 1
  fi
  chown -R mysql:mysql "$DATADIR" /run/mysqld
  mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db >/dev/null
  mariadbd --user=mysql --datadir="$DATADIR" --skip-networking --socket=/run/mysqld/init.sock &
  pid=$!
  for _ in $(seq 1 60); do
    mariadb --protocol=socket --socket=/run/mysqld/init.sock -uroot -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.5
  done
  health=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
  {
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$(sql_quote "$MARIADB_ROOT_PASSWORD")';"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY '$(sql_quote "$MARIADB_ROOT_PASSWORD")';"
    echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    echo "CREATE USER 'healthcheck'@'localhost' IDENTIFIED BY '$health';"
    echo "GRANT USAGE ON *.* TO 'healthcheck'@'localhost';"
    if [ -n "${MARIADB_DATABASE:-}" ]; then
      echo "CREATE DATABASE IF NOT EXISTS \`${MARIADB_DATABASE}\`;"
    fi
    if [ -n "${MARIADB_USER:-}" ] && [ -n "${MARIADB_PASSWORD:-}" ]; then
      echo "CREATE USER '${MARIADB_USER}'@'%' IDENTIFIED BY '$(sql_quote "$MARIADB_PASSWORD")';"
      [ -n "${MARIADB_DATABASE:-}" ] && echo "GRANT ALL ON \`${MARIADB_DATABASE}\`.* TO '${MARIADB_USER}'@'%';"
    fi
    echo "FLUSH PRIVILEGES;"
  } | mariadb --protocol=socket --socket=/run/mysqld/init.sock -uroot
  printf '[client]\nuser=healthcheck\npassword=%s\nprotocol=socket\nsocket=/run/mysqld/mysqld.sock\n' \
    "$health" > "$DATADIR/.my-healthcheck.cnf"
  chown mysql:mysql "$DATADIR/.my-healthcheck.cnf"
  chmod 600 "$DATADIR/.my-healthcheck.cnf"
  kill "$pid"
  wait "$pid" || true
  echo "mariadb: data directory initialised"
fi

if [ "${1:-}" = "mariadbd" ]; then
  chown -R mysql:mysql /run/mysqld
  exec "$@" --user=mysql --datadir="$DATADIR" --bind-address=0.0.0.0 \
    --socket=/run/mysqld/mysqld.sock
fi
exec "$@"
