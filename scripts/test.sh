#!/usr/bin/env bash
# `npm test`: installs what is missing, builds, lints, then runs every unit and
# end-to-end test with node's test runner. End-to-end tests start their own
# dockerd(s) in network namespaces and remove them afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
rootfs=
if [ "$(id -u)" -eq 0 ]; then
  # The light-host test needs a Debian rootfs (debootstrap from the mirror, minutes on
  # a fresh machine): built in the background from here on, so the test finds it cached.
  bash scripts/build-debian-image.sh --rootfs-only >"${TMPDIR:-/tmp}/wharf-debian-rootfs.log" 2>&1 &
  rootfs=$!
fi
bash scripts/install-test-deps.sh
bash scripts/ensure-node-modules.sh
npm run --silent build
npm run --silent lint

mapfile -t unit < <(find packages -path '*/node_modules' -prune -o -path '*/dist/*' -name '*.test.js' -print | sort)
mapfile -t e2e < <(find e2e/dist -name '*.test.js' | sort)
if [ "$(id -u)" -ne 0 ]; then
  echo "wharf: end-to-end tests need root (network namespaces, dockerd); running unit tests only" >&2
  exec node --test --test-reporter=spec "${unit[@]}"
fi
# Integration tests inside packages use a private dockerd; e2e tests start their own.
# Two files at a time: most e2e time is spent waiting on engines and probes. Each e2e
# file names its hosts and namespaces after its pid, and its subnets live inside its
# own namespaces, so two files never meet even when their subnets are equal.
status=0
node e2e/dist/harness/with-docker.js node --test --test-concurrency="${WHARF_TEST_CONCURRENCY:-2}" --test-reporter=spec "${unit[@]}" "${e2e[@]}" || status=$?
# Not left behind when every test ended before it.
if [ -n "$rootfs" ]; then kill "$rootfs" 2>/dev/null || true; wait "$rootfs" 2>/dev/null || true; fi
exit "$status"
