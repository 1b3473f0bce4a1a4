#!/usr/bin/env bash
# Installs the Debian packages Wharf needs on this machine, only those missing.
# Safe to run again: it does nothing when everything is present.
set -euo pipefail

need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# iperf3 measures set-to-set throughput in the network tests and benchmark.
# btrfs-progs: the agent's volume pool (default); xfsprogs: its --volume-driver xfs.
# haproxy: the load balancer wharf-server runs for apps with `lb`.
# docker-registry (CNCF Distribution) and openssl: the platform registry and its CA, which
# wharf-server runs and makes itself (never the package's own service).
# debootstrap: scripts/build-debian-image.sh builds the light hosts' base image with it.
for pkg in docker.io busybox-static btrfs-progs xfsprogs iptables iproute2 util-linux iperf3 haproxy docker-registry openssl debootstrap; do
  have_pkg "$pkg" || need+=("$pkg")
done

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "wharf: missing packages (${need[*]}); run as root to install them" >&2
    exit 1
  fi
  # Keep the packages from starting their services (the registry's would take port 5000
  # with its own config): wharf-server and scripts/ensure-dockerd.sh start what is needed.
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
fi
