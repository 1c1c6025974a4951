#!/usr/bin/env bash
# scripts/run-tap.sh — run the integration tests (tests/tap/*.t) with
# PostgreSQL's TAP framework against real servers started on loopback.
#
# PostgreSQL refuses to run as root: when run as root, the tests run as the
# unprivileged user "pgbaton-test" (created if missing) on a copy of the
# tree in a temporary directory that user owns.
#
#   scripts/run-tap.sh [tests/tap/010_foo.t ...]
# Environment: PGBATON_BIN (the binary under test), PGBATON_PLAIN_BIN (a
# build without sanitizers, for the tests that measure memory; optional),
# PROVE_FLAGS (extra flags for prove, for example "-j2" or "-v").
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGXS=/usr/lib/postgresql/15/lib/pgxs
PERLDIR=$PGXS/src/test/perl
BIN=${PGBATON_BIN:-$root/build/pgbaton}

for f in "$PGBIN/initdb" "$PERLDIR/PostgreSQL/Test/Cluster.pm" "$PGXS/src/test/regress/pg_regress"; do
  if [ ! -e "$f" ]; then
    echo "run-tap: $f is missing: run 'make deps' first" >&2
    exit 1
  fi
done
if [ ! -x "$BIN" ]; then
  echo "run-tap: $BIN is not built: run 'make' first" >&2
  exit 1
fi

tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  tests=(tests/tap/*.t)
fi

work=$(mktemp -d /tmp/pgbaton-tap.XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

# a private copy of the tree and binary, readable by the test user
tar -C "$root" --exclude=./.git --exclude=./build --exclude=./build-san \
    --exclude='./tests/tap/tmp_check' -cf - . | tar -C "$work" -xf -
mkdir -p "$work/bin"
cp "$BIN" "$work/bin/pgbaton"
plain=""
if [ -n "${PGBATON_PLAIN_BIN:-}" ] && [ -x "$PGBATON_PLAIN_BIN" ]; then
  cp "$PGBATON_PLAIN_BIN" "$work/bin/pgbaton-plain"
  plain="$work/bin/pgbaton-plain"
fi
mkdir -p "$work/tmp"

runas=()
if [ "$(id -u)" -eq 0 ]; then
  user=pgbaton-test
  if ! id "$user" >/dev/null 2>&1; then
    useradd --system --create-home --shell /bin/bash "$user"
  fi
  chown -R "$user:" "$work"
  chmod 755 "$work"
  runas=(runuser -u "$user" --)
fi

cd "$work"
status=0
"${runas[@]}" env \
  PATH="$PGBIN:$PATH" \
  PG_REGRESS="$PGXS/src/test/regress/pg_regress" \
  PGBATON_BIN="$work/bin/pgbaton" \
  PGBATON_PLAIN_BIN="$plain" \
  PGBATON_ROOT="$work" \
  TESTDIR="$work/tmp" \
  HOME="$work/tmp" \
  prove ${PROVE_FLAGS:-} -I "$PERLDIR" -I "$work/tests/tap/lib" "${tests[@]}" || status=$?

if [ $status -ne 0 ]; then
  # keep the servers' logs for whoever reads the failure
  keep=${PGBATON_TAP_LOGS:-/tmp/pgbaton-tap-logs}
  rm -rf "$keep"; mkdir -p "$keep"
  cp -r "$work/tmp/tmp_check/log/." "$keep/" 2>/dev/null || true
  echo "run-tap: failed; server and test logs copied to $keep" >&2
fi
exit $status
