#!/usr/bin/env bash
# scripts/run-tap.sh — run the integration tests (tests/tap/*.t) with
# PostgreSQL's TAP framework against real servers started on loopback.
#
# PostgreSQL refuses to run as root: when run as root, the tests run as the
# unprivileged user "pgbaton-test" (created if missing) on a copy of the
# tree in a temporary directory that user owns.
#
#   scripts/run-tap.sh [tests/tap/010_foo.t ...]
# The stream, apply and fault tests (tests/tap/1xx_stream_*.t,
# 1xx_fault_*.t) run twice, once with each decoder (PGBATON_TEST_PLUGIN=
# wal2json, then pgoutput: see tests/tap/lib/PgbatonTest.pm);
# PGBATON_TEST_PLUGIN given runs every test named once with that decoder.
# PGBATON_FAULTS is passed on (the fault matrix's cases: docs/testing.md).
# Environment: PGBATON_BIN (the binary under test), PGBATON_PLAIN_BIN (a
# build without sanitizers, for the tests that measure memory; optional),
# PROVE_FLAGS (extra flags for prove, for example "-j2" or "-v"),
# ASAN_OPTIONS / UBSAN_OPTIONS / LSAN_OPTIONS / TSAN_OPTIONS (passed on to
# the binary under test).
#
# Sanitizer reports: whatever options are given, each sanitized pgbaton
# writes its reports to a file (log_path) instead of stderr, and the run
# fails when any report was written. A test that expects pgbaton to fail
# would otherwise pass on a leak or a race, and a report in stderr could
# hide behind the output the test checks. UBSan inside the AddressSanitizer
# build ignores log_path and reports on stderr: it exits 86 instead (no
# test expects that code), so a test that expects exit 1 fails.
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
tar -C "$root" --exclude=./.git --exclude=./build --exclude='./build-*' \
    --exclude='./tests/tap/tmp_check' -cf - . | tar -C "$work" -xf -
mkdir -p "$work/bin"
cp "$BIN" "$work/bin/pgbaton"
plain=""
if [ -n "${PGBATON_PLAIN_BIN:-}" ] && [ -x "$PGBATON_PLAIN_BIN" ]; then
  cp "$PGBATON_PLAIN_BIN" "$work/bin/pgbaton-plain"
  plain="$work/bin/pgbaton-plain"
fi
mkdir -p "$work/tmp" "$work/san"

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

# the sanitizer options with reports sent to files in $work/san
san_opts() {
  local given=${!1:-}
  echo "${given:+$given:}log_path=$work/san/$2"
}

cd "$work"
status=0
# run_prove PLUGIN TEST...: prove with PGBATON_TEST_PLUGIN=PLUGIN ("" for
# the default: start chooses its decoder)
run_prove() {
  local plugin=$1
  shift
  [ $# -gt 0 ] || return 0
  [ -z "$plugin" ] || echo "run-tap: with the $plugin decoder" >&2
  # a failed test leaves its data directories behind; the next decoder's run
  # of the same test would find them there (its logs stay in tmp_check/log)
  rm -rf "$work"/tmp/tmp_check/t_*_data
  "${runas[@]}" env \
    ASAN_OPTIONS="$(san_opts ASAN_OPTIONS asan)" \
    UBSAN_OPTIONS="$(san_opts UBSAN_OPTIONS ubsan):exitcode=86" \
    TSAN_OPTIONS="$(san_opts TSAN_OPTIONS tsan)" \
    PATH="$PGBIN:$PATH" \
    PG_REGRESS="$PGXS/src/test/regress/pg_regress" \
    PGBATON_BIN="$work/bin/pgbaton" \
    PGBATON_PLAIN_BIN="$plain" \
    PGBATON_ROOT="$work" \
    PGBATON_TEST_PLUGIN="$plugin" \
    PGBATON_TEST_VERBOSE="${PGBATON_TEST_VERBOSE:-}" \
    PGBATON_FAULTS="${PGBATON_FAULTS:-}" \
    TESTDIR="$work/tmp" \
    HOME="$work/tmp" \
    prove ${PROVE_FLAGS:-} -I "$PERLDIR" -I "$work/tests/tap/lib" "$@" || status=$?
}

if [ -n "${PGBATON_TEST_PLUGIN:-}" ]; then
  run_prove "$PGBATON_TEST_PLUGIN" "${tests[@]}"
else
  # the stream, apply and fault tests (1xx_stream_*, 1xx_fault_*) run once
  # with each decoder, the others once with the decoder start chooses
  stream=() other=()
  for t in "${tests[@]}"; do
    case "${t##*/}" in
      1[0-9][0-9]_stream_* | 1[0-9][0-9]_fault_*) stream+=("$t") ;;
      *) other+=("$t") ;;
    esac
  done
  run_prove "" "${other[@]}"
  run_prove wal2json "${stream[@]}"
  run_prove pgoutput "${stream[@]}"
fi

keep=${PGBATON_TAP_LOGS:-/tmp/pgbaton-tap-logs}
reports=("$work"/san/*)
if [ -e "${reports[0]}" ]; then
  echo "run-tap: ${#reports[@]} sanitizer report(s) from pgbaton:" >&2
  for r in "${reports[@]}"; do
    echo "---- ${r##*/}" >&2
    head -n 80 "$r" >&2
  done
  status=1
fi

if [ $status -ne 0 ]; then
  # keep the servers' logs (and the sanitizer reports) for whoever reads
  # the failure
  rm -rf "$keep"; mkdir -p "$keep"
  cp -r "$work/tmp/tmp_check/log/." "$keep/" 2>/dev/null || true
  cp -r "$work/san" "$keep/sanitizer" 2>/dev/null || true
  echo "run-tap: failed; server and test logs copied to $keep" >&2
fi
exit $status
