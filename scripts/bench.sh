#!/usr/bin/env bash
# `npm run bench -- NAME [args]`: builds, then runs bench/dist/NAME.js. Needs root
# (each benchmark starts its own dockerd in a network namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:-}
if [ -z "$name" ] || [ ! -f "bench/src/$name.ts" ]; then
  echo "usage: npm run bench -- NAME [args]; benchmarks: $(cd bench/src && ls *.ts | grep -v -e stats -e swarm -e footprint -e soak -e '\.test\.' | sed 's/\.ts$//' | tr '\n' ' ')" >&2
  exit 2
fi
shift
bash scripts/install-deps.sh
bash scripts/ensure-node-modules.sh
npm run --silent build
exec node "bench/dist/$name.js" "$@"
