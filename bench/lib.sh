# bench/lib.sh — helpers shared by pgbaton's benchmarks (sourced, not run).
#
# What it gives a workload (bench/workloads/*.sh):
#   servers   bench_setup, bench_server_start NAME source|target, bench_conn,
#             bench_psql, bench_scalar, bench_reset_db, bench_checkpoint;
#             everything is torn down by bench_teardown (an EXIT trap).
#   pgbaton   bench_pgbaton_available, bench_pgbaton_launch (in the
#             background, under bench/rss.c), bench_wait_phase,
#             bench_pgbaton_stop, bench_drop_slot, bench_pgbaton_rss_kb.
#   timing    bench_now, bench_elapsed, bench_median, bench_ratio.
#   rounds    bench_interleave runs contenders A B C A B C ... on a fresh
#             target database each time; bench_goal, bench_report, and
#             bench_json_write summarise them.
#
# How the servers are run: PostgreSQL refuses to run as root, so as root the
# servers run as the unprivileged user "pgbaton-test" (as scripts/run-tap.sh
# does) in a temporary directory that user owns. Clients (pg_dump, psql,
# pgbaton) run as the invoking user and connect over TCP to 127.0.0.1 as the
# password-protected superuser "bench"; the password is random per run and
# reaches libpq only through a pgpass file (PGPASSFILE), never a command line.

BENCH_PGBIN=${BENCH_PGBIN:-/usr/lib/postgresql/15/bin}
BENCH_FSYNC=${BENCH_FSYNC:-off}       # same for every contender; printed
BENCH_USER=${BENCH_USER:-pgbaton-test}
BENCH_ROLE=bench
BENCH_TIMEOUT=${BENCH_TIMEOUT:-3600}  # seconds one contender run may take
BENCH_WORK=""                         # temporary directory (servers, dumps)
BENCH_CLIENT=""                       # its part owned by the invoking user
BENCH_RUNAS=()                        # prefix to run a command as the server user
declare -A BENCH_PORT=()              # server name -> TCP port
declare -A BENCH_DIR=()               # server name -> its directory
BENCH_SERVERS=()                      # started servers, in order
BENCH_BG_PIDS=()                      # background processes to end at exit

bench_log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() {
  bench_log "error: $*"
  exit 1
}

# ---------------------------------------------------------------- setup

# bench_setup: the temporary directory, the server user, the pgpass file and
# the EXIT trap. Call once, before starting servers.
bench_setup() {
  local f
  for f in initdb pg_ctl postgres psql pg_dump pg_restore pgbench; do
    [ -x "$BENCH_PGBIN/$f" ] || bench_die "$BENCH_PGBIN/$f is missing: install PostgreSQL 15 (make deps)"
  done
  export PATH="$BENCH_PGBIN:$PATH"
  unset PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD PGSERVICE PGOPTIONS
  BENCH_WORK=$(mktemp -d /tmp/pgbaton-bench.XXXXXX) || bench_die "cannot create a temporary directory"
  trap bench_teardown EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  BENCH_CLIENT="$BENCH_WORK/client"
  mkdir -p "$BENCH_CLIENT" "$BENCH_WORK/shared"
  chmod 700 "$BENCH_CLIENT"
  if [ "$(id -u)" -eq 0 ]; then
    if ! id "$BENCH_USER" >/dev/null 2>&1; then
      useradd --system --create-home --shell /bin/bash "$BENCH_USER" ||
        bench_die "cannot create the user $BENCH_USER to run the servers"
    fi
    chown "$BENCH_USER:" "$BENCH_WORK" "$BENCH_WORK/shared"
    chmod 755 "$BENCH_WORK"
    BENCH_RUNAS=(runuser -u "$BENCH_USER" --)
  fi
  BENCH_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)
  umask 077
  printf '127.0.0.1:*:*:%s:%s\n' "$BENCH_ROLE" "$BENCH_PASSWORD" >"$BENCH_CLIENT/pgpass"
  umask 022
  export PGPASSFILE="$BENCH_CLIENT/pgpass"
}

# bench_as_server CMD...: run CMD as the server user, from a directory it can read.
bench_as_server() {
  (cd "$BENCH_WORK" && env -u PGPASSFILE "${BENCH_RUNAS[@]}" "$@")
}

# bench_teardown: end background processes, stop the servers, remove the
# temporary directory. Installed as the EXIT trap by bench_setup.
bench_teardown() {
  local pid name
  for pid in "${BENCH_BG_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      bench_wait_pid "$pid" 20 || kill -KILL "$pid" 2>/dev/null
    fi
  done
  for name in "${BENCH_SERVERS[@]}"; do
    bench_as_server pg_ctl -D "${BENCH_DIR[$name]}/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      bench_as_server pg_ctl -D "${BENCH_DIR[$name]}/data" -m immediate -w stop >/dev/null 2>&1
  done
  if [ -n "$BENCH_WORK" ] && [ -d "$BENCH_WORK" ]; then
    if [ -n "${BENCH_KEEP_LOGS:-}" ]; then
      mkdir -p "$BENCH_KEEP_LOGS"
      for name in "${BENCH_SERVERS[@]}"; do
        cp "${BENCH_DIR[$name]}/server.log" "$BENCH_KEEP_LOGS/$name.log" 2>/dev/null
      done
      cp "$BENCH_CLIENT"/*.log "$BENCH_KEEP_LOGS/" 2>/dev/null
    fi
    rm -rf "$BENCH_WORK"
  fi
}

# bench_wait_pid PID SECONDS: wait for a process to end; false on timeout.
bench_wait_pid() {
  local pid=$1 deadline
  deadline=$(($(date +%s) + $2))
  while kill -0 "$pid" 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
  return 0
}

# bench_free_port: print a TCP port nothing listens on (40000-48999, away
# from the range PostgreSQL's TAP framework draws from).
bench_free_port() {
  local p _
  for _ in $(seq 1 200); do
    p=$((40000 + RANDOM % 9000))
    if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# Does this server know output_plugin_libraries (PostgreSQL 15.19+)?
# (Read the whole list first: `grep -q` on a pipe would end early and, with
# pipefail, turn postgres' SIGPIPE into a false "no".)
bench_knows_plugin_allowlist() {
  local config
  config=$("$BENCH_PGBIN/postgres" --describe-config 2>/dev/null)
  grep -q '^output_plugin_libraries'$'\t' <<<"$config"
}

# bench_server_start NAME KIND: initdb and start a server. KIND "source" gets
# wal_level=logical, replication slots and wal2json allowed; "target" is an
# ordinary server. Both get the same memory and durability settings.
bench_server_start() {
  local name=$1 kind=$2 dir port try
  dir="$BENCH_WORK/$name"
  bench_as_server mkdir -p "$dir"
  bench_as_server initdb -D "$dir/data" -U postgres -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 >"$BENCH_CLIENT/initdb-$name.log" 2>&1 ||
    bench_die "initdb of $name failed: see $BENCH_CLIENT/initdb-$name.log"
  {
    echo "# added by bench/lib.sh"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$dir'"
    echo "password_encryption = 'scram-sha-256'"
    echo "fsync = $BENCH_FSYNC"
    echo "shared_buffers = '${BENCH_SHARED_BUFFERS:-256MB}'"
    echo "maintenance_work_mem = '${BENCH_MAINTENANCE_WORK_MEM:-256MB}'"
    echo "max_wal_size = '4GB'"
    echo "checkpoint_timeout = '30min'"
    echo "max_replication_slots = 10"
    echo "max_wal_senders = 10"
    echo "log_min_messages = warning"
    if [ "$kind" = source ]; then
      echo "wal_level = logical"
      if bench_knows_plugin_allowlist; then
        echo "output_plugin_libraries = 'pgoutput, test_decoding, wal2json'"
      fi
    fi
  } | bench_as_server tee -a "$dir/data/postgresql.conf" >/dev/null
  for try in 1 2 3 4 5; do
    port=$(bench_free_port) || bench_die "no free TCP port found"
    echo "port = $port" | bench_as_server tee -a "$dir/data/postgresql.conf" >/dev/null
    if bench_as_server pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
      BENCH_PORT[$name]=$port
      BENCH_DIR[$name]=$dir
      BENCH_SERVERS+=("$name")
      bench_create_role "$name"
      return 0
    fi
    bench_log "$name did not start on port $port (try $try); retrying; its log ended with:"
    bench_as_server tail -n 3 "$dir/server.log" >&2
  done
  cp "$dir/server.log" "$BENCH_CLIENT/server-$name.log" 2>/dev/null
  bench_die "server $name does not start: see its log above ($dir/server.log)"
}

# bench_create_role NAME: the password-protected superuser "bench", made over
# the local socket; the password goes through stdin, not the command line.
bench_create_role() {
  local name=$1
  printf "CREATE ROLE %s LOGIN SUPERUSER REPLICATION PASSWORD '%s';\n" "$BENCH_ROLE" "$BENCH_PASSWORD" |
    bench_as_server psql -X -q -v ON_ERROR_STOP=1 -h "${BENCH_DIR[$name]}" -p "${BENCH_PORT[$name]}" \
      -U postgres -d postgres >/dev/null ||
    bench_die "cannot create role $BENCH_ROLE on $name"
}

# bench_conn NAME DB: key=value connection string (no password) to DB on NAME.
bench_conn() {
  echo "host=127.0.0.1 port=${BENCH_PORT[$1]} user=$BENCH_ROLE dbname=$2"
}

# bench_psql NAME DB [PSQL ARGS...]: psql over TCP as "bench", stopping at the
# first error.
bench_psql() {
  local name=$1 db=$2
  shift 2
  psql -X -q -v ON_ERROR_STOP=1 -d "$(bench_conn "$name" "$db")" "$@"
}

# bench_scalar NAME DB SQL: print the single value SQL returns.
bench_scalar() {
  psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$(bench_conn "$1" "$2")" -c "$3"
}

# bench_reset_db NAME DB: an empty database DB on NAME (dropped first).
bench_reset_db() {
  bench_psql "$1" postgres -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS \"$2\" WITH (FORCE)" -c "CREATE DATABASE \"$2\"" >/dev/null
}

bench_checkpoint() { bench_psql "$1" postgres -c "CHECKPOINT" >/dev/null; }

# bench_quiesce: before a timed run, both servers checkpoint and the kernel
# writes out every dirty page (sync). With fsync=off, the WAL and data of the
# previous run would otherwise be written back by the kernel's flusher about
# 30 s later, in the middle of whichever run is being timed then.
bench_quiesce() {
  local s
  for s in "${BENCH_SERVERS[@]}"; do bench_checkpoint "$s"; done
  sync
}

bench_server_version() { bench_scalar "$1" postgres "SHOW server_version"; }

# ---------------------------------------------------------------- timing

bench_now() { date +%s.%N; }

# bench_elapsed START END: seconds between two bench_now readings.
bench_elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }

# bench_median VALUES...: the median (mean of the middle two for an even count).
bench_median() {
  [ $# -gt 0 ] || return 1
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
    END { if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2];
          else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_ratio A B: A / B with two decimals.
bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "n/a" }'; }

# bench_mb BYTES: bytes in MB with one decimal.
bench_mb() { awk -v b="$1" 'BEGIN { printf "%.1f\n", b / 1048576 }'; }

# bench_le A B: true when A <= B (decimal numbers).
bench_le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
# bench_lt A B: true when A < B (decimal numbers).
bench_lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# ---------------------------------------------------------------- pgbaton

PGBATON_BIN=${PGBATON_BIN:-}
BENCH_RSS_BIN=""
BENCH_PGBATON_PID=""
BENCH_PGBATON_LOG=""
BENCH_PGBATON_RSS=""
BENCH_SLOT_SEQ=0

# bench_build_tools: the pgbaton binary (make, if missing) and bench/rss.c.
bench_build_tools() {
  local root=$1
  if [ -z "$PGBATON_BIN" ]; then
    PGBATON_BIN="$root/build/pgbaton"
    if [ ! -x "$PGBATON_BIN" ]; then
      bench_log "building pgbaton (make)"
      make -C "$root" >"$BENCH_CLIENT/make.log" 2>&1 || bench_die "make failed: see $BENCH_CLIENT/make.log"
    fi
  fi
  [ -x "$PGBATON_BIN" ] || bench_die "$PGBATON_BIN is not an executable"
  BENCH_RSS_BIN="$BENCH_CLIENT/rss"
  cc -std=c11 -O2 -Wall -Wextra -o "$BENCH_RSS_BIN" "$root/bench/rss.c" ||
    bench_die "cannot build bench/rss.c"
}

# bench_pgbaton_available: true when this build has `pgbaton start`.
bench_pgbaton_available() {
  "$PGBATON_BIN" start --help >/dev/null 2>&1
}

# bench_pgbaton_next_name: a fresh migration (and slot) name, bench1, bench2, ...
bench_pgbaton_next_name() {
  BENCH_SLOT_SEQ=$((BENCH_SLOT_SEQ + 1))
  BENCH_PGBATON_NAME="bench$BENCH_SLOT_SEQ"
}

# bench_pgbaton_launch ARGS...: run `pgbaton ARGS` in the background under the
# RSS wrapper; its output goes to a log file. Sets BENCH_PGBATON_PID.
bench_pgbaton_launch() {
  BENCH_PGBATON_LOG="$BENCH_CLIENT/pgbaton-$BENCH_SLOT_SEQ.log"
  BENCH_PGBATON_RSS="$BENCH_CLIENT/pgbaton-$BENCH_SLOT_SEQ.rss"
  rm -f "$BENCH_PGBATON_RSS"
  "$BENCH_RSS_BIN" -o "$BENCH_PGBATON_RSS" -- "$PGBATON_BIN" "$@" >"$BENCH_PGBATON_LOG" 2>&1 &
  BENCH_PGBATON_PID=$!
  BENCH_BG_PIDS+=("$BENCH_PGBATON_PID")
}

# The phase poller: ONE psql session kept open for the whole wait (a bash
# coprocess), so that polling every 0.1 s costs a query, not a process and a
# connection, and steals as little CPU as possible from the contender.
# (bash unsets BENCH_POLL and BENCH_POLL_PID itself when the coprocess ends,
# so its pid is kept in BENCH_POLLER_PID.)
BENCH_POLLER_PID=""

# bench_poll_open NAME DB: open the poller's session.
bench_poll_open() {
  coproc BENCH_POLL { psql -X -A -t -q -d "$(bench_conn "$1" "$2")" 2>/dev/null; }
  # shellcheck disable=SC2153 # set by coproc
  BENCH_POLLER_PID=$BENCH_POLL_PID
  BENCH_BG_PIDS+=("$BENCH_POLLER_PID")
}

# bench_poll_query SQL: print the one line SQL returns through the poller;
# false if the session is gone or silent for 10 s.
bench_poll_query() {
  local line
  [ -n "${BENCH_POLL[1]:-}" ] || return 1
  { printf '%s\n' "$1" 1>&"${BENCH_POLL[1]}"; } 2>/dev/null || return 1
  read -r -t 10 line <&"${BENCH_POLL[0]}" || return 1
  printf '%s\n' "$line"
}

# bench_poll_close: end the poller's session.
bench_poll_close() {
  local pid=$BENCH_POLLER_PID fd
  [ -n "$pid" ] || return 0
  if [ -n "${BENCH_POLL[1]:-}" ]; then
    fd=${BENCH_POLL[1]}
    exec {fd}>&- # end of input: psql quits
  fi
  bench_wait_pid "$pid" 10 || kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  BENCH_POLLER_PID=""
}

# bench_poll_phase MIGRATION: its phase ("" while pgbaton's state table does
# not exist yet, "-" while it has no row). Queries that cannot fail, so the
# session always answers one line.
bench_poll_phase() {
  local exists
  exists=$(bench_poll_query "SELECT to_regclass('pgbaton.migration') IS NOT NULL;") || return 1
  if [ "$exists" != t ]; then
    echo ""
    return 0
  fi
  bench_poll_query "SELECT coalesce((SELECT phase FROM pgbaton.migration WHERE name = '$1'), '-');"
}

# bench_wait_phase NAME DB MIGRATION PHASE SECONDS: poll the target's
# pgbaton.migration every 0.02 s (a coarser poll would add half its period
# to pgbaton's time, which the baselines, timed to their exit, do not pay)
# until MIGRATION reaches PHASE. False (with the
# log's tail) if pgbaton exits, the phase becomes 'failed', or time runs out.
bench_wait_phase() {
  local name=$1 db=$2 mig=$3 want=$4 deadline phase rc=1
  deadline=$(($(date +%s) + $5))
  bench_poll_open "$name" "$db"
  while :; do
    if ! phase=$(bench_poll_phase "$mig"); then
      # the session died (a server restart, say): open another one
      bench_poll_close
      bench_poll_open "$name" "$db"
      phase=""
    fi
    if [ "$phase" = "$want" ]; then
      rc=0
      break
    fi
    if [ "$phase" = failed ]; then
      bench_log "pgbaton $mig failed; its log ends with:"
      tail -n 15 "$BENCH_PGBATON_LOG" >&2
      break
    fi
    if [ -n "$BENCH_PGBATON_PID" ] && ! kill -0 "$BENCH_PGBATON_PID" 2>/dev/null; then
      bench_log "pgbaton $mig exited before phase '$want'; its log ends with:"
      tail -n 15 "$BENCH_PGBATON_LOG" >&2
      break
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      bench_log "pgbaton $mig did not reach phase '$want' within $5 s"
      break
    fi
    sleep 0.02
  done
  bench_poll_close
  return $rc
}

# bench_pgbaton_stop: SIGTERM the background pgbaton if it still runs and
# wait for it (SIGKILL after 60 s). Returns pgbaton's exit status.
bench_pgbaton_stop() {
  local pid=$BENCH_PGBATON_PID rc=0
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  if ! bench_wait_pid "$pid" 60; then
    bench_log "pgbaton did not stop within 60 s of SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null || rc=$?
  BENCH_PGBATON_PID=""
  return $rc
}

# bench_pgbaton_rss_kb: peak RSS (kB) of the last pgbaton run, or nothing.
bench_pgbaton_rss_kb() {
  [ -f "$BENCH_PGBATON_RSS" ] && awk '$1 == "maxrss_kb" { print $2 }' "$BENCH_PGBATON_RSS"
}

# bench_drop_slot NAME SLOT: drop a replication slot if it exists, waiting up
# to 30 s for its walsender to let go of it.
bench_drop_slot() {
  local name=$1 slot=$2 deadline left
  deadline=$(($(date +%s) + 30))
  while :; do
    left=$(bench_scalar "$name" postgres \
      "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$slot'" 2>/dev/null)
    [ "$left" = 0 ] && return 0
    bench_scalar "$name" postgres "SELECT pg_drop_replication_slot(slot_name)
      FROM pg_replication_slots WHERE slot_name = '$slot' AND NOT active" >/dev/null 2>&1
    [ "$(date +%s)" -lt "$deadline" ] || {
      bench_log "slot $slot on $name is still there after 30 s"
      return 1
    }
    sleep 0.1
  done
}

# ---------------------------------------------------------------- workloads

BENCH_WORKLOADS=()          # registered workloads, in order
declare -A BENCH_WL_DESC=() # workload -> one-line description

# bench_workload NAME DESCRIPTION: register a workload; bench/run.sh runs it
# by calling wl_NAME (defined in the same file under bench/workloads/).
bench_workload() {
  BENCH_WORKLOADS+=("$1")
  BENCH_WL_DESC[$1]=$2
}

BENCH_OPTIN=() # workloads run only when named (not part of "all"), in order

# bench_workload_optin NAME DESCRIPTION: register a workload that `run.sh
# NAME` runs but `run.sh all` (and no workload named) does not: one too long
# for the default run (SOAK).
bench_workload_optin() {
  BENCH_OPTIN+=("$1")
  BENCH_WL_DESC[$1]=$2
}

# ---------------------------------------------------------------- rounds

# Results, keyed "WORKLOAD:CONTENDER".
declare -A BENCH_TIMES=()   # space-separated seconds of the successful runs
declare -A BENCH_FAILS=()   # number of failed runs
declare -A BENCH_LABEL=()   # contender -> display name
declare -A BENCH_SHORT=()   # contender -> short name (in ratios)
declare -A BENCH_SKIP=()    # "WORKLOAD:CONTENDER" -> reason it did not run
declare -A BENCH_RSS=()     # "WORKLOAD" -> peak RSS of pgbaton in kB (max over runs)
declare -A BENCH_PARAMS=()  # "WORKLOAD" -> JSON object members (workload parameters)
declare -A BENCH_TITLE=()   # "WORKLOAD" -> one-line description
declare -A BENCH_CONTENDERS=() # "WORKLOAD" -> contender ids in order
declare -A BENCH_GOALS=()   # "WORKLOAD" -> "A:B:MAX ..." goals on ratio A/B
BENCH_RAN=()                # workloads run, in order

# bench_contender ID LABEL SHORT: give a contender its display name and the
# short name used in ratios.
bench_contender() {
  BENCH_LABEL[$1]=$2
  BENCH_SHORT[$1]=${3:-$2}
}

# bench_skip WL ID REASON: the contender ID will not run in WL, and why
# (bench_interleave lists it in its place but does not run it).
bench_skip() { BENCH_SKIP["$1:$2"]=$3; }

# bench_goal WL A B MAX: the goal "median(A) / median(B) <= MAX".
bench_goal() { BENCH_GOALS[$1]+="$2:$3:$4 "; }

# bench_interleave WL ROUNDS TARGET DB ID...: ROUNDS rounds of the contenders
# in the given order (A B C A B C ...). Before each run, untimed: DB on server
# TARGET is dropped and re-created empty, bench_quiesce, and ID_before runs
# if defined. Then ID is timed (it gets WL, TARGET, DB as
# arguments; non-zero means the run failed). Then ID_after runs, untimed, if
# defined (cleanup, RSS collection). Contenders marked by bench_skip are
# listed but not run.
bench_interleave() {
  local wl=$1 rounds=$2 target=$3 db=$4 r id t0 t1 secs s
  shift 4
  BENCH_RAN+=("$wl")
  for id in "$@"; do BENCH_CONTENDERS[$wl]+="$id "; done
  for r in $(seq 1 "$rounds"); do
    for id in "$@"; do
      [ -z "${BENCH_SKIP["$wl:$id"]:-}" ] || continue
      bench_reset_db "$target" "$db" || bench_die "cannot re-create $db on $target"
      bench_quiesce
      if declare -F "${id}_before" >/dev/null; then
        "${id}_before" "$wl" "$target" "$db" || bench_die "$wl: preparing ${BENCH_LABEL[$id]} failed"
      fi
      t0=$(bench_now)
      if "$id" "$wl" "$target" "$db"; then
        t1=$(bench_now)
        secs=$(bench_elapsed "$t0" "$t1")
        BENCH_TIMES["$wl:$id"]+="$secs "
        bench_log "$wl round $r/$rounds: ${BENCH_LABEL[$id]}: $secs s"
      else
        BENCH_FAILS["$wl:$id"]=$((${BENCH_FAILS["$wl:$id"]:-0} + 1))
        bench_log "$wl round $r/$rounds: ${BENCH_LABEL[$id]}: FAILED (not counted)"
      fi
      if declare -F "${id}_after" >/dev/null; then
        "${id}_after" "$wl" "$target" "$db" || bench_log "$wl: cleanup after ${BENCH_LABEL[$id]} failed"
      fi
    done
  done
}

# bench_median_of WL ID: median seconds of a contender, or nothing.
bench_median_of() {
  local times=${BENCH_TIMES["$1:$2"]:-}
  [ -n "$times" ] || return 1
  # shellcheck disable=SC2086
  bench_median $times
}

# bench_report WL: print medians, runs, ratios against the goals, peak RSS.
bench_report() {
  local wl=$1 id m g a b max ra rb ratio verdict rss
  echo
  echo "== $wl: ${BENCH_TITLE[$wl]}"
  printf '%-40s %10s   %s\n' "contender" "median" "runs (s, in order)"
  for id in ${BENCH_CONTENDERS[$wl]}; do
    if [ -n "${BENCH_SKIP["$wl:$id"]:-}" ]; then
      printf '%-40s %10s   %s\n' "${BENCH_LABEL[$id]}" "skipped" "${BENCH_SKIP["$wl:$id"]}"
      continue
    fi
    if m=$(bench_median_of "$wl" "$id"); then m="$m s"; else m="-"; fi
    printf '%-40s %10s   %s%s\n' "${BENCH_LABEL[$id]}" "$m" "${BENCH_TIMES["$wl:$id"]:-}" \
      "$([ -n "${BENCH_FAILS["$wl:$id"]:-}" ] && echo "(${BENCH_FAILS["$wl:$id"]} failed)")"
  done
  echo
  printf '%-52s %7s %8s  %s\n' "ratio (lower is better for pgbaton)" "value" "goal" "verdict"
  for g in ${BENCH_GOALS[$wl]:-}; do
    IFS=: read -r a b max <<<"$g"
    ra=$(bench_median_of "$wl" "$a") || ra=""
    rb=$(bench_median_of "$wl" "$b") || rb=""
    if [ -n "$ra" ] && [ -n "$rb" ]; then
      ratio=$(bench_ratio "$ra" "$rb")
      if bench_le "$ratio" "$max"; then verdict="met"; else verdict="NOT met"; fi
    else
      ratio="n/a"
      verdict="not measured"
    fi
    printf '%-52s %7s %8s  %s\n' "${BENCH_SHORT[$a]} / ${BENCH_SHORT[$b]}" "$ratio" "<= $max" "$verdict"
  done
  rss=${BENCH_RSS[$wl]:-}
  if [ -n "$rss" ]; then
    if [ "$rss" -lt 65536 ]; then verdict="met"; else verdict="NOT met"; fi
    printf 'pgbaton peak RSS (max over runs): %s kB = %s MB   goal < 64 MB   %s\n' \
      "$rss" "$((rss / 1024))" "$verdict"
  else
    echo "pgbaton peak RSS: not measured"
  fi
}

# bench_record_rss WL KB: keep the largest peak RSS seen for WL.
bench_record_rss() {
  local wl=$1 kb=$2
  [ -n "$kb" ] || return 0
  if [ -z "${BENCH_RSS[$wl]:-}" ] || [ "$kb" -gt "${BENCH_RSS[$wl]}" ]; then
    BENCH_RSS[$wl]=$kb
  fi
}

# ---------------------------------------------------------------- JSON

bench_json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

# bench_json_array VALUES...: [v1, v2, ...] of numbers.
bench_json_array() {
  local IFS=,
  printf '[%s]' "$*"
}

# bench_json_workload WL: one workload's JSON object.
bench_json_workload() {
  local wl=$1 id m first=1 g a b max ra rb ratio met
  printf '{"name": %s, "title": %s, "params": {%s}, "contenders": [' \
    "$(bench_json_str "$wl")" "$(bench_json_str "${BENCH_TITLE[$wl]}")" "${BENCH_PARAMS[$wl]:-}"
  for id in ${BENCH_CONTENDERS[$wl]}; do
    [ $first = 1 ] || printf ', '
    first=0
    printf '{"id": %s, "label": %s' "$(bench_json_str "$id")" "$(bench_json_str "${BENCH_LABEL[$id]}")"
    if [ -n "${BENCH_SKIP["$wl:$id"]:-}" ]; then
      printf ', "skipped": %s}' "$(bench_json_str "${BENCH_SKIP["$wl:$id"]}")"
      continue
    fi
    m=$(bench_median_of "$wl" "$id") || m=null
    # shellcheck disable=SC2086
    printf ', "seconds": %s, "median_seconds": %s, "failed_runs": %s}' \
      "$(bench_json_array ${BENCH_TIMES["$wl:$id"]:-})" "$m" "${BENCH_FAILS["$wl:$id"]:-0}"
  done
  printf '], "ratios": ['
  first=1
  for g in ${BENCH_GOALS[$wl]:-}; do
    IFS=: read -r a b max <<<"$g"
    ra=$(bench_median_of "$wl" "$a") || ra=""
    rb=$(bench_median_of "$wl" "$b") || rb=""
    ratio=null
    met=null
    if [ -n "$ra" ] && [ -n "$rb" ]; then
      ratio=$(bench_ratio "$ra" "$rb")
      if bench_le "$ratio" "$max"; then met=true; else met=false; fi
    fi
    [ $first = 1 ] || printf ', '
    first=0
    printf '{"of": %s, "to": %s, "ratio": %s, "goal_max": %s, "met": %s}' \
      "$(bench_json_str "$a")" "$(bench_json_str "$b")" "$ratio" "$max" "$met"
  done
  printf '], "pgbaton_peak_rss_kb": %s, "rss_goal_kb": 65536}' "${BENCH_RSS[$wl]:-null}"
}

# bench_json_write FILE EXTRA: the results of every workload run, with EXTRA
# (JSON object members describing the run) at the top level.
bench_json_write() {
  local file=$1 extra=$2 wl first=1
  mkdir -p "$(dirname "$file")"
  {
    printf '{%s, "workloads": [' "$extra"
    for wl in "${BENCH_RAN[@]}"; do
      [ $first = 1 ] || printf ', '
      first=0
      bench_json_workload "$wl"
    done
    printf ']}\n'
  } >"$file"
}

# ---------------------------------------------------------------- streaming workloads (W2-W4, V1)

# bench_record WL ID SECONDS: record one successful timed run of ID in WL
# (for workloads that time runs themselves instead of bench_interleave).
bench_record() { BENCH_TIMES["$1:$2"]+="$3 "; }

# bench_record_fail WL ID: count one failed run of ID in WL.
bench_record_fail() { BENCH_FAILS["$1:$2"]=$((${BENCH_FAILS["$1:$2"]:-0} + 1)); }

# bench_declare WL ID...: the contenders WL reports on (bench_report, JSON),
# for workloads that do not go through bench_interleave.
bench_declare() {
  local wl=$1 id
  shift
  BENCH_RAN+=("$wl")
  BENCH_CONTENDERS[$wl]+=""
  for id in "$@"; do BENCH_CONTENDERS[$wl]+="$id "; done
}

# bench_timed WL ID CMD...: run CMD, timed; record its seconds under ID (or a
# failed run if CMD returns non-zero). Returns CMD's status.
bench_timed() {
  local wl=$1 id=$2 t0 t1 secs
  shift 2
  t0=$(bench_now)
  if "$@"; then
    t1=$(bench_now)
    secs=$(bench_elapsed "$t0" "$t1")
    bench_record "$wl" "$id" "$secs"
    bench_log "$wl: ${BENCH_LABEL[$id]}: $secs s"
    return 0
  fi
  bench_record_fail "$wl" "$id"
  bench_log "$wl: ${BENCH_LABEL[$id]}: FAILED (not counted)"
  return 1
}

# bench_percentile P VALUES...: the P-th percentile (nearest rank) of VALUES.
bench_percentile() {
  local p=$1
  shift
  [ $# -gt 0 ] || return 1
  printf '%s\n' "$@" | sort -g | awk -v p="$p" '{ v[NR] = $1 }
    END { r = int((p / 100) * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR;
          printf "%.3f\n", v[r] }'
}

# bench_steal: the machine's CPU time stolen by its hypervisor so far (s, all
# CPUs; /proc/stat), the figure W3 logs per run: a run during which the host
# took CPU away is slower for reasons outside this machine.
bench_steal() { awk '$1 == "cpu" { printf "%.2f\n", $9 / 100 }' /proc/stat; }

# bench_max VALUES...: the largest value.
bench_max() { printf '%s\n' "$@" | sort -g | tail -n 1; }

# bench_pgbench DB ARGS...: pgbench against DB on the source as "bench".
bench_pgbench() {
  local db=$1
  shift
  pgbench -h 127.0.0.1 -p "${BENCH_PORT[source]}" -U "$BENCH_ROLE" "$@" "$db"
}

# bench_pgbench_init DB SCALE LOG: a fresh pgbench database DB on the source
# (pgbench -i -s SCALE, pgbench_history REPLICA IDENTITY FULL: it has no key).
bench_pgbench_init() {
  local db=$1 scale=$2 log=$3
  bench_reset_db source "$db"
  bench_pgbench "$db" -i -q -s "$scale" >"$log" 2>&1 || {
    tail -n 15 "$log" >&2
    bench_die "pgbench -i -s $scale of $db failed"
  }
  bench_psql source "$db" -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL" ||
    bench_die "ALTER TABLE pgbench_history of $db failed"
}

# bench_pgbench_latency LOG: pgbench's "latency average" (ms) from its output.
bench_pgbench_latency() { awk '/^latency average/ { print $4 }' "$1"; }
# bench_pgbench_tps LOG: pgbench's tps from its output.
bench_pgbench_tps() { awk '/^tps = / { print $3; exit }' "$1"; }

# bench_server_passfile: a pgpass file the servers' own user can read, for
# connections the servers make themselves (native logical replication
# subscriptions name it with libpq's passfile= parameter: the password is
# neither in the subscription's catalog row nor on a command line).
BENCH_SERVER_PASSFILE=""
bench_server_passfile() {
  if [ -z "$BENCH_SERVER_PASSFILE" ]; then
    BENCH_SERVER_PASSFILE="$BENCH_WORK/shared/pgpass.server"
    # shellcheck disable=SC2016 # $1 is expanded by the inner sh
    bench_as_server sh -c 'umask 077; cat >"$1"' sh "$BENCH_SERVER_PASSFILE" <"$BENCH_CLIENT/pgpass" ||
      bench_die "cannot write the servers' pgpass file"
  fi
  echo "$BENCH_SERVER_PASSFILE"
}

# bench_subscription_conn DB: the connection string a subscription on the
# target uses to reach DB on the source.
bench_subscription_conn() {
  echo "$(bench_conn source "$1") passfile=$(bench_server_passfile)"
}

# bench_pgbaton_status NAME DB MIGRATION: `pgbaton status --json` (one object).
bench_pgbaton_status() {
  "$PGBATON_BIN" status --json -q -s "$(bench_conn source "$2")" -t "$(bench_conn "$1" "$2")" -n "$3" 2>/dev/null
}

# bench_wait_lag_below NAME DB MIGRATION SECONDS TIMEOUT: poll `pgbaton status
# --json` every 0.5 s until lag_seconds < SECONDS; false after TIMEOUT s.
bench_wait_lag_below() {
  local deadline lag
  deadline=$(($(date +%s) + $5))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    lag=$(bench_pgbaton_status "$1" "$2" "$3" | jq -r '.lag_seconds // empty' 2>/dev/null)
    if [ -n "$lag" ] && bench_lt "$lag" "$4"; then
      return 0
    fi
    sleep 0.5
  done
  bench_log "lag of $3 did not fall below $4 s within $5 s"
  return 1
}

# bench_wait_analyzed NAME DB MIGRATION: wait (untimed, up to 300 s) until
# start has analyzed every copied table (it does so beside the stream, after
# the copy), so that no later measurement shares the machine with ANALYZE.
bench_wait_analyzed() {
  bench_wait_sql "$1" "$2" "SELECT NOT EXISTS (SELECT 1 FROM pgbaton.table_state WHERE migration = '$3' AND analyzed_at IS NULL);" 300 ||
    bench_log "$3: ANALYZE after the copy not finished within 300 s"
}

# bench_wait_sql NAME DB SQL TIMEOUT: poll SQL (through one open session,
# every 0.1 s) until it returns t; false after TIMEOUT s or if the session dies.
bench_wait_sql() {
  local deadline v rc=1
  deadline=$(($(date +%s) + $4))
  bench_poll_open "$1" "$2"
  while :; do
    v=$(bench_poll_query "$3") || break
    if [ "$v" = t ]; then
      rc=0
      break
    fi
    [ "$(date +%s)" -lt "$deadline" ] || {
      bench_log "still not true after $4 s: $3"
      break
    }
    sleep 0.1
  done
  bench_poll_close
  return $rc
}

# bench_wait_pgbaton_lsn NAME DB MIGRATION LSN TIMEOUT: poll the target until
# pgbaton.migration.applied_lsn >= LSN; false if pgbaton exits or time runs out.
bench_wait_pgbaton_lsn() {
  local deadline v rc=1
  deadline=$(($(date +%s) + $5))
  bench_poll_open "$1" "$2"
  while :; do
    v=$(bench_poll_query "SELECT coalesce((SELECT applied_lsn >= '$4'::pg_lsn FROM pgbaton.migration WHERE name = '$3'), false);") || break
    if [ "$v" = t ]; then
      rc=0
      break
    fi
    if [ -n "$BENCH_PGBATON_PID" ] && ! kill -0 "$BENCH_PGBATON_PID" 2>/dev/null; then
      bench_log "pgbaton $3 exited before applying through $4; its log ends with:"
      tail -n 15 "$BENCH_PGBATON_LOG" >&2
      break
    fi
    [ "$(date +%s)" -lt "$deadline" ] || {
      bench_log "pgbaton $3 did not apply through $4 within $5 s"
      break
    }
    sleep 0.1
  done
  bench_poll_close
  return $rc
}

# bench_pgbench_sums NAME DB: "history_rows sum(abalance) sum(tbalance) sum(bbalance)".
bench_pgbench_sums() {
  bench_scalar "$1" "$2" "SELECT (SELECT count(*) FROM pgbench_history) || ' ' ||
    (SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts) || ' ' ||
    (SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers) || ' ' ||
    (SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches)"
}
