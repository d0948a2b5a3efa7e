#!/bin/sh
# Dev container entrypoint (runs as root, then runs the command as the remote user).
# Gives the remote user the host Docker socket whatever group owns it there, the way the
# devcontainers docker-outside-of-docker feature does:
#   - the host socket is mounted at /var/run/docker-host.sock;
#   - owned by a non-root group: `docker` takes that gid (or the user joins the group that
#     already has it), and /var/run/docker.sock links to the host socket;
#   - owned by root (Docker Desktop): socat serves /var/run/docker.sock to group `docker`,
#     so the user never joins root's group.
set -eu
user=${DEVCONTAINER_USER:-vscode}
host_socket=/var/run/docker-host.sock
socket=/var/run/docker.sock

if [ "$(id -u)" = 0 ] && [ -S "$host_socket" ]; then
  gid=$(stat -c %g "$host_socket")
  if [ "$gid" = 0 ]; then
    rm -f "$socket"
    socat "UNIX-LISTEN:$socket,fork,mode=660,user=root,group=docker" \
      "UNIX-CONNECT:$host_socket" >/dev/null 2>&1 &
    group=docker
  else
    group=$(getent group "$gid" | cut -d: -f1)
    if [ -z "$group" ]; then
      groupmod --gid "$gid" docker
      group=docker
    fi
    ln -sf "$host_socket" "$socket"
  fi
  id -nG "$user" | tr ' ' '\n' | grep -qx "$group" || usermod -aG "$group" "$user"
  echo "devcontainer-entrypoint: $user can use $socket (group $group, gid $(getent group "$group" | cut -d: -f3))" >&2
fi

if [ "$(id -u)" = 0 ]; then
  HOME=$(getent passwd "$user" | cut -d: -f6)
  export HOME USER="$user" LOGNAME="$user"
  exec setpriv --reuid="$user" --regid="$user" --init-groups "$@"
fi
exec "$@"
