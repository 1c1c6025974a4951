# bench/workloads/w2.sh — W2: apply throughput on a pgbench backlog.
#
# Each round: database "w2" on the source (pgbench -i -s W2_SCALE, made once)
# is brought to one known point where five appliers stand with the same
# backlog ahead of them, then pgbench writes that backlog, then each applier
# in turn drains it, timed:
#   1. pgbaton (wal2json): `pgbaton start --plugin wal2json
#      --accept-nan-as-null` copies w2 to the target's w2 and, once
#      streaming, gets SIGTERM: its slot waits at the applied position.
#   1b. pgbaton (pgoutput): the same with `--plugin pgoutput` into the
#      target's w2_pgo (pgbaton makes its own publication, named like the
#      migration, dropped after the round).
#   2. native logical replication: the target's w2_native is a pg_dump | psql
#      copy of the (idle) source; a pgoutput slot and a disabled subscription
#      (copy_data = false, create_slot = false) are made at the same point.
#   3. decode floors: a wal2json slot and a pgoutput slot made at the same point.
# The source is idle from step 1 to the backlog (pgbaton's heartbeats aside),
# so all five start from the same data. Then `pgbench -n -c 4 -j 2 -t N`
# (N = W2_TXNS / 4) runs on the source, and END is its pg_current_wal_lsn().
# Timed (each after a CHECKPOINT of both servers; the order rotates by round):
#   pgbaton   `pgbaton start` again (it resumes, with the plugin its slot
#             was made with) until pgbaton.migration.applied_lsn >= END
#             (polled every 0.1 s); once for wal2json, once for pgoutput;
#   native    ALTER SUBSCRIPTION ... ENABLE until the slot's
#             confirmed_flush_lsn on the source >= END (polled every 0.1 s);
#   floor     pg_recvlogical --start --endpos=END with pgbaton's wal2json
#             options, to /dev/null; once more with pgoutput and its options.
# Afterwards (untimed) the pgbench tables of the three targets are compared with
# the source's (history row count, sums of the balances).

bench_workload W2 "apply throughput on a pgbench backlog: pgbaton (wal2json, pgoutput) vs native logical replication vs decode floor"
bench_contender c_w2_pgbaton "pgbaton wal2json (resume, apply backlog)" "pgbaton wal2json"
bench_contender c_w2_pgo "pgbaton pgoutput (resume, apply backlog)" "pgbaton pgoutput"
bench_contender c_w2_native "native logical replication (pgoutput)" "native"
bench_contender c_w2_floor "pg_recvlogical wal2json (decode floor)" "floor"
bench_contender c_w2_floor_pgo "pg_recvlogical pgoutput (decode floor)" "floor pgoutput"

W2_DB=w2
W2_NATIVE_DB=w2_native
W2_PGO_DB=w2_pgo
W2_NAME_W2J=""   # migration (and slot) names of this round's two pgbatons
W2_NAME_PGO=""
declare -A W2_RSS=() # contender -> peak RSS (kB), max over runs
W2_SLOT_NATIVE=w2_native
W2_SLOT_FLOOR=w2_floor
W2_SLOT_FLOOR_PGO=w2_floor_pgo
W2_END_LSN=""
W2_MISMATCH=0

# w2_resume NAME DB: `pgbaton start` again for migration NAME into the
# target's DB (it resumes with its slot's plugin) until it has applied
# through END. A fresh sequence number gives the run its own log and RSS file.
w2_resume() {
  BENCH_SLOT_SEQ=$((BENCH_SLOT_SEQ + 1))
  BENCH_PGBATON_NAME=$1
  bench_pgbaton_launch start -s "$(bench_conn source "$W2_DB")" -t "$(bench_conn target "$2")" \
    --name "$1"
  bench_wait_pgbaton_lsn target "$2" "$1" "$W2_END_LSN" "$BENCH_TIMEOUT"
}

# w2_copy DB NAME-VAR PLUGIN-ARGS...: pgbaton's copy of w2 into the target's
# DB; once streaming (and analyzed), SIGTERM: its slot waits there.
w2_copy() {
  local db=$1 var=$2
  shift 2
  bench_pgbaton_next_name
  printf -v "$var" '%s' "$BENCH_PGBATON_NAME"
  bench_pgbaton_launch start -s "$(bench_conn source "$W2_DB")" -t "$(bench_conn target "$db")" \
    --jobs 2 --name "$BENCH_PGBATON_NAME" "$@"
  bench_wait_phase target "$db" "$BENCH_PGBATON_NAME" streaming "$BENCH_TIMEOUT" || return 1
  bench_wait_analyzed target "$db" "$BENCH_PGBATON_NAME"
  bench_pgbaton_stop || bench_log "W2: pgbaton $* (copy) ended with status $?"
}

# The five timed appliers. Each returns non-zero when it did not get there.
c_w2_pgbaton() { w2_resume "$W2_NAME_W2J" "$W2_DB"; }
c_w2_pgo() { w2_resume "$W2_NAME_PGO" "$W2_PGO_DB"; }
c_w2_native() {
  bench_psql target "$W2_NATIVE_DB" -c "ALTER SUBSCRIPTION w2_sub ENABLE" &&
    bench_wait_sql source postgres "SELECT coalesce((SELECT confirmed_flush_lsn >= '$W2_END_LSN'::pg_lsn
      FROM pg_replication_slots WHERE slot_name = '$W2_SLOT_NATIVE'), false);" "$BENCH_TIMEOUT"
}
c_w2_floor() {
  pg_recvlogical -d "$(bench_conn source "$W2_DB")" --slot "$W2_SLOT_FLOOR" --start \
    --endpos="$W2_END_LSN" -o format-version=2 -o include-xids=1 -o include-timestamp=1 \
    -o include-lsn=1 -o include-type-oids=1 -o include-types=0 -f /dev/null >"$BENCH_CLIENT/w2_recvlogical.log" 2>&1 || {
    bench_show_log "$BENCH_CLIENT/w2_recvlogical.log" "pg_recvlogical"
    return 1
  }
}
c_w2_floor_pgo() {
  pg_recvlogical -d "$(bench_conn source "$W2_DB")" --slot "$W2_SLOT_FLOOR_PGO" --start \
    --endpos="$W2_END_LSN" -o proto_version=1 -o publication_names=w2_pub -o messages=true \
    -f /dev/null >"$BENCH_CLIENT/w2_recvlogical_pgo.log" 2>&1 || {
    bench_show_log "$BENCH_CLIENT/w2_recvlogical_pgo.log" "pg_recvlogical (pgoutput)"
    return 1
  }
}

# w2_check DB WHAT: compare the pgbench tables of the target's DB with the source's.
w2_check() {
  local src tgt
  src=$(bench_pgbench_sums source "$W2_DB")
  tgt=$(bench_pgbench_sums target "$1")
  if [ "$src" != "$tgt" ]; then
    W2_MISMATCH=$((W2_MISMATCH + 1))
    bench_log "W2: $2 target differs from the source (history rows, sums of balances): source '$src', target '$tgt'"
  fi
}

# w2_cleanup: no subscription, slot or pgbaton left from a round.
w2_cleanup() {
  bench_pgbaton_stop >/dev/null 2>&1
  if [ "$(bench_scalar target postgres "SELECT count(*) FROM pg_database WHERE datname = '$W2_NATIVE_DB'")" = 1 ]; then
    bench_psql target "$W2_NATIVE_DB" -c "SET client_min_messages = warning" \
      -c "DO \$\$ BEGIN IF EXISTS (SELECT FROM pg_subscription WHERE subname = 'w2_sub') THEN
            ALTER SUBSCRIPTION w2_sub DISABLE; ALTER SUBSCRIPTION w2_sub SET (slot_name = NONE);
            DROP SUBSCRIPTION w2_sub; END IF; END \$\$" >/dev/null 2>&1
  fi
  bench_drop_slot source "$W2_SLOT_NATIVE"
  bench_drop_slot source "$W2_SLOT_FLOOR"
  bench_drop_slot source "$W2_SLOT_FLOOR_PGO"
  [ -z "$W2_NAME_W2J" ] || bench_drop_slot source "$W2_NAME_W2J"
  if [ -n "$W2_NAME_PGO" ]; then
    bench_drop_slot source "$W2_NAME_PGO"
    bench_psql source "$W2_DB" -c "SET client_min_messages = warning" \
      -c "DROP PUBLICATION IF EXISTS $W2_NAME_PGO" >/dev/null 2>&1
  fi
  W2_NAME_W2J=""
  W2_NAME_PGO=""
}

# w2_prepare_round: the five appliers at one point, then the backlog.
w2_prepare_round() {
  local per_client=$1 log="$BENCH_CLIENT/w2_pgbench.log"
  bench_reset_db target "$W2_DB"
  bench_reset_db target "$W2_PGO_DB"
  bench_reset_db target "$W2_NATIVE_DB"
  # 1. pgbaton's copies, one per decoder; once streaming, SIGTERM: their
  # slots wait there
  w2_copy "$W2_DB" W2_NAME_W2J --plugin wal2json --accept-nan-as-null || return 1
  w2_copy "$W2_PGO_DB" W2_NAME_PGO --plugin pgoutput || return 1
  # 2. native: the same data, a pgoutput slot, a disabled subscription
  pg_dump -d "$(bench_conn source "$W2_DB")" 2>"$BENCH_CLIENT/w2_dump.log" |
    bench_psql target "$W2_NATIVE_DB" -o /dev/null >>"$BENCH_CLIENT/w2_dump.log" 2>&1 || {
    bench_show_log "$BENCH_CLIENT/w2_dump.log" "pg_dump | psql (native's target)"
    return 1
  }
  bench_scalar source "$W2_DB" "SELECT pg_create_logical_replication_slot('$W2_SLOT_NATIVE', 'pgoutput')" >/dev/null &&
    bench_scalar source "$W2_DB" "SELECT pg_create_logical_replication_slot('$W2_SLOT_FLOOR', 'wal2json')" >/dev/null &&
    bench_scalar source "$W2_DB" "SELECT pg_create_logical_replication_slot('$W2_SLOT_FLOOR_PGO', 'pgoutput')" >/dev/null &&
    bench_psql target "$W2_NATIVE_DB" -c "CREATE SUBSCRIPTION w2_sub CONNECTION '$(bench_subscription_conn "$W2_DB")'
      PUBLICATION w2_pub WITH (copy_data = false, create_slot = false, slot_name = '$W2_SLOT_NATIVE', enabled = false)" || return 1
  # the backlog
  bench_pgbench "$W2_DB" -n -c 4 -j 2 -t "$per_client" >"$log" 2>&1 || {
    bench_show_log "$log" "pgbench"
    return 1
  }
  W2_END_LSN=$(bench_scalar source "$W2_DB" "SELECT pg_current_wal_lsn()")
  bench_log "W2: backlog written ($(bench_pgbench_tps "$log") tps on the source), end LSN $W2_END_LSN"
}

wl_W2() {
  local scale=10 txns=20000 per_client r k i id order db_bytes
  [ "$QUICK" = 1 ] && { scale=2; txns=2000; }
  per_client=$((txns / 4))
  txns=$((per_client * 4))
  W2_TXNS=$txns
  bench_log "W2: pgbench -i -s $scale on the source"
  bench_pgbench_init "$W2_DB" "$scale" "$BENCH_CLIENT/w2_init.log"
  bench_psql source "$W2_DB" -c "CREATE PUBLICATION w2_pub FOR ALL TABLES" || bench_die "W2: CREATE PUBLICATION failed"
  db_bytes=$(bench_scalar source "$W2_DB" "SELECT pg_database_size(current_database())")
  BENCH_TITLE["W2"]="pgbench -i -s $scale ($(bench_mb "$db_bytes") MB), backlog pgbench -n -c 4 -j 2 -t $per_client = $txns TPC-B transactions ($((txns * 4)) row changes); $BENCH_ROUNDS rounds"
  bench_log "W2: ${BENCH_TITLE["W2"]}"
  order=(c_w2_pgbaton c_w2_pgo c_w2_native c_w2_floor c_w2_floor_pgo)
  bench_declare W2 "${order[@]}"
  if [ -n "$BENCH_PGBATON_MISSING" ]; then
    bench_skip W2 c_w2_pgbaton "$BENCH_PGBATON_MISSING"
    bench_skip W2 c_w2_pgo "$BENCH_PGBATON_MISSING"
    bench_log "W2 needs pgbaton start to prepare its rounds: skipped"
    return 0
  fi
  for r in $(seq 1 "$BENCH_ROUNDS"); do
    bench_log "W2 round $r/$BENCH_ROUNDS: preparing (copy, slots, backlog)"
    if ! w2_prepare_round "$per_client"; then
      bench_log "W2 round $r: preparing failed; round skipped"
      w2_cleanup
      continue
    fi
    # the order rotates by round, so no contender always goes first
    for k in 0 1 2 3 4; do
      i=$(((k + r - 1) % 5))
      id=${order[$i]}
      bench_quiesce
      bench_timed W2 "$id" "$id" || true
      case $id in
        c_w2_pgbaton | c_w2_pgo)
          bench_pgbaton_stop || bench_log "W2: ${BENCH_LABEL[$id]} ended with status $?"
          w2_rss "$id" "$(bench_pgbaton_rss_kb)"
          if [ "$id" = c_w2_pgo ]; then w2_check "$W2_PGO_DB" "pgbaton pgoutput"; else w2_check "$W2_DB" "pgbaton wal2json"; fi
          ;;
        c_w2_native) w2_check "$W2_NATIVE_DB" native ;;
      esac
    done
    w2_cleanup
  done
  # seconds ratios: wal2json <= 1.0 x native (throughput >= 1.0 x);
  # pgoutput <= 0.5 x native (throughput >= 2.0 x, the issue's goal)
  bench_goal W2 c_w2_pgbaton c_w2_native 1.0
  bench_goal W2 c_w2_pgo c_w2_native 0.5
  BENCH_PARAMS["W2"]="\"scale\": $scale, \"transactions\": $txns, \"row_changes\": $((txns * 4)), \"clients\": 4, \"data_mismatches\": $W2_MISMATCH, \"peak_rss_kb_wal2json\": ${W2_RSS[c_w2_pgbaton]:-null}, \"peak_rss_kb_pgoutput\": ${W2_RSS[c_w2_pgo]:-null}"
  bench_reset_db target "$W2_DB"
  bench_reset_db target "$W2_PGO_DB"
  bench_reset_db target "$W2_NATIVE_DB"
}

# w2_rss ID KB: keep the peak RSS of contender ID (and W2's overall maximum).
w2_rss() {
  [ -n "$2" ] || return 0
  bench_record_rss W2 "$2"
  if [ -z "${W2_RSS[$1]:-}" ] || [ "$2" -gt "${W2_RSS[$1]}" ]; then W2_RSS[$1]=$2; fi
}

# w2_throughput_goal ID MIN: "throughput ID / native: R   goal >= MIN   verdict".
w2_throughput_goal() {
  local ta tn
  ta=$(bench_median_of W2 "$1") || ta=""
  tn=$(bench_median_of W2 c_w2_native) || tn=""
  [ -n "$ta" ] && [ -n "$tn" ] || return 0
  printf 'throughput %s / native: %s   goal >= %s   %s\n' "${BENCH_SHORT[$1]}" "$(bench_ratio "$tn" "$ta")" "$2" \
    "$(awk -v a="$ta" -v n="$tn" -v g="$2" 'BEGIN { exit !(n / a >= g) }' && echo met || echo "NOT met")"
}

# report_W2: the common table (seconds; pgbaton/native <= 1.0 in seconds is
# >= 1.0 in transactions/s), then transactions/s and their ratios.
report_W2() {
  local id m tf tp
  bench_report W2
  for id in c_w2_pgbaton c_w2_pgo; do
    if [ -n "${W2_RSS[$id]:-}" ]; then
      printf '%s peak RSS (max over runs): %s kB = %s MB   goal < 64 MB   %s\n' "${BENCH_SHORT[$id]}" \
        "${W2_RSS[$id]}" "$((W2_RSS[$id] / 1024))" "$([ "${W2_RSS[$id]}" -lt 65536 ] && echo met || echo "NOT met")"
    fi
  done
  echo
  printf '%-40s %14s\n' "applier" "transactions/s"
  for id in c_w2_pgbaton c_w2_pgo c_w2_native c_w2_floor c_w2_floor_pgo; do
    if m=$(bench_median_of W2 "$id"); then
      printf '%-40s %14s\n' "${BENCH_LABEL[$id]}" "$(awk -v n="$W2_TXNS" -v s="$m" 'BEGIN { printf "%.0f", n / s }')"
    fi
  done
  w2_throughput_goal c_w2_pgbaton 1.0
  w2_throughput_goal c_w2_pgo 2.0
  for id in c_w2_pgbaton:c_w2_floor c_w2_pgo:c_w2_floor_pgo; do
    tp=$(bench_median_of W2 "${id%%:*}") || tp=""
    tf=$(bench_median_of W2 "${id#*:}") || tf=""
    if [ -n "$tp" ] && [ -n "$tf" ]; then
      printf 'throughput %s / its decode floor: %s   (1.0 would be as fast as decoding alone)\n' \
        "${BENCH_SHORT[${id%%:*}]}" "$(bench_ratio "$tf" "$tp")"
    fi
  done
  tf=$(bench_median_of W2 c_w2_floor) || tf=""
  tp=$(bench_median_of W2 c_w2_floor_pgo) || tp=""
  if [ -n "$tp" ] && [ -n "$tf" ]; then
    printf 'decoding alone, pgoutput / wal2json (seconds): %s\n' "$(bench_ratio "$tp" "$tf")"
  fi
  echo "data checks after apply (history rows, balance sums vs source): $W2_MISMATCH mismatch(es)"
}
