#!/usr/bin/env bash
# Installs the servers the tests start themselves (on loopback, with their own config
# and data, never as system services): Prometheus and promtool, InfluxDB 1.x and its CLI,
# carbon-cache with whisper, zabbix_server for PostgreSQL and the PostgreSQL server it
# runs on (end-to-end tests), etcd (the store's etcd backend, its tests and bench), the
# OpenSSH client the SSH gateway's tests log in with, chromium (headless, driven by
# playwright-core in the console's browser tests; no browser is downloaded), and
# libfaketime (the fault tests shift one agent's clock).
# Only what is missing; does nothing when all is there.
set -euo pipefail

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

need=()
for pkg in prometheus influxdb influxdb-client graphite-carbon python3-whisper zabbix-server-pgsql postgresql etcd-server openssh-client chromium faketime; do
  have_pkg "$pkg" || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  # The end-to-end tests run as root; the etcd tests skip themselves without etcd (outside CI).
  echo "wharf: the tests need ${need[*]}; run as root to install them" >&2
  exit 0
fi

# Keep the packages from starting their services, which would take the default ports.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi

echo "wharf: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
