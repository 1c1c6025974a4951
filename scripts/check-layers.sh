#!/bin/bash
# scripts/check-layers.sh — the protocol layer is the only code that uses
# libpq (docs/architecture.md, "Layers"): no file under src/ or include/
# the layer itself (src/db*.c, include/db*.h) may include libpq-fe.h, name libpq's types or call a PQ
# function. Prints each offending line and exits 1; run by `make layers`
# (and so by `make check`).
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(ls src/*.c include/*.h | grep -vE '^(src/db[a-z_]*\.c|include/db[a-z_]*\.h)$')
pattern='->pg\b|libpq-fe\.h|\bPQ[a-zA-Z]+[[:space:]]*\(|\bPG(conn|result|notify|cancel)\b|\bPGRES_|\bPQTRANS_|\bCONNECTION_(OK|BAD)\b'
# comments count too: a comment that names a libpq call is a sign the
# call moved without its explanation
rc=0
hits=$(grep -nE -e "$pattern" $files) || rc=$?
if [ "$rc" -gt 1 ]; then
  echo "layers: grep failed (exit $rc)" >&2
  exit 2
fi
if [ "$rc" -eq 0 ]; then
  echo "layers: libpq used outside the protocol layer (src/db*.c); use db.h / db_async.h:" >&2
  echo "$hits" >&2
  exit 1
fi
echo "layers: libpq is used only in src/db*.c"
