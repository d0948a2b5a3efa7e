#!/usr/bin/env bash
# Provision a Docker engine, buildx and compose v2 on a Debian host without one.
# Idempotent: every step checks first and skips what is already in place.
# Usage: sudo scripts/provision-engine.sh   (prints what it does; exit 0 when `docker info` answers)
set -euo pipefail

log() { printf '[provision] %s\n' "$*"; }
need_root() { [ "$(id -u)" -eq 0 ] || { echo "provision-engine: run as root (apt-get and dockerd need it)" >&2; exit 1; }; }

PLUGINS=/usr/libexec/docker/cli-plugins
need_root

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io, containerd, runc and mmdebstrap from Debian"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io mmdebstrap >/dev/null
elif ! command -v mmdebstrap >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
fi

if [ ! -x "$PLUGINS/docker-buildx" ] || [ ! -x "$PLUGINS/docker-compose" ]; then
  log "installing docker-buildx and docker-compose plugins from Debian sid (extracted, apt sources untouched)"
  d=$(mktemp -d)
  trap 'rm -rf "$d"' EXIT
  chmod 755 "$d"
  mkdir -p "$d/lists/partial" "$d/debs" "$d/parts"
  printf 'deb http://deb.debian.org/debian sid main\n' >"$d/sources.list"
  o=(-o "Dir::Etc::sourcelist=$d/sources.list" -o "Dir::Etc::sourceparts=$d/parts" -o "Dir::State::Lists=$d/lists")
  apt-get "${o[@]}" update -qq
  (cd "$d/debs" && apt-get "${o[@]}" download docker-buildx docker-compose >/dev/null)
  for f in "$d"/debs/*.deb; do dpkg -x "$f" /; done
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  mkdir -p /var/log
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
fi
docker info --format 'engine {{.ServerVersion}} ({{.Driver}})' || { echo "provision-engine: dockerd did not answer; see /var/log/dockerd.log" >&2; exit 1; }
docker buildx version
docker compose version
