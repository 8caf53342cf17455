#!/usr/bin/env bash
# Makes a Docker engine available on /var/run/docker.sock: installs Debian's docker.io (and the static busybox our
# test job image is made of) when missing, starts dockerd when nothing answers, and waits for it. Safe to run when
# the engine already runs. Needs root (CI and fresh machines run as root).
set -euo pipefail

need_install=()
command -v dockerd >/dev/null 2>&1 || need_install+=(docker.io)
dpkg -s busybox-static >/dev/null 2>&1 || need_install+=(busybox-static)
# docker-registry gives the executor's pull tests a real registry on 127.0.0.1 (no public registry is reachable).
dpkg -s docker-registry >/dev/null 2>&1 || need_install+=(docker-registry)
if [ ${#need_install[@]} -gt 0 ]; then
  echo "docker-up: installing ${need_install[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq "${need_install[@]}" </dev/null >/dev/null
fi

if docker info >/dev/null 2>&1; then
  echo "docker-up: engine already running"
  exit 0
fi

echo "docker-up: starting dockerd"
mkdir -p /var/log
# setsid: the engine must outlive this script (CI calls the tests after it) and must not get our terminal's signals.
setsid dockerd >/var/log/horde-dockerd.log 2>&1 </dev/null &
for _ in $(seq 1 120); do
  if [ -S /var/run/docker.sock ] && docker info >/dev/null 2>&1; then
    echo "docker-up: engine ready"
    exit 0
  fi
  sleep 0.5
done
echo "docker-up: dockerd did not come up within 60 s; its log follows" >&2
tail -50 /var/log/horde-dockerd.log >&2 || true
exit 1
