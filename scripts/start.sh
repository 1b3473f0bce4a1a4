#!/usr/bin/env bash
# `npm start`: installs what is missing, builds, makes sure Docker runs, and runs
# wharf-server plus a local wharf-agent in the foreground. Ctrl-C stops Wharf;
# containers keep running and are re-adopted by the next start.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "wharf: npm start runs Docker and manages containers; run it as root" >&2
  exit 1
fi
bash scripts/install-deps.sh
bash scripts/ensure-node-modules.sh
echo "wharf: building" >&2
npm run --silent build
bash scripts/ensure-dockerd.sh
bash scripts/build-busybox-image.sh
exec node scripts/run-local.mjs
