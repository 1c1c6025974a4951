# bench/workloads/contenders.sh — contenders shared by the copy workloads
# (W1a, W1b): each moves database DB from the server "source" to the EMPTY
# database DB on the server TARGET until data, indexes and constraints are in
# place. bench_interleave calls ID WL TARGET DB (timed), and ID_before /
# ID_after (untimed) around it; a non-zero return marks the run failed.

bench_contender c_dump_psql "pg_dump | psql" "pg_dump|psql"
bench_contender c_dir_j2 "pg_dump -Fd -j2 + pg_restore -j2" "dir -j2 pair"
bench_contender c_pgbaton "pgbaton start --jobs 2" "pgbaton"

# bench_show_log FILE WHAT: after a failure, the end of a contender's output.
bench_show_log() {
  bench_log "$2 failed; its output ends with:"
  tail -n 15 "$1" >&2
}

# (1) plain-format dump piped into psql: single-threaded, the common default.
c_dump_psql() {
  local target=$2 db=$3 log="$BENCH_CLIENT/dump_psql.log"
  if ! pg_dump -d "$(bench_conn source "$db")" 2>"$log" |
    psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -d "$(bench_conn "$target" "$db")" >>"$log" 2>&1; then
    bench_show_log "$log" "pg_dump | psql"
    return 1
  fi
}

# (2) directory-format dump with 2 jobs, then pg_restore with 2 jobs; the
# two steps are timed together (the dump directory is removed untimed).
c_dir_j2_before() { rm -rf "$BENCH_CLIENT/dump.d"; }
c_dir_j2() {
  local target=$2 db=$3 log="$BENCH_CLIENT/dir_j2.log"
  if ! pg_dump -Fd -j 2 -f "$BENCH_CLIENT/dump.d" -d "$(bench_conn source "$db")" >"$log" 2>&1 ||
    ! pg_restore -j 2 -d "$(bench_conn "$target" "$db")" "$BENCH_CLIENT/dump.d" >>"$log" 2>&1; then
    bench_show_log "$log" "pg_dump -Fd + pg_restore"
    return 1
  fi
}
c_dir_j2_after() { rm -rf "$BENCH_CLIENT/dump.d"; }

# (3) pgbaton start in the background; done when the target's
# pgbaton.migration.phase becomes 'streaming' (polled every 0.02 s). Afterwards
# (untimed) it gets SIGTERM, is waited for, its peak RSS is kept, and its slot
# is dropped on the source.
c_pgbaton() {
  local target=$2 db=$3
  bench_pgbaton_next_name
  bench_pgbaton_launch start -s "$(bench_conn source "$db")" -t "$(bench_conn "$target" "$db")" \
    --jobs 2 --name "$BENCH_PGBATON_NAME"
  bench_wait_phase "$target" "$db" "$BENCH_PGBATON_NAME" streaming "$BENCH_TIMEOUT"
}
c_pgbaton_after() {
  local wl=$1 rc=0
  bench_pgbaton_stop || rc=$?
  [ "$rc" = 0 ] || bench_log "pgbaton $BENCH_PGBATON_NAME ended with status $rc"
  bench_record_rss "$wl" "$(bench_pgbaton_rss_kb)"
  bench_drop_slot source "$BENCH_PGBATON_NAME"
}

# bench_pgbaton_contender WL: skip c_pgbaton in WL when this build has no
# `pgbaton start`, saying so.
bench_pgbaton_contender() {
  if [ -n "$BENCH_PGBATON_MISSING" ]; then
    bench_skip "$1" c_pgbaton "$BENCH_PGBATON_MISSING"
  fi
}
