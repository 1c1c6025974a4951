#!/bin/sh
# docker/demo.sh - the compose demo (docker/compose.yaml): a small live
# migration between the `source` and `target` containers. Creates a schema
# with data on the source, starts pgbaton in the background, writes while it
# streams, shows status, cuts over, verifies and prints the report.
#
# Environment: PGBATON_SOURCE, PGBATON_TARGET (connection strings without a
# password) and PGPASSWORD. Exits non-zero if any step fails.
set -eu

: "${PGBATON_SOURCE:?set PGBATON_SOURCE}"
: "${PGBATON_TARGET:?set PGBATON_TARGET}"
LOG=${TMPDIR:-/tmp}/pgbaton-start.log

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }
src() { psql -X -q -v ON_ERROR_STOP=1 -d "$PGBATON_SOURCE" "$@"; }

# wait_for SECONDS CMD...: run CMD until it succeeds, or give up
wait_for() {
  limit=$1; shift
  waited=0
  until "$@" >/dev/null 2>&1; do
    [ "$waited" -lt "$limit" ] || return 1
    sleep 1
    waited=$((waited + 1))
  done
}

say "Waiting for both servers"
wait_for 60 psql -X -d "$PGBATON_SOURCE" -c 'SELECT 1' || die "the source does not answer"
wait_for 60 psql -X -d "$PGBATON_TARGET" -c 'SELECT 1' || die "the target does not answer"

say "Creating a small schema with data on the source"
src <<'SQL'
CREATE TABLE customers (id bigserial PRIMARY KEY, email text UNIQUE NOT NULL, created timestamptz DEFAULT now());
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint REFERENCES customers, total numeric(12,2), note text);
INSERT INTO customers (email) SELECT 'user' || i || '@example.com' FROM generate_series(1, 1000) i;
INSERT INTO orders (customer_id, total, note) SELECT 1 + i % 1000, i * 1.25, 'order ' || i FROM generate_series(1, 10000) i;
SQL

say "pgbaton check"
pgbaton check || die "check found blocking problems"

say "pgbaton start (in the background; log in $LOG)"
pgbaton start --jobs 2 >"$LOG" 2>&1 &
start_pid=$!

streaming() {
  pgbaton status --json 2>/dev/null | grep -q '"phase": *"streaming"'
}
wait_for 120 streaming || { tail -20 "$LOG" >&2; die "the copy did not finish in 2 minutes"; }

say "Writing on the source while pgbaton streams"
src -c "INSERT INTO orders (customer_id, total, note) SELECT 1 + i % 1000, i, 'late ' || i FROM generate_series(1, 500) i" \
    -c "UPDATE customers SET email = 'changed' || id || '@example.com' WHERE id <= 10" \
    -c "DELETE FROM orders WHERE id <= 20"

say "pgbaton status"
pgbaton status || true

say "pgbaton cutover"
pgbaton cutover --max-lag 2s --timeout 2min || die "cutover failed (the source is writable again)"
wait "$start_pid" || die "pgbaton start exited with an error: see $LOG"

say "pgbaton verify"
pgbaton verify || die "verify found differences"

say "pgbaton report"
pgbaton report

say "Done: the target holds the source's data; the source is read-only"
