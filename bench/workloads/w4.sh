# bench/workloads/w4.sh — W4: write-unavailability of `pgbaton cutover`
# under load, and lost transactions.
#
# Source database "w4" (pgbench -i -s W4_SCALE, made once). Each run is a
# fresh migration: the previous one is removed (`pgbaton clean`, the
# source's read-only default reset, the target database re-created), then
# `pgbaton start` copies w4 and streams; `pgbench -n -c 4 -j 2 -R 500` starts
# on the source and runs throughout; once the load has run a few seconds and
# `pgbaton status --json` shows lag_seconds < 1, `pgbaton cutover` runs and
# its "write-unavailable: N ms" line is kept. The cutover ends pgbench's
# sessions and leaves the source read-only, so pgbench stops there. Then every
# transaction pgbench committed on the source must be on the target:
# pgbench_history's row count and the sums of abalance (and tbalance,
# bbalance) are compared; lost transactions = source history rows minus
# target history rows.

bench_workload W4 "cutover write-unavailability under pgbench -R 500, and lost transactions"

W4_DB=w4
W4_UNAVAIL=""   # ms per successful cutover
W4_LOST=""      # lost transactions per successful cutover
W4_COUNTS=""    # ms of each one's write-unavailability spent waiting for the row counts
W4_MISMATCH=0   # runs where the sums differ
W4_FAILS=0
W4_PREV=""      # previous run's migration name

# w4_reset: no migration, slot, frozen source or target database left over.
w4_reset() {
  if [ -n "$W4_PREV" ]; then
    "$PGBATON_BIN" clean -q -s "$(bench_conn source "$W4_DB")" -t "$(bench_conn target "$W4_DB")" \
      -n "$W4_PREV" >"$BENCH_CLIENT/w4_clean.log" 2>&1 || bench_show_log "$BENCH_CLIENT/w4_clean.log" "pgbaton clean"
    bench_drop_slot source "$W4_PREV"
  fi
  bench_psql source postgres -c "ALTER DATABASE $W4_DB RESET default_transaction_read_only" >/dev/null
  bench_reset_db target "$W4_DB"
}

# w4_run N LOADWAIT: one migration, load, cutover, check.
w4_run() {
  local n=$1 loadwait=$2 log="$BENCH_CLIENT/w4_pgbench_$1.log" out="$BENCH_CLIENT/w4_cutover_$1.log"
  local pgb_pid ms src tgt lost rc=0
  w4_reset
  bench_pgbaton_next_name
  W4_PREV=$BENCH_PGBATON_NAME
  bench_pgbaton_launch start -s "$(bench_conn source "$W4_DB")" -t "$(bench_conn target "$W4_DB")" \
    --jobs 2 --name "$BENCH_PGBATON_NAME"
  bench_wait_phase target "$W4_DB" "$BENCH_PGBATON_NAME" streaming "$BENCH_TIMEOUT" || return 1
  bench_wait_analyzed target "$W4_DB" "$BENCH_PGBATON_NAME"
  bench_pgbench "$W4_DB" -n -c 4 -j 2 -R 500 -T 3600 >"$log" 2>&1 &
  pgb_pid=$!
  BENCH_BG_PIDS+=("$pgb_pid")
  sleep "$loadwait" # let the load settle before waiting for lag (not a synchronisation)
  if ! bench_wait_lag_below target "$W4_DB" "$BENCH_PGBATON_NAME" 1 120; then
    kill -TERM "$pgb_pid" 2>/dev/null
    wait "$pgb_pid" 2>/dev/null
    bench_pgbaton_stop
    return 1
  fi
  # shellcheck disable=SC2086 # BENCH_W4_CUTOVER_ARGS: extra words, e.g. --skip-count
  "$PGBATON_BIN" cutover -s "$(bench_conn source "$W4_DB")" -t "$(bench_conn target "$W4_DB")" \
    -n "$BENCH_PGBATON_NAME" ${BENCH_W4_CUTOVER_ARGS:-} >"$out" 2>&1 || rc=$?
  # the cutover ended pgbench's sessions; make sure it is gone
  bench_wait_pid "$pgb_pid" 30 || kill -TERM "$pgb_pid" 2>/dev/null
  wait "$pgb_pid" 2>/dev/null
  # start stops by itself once the migration is done
  bench_wait_pid "$BENCH_PGBATON_PID" 30 || bench_log "W4: pgbaton start still runs after the cutover"
  bench_pgbaton_stop || true
  bench_record_rss W4 "$(bench_pgbaton_rss_kb)"
  if [ "$rc" != 0 ]; then
    bench_show_log "$out" "pgbaton cutover (exit status $rc)"
    return 1
  fi
  ms=$(sed -n 's/^write-unavailable: \([0-9.]*\) ms.*/\1/p' "$out")
  [ -n "$ms" ] || {
    bench_show_log "$out" "pgbaton cutover (no write-unavailable line)"
    return 1
  }
  src=$(bench_pgbench_sums source "$W4_DB")
  tgt=$(bench_pgbench_sums target "$W4_DB")
  lost=$((${src%% *} - ${tgt%% *}))
  [ "$src" = "$tgt" ] || {
    W4_MISMATCH=$((W4_MISMATCH + 1))
    bench_log "W4 run $n: target differs from the source (history rows, sums of balances): source '$src', target '$tgt'"
  }
  W4_UNAVAIL+="$ms "
  W4_LOST+="$lost "
  W4_COUNTS+="$(sed -n 's/^write-unavailable: .*row counts took \([0-9.]*\) ms.*/\1/p' "$out") "
  bench_log "W4 run $n: write-unavailable $ms ms, source history rows ${src%% *}, lost $lost; pgbench: $(grep -c 'aborted\|terminat' "$log") error line(s)"
}

wl_W4() {
  local scale=10 runs=5 loadwait=5 n
  [ "$QUICK" = 1 ] && { scale=2; runs=2; loadwait=2; }
  [ "$BENCH_ROUNDS" -gt "$runs" ] && runs=$BENCH_ROUNDS
  bench_log "W4: pgbench -i -s $scale on the source"
  bench_pgbench_init "$W4_DB" "$scale" "$BENCH_CLIENT/w4_init.log"
  BENCH_TITLE["W4"]="pgbench -i -s $scale; load pgbench -n -c 4 -j 2 -R 500 throughout; $runs cutovers, each on a fresh migration"
  bench_log "W4: ${BENCH_TITLE["W4"]}"
  bench_declare W4
  if [ -n "$BENCH_PGBATON_MISSING" ]; then return 0; fi
  for n in $(seq 1 "$runs"); do
    bench_log "W4 run $n/$runs"
    w4_run "$n" "$loadwait" || {
      W4_FAILS=$((W4_FAILS + 1))
      bench_log "W4 run $n: FAILED (not counted)"
    }
  done
  w4_reset
  W4_PREV=""
}

report_W4() {
  local med="-" max="-" lostmax="-" v1 v2
  echo
  echo "== W4: ${BENCH_TITLE[W4]}"
  if [ -n "$W4_UNAVAIL" ]; then
    # shellcheck disable=SC2086
    med=$(bench_median $W4_UNAVAIL)
    # shellcheck disable=SC2086
    max=$(bench_max $W4_UNAVAIL)
    # shellcheck disable=SC2086
    lostmax=$(bench_max $W4_LOST)
  fi
  echo "write-unavailable (ms, in order): ${W4_UNAVAIL:-none}$([ "$W4_FAILS" -gt 0 ] && echo " ($W4_FAILS failed)")"
  echo "lost transactions (in order):     ${W4_LOST:-none}"
  echo "runs whose balances/history differ: $W4_MISMATCH"
  if [ "$med" != "-" ]; then
    if bench_lt "$med" 100.001; then v1=met; else v1="NOT met"; fi
    if bench_lt "$max" 250.001; then v2=met; else v2="NOT met"; fi
    printf 'median write-unavailable: %s ms   goal <= 100 ms   %s\n' "$med" "$v1"
    printf 'max write-unavailable:    %s ms   goal <= 250 ms   %s\n' "$max" "$v2"
    # shellcheck disable=SC2086
    printf 'of it, waiting for the row counts (ms, in order): %s(median %s)\n' "$W4_COUNTS" \
      "$(bench_median $W4_COUNTS)"
    printf 'max lost transactions:    %s      goal 0           %s\n' "$lostmax" \
      "$([ "$lostmax" = 0 ] && [ "$W4_MISMATCH" = 0 ] && echo met || echo "NOT met")"
  else
    echo "no cutover measured"
  fi
  if [ -n "${BENCH_RSS[W4]:-}" ]; then
    echo "pgbaton peak RSS (max over runs): ${BENCH_RSS[W4]} kB = $((BENCH_RSS[W4] / 1024)) MB   goal < 64 MB"
  fi
  # shellcheck disable=SC2086 # lists of numbers
  BENCH_PARAMS["W4"]="\"rate\": 500, \"clients\": 4, \"write_unavailable_ms\": $(bench_json_array $W4_UNAVAIL), \"lost_transactions\": $(bench_json_array $W4_LOST), \"row_count_ms\": $(bench_json_array $W4_COUNTS), \"mismatched_runs\": $W4_MISMATCH, \"failed_runs\": $W4_FAILS"
}
