#!/usr/bin/env bash
# Set up this repository on a fresh Debian machine.
#   scripts/setup.sh            Python venv (.venv) with the task library and its dev tools
#   scripts/setup.sh --engine   ... plus a Docker engine, buildx and compose v2 (needs root)
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

engine=0
for arg in "$@"; do
  case "$arg" in
    --engine) engine=1 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg (use --engine or --help)" >&2; exit 2 ;;
  esac
done

python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "setup.sh: Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
echo "[setup] task library installed: .venv/bin/invoke --list"

if [ "$engine" = 1 ]; then
  bash scripts/provision-engine.sh
fi
