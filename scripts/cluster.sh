#!/usr/bin/env bash
# scripts/cluster.sh up [N] | down | status — an N-host Wharf cluster on this machine
# (network namespaces cabled to a bridge, a dockerd and a wharf-agent each), joined to
# the server of `npm start` (WHARF_SERVER, WHARF_DATA_DIR). The logic lives in
# e2e/src/harness/cluster-cli.ts; see --help and docs/operations.md.
set -euo pipefail
cd "$(dirname "$0")/.."

cli=e2e/dist/harness/cluster-cli.js
build=yes
for arg in "$@"; do [ "$arg" = --no-build ] && build=no; done

case "${1:-}" in
  ''|-h|--help|help) ;;
  *)
    if [ "$(id -u)" -ne 0 ]; then
      echo "cluster: run as root (network namespaces, dockerd)" >&2
      exit 1
    fi
    ;;
esac

# `up` builds (tsc -b only rebuilds what changed); the others only when never built.
if { [ "${1:-}" = up ] && [ "$build" = yes ]; } || [ ! -f "$cli" ] || [ ! -f packages/agent/dist/main.js ]; then
  echo "cluster: building (npm run build)" >&2
  if ! npm run --silent build >&2; then
    echo "cluster: the build failed; fix it, or pass --no-build to use what is in dist/" >&2
    exit 1
  fi
fi
exec node "$cli" "$@"
