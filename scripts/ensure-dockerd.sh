#!/usr/bin/env bash
# Makes sure a Docker engine answers on /var/run/docker.sock; starts dockerd with
# --live-restore (so restarting it stops no container) when none does.
set -euo pipefail

sock=/var/run/docker.sock
log=${WHARF_DOCKERD_LOG:-/var/log/wharf-dockerd.log}

if docker -H "unix://$sock" version >/dev/null 2>&1; then
  exit 0
fi

args=()
# A flag that also stands in daemon.json makes dockerd refuse to start.
if ! grep -qs '"live-restore"' /etc/docker/daemon.json; then args+=(--live-restore); fi

echo "wharf: starting dockerd (log: $log)" >&2
setsid nohup dockerd "${args[@]}" >>"$log" 2>&1 < /dev/null &

for _ in $(seq 1 150); do
  if docker -H "unix://$sock" version >/dev/null 2>&1; then exit 0; fi
  sleep 0.2
done
echo "wharf: dockerd did not answer on $sock within 30 s; see $log" >&2
tail -n 20 "$log" >&2 || true
exit 1
