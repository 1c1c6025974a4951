#!/usr/bin/env bash
# bench/run.sh — pgbaton's benchmarks: figures and ratios, never pass/fail.
#
#   bench/run.sh [W1a|W1b|V1|W2|W3|W4|all ...] [--rounds N] [--scale S] [--quick]
#   bench/run.sh SOAK [--soak-minutes M] [--plugin P] [--quick]
#
# Starts a source and a target PostgreSQL server on 127.0.0.1 (as the user
# pgbaton-test when run as root), builds each workload's source database,
# runs pgbaton and its baselines interleaved (A B C A B C ...) on an empty
# target database each time, prints each contender's median, the ratios of
# pgbaton to each baseline beside their goals, and pgbaton's peak RSS, and
# writes everything to bench/results/<timestamp>.json. Everything it started
# is stopped and removed at exit. See bench/README.md.
set -uo pipefail

BENCH_HOME=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_HOME/.." && pwd)
# shellcheck source=lib.sh
. "$BENCH_HOME/lib.sh"
for f in "$BENCH_HOME"/workloads/*.sh; do
  # shellcheck disable=SC1090
  . "$f"
done

usage() {
  cat <<USAGE
usage: bench/run.sh [WORKLOAD ... | all] [OPTIONS]

Workloads:
$(for w in "${BENCH_WORKLOADS[@]}"; do printf '  %-6s %s\n' "$w" "${BENCH_WL_DESC[$w]}"; done)
  all    every workload above (the default)

Not part of all (run only when named):
$(for w in "${BENCH_OPTIN[@]}"; do printf '  %-6s %s\n' "$w" "${BENCH_WL_DESC[$w]}"; done)

Options:
  --rounds N     interleaved rounds per workload (default 3); medians of N runs
                 (W4: cutovers, at least 5; W3: each round is 4 minutes)
  --scale S      pgbench scale of W1a and V1 (default 30, about 450 MB)
  --table-mb M   size of each W1b table in MB (default 60)
  --quick        small sizes for a smoke test (W1a/V1 scale 3, W1b tables of
                 5 MB, W2-W4 scale 2, W2 2000 transactions, W3 -T 10,
                 W4 2 cutovers, SOAK 2 minutes at scale 2)
  --soak-minutes M
                 length of SOAK's load in minutes (default 30, --quick 2)
  --plugin P     SOAK's pgbaton start --plugin P: auto (the default,
                 pgbaton's own choice), wal2json or pgoutput
  --timeout SEC  longest a single contender run may take (default 3600)
  --help         this help

Environment: PGBATON_BIN (default build/pgbaton, built if missing),
BENCH_PGBIN (default /usr/lib/postgresql/15/bin), BENCH_FSYNC (off or on,
default off, the same on both servers), BENCH_KEEP_LOGS=DIR (copy the
servers' and contenders' logs there at exit).
USAGE
}

BENCH_ROUNDS=3
W1A_SCALE=""
W1B_TABLE_MB=""
QUICK=0
SOAK_MINUTES=""
SOAK_PLUGIN=""
selected=()
needs_value() {
  [ "$2" -ge 2 ] || { echo "bench/run.sh: $1 needs a value (see --help)" >&2; exit 2; }
}
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) needs_value "$1" $#; BENCH_ROUNDS=$2; shift 2 ;;
    --scale) needs_value "$1" $#; W1A_SCALE=$2; shift 2 ;;
    --table-mb) needs_value "$1" $#; W1B_TABLE_MB=$2; shift 2 ;;
    --timeout) needs_value "$1" $#; BENCH_TIMEOUT=$2; shift 2 ;;
    --soak-minutes) needs_value "$1" $#; SOAK_MINUTES=$2; shift 2 ;;
    --plugin) needs_value "$1" $#; SOAK_PLUGIN=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    -h | --help) usage; exit 0 ;;
    all | ALL) selected+=("${BENCH_WORKLOADS[@]}"); shift ;;
    -*) echo "bench/run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *)
      w=""
      for k in "${BENCH_WORKLOADS[@]}" "${BENCH_OPTIN[@]}"; do
        [ "${k,,}" = "${1,,}" ] && w=$k
      done
      [ -n "$w" ] || { echo "bench/run.sh: unknown workload $1 (known: ${BENCH_WORKLOADS[*]}, all, ${BENCH_OPTIN[*]})" >&2; exit 2; }
      selected+=("$w")
      shift
      ;;
  esac
done
[ ${#selected[@]} -gt 0 ] || selected=("${BENCH_WORKLOADS[@]}")
# --quick changes the defaults only: --scale / --table-mb still win
if [ "$QUICK" = 1 ]; then
  W1A_SCALE=${W1A_SCALE:-3}
  W1B_TABLE_MB=${W1B_TABLE_MB:-5}
  SOAK_MINUTES=${SOAK_MINUTES:-2}
fi
W1A_SCALE=${W1A_SCALE:-30}
W1B_TABLE_MB=${W1B_TABLE_MB:-60}
SOAK_MINUTES=${SOAK_MINUTES:-30}
SOAK_PLUGIN=${SOAK_PLUGIN:-auto}
case $SOAK_PLUGIN in
  auto | wal2json | pgoutput) ;;
  *) echo "bench/run.sh: --plugin must be auto, wal2json or pgoutput, not '$SOAK_PLUGIN'" >&2; exit 2 ;;
esac
for v in BENCH_ROUNDS W1A_SCALE W1B_TABLE_MB BENCH_TIMEOUT SOAK_MINUTES; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench/run.sh: $v must be a positive integer, not '${!v}'" >&2; exit 2; }
done

bench_setup
bench_build_tools "$ROOT"
BENCH_PGBATON_MISSING=""
if bench_pgbaton_available; then
  bench_log "pgbaton: $("$PGBATON_BIN" --version 2>&1 | head -n 1) ($PGBATON_BIN)"
else
  BENCH_PGBATON_MISSING="pgbaton start not available in this build"
  bench_log "$BENCH_PGBATON_MISSING ($PGBATON_BIN): only the baselines run"
fi

bench_log "starting the source and target servers in $BENCH_WORK"
bench_server_start source source
bench_server_start target target
pgver=$(bench_server_version source)
load=$(cut -d' ' -f1-3 /proc/loadavg)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
cat <<HEADER

pgbaton benchmark $stamp
  PostgreSQL $pgver (source: wal_level=logical; target: defaults), both on 127.0.0.1
  fsync=$BENCH_FSYNC on BOTH servers; shared_buffers=${BENCH_SHARED_BUFFERS:-256MB}, maintenance_work_mem=${BENCH_MAINTENANCE_WORK_MEM:-256MB}, max_wal_size=4GB
  $(nproc) CPUs, load average $load at start; rounds=$BENCH_ROUNDS (interleaved), workloads: ${selected[*]}$([ "$QUICK" = 1 ] && echo " (--quick sizes)")
  figures are wall-clock seconds on a shared machine: compare ratios within this run, not absolute times across runs
HEADER

for wl in "${selected[@]}"; do
  "wl_$wl"
  # a workload with its own report (report_WN) prints it; the others use
  # the common table of medians and ratios
  if declare -F "report_$wl" >/dev/null; then "report_$wl"; else bench_report "$wl"; fi
done

json="$BENCH_HOME/results/$stamp.json"
pgb_version=$("$PGBATON_BIN" --version 2>&1 | head -n 1)
bench_json_write "$json" "$(printf '"timestamp": %s, "postgresql": %s, "pgbaton": %s, "pgbaton_start_available": %s, "fsync": %s, "rounds": %s, "quick": %s, "cpus": %s, "loadavg_start": %s, "loadavg_end": %s' \
  "$(bench_json_str "$stamp")" "$(bench_json_str "$pgver")" "$(bench_json_str "$pgb_version")" \
  "$([ -z "$BENCH_PGBATON_MISSING" ] && echo true || echo false)" "$(bench_json_str "$BENCH_FSYNC")" \
  "$BENCH_ROUNDS" "$([ "$QUICK" = 1 ] && echo true || echo false)" "$(nproc)" \
  "$(bench_json_str "$load")" "$(bench_json_str "$(cut -d' ' -f1-3 /proc/loadavg)")")"
echo
echo "results written to $json"
