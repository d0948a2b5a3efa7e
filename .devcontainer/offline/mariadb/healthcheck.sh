#!/bin/bash
# Same interface as the official image's healthcheck.sh for the checks the stack uses:
#   --connect               the server accepts a connection
#   --innodb_initialized    InnoDB is up
set -euo pipefail
cnf=/var/lib/mysql/.my-healthcheck.cnf
[ -r "$cnf" ] || { echo "healthcheck: $cnf missing (not initialised yet)" >&2; exit 1; }
run() { mariadb --defaults-extra-file="$cnf" --skip-column-names -e "$1"; }
for check in "$@"; do
  case "$check" in
    --connect) run 'SELECT 1' >/dev/null ;;
    --innodb_initialized)
      [ "$(run "SELECT 1 FROM information_schema.ENGINES WHERE ENGINE='InnoDB' AND SUPPORT IN ('YES','DEFAULT')")" = 1 ] ;;
    --su-mysql|--defaults-extra-file=*) ;;
    *) echo "healthcheck: unsupported check $check" >&2; exit 2 ;;
  esac
done
