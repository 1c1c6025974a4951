#!/usr/bin/env bash
# scripts/install-deps.sh — install the Debian packages pgbaton and its tests
# need. Idempotent: installs only what is missing. Needs root (apt-get);
# otherwise prints the command to run.
set -euo pipefail

PKGS=(
  build-essential pkg-config
  libpq-dev libjansson-dev          # build
  postgresql-15 postgresql-client-15 postgresql-15-wal2json   # servers, pg_dump, wal2json
  postgresql-server-dev-15 libipc-run-perl libcmocka-dev      # tests
  clang libclang-rt-14-dev          # tests: make fuzz (libFuzzer's runtime is libclang-rt-14-dev)
  sudo util-linux                   # run test servers as an unprivileged user
  clang-format                      # .ci/run checks the formatting
  iproute2                          # ss: free ports for the demo and benchmark servers
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
