#!/bin/bash
# scripts/check-layers.sh — each layer's resource has one owner
# (docs/architecture.md, "Modules"); run by `make layers` (and so by
# `make check`). Two checks:
#   1. libpq belongs to the protocol layer: no file under src/ or include/
#      but the layer itself (src/db*.c, include/db*.h) may include
#      libpq-fe.h, name libpq's types or call a PQ function; nor may the
#      fuzz targets (fuzz/), which link libpq through db.c.
#   2. the pgbaton schema belongs to the state module (src/state*.c): every
#      sql/*.sql file whose SQL (comments left out) names pgbaton.* is
#      called state_*.sql and used, as sql_<name>, only from src/state*.c;
#      and no C string literal elsewhere holds a statement on pgbaton.*
#      (FROM, UPDATE, INSERT INTO or DELETE FROM pgbaton.; a message that
#      merely names a table is fine).
# Prints each offending line; exits 1 on a violation, 2 when grep itself
# fails.
set -euo pipefail
cd "$(dirname "$0")/.."

rc_all=0

# grep ARGS...: the matching lines in $hits; exits 2 when grep fails.
search() {
  local rc=0
  hits=$(grep "$@") || rc=$?
  if [ "$rc" -gt 1 ]; then
    echo "layers: grep failed (exit $rc)" >&2
    exit 2
  fi
  return "$rc"
}

# violation MESSAGE: report $hits under MESSAGE.
violation() {
  echo "layers: $1" >&2
  echo "$hits" >&2
  rc_all=1
}

# --- 1. libpq ---------------------------------------------------------------
files=$(ls src/*.c include/*.h fuzz/*.c fuzz/*.h | grep -vE '^(src/db[a-z_]*\.c|include/db[a-z_]*\.h)$')
pattern='->pg\b|libpq-fe\.h|\bPQ[a-zA-Z]+[[:space:]]*\(|\bPG(conn|result|notify|cancel)\b|\bPGRES_|\bPQTRANS_|\bCONNECTION_(OK|BAD)\b'
# comments count too: a comment that names a libpq call is a sign the
# call moved without its explanation
if search -nE -e "$pattern" $files; then
  violation "libpq used outside the protocol layer (src/db*.c); use db.h / db_async.h:"
else
  echo "layers: libpq is used only in src/db*.c"
fi

# --- 2. the pgbaton schema --------------------------------------------------
# every C file of the project but the state module's sources
others=$(find src include tests/unit tools bench fuzz -name '*.[ch]' | grep -vE '^src/state[a-z_]*\.c$' | sort)
state_ok=1
for f in sql/*.sql; do
  name=$(basename "$f" .sql)
  sql=$(sed 's/--.*//' "$f") # the SQL without its comments
  search -q 'pgbaton\.' <<<"$sql" || continue
  if [[ $name != state_* ]]; then
    hits="$f"
    violation "SQL on pgbaton.* in a file not named sql/state_*.sql (the state module's):"
    state_ok=0
  fi
  if search -nw "sql_$name" $others; then
    violation "sql/$name.sql (SQL on pgbaton.*) used outside the state module (src/state*.c):"
    state_ok=0
  fi
done
# the string literals of those files, one a line ("file:line:literal"), then
# those that hold a statement on pgbaton.*; a literal split over several
# lines is checked piece by piece (DELETE FROM is a FROM)
if search -noE '"([^"\\]|\\.)*"' $others; then
  literals=$hits
  if search -E '\b(FROM|UPDATE|INSERT[[:space:]]+INTO)[[:space:]]+pgbaton\.' <<<"$literals"; then
    violation "SQL on pgbaton.* outside the state module (src/state*.c, sql/state_*.sql):"
    state_ok=0
  fi
fi
if [ "$state_ok" -eq 1 ]; then
  echo "layers: SQL on pgbaton.* is only in sql/state_*.sql, run only from src/state*.c"
fi
exit "$rc_all"
