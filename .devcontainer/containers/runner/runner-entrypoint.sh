#!/bin/bash
# Exports ACCESS_TOKEN from ACCESS_TOKEN_FILE (never echoed), then runs the image's entrypoint.
set -euo pipefail
if [ -n "${ACCESS_TOKEN_FILE:-}" ] && [ -s "$ACCESS_TOKEN_FILE" ]; then
  ACCESS_TOKEN=$(cat "$ACCESS_TOKEN_FILE")
  export ACCESS_TOKEN
fi
if [ -z "${ACCESS_TOKEN:-}" ] && [ -z "${RUNNER_TOKEN:-}" ]; then
  echo "runner: set GITHUB_RUNNER_ACCESS_TOKEN (a PAT) so the runner can register" >&2
  exit 1
fi
exec /entrypoint.sh "$@"
