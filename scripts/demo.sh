#!/usr/bin/env bash
# scripts/demo.sh — a complete pgbaton migration between two throwaway local
# PostgreSQL servers, under a live write load: check, start, status, cutover,
# verify, report. Run by `make demo` (which installs and builds first).
#
#   scripts/demo.sh [--quick] [--keep-report DIR]
#
# --quick uses fewer rows (the test suite runs it that way). Servers run in a
# temporary directory (as the user pgbaton-test when run as root) and are
# stopped and removed at exit, whatever happens. Exits non-zero if any step fails.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
BIN=${PGBATON_BIN:-$root/build/pgbaton}
QUICK=0
REPORT_DIR=${PGBATON_DEMO_REPORT:-$PWD/pgbaton-demo-report}
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --keep-report) REPORT_DIR=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "demo: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -x "$BIN" ] || { echo "demo: $BIN is not built: run 'make' first" >&2; exit 1; }

# throwaway servers: the benchmark's helpers (bench/lib.sh) start them
# shellcheck source=../bench/lib.sh
. "$root/bench/lib.sh"

step=0
say() { step=$((step + 1)); printf '\n\033[1m==> %d. %s\033[0m\n' "$step" "$*"; }
note() { printf '    %s\n' "$*"; }

if [ $QUICK -eq 1 ]; then
  CUSTOMERS=2000 ORDERS=20000 EVENTS=20000 RATE=50
else
  CUSTOMERS=50000 ORDERS=150000 EVENTS=100000 RATE=100
fi

say "Starting two throwaway PostgreSQL 15 servers on 127.0.0.1 (source with wal_level=logical)"
bench_setup
bench_server_start source source
bench_server_start target target
SRC=$(bench_conn source shop)
DST=$(bench_conn target shop)
note "source: $SRC"
note "target: $DST"
note "(the password comes from a pgpass file: it is never on a command line)"

say "Creating the source database 'shop': tables with foreign keys, a trigger, a view, a partitioned table, an enum, a sequence, a users table with password hashes"
bench_psql source postgres -c "CREATE DATABASE shop" >/dev/null
bench_psql target postgres -c "CREATE DATABASE shop" >/dev/null
bench_psql source shop -v customers=$CUSTOMERS -v orders=$ORDERS -v events=$EVENTS \
  -f "$root/scripts/demo/schema.sql" >/dev/null
note "$(bench_scalar source shop "SELECT sum(n_live_tup) FROM pg_stat_user_tables") rows in $(bench_scalar source shop "SELECT count(*) FROM pg_stat_user_tables") tables"

say "Starting a steady write load on the source: pgbench, $RATE transactions/s, each an order with an item, a status change and an event"
load_log="$BENCH_CLIENT/load.log"
pgbench -n -c 2 -j 2 -R $RATE -T 3600 -f "$root/scripts/demo/load.sql" -d "$SRC" >"$load_log" 2>&1 &
load_pid=$!
BENCH_BG_PIDS+=("$load_pid")
poll() { # poll SECONDS CMD...: until CMD succeeds, or fail
  local deadline=$(($(date +%s) + $1)); shift
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}
orders_now() { bench_scalar source shop "SELECT count(*) FROM orders"; }
before=$(orders_now)
poll 30 bash -c "[ \$(psql -X -A -t -q -d '$SRC' -c 'SELECT count(*) FROM orders') -gt $before ]" ||
  bench_die "the write load does not commit anything: see $load_log"
note "orders are being written: $(orders_now) so far"

say "pgbaton check: can this migration work?"
"$BIN" check -s "$SRC" -t "$DST" || bench_die "check found blocking problems (see above)"

say "pgbaton start (in the background): copy at one snapshot, then stream changes"
start_log="$BENCH_CLIENT/start.log"
"$BIN" start -s "$SRC" -t "$DST" --jobs 2 >"$start_log" 2>&1 &
start_pid=$!
BENCH_BG_PIDS+=("$start_pid")
note "its log: $start_log"

say "pgbaton status while the copy runs, then while the lag falls (the load goes on)"
phase() { psql -X -A -t -q -d "$DST" -c "SELECT phase FROM pgbaton.migration" 2>/dev/null || true; }
deadline=$(($(date +%s) + 240))
shown_copy=0
while :; do
  kill -0 "$start_pid" 2>/dev/null || { tail -20 "$start_log" >&2; bench_die "pgbaton start stopped"; }
  p=$(phase)
  if [ "$p" = streaming ]; then
    lag=$("$BIN" status -s "$SRC" -t "$DST" --json 2>/dev/null | sed -n 's/.*"lag_seconds": *\([0-9.]*\).*/\1/p')
    if [ -n "$lag" ] && awk -v l="$lag" 'BEGIN { exit !(l < 1) }'; then
      "$BIN" status -s "$SRC" -t "$DST" || true
      break
    fi
  elif [ -n "$p" ] && [ $shown_copy -eq 0 ]; then
    "$BIN" status -s "$SRC" -t "$DST" || true
    shown_copy=1
  fi
  [ "$(date +%s)" -lt "$deadline" ] || { tail -20 "$start_log" >&2; bench_die "the target did not catch up in 4 minutes"; }
  sleep 1
done
note "the target is in step with the source while orders keep coming in ($(orders_now) now)"

say "pgbaton cutover: freeze the source, drain the last changes, copy sequences, compare, hand over"
"$BIN" cutover -s "$SRC" -t "$DST" --max-lag 1s --timeout 60s || bench_die "cutover failed (the source is writable again)"
poll 30 bash -c "! kill -0 $start_pid 2>/dev/null" || bench_die "pgbaton start did not stop after the cutover"
wait "$start_pid" || bench_die "pgbaton start exited with an error after the cutover: see $start_log"

say "The source now refuses writes: the load's next transaction fails"
if out=$(psql -X -q -d "$SRC" -c "INSERT INTO customers (email, name) VALUES ('late@example.com', 'Late')" 2>&1); then
  bench_die "the source still accepts writes after the cutover"
fi
note "source said: $(echo "$out" | head -1)"
kill -TERM "$load_pid" 2>/dev/null || true
wait "$load_pid" 2>/dev/null || true
note "pgbench: $(grep -E 'number of transactions actually processed' "$load_log" || echo 'stopped')"

say "pgbaton verify: the target equals the frozen source"
"$BIN" verify -s "$SRC" -t "$DST" || bench_die "verify found differences"

say "pgbaton report"
mkdir -p "$REPORT_DIR"
"$BIN" report -s "$SRC" -t "$DST" -o "$REPORT_DIR/report.md" || bench_die "report failed"
note "the report: $REPORT_DIR/report.md (and its lag chart beside it)"

say "Done: stopping and removing the servers"
