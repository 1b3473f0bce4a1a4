#!/usr/bin/env bash
# `npm run soak -- [--minutes 10] [args]`: builds, then runs bench/dist/soak.js: continuous
# create/scale/delete on the 3-host harness, the server's memory against a bound, then
# the leak checker; exits 1 on a breach. Needs root (it starts dockerds in network
# namespaces). Not part of `npm test`; see docs/reliability.md (Load).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/ensure-node-modules.sh
npm run --silent build
exec node bench/dist/soak.js "$@"
