# bench/workloads/w1a.sh — W1a: initial copy of a pgbench database.
#
# Source: database "bench" made by `pgbench -i -s SCALE` (scale 30 is about
# 450 MB, nearly all of it pgbench_accounts and its primary key);
# pgbench_history has no key, so it is set REPLICA IDENTITY FULL, as a user
# would before migrating. Contenders: pg_dump | psql, the -Fd -j2 pair,
# pgbaton start --jobs 2, and the target's ingest reference: COPY FROM a
# server-local file into an empty pgbench_accounts, then its primary key —
# about the least time any tool can take to load the dominant table there.

bench_workload W1a "initial copy of a pgbench database (one dominant table)"
bench_contender c_w1a_ingest "ingest ref: COPY FROM file + PK" "ingest ref"

W1A_DB=bench

# Untimed: the table, empty, as pg_dump's pre-data section defines it.
c_w1a_ingest_before() {
  bench_psql "$2" "$3" -o /dev/null -f "$BENCH_CLIENT/w1a_accounts_pre.sql" >/dev/null
}

# Timed: COPY the file made by the source's COPY TO, then the primary key.
c_w1a_ingest() {
  local target=$2 db=$3 log="$BENCH_CLIENT/w1a_ingest.log"
  if ! bench_psql "$target" "$db" -o /dev/null \
    -c "COPY public.pgbench_accounts FROM '$BENCH_WORK/shared/w1a_accounts.copy'" \
    -f "$BENCH_CLIENT/w1a_accounts_post.sql" >"$log" 2>&1; then
    bench_show_log "$log" "COPY FROM + primary key"
    return 1
  fi
}

# W1a's source database and the ingest reference's inputs (untimed).
w1a_prepare() {
  local scale=$1 src
  src=$(bench_conn source "$W1A_DB")
  bench_log "W1a: pgbench -i -s $scale on the source"
  bench_reset_db source "$W1A_DB"
  pgbench -i -q -s "$scale" -h 127.0.0.1 -p "${BENCH_PORT[source]}" -U "$BENCH_ROLE" "$W1A_DB" \
    >"$BENCH_CLIENT/w1a_pgbench.log" 2>&1 || {
    bench_show_log "$BENCH_CLIENT/w1a_pgbench.log" "pgbench -i"
    bench_die "W1a: cannot build the source database"
  }
  bench_psql source "$W1A_DB" -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL" ||
    bench_die "W1a: ALTER TABLE pgbench_history failed"
  bench_psql source "$W1A_DB" -c "COPY pgbench_accounts TO '$BENCH_WORK/shared/w1a_accounts.copy'" ||
    bench_die "W1a: COPY pgbench_accounts TO a file failed"
  if ! pg_dump --section=pre-data -t public.pgbench_accounts -d "$src" >"$BENCH_CLIENT/w1a_accounts_pre.sql" ||
    ! pg_dump --section=post-data -t public.pgbench_accounts -d "$src" >"$BENCH_CLIENT/w1a_accounts_post.sql"; then
    bench_die "W1a: cannot dump pgbench_accounts' definition"
  fi
}

# wl_W1a: prepare, run the rounds, set the goals.
wl_W1a() {
  local scale=$W1A_SCALE db_bytes acc_bytes
  w1a_prepare "$scale"
  db_bytes=$(bench_scalar source "$W1A_DB" "SELECT pg_database_size(current_database())")
  acc_bytes=$(bench_scalar source "$W1A_DB" "SELECT pg_total_relation_size('pgbench_accounts')")
  BENCH_TITLE["W1a"]="pgbench -i -s $scale: database $(bench_mb "$db_bytes") MB, pgbench_accounts with its key $(bench_mb "$acc_bytes") MB; $BENCH_ROUNDS rounds"
  BENCH_PARAMS["W1a"]="\"scale\": $scale, \"source_db_bytes\": $db_bytes, \"accounts_total_bytes\": $acc_bytes"
  bench_log "W1a: ${BENCH_TITLE["W1a"]}"
  bench_pgbaton_contender W1a
  bench_interleave W1a "$BENCH_ROUNDS" target "$W1A_DB" c_dump_psql c_dir_j2 c_w1a_ingest c_pgbaton
  bench_goal W1a c_pgbaton c_dump_psql 0.9
  bench_goal W1a c_pgbaton c_dir_j2 0.75
  bench_goal W1a c_pgbaton c_w1a_ingest 1.1
  rm -f "$BENCH_WORK/shared/w1a_accounts.copy"
  bench_reset_db target "$W1A_DB"
}
