# bench/workloads/w3.sh — W3: replication lag under steady load, and the
# latency replication adds on the source.
#
# Source database "w3" (pgbench -i -s W3_SCALE, made once). Each round runs
# `pgbench -n -c 4 -j 2 -R 1000 -T W3_SECONDS` on the source four times,
# once per setting, in an order that rotates by round, and keeps pgbench's
# "latency average" (with -R it is measured from each transaction's
# scheduled start, so it includes any schedule lag):
#   (a) no replication;
#   (b) pgbaton streaming with wal2json (`pgbaton start --plugin wal2json
#       --accept-nan-as-null`; setting "pgbaton"), and
#   (b') the same with `--plugin pgoutput` (setting "pgoutput"; pgbaton makes
#       its own publication, dropped afterwards): each time `pgbaton start`
#       copied w3 to the target and is in
#       the streaming phase with lag < 1 s before pgbench starts; every
#       0.5 s its lag is read from pgbaton.migration on the target: the
#       clock minus the newer of the last applied commit's and heartbeat's
#       source timestamps (what `pgbaton status` shows, except that status
#       says 0 when nothing is behind: this figure is never smaller; both
#       servers run on this machine, so they share its clock);
#   (c) native logical replication: a pg_dump | psql copy w3_native on the
#       target subscribed (copy_data = false) to a publication FOR ALL
#       TABLES; its lag is sampled every 0.5 s from the source's
#       pg_stat_replication.replay_lag (PostgreSQL's own figure, for
#       comparison only: not the same definition).
# Both samplers are one query every 0.5 s through one open psql session, so
# that sampling costs the two settings the same and next to nothing: a
# process and new connections every 0.5 s (as `pgbaton status` would be)
# take CPU from the 2 cores the source shares.
# Reported: each pgbaton's lag p50/p99 over all samples of all rounds, the
# median source latency of each setting, the latency each replication adds,
# and each pgbaton's peak RSS, beside the goals (lag p99 < 1 s, added
# latency <= native's, peak RSS < 64 MB).

bench_workload W3 "lag under pgbench -R 1000, and the source latency pgbaton (wal2json, pgoutput) adds vs native"

W3_DB=w3
W3_NATIVE_DB=w3_native
declare -A W3_LAT=()   # setting (none, pgbaton, pgoutput, native) -> latencies (ms) of its runs
declare -A W3_TPS=()   # setting -> tps of its runs
declare -A W3_PLAGS=() # pgbaton setting (pgbaton = wal2json, pgoutput) -> lag samples (s), all rounds
declare -A W3_RSS=()   # pgbaton setting -> peak RSS (kB), max over runs
declare -A W3_DESC=([none]="none" [pgbaton]="pgbaton wal2json" [pgoutput]="pgbaton pgoutput" [native]="native")
W3_NATIVE_LAGS=""      # native's replay_lag samples (s), all rounds
W3_FAILS=""

# w3_sampler FILE NAME DB SQL: in the background, every 0.5 s, run SQL (one
# value) through one open session to DB on server NAME and append its answer
# to FILE, until FILE.stop exists. Sets W3_SAMPLER_PID.
w3_sampler() {
  local file=$1 name=$2 db=$3 sql=$4
  rm -f "$file" "$file.stop"
  (
    bench_poll_open "$name" "$db"
    while [ ! -e "$file.stop" ]; do
      due=$(awk -v t="$(bench_now)" 'BEGIN { printf "%.3f", t + 0.5 }')
      bench_poll_query "$sql" >>"$file" || echo "no answer" >>"$file"
      left=$(awk -v n="$due" -v t="$(bench_now)" 'BEGIN { d = n - t; if (d < 0) d = 0; printf "%.3f\n", d }')
      sleep "$left"
    done
    bench_poll_close
  ) &
  W3_SAMPLER_PID=$!
  BENCH_BG_PIDS+=("$W3_SAMPLER_PID")
}
w3_sampler_stop() {
  touch "$1.stop"
  bench_wait_pid "$W3_SAMPLER_PID" 15 || kill -TERM "$W3_SAMPLER_PID" 2>/dev/null
  wait "$W3_SAMPLER_PID" 2>/dev/null
}

w3_pgbaton_lag_sql() {
  echo "SELECT coalesce(extract(epoch FROM clock_timestamp() - greatest(heartbeat_source_ts, applied_source_ts))::numeric(12,3)::text, 'null') FROM pgbaton.migration WHERE name = '$BENCH_PGBATON_NAME';"
}
W3_NATIVE_LAG_SQL="SELECT coalesce((SELECT coalesce(extract(epoch FROM replay_lag)::numeric(12,3)::text, '0') FROM pg_stat_replication WHERE application_name = 'w3_sub'), 'null');"

# w3_steal: the machine's CPU time stolen by its hypervisor so far (s, all
# CPUs; /proc/stat). A run during which the host took CPU away is slower
# for reasons outside this machine; the log says so.
w3_steal() { awk '$1 == "cpu" { printf "%.2f\n", $9 / 100 }' /proc/stat; }

# w3_load SETTING SECONDS: the timed pgbench run; keeps its latency and tps.
# (Each round calls w3_settle before starting its lag sampler, so that the
# sync's stall of the servers' writes is neither sampled nor timed.)
w3_load() {
  local setting=$1 log="$BENCH_CLIENT/w3_pgbench_$1.log" lat steal0
  steal0=$(w3_steal)
  bench_pgbench "$W3_DB" -n -c 4 -j 2 -R 1000 -T "$2" >"$log" 2>&1 || {
    bench_show_log "$log" "pgbench ($setting)"
    return 1
  }
  lat=$(bench_pgbench_latency "$log")
  W3_LAT[$setting]+="$lat "
  W3_TPS[$setting]+="$(bench_pgbench_tps "$log") "
  bench_log "W3: $setting: source latency average $lat ms, $(bench_pgbench_tps "$log") tps," \
    "CPU stolen by the host $(awk -v a="$steal0" -v b="$(w3_steal)" 'BEGIN { printf "%.2f", b - a }') s"
}

# w3_settle [TARGET_DB]: before a timed load, VACUUM the source's w3 (the
# earlier loads' dead rows: otherwise autovacuum of pgbench_accounts lands
# in whichever run crosses its threshold) and the target database the
# setting applies to (a fresh copy: otherwise autovacuum processes it during
# the load), then a CHECKPOINT of both servers and a sync. The same for
# every setting, so that the background work of the servers is not charged
# to one of them.
w3_settle() {
  bench_psql source "$W3_DB" -c "VACUUM" >/dev/null || return 1
  if [ -n "${1:-}" ]; then bench_psql target "$1" -c "VACUUM" >/dev/null || return 1; fi
  bench_quiesce
}

w3_round_none() {
  w3_settle || return 1
  w3_load none "$1"
}

w3_round_pgbaton() { w3_pgbaton pgbaton "$1" --plugin wal2json --accept-nan-as-null; }
w3_round_pgoutput() { w3_pgbaton pgoutput "$1" --plugin pgoutput; }

# w3_pgbaton SETTING SECS PLUGIN-ARGS...: one pgbaton setting's run.
w3_pgbaton() {
  local setting=$1 secs=$2 samples="$BENCH_CLIENT/w3_lag_$1.samples" rc=0 kb
  shift 2
  bench_reset_db target "$W3_DB"
  bench_pgbaton_next_name
  bench_pgbaton_launch start -s "$(bench_conn source "$W3_DB")" -t "$(bench_conn target "$W3_DB")" \
    --jobs 2 --name "$BENCH_PGBATON_NAME" "$@"
  if bench_wait_phase target "$W3_DB" "$BENCH_PGBATON_NAME" streaming "$BENCH_TIMEOUT" &&
    bench_wait_analyzed target "$W3_DB" "$BENCH_PGBATON_NAME" &&
    w3_settle "$W3_DB" &&
    bench_wait_lag_below target "$W3_DB" "$BENCH_PGBATON_NAME" 1 120; then
    w3_sampler "$samples" target "$W3_DB" "$(w3_pgbaton_lag_sql)"
    w3_load "$setting" "$secs" || rc=1
    w3_sampler_stop "$samples"
    W3_PLAGS[$setting]+="$(grep -E '^[0-9.eE+-]+$' "$samples" | tr '\n' ' ')"
    if grep -qv -E '^[0-9.eE+-]+$' "$samples"; then
      bench_log "W3: $(grep -cv -E '^[0-9.eE+-]+$' "$samples") lag sample(s) without a number (status could not tell)"
    fi
  else
    rc=1
  fi
  bench_pgbaton_stop || bench_log "W3: ${W3_DESC[$setting]} ended with status $?"
  kb=$(bench_pgbaton_rss_kb)
  bench_record_rss W3 "$kb"
  if [ -n "$kb" ] && { [ -z "${W3_RSS[$setting]:-}" ] || [ "$kb" -gt "${W3_RSS[$setting]}" ]; }; then
    W3_RSS[$setting]=$kb
  fi
  bench_drop_slot source "$BENCH_PGBATON_NAME"
  bench_psql source "$W3_DB" -c "SET client_min_messages = warning" \
    -c "DROP PUBLICATION IF EXISTS $BENCH_PGBATON_NAME" >/dev/null 2>&1
  bench_reset_db target "$W3_DB"
  return $rc
}

w3_round_native() {
  local secs=$1 samples="$BENCH_CLIENT/w3_native_lag.samples" rc=0
  bench_reset_db target "$W3_NATIVE_DB"
  pg_dump -d "$(bench_conn source "$W3_DB")" 2>"$BENCH_CLIENT/w3_dump.log" |
    bench_psql target "$W3_NATIVE_DB" -o /dev/null >>"$BENCH_CLIENT/w3_dump.log" 2>&1 || {
    bench_show_log "$BENCH_CLIENT/w3_dump.log" "pg_dump | psql (native's target)"
    return 1
  }
  if bench_psql target "$W3_NATIVE_DB" -c "CREATE SUBSCRIPTION w3_sub CONNECTION '$(bench_subscription_conn "$W3_DB")'
      PUBLICATION w3_pub WITH (copy_data = false)" >/dev/null &&
    bench_wait_sql source postgres "SELECT EXISTS (SELECT FROM pg_stat_replication
      WHERE application_name = 'w3_sub' AND state = 'streaming');" 120 &&
    w3_settle "$W3_NATIVE_DB"; then
    w3_sampler "$samples" source postgres "$W3_NATIVE_LAG_SQL"
    w3_load native "$secs" || rc=1
    w3_sampler_stop "$samples"
    W3_NATIVE_LAGS+="$(grep -E '^[0-9.]+$' "$samples" | tr '\n' ' ')"
  else
    rc=1
  fi
  bench_psql target "$W3_NATIVE_DB" -c "DROP SUBSCRIPTION IF EXISTS w3_sub" >/dev/null 2>&1 ||
    bench_log "W3: DROP SUBSCRIPTION w3_sub failed"
  bench_drop_slot source w3_sub
  bench_reset_db target "$W3_NATIVE_DB"
  return $rc
}

wl_W3() {
  local scale=10 secs=60 r setting
  [ "$QUICK" = 1 ] && { scale=2; secs=10; }
  W3_SECONDS=$secs
  bench_log "W3: pgbench -i -s $scale on the source"
  bench_pgbench_init "$W3_DB" "$scale" "$BENCH_CLIENT/w3_init.log"
  bench_psql source "$W3_DB" -c "CREATE PUBLICATION w3_pub FOR ALL TABLES" || bench_die "W3: CREATE PUBLICATION failed"
  BENCH_TITLE["W3"]="pgbench -i -s $scale; load pgbench -n -c 4 -j 2 -R 1000 -T $secs; $BENCH_ROUNDS rounds of none, pgbaton wal2json, pgbaton pgoutput, native (order rotated by round)"
  bench_log "W3: ${BENCH_TITLE["W3"]}"
  bench_declare W3
  local settings=(none pgbaton pgoutput native) k
  for r in $(seq 1 "$BENCH_ROUNDS"); do
    # the order rotates by round: none, pgbaton, pgoutput, native; then
    # pgbaton, pgoutput, native, none; ... so that no setting always runs in
    # the same place (after the same setting's teardown, or first after a copy)
    for k in 0 1 2 3; do
      setting=${settings[$(((k + r - 1) % 4))]}
      case $setting in pgbaton | pgoutput) [ -z "$BENCH_PGBATON_MISSING" ] || continue ;; esac
      bench_log "W3 round $r/$BENCH_ROUNDS: $setting"
      "w3_round_$setting" "$secs" || {
        W3_FAILS+="$setting "
        bench_log "W3 round $r: $setting FAILED (not counted)"
      }
    done
  done
}

# w3_fmt VALUES...: "p50 p99 n" of the values, or "- - 0".
w3_pcts() {
  [ $# -gt 0 ] || { echo "- - 0"; return; }
  echo "$(bench_percentile 50 "$@") $(bench_percentile 99 "$@") $#"
}

# w3_verdicts SETTING: the goals of one pgbaton setting (pgbaton = wal2json,
# pgoutput): lag p99 < 1 s, added source latency <= native's, peak RSS < 64 MB.
# Reads med (the median latencies) from report_W3, its caller.
w3_verdicts() {
  local s=$1 d=${W3_DESC[$1]} p add addn verdict
  # shellcheck disable=SC2086
  p=$(w3_pcts ${W3_PLAGS[$s]:-} | cut -d' ' -f2)
  if [ "$p" != "-" ]; then
    if bench_lt "$p" 1; then verdict=met; else verdict="NOT met"; fi
    printf '%s lag p99: %s s   goal < 1 s   %s\n' "$d" "$p" "$verdict"
  else
    echo "$d lag p99: not measured"
  fi
  add="" addn=""
  if [ -n "${med[none]:-}" ] && [ -n "${med[$s]:-}" ]; then
    add=$(awk -v a="${med[$s]}" -v b="${med[none]}" 'BEGIN { printf "%.3f", a - b }')
  fi
  if [ -n "${med[none]:-}" ] && [ -n "${med[native]:-}" ]; then
    addn=$(awk -v a="${med[native]}" -v b="${med[none]}" 'BEGIN { printf "%.3f", a - b }')
  fi
  printf 'added source latency: %s %s ms, native %s ms' "$d" "${add:--}" "${addn:--}"
  if [ -n "$add" ] && [ -n "$addn" ]; then
    if bench_le "${med[$s]}" "${med[native]}"; then verdict=met; else verdict="NOT met"; fi
    printf '   goal %s <= native   %s (difference %s ms)\n' "$d" "$verdict" \
      "$(awk -v a="$add" -v b="$addn" 'BEGIN { printf "%.3f", a - b }')"
  else
    echo
  fi
  if [ -n "${W3_RSS[$s]:-}" ]; then
    if [ "${W3_RSS[$s]}" -lt 65536 ]; then verdict=met; else verdict="NOT met"; fi
    echo "$d peak RSS (max over runs): ${W3_RSS[$s]} kB = $((W3_RSS[$s] / 1024)) MB   goal < 64 MB   $verdict"
  fi
}

report_W3() {
  local p50 p99 n qp50 qp99 qn np50 np99 nn s
  local -A med=()
  # shellcheck disable=SC2086
  read -r p50 p99 n <<<"$(w3_pcts ${W3_PLAGS[pgbaton]:-})"
  # shellcheck disable=SC2086
  read -r qp50 qp99 qn <<<"$(w3_pcts ${W3_PLAGS[pgoutput]:-})"
  # shellcheck disable=SC2086
  read -r np50 np99 nn <<<"$(w3_pcts $W3_NATIVE_LAGS)"
  echo
  echo "== W3: ${BENCH_TITLE[W3]}"
  printf '%-44s %10s %10s %8s\n' "lag (s), sampled every 0.5 s" "p50" "p99" "samples"
  printf '%-44s %10s %10s %8s\n' "pgbaton wal2json (pgbaton.migration)" "$p50" "$p99" "$n"
  printf '%-44s %10s %10s %8s\n' "pgbaton pgoutput (pgbaton.migration)" "$qp50" "$qp99" "$qn"
  printf '%-44s %10s %10s %8s\n' "native (pg_stat_replication.replay_lag)" "$np50" "$np99" "$nn"
  echo
  printf '%-44s %10s   %s\n' "source latency (pgbench latency average)" "median" "runs (ms, in order) / tps"
  for s in none pgbaton pgoutput native; do
    if [ -n "${W3_LAT[$s]:-}" ]; then
      # shellcheck disable=SC2086
      med[$s]=$(bench_median ${W3_LAT[$s]})
      printf '%-44s %7s ms   %s/ %s\n' "${W3_DESC[$s]}" "${med[$s]}" "${W3_LAT[$s]}" "${W3_TPS[$s]}"
    else
      printf '%-44s %10s\n' "${W3_DESC[$s]}" "-"
    fi
  done
  [ -z "$W3_FAILS" ] || echo "failed runs (not counted): $W3_FAILS"
  echo
  w3_verdicts pgbaton
  echo
  w3_verdicts pgoutput
  BENCH_PARAMS["W3"]="\"seconds\": $W3_SECONDS, \"rate\": 1000, \"clients\": 4, \"pgbaton_lag_p50\": $(w3_jnum "$p50"), \"pgbaton_lag_p99\": $(w3_jnum "$p99"), \"pgbaton_lag_samples\": $n, \"pgoutput_lag_p50\": $(w3_jnum "$qp50"), \"pgoutput_lag_p99\": $(w3_jnum "$qp99"), \"pgoutput_lag_samples\": $qn, \"native_replay_lag_p50\": $(w3_jnum "$np50"), \"native_replay_lag_p99\": $(w3_jnum "$np99"), \"latency_ms_none\": $(w3_jnum "${med[none]:-}"), \"latency_ms_pgbaton\": $(w3_jnum "${med[pgbaton]:-}"), \"latency_ms_pgoutput\": $(w3_jnum "${med[pgoutput]:-}"), \"latency_ms_native\": $(w3_jnum "${med[native]:-}"), \"peak_rss_kb_wal2json\": $(w3_jnum "${W3_RSS[pgbaton]:-}"), \"peak_rss_kb_pgoutput\": $(w3_jnum "${W3_RSS[pgoutput]:-}")"
}

# w3_jnum V: V as a JSON number, or null.
w3_jnum() { if [[ $1 =~ ^[0-9.]+$ ]]; then echo "$1"; else echo null; fi; }
