#!/usr/bin/env bash
# Set up this repository on a fresh Debian machine.
#   scripts/setup.sh            Python venv (.venv) with the task library and its dev tools
#   scripts/setup.sh --engine   ... plus a Docker engine, buildx and compose v2 (needs root)
#   scripts/setup.sh --host     ... plus the engine and the packages `invoke python.freethreaded`
#                               compiles CPython with (needs root; Debian)
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

engine=0
build_deps=0
for arg in "$@"; do
  case "$arg" in
    --engine) engine=1 ;;
    --host) engine=1; build_deps=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg (use --engine, --host or --help)" >&2; exit 2 ;;
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

if [ "$build_deps" = 1 ]; then
  deps=(build-essential pkg-config libssl-dev zlib1g-dev libffi-dev libbz2-dev liblzma-dev
        libsqlite3-dev libreadline-dev libncurses-dev uuid-dev libgdbm-dev)
  missing=()
  for dep in "${deps[@]}"; do
    dpkg-query -W -f='${Status}' "$dep" 2>/dev/null | grep -q "ok installed" || missing+=("$dep")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "[setup] installing CPython build dependencies: ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
