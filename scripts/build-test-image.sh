#!/usr/bin/env bash
# Builds the job image the tests and the local cluster run: FROM scratch plus Debian's static busybox, because no
# image registry is reachable from here. Tagged horde-testjob:local (override with HORDE_TEST_IMAGE).
set -euo pipefail
image="${HORDE_TEST_IMAGE:-horde-testjob:local}"
here="$(cd "$(dirname "$0")/.." && pwd)"
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
cp /bin/busybox "$ctx/busybox"
cp "$here/docker/testjob/Dockerfile" "$ctx/Dockerfile"
docker build -q --label horde.test-image=1 -t "$image" "$ctx" >/dev/null
echo "build-test-image: $image ready"
