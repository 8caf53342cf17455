#!/usr/bin/env bash
# The README's first command: installs what Horde needs on a fresh machine (the Docker engine, the local job image,
# the npm dependencies), then runs a real job through Horde and prints its output. Arguments go to `horde demo`
# (e.g. `bash scripts/run.sh -- sh -c 'echo hi'`). Run as root on Debian (as CI does).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/docker-up.sh
bash scripts/build-test-image.sh
# npm ci rebuilds node_modules from the lock file; skipped when node_modules already matches it.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
exec node bin/horde.js demo "$@"
