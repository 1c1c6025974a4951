# bench/workloads/w1v_verify.sh — V1: speed of `pgbaton verify`.
#
# On W1a's database ("bench", pgbench -i -s W1A_SCALE; built here unless W1a
# ran earlier in the same run): `pgbaton start --jobs 2` copies it to the
# target and keeps streaming (verify asks the running applier to hold at one
# point; the source is idle, so the target is equal). Then, interleaved,
# --rounds times:
#   verify   `pgbaton verify --jobs 2` (structure, row counts, checksums by
#            key ranges, sampled rows, sequences); exit 0 = equal, anything
#            else is a failed run;
#   counts   `SELECT count(*)` of every table of the database, on both
#            servers at once (one psql per server in the background, wait for
#            both): the least any row-count comparison can cost.
# Goal: verify <= 1.5 x counts. (This file sorts after w1a.sh and w1b.sh, so
# `run.sh all` runs V1 after W1a and reuses its source database.)

bench_workload V1 "pgbaton verify vs SELECT count(*) on both sides (W1a's database)"
bench_contender c_v1_verify "pgbaton verify --jobs 2" "verify"
bench_contender c_v1_counts "count(*) of all tables, both in parallel" "counts"

V1_NAME=""

c_v1_verify() {
  "$PGBATON_BIN" verify --jobs 2 -s "$(bench_conn source "$W1A_DB")" -t "$(bench_conn target "$W1A_DB")" \
    -n "$V1_NAME" >"$BENCH_CLIENT/v1_verify.log" 2>&1 || {
    bench_show_log "$BENCH_CLIENT/v1_verify.log" "pgbaton verify"
    return 1
  }
}

c_v1_counts() {
  local ps pt rc=0
  bench_psql source "$W1A_DB" -o /dev/null -f "$BENCH_CLIENT/v1_counts.sql" &
  ps=$!
  bench_psql target "$W1A_DB" -o /dev/null -f "$BENCH_CLIENT/v1_counts.sql" &
  pt=$!
  wait "$ps" || rc=1
  wait "$pt" || rc=1
  return $rc
}

wl_V1() {
  local exists r id db_bytes
  exists=$(bench_scalar source postgres "SELECT count(*) FROM pg_database WHERE datname = '$W1A_DB'")
  if [ "$exists" != 1 ] || [ "$(bench_scalar source "$W1A_DB" "SELECT count(*) FROM pgbench_branches")" != "$W1A_SCALE" ]; then
    w1a_prepare "$W1A_SCALE"
  fi
  db_bytes=$(bench_scalar source "$W1A_DB" "SELECT pg_database_size(current_database())")
  BENCH_TITLE["V1"]="W1a's database (pgbench -i -s $W1A_SCALE, $(bench_mb "$db_bytes") MB), target equal after a pgbaton copy; $BENCH_ROUNDS rounds"
  BENCH_PARAMS["V1"]="\"scale\": $W1A_SCALE, \"source_db_bytes\": $db_bytes"
  bench_log "V1: ${BENCH_TITLE["V1"]}"
  bench_declare V1 c_v1_verify c_v1_counts
  if [ -n "$BENCH_PGBATON_MISSING" ]; then
    bench_skip V1 c_v1_verify "$BENCH_PGBATON_MISSING"
    return 0
  fi
  bench_scalar source "$W1A_DB" "SELECT string_agg(format('SELECT count(*) FROM %I.%I;', schemaname, tablename), E'\n')
    FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')" >"$BENCH_CLIENT/v1_counts.sql"
  bench_reset_db target "$W1A_DB"
  bench_pgbaton_next_name
  V1_NAME=$BENCH_PGBATON_NAME
  bench_pgbaton_launch start -s "$(bench_conn source "$W1A_DB")" -t "$(bench_conn target "$W1A_DB")" \
    --jobs 2 --name "$V1_NAME"
  bench_wait_phase target "$W1A_DB" "$V1_NAME" streaming "$BENCH_TIMEOUT" || bench_die "V1: the pgbaton copy failed"
  bench_wait_analyzed target "$W1A_DB" "$V1_NAME"
  for r in $(seq 1 "$BENCH_ROUNDS"); do
    for id in c_v1_verify c_v1_counts; do
      bench_quiesce
      bench_log "V1 round $r/$BENCH_ROUNDS"
      bench_timed V1 "$id" "$id" || true
    done
  done
  bench_goal V1 c_v1_verify c_v1_counts 1.5
  bench_pgbaton_stop || bench_log "V1: pgbaton ended with status $?"
  bench_record_rss V1 "$(bench_pgbaton_rss_kb)"
  "$PGBATON_BIN" clean -q -s "$(bench_conn source "$W1A_DB")" -t "$(bench_conn target "$W1A_DB")" \
    -n "$V1_NAME" >"$BENCH_CLIENT/v1_clean.log" 2>&1 || bench_show_log "$BENCH_CLIENT/v1_clean.log" "pgbaton clean"
  bench_drop_slot source "$V1_NAME"
  bench_reset_db target "$W1A_DB"
}
