#!/usr/bin/env bash
# The README's first command: installs what Horde needs on a fresh machine (the Docker engine, the local job image,
# the npm dependencies), then starts a local Horde (facilitator, validator, miner: each its own process; the miner
# spawns an executor per job) and submits a real job through it as a user would (`horde job run`), printing each
# stage and then the job's output. Everything it started is stopped before it returns. Arguments after `--` are the
# job's command (e.g. `bash scripts/run.sh -- sh -c 'echo hi'`). Run as root on Debian (as CI does).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/docker-up.sh
bash scripts/build-test-image.sh
# npm ci rebuilds node_modules from the lock file; skipped when node_modules already matches it.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
if [ "$#" -gt 0 ] && [ "$1" = "--" ]; then shift; fi
if [ "$#" -eq 0 ]; then
  set -- sh -c 'echo "hello from a Horde job on $(uname -m)"; ls /'
fi
exec node bin/horde.js job run --up --image horde-testjob:local -- "$@"
