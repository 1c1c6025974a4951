# bench/workloads/soak.sh — SOAK: pgbaton streaming under a long steady
# load: is its memory flat, does its lag stay under a second, and is every
# transaction on the target at the end? (issue 18)
#
# Source database "soak" (pgbench -i -s 10; --quick: -s 2). `pgbaton start
# --jobs 2` (pgbaton's default plugin, or run.sh's --plugin) copies it and
# streams; once its ANALYZE is done, both sides are VACUUMed, both servers
# CHECKPOINT and the machine syncs (as W3 does before a load), and the lag
# is below 1 s, `pgbench -n -c 4 -j 2 -R 500 -T <minutes * 60> -P 10` runs
# on the source (30 minutes by default, --soak-minutes M, --quick 2). Every
# 10 s of the load: `pgbaton status --json` (kept whole) and the VmRSS of
# the `pgbaton start` process (/proc/<pid>/status), with the 1-minute load
# average. After the load: wait for lag < 1 s, read VmHWM, `pgbaton cutover`
# (as a user would end), then compare pgbench_history's row count and the
# sums of abalance, tbalance, bbalance on both sides; lost transactions =
# source history rows minus target history rows.
# Reported: RSS before the load and first/last/max over the samples, growth
# and trend (later half), "flat" when last - first < max(5 MB, 10 % of first); lag
# p50/p99 over the samples (goal p99 < 1 s); lost transactions (goal 0);
# sums equal; pgbench's tps; the load average and the CPU time the host
# stole during the load. A benchmark: nothing here fails the run.

bench_workload_optin SOAK "pgbaton streaming under pgbench -R 500 for 30 min (--soak-minutes): RSS flat, lag p50/p99, 0 lost"

SOAK_DB=soak
SOAK_INTERVAL=10       # seconds between samples
SOAK_RATE=500          # pgbench -R
SOAK_FLAT_KB=5120      # "flat": last - first under max(this, 10 % of first)
SOAK_SAMPLES=""        # samples file: one JSON object a line
SOAK_FAIL=""           # why the soak did not complete, or empty
SOAK_NAME=""           # the migration
declare -A SOAK_R=()   # figures for the report and the JSON file

# soak_fail REASON: record why the soak did not complete (the first reason wins).
soak_fail() {
  [ -n "$SOAK_FAIL" ] || SOAK_FAIL=$1
  bench_log "SOAK: $1"
}

# soak_pgbaton_pid: the pid of pgbaton itself (BENCH_PGBATON_PID is the RSS
# wrapper's, bench/rss.c; pgbaton is its child).
soak_pgbaton_pid() {
  local w=$BENCH_PGBATON_PID c exe
  exe=$(readlink -f "$PGBATON_BIN")
  # shellcheck disable=SC2013 # a list of pids on one line
  for c in $(cat "/proc/$w/task/$w/children" 2>/dev/null); do
    if [ "$(readlink -f "/proc/$c/exe" 2>/dev/null)" = "$exe" ]; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

# soak_proc_kb PID FIELD: VmRSS or VmHWM (kB) of PID, or nothing.
soak_proc_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }

# soak_status: `pgbaton status --json` of the migration into SOAK_ST
# ("null" if it gave no JSON object), its exit status into SOAK_STATUS_RC.
soak_status() {
  local st
  SOAK_STATUS_RC=0
  st=$(bench_pgbaton_status target "$SOAK_DB" "$SOAK_NAME") || SOAK_STATUS_RC=$?
  if jq -e 'type == "object"' >/dev/null 2>&1 <<<"$st"; then SOAK_ST=$(jq -c . <<<"$st"); else SOAK_ST=null; fi
}

# soak_sample T PID: append one sample (seconds into the load, VmRSS,
# 1-minute load average, status and its exit status) to SOAK_SAMPLES.
soak_sample() {
  local t=$1 pid=$2 rss st load
  rss=$(soak_proc_kb "$pid" VmRSS)
  soak_status
  st=$SOAK_ST
  load=$(cut -d' ' -f1 /proc/loadavg)
  jq -c -n --argjson t "$t" --argjson rss "${rss:-null}" --argjson load "$load" \
    --argjson rc "$SOAK_STATUS_RC" --argjson st "$st" \
    '{t: $t, rss_kb: $rss, loadavg1: $load, status_exit: $rc, status: $st}' >>"$SOAK_SAMPLES"
  SOAK_LAST_LAG=$(jq -r '.lag_seconds // "-"' <<<"$st")
  SOAK_LAST_RSS=${rss:-}
}

# soak_load SECS PID: the load, sampled every SOAK_INTERVAL s until pgbench
# ends. The wait between samples is the sampling interval itself, cut short
# when pgbench ends (wait -n on both; bash's wait -n no longer knows a job
# that ended and was reaped while a sample ran, hence the kill -0 first,
# where plain wait still gives its status). False if pgbaton exits meanwhile.
soak_load() {
  local secs=$1 pid=$2 log="$BENCH_CLIENT/soak_pgbench.log" t0 k=1 due left sp ended st hard rc=0 t
  bench_pgbench "$SOAK_DB" -n -c 4 -j 2 -R "$SOAK_RATE" -T "$secs" -P "$SOAK_INTERVAL" >"$log" 2>&1 &
  local pgb=$!
  BENCH_BG_PIDS+=("$pgb")
  t0=$(bench_now)
  hard=$(($(date +%s) + secs + 120))
  SOAK_R[pgbench_exit]=""
  while :; do
    if ! kill -0 "$pgb" 2>/dev/null; then
      wait "$pgb"
      SOAK_R[pgbench_exit]=$?
      break
    fi
    due=$(awk -v a="$t0" -v k="$k" -v i="$SOAK_INTERVAL" 'BEGIN { printf "%.3f", a + k * i }')
    left=$(awk -v n="$due" -v t="$(bench_now)" 'BEGIN { d = n - t; if (d < 0) d = 0; printf "%.3f", d }')
    sleep "$left" &
    sp=$!
    ended=""
    wait -n -p ended "$sp" "$pgb"
    st=$?
    if [ "$ended" = "$pgb" ]; then
      SOAK_R[pgbench_exit]=$st
      kill "$sp" 2>/dev/null
      wait "$sp" 2>/dev/null
      break
    fi
    if ! kill -0 "$BENCH_PGBATON_PID" 2>/dev/null; then
      soak_fail "pgbaton start exited during the load"
      bench_show_log "$BENCH_PGBATON_LOG" "pgbaton start"
      kill -TERM "$pgb" 2>/dev/null
      wait "$pgb" 2>/dev/null
      rc=1
      break
    fi
    t=$(bench_elapsed "$t0" "$(bench_now)")
    soak_sample "$t" "$pid"
    if [ "$k" = 1 ] || [ $((k % 6)) = 0 ]; then
      bench_log "SOAK $t s: lag_seconds $SOAK_LAST_LAG, VmRSS ${SOAK_LAST_RSS:--} kB, load average $(cut -d' ' -f1 /proc/loadavg)"
    fi
    k=$((k + 1))
    if [ "$(date +%s)" -ge "$hard" ]; then
      bench_log "SOAK: pgbench still runs 120 s after its -T $secs; ending it"
      kill -TERM "$pgb" 2>/dev/null
    fi
  done
  SOAK_R[load_seconds]=$(bench_elapsed "$t0" "$(bench_now)")
  SOAK_R[tps]=$(bench_pgbench_tps "$log")
  SOAK_R[latency_ms]=$(bench_pgbench_latency "$log")
  SOAK_R[transactions]=$(awk '/^number of transactions actually processed/ { print $6; exit }' "$log")
  SOAK_R[failed_transactions]=$(awk '/^number of failed transactions/ { print $5; exit }' "$log")
  SOAK_R[progress_tps]=$(awk '/^progress: / { printf "%s%s", sep, $4; sep = " " }' "$log")
  if [ "$rc" = 0 ] && [ "${SOAK_R[pgbench_exit]:-}" != 0 ]; then
    bench_show_log "$log" "pgbench (exit status ${SOAK_R[pgbench_exit]:-none})"
  fi
  return $rc
}

# soak_settle: as W3 before a load: VACUUM both sides (the fresh copy on the
# target, so that autovacuum does not process it during the load), then a
# CHECKPOINT of both servers and a sync.
soak_settle() {
  bench_psql source "$SOAK_DB" -c "VACUUM" >/dev/null || return 1
  bench_psql target "$SOAK_DB" -c "VACUUM" >/dev/null || return 1
  bench_quiesce
}

# soak_compare HOW: history rows and balance sums of both sides.
soak_compare() {
  local src tgt
  src=$(bench_pgbench_sums source "$SOAK_DB") || return 1
  tgt=$(bench_pgbench_sums target "$SOAK_DB") || return 1
  SOAK_R[compared]=$1
  SOAK_R[source_rows]=${src%% *}
  SOAK_R[target_rows]=${tgt%% *}
  SOAK_R[lost]=$((${src%% *} - ${tgt%% *}))
  SOAK_R[source_sums]=${src#* }
  SOAK_R[target_sums]=${tgt#* }
  if [ "${src#* }" = "${tgt#* }" ]; then SOAK_R[sums_equal]=true; else SOAK_R[sums_equal]=false; fi
  bench_log "SOAK: compared ($1): source history rows ${src%% *}, target ${tgt%% *}, lost ${SOAK_R[lost]};" \
    "sums of abalance tbalance bbalance: source ${src#* }, target ${tgt#* }"
}

# soak_cutover: `pgbaton cutover`, its write-unavailability, the end of start.
soak_cutover() {
  local out="$BENCH_CLIENT/soak_cutover.log" rc=0 ms
  "$PGBATON_BIN" cutover -s "$(bench_conn source "$SOAK_DB")" -t "$(bench_conn target "$SOAK_DB")" \
    -n "$SOAK_NAME" >"$out" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then
    bench_show_log "$out" "pgbaton cutover (exit status $rc)"
    return 1
  fi
  ms=$(sed -n 's/^write-unavailable: \([0-9.]*\) ms.*/\1/p' "$out")
  SOAK_R[write_unavailable_ms]=$ms
  bench_log "SOAK: cutover done, write-unavailable ${ms:-?} ms"
  # start stops by itself once the migration is done
  bench_wait_pid "$BENCH_PGBATON_PID" 30 || bench_log "SOAK: pgbaton start still runs 30 s after the cutover"
  return 0
}

soak_run() {
  local scale=$1 secs=$2 pid t1 steal0 args
  bench_log "SOAK: pgbench -i -s $scale on the source"
  bench_pgbench_init "$SOAK_DB" "$scale" "$BENCH_CLIENT/soak_init.log"
  bench_reset_db target "$SOAK_DB"
  bench_pgbaton_next_name
  SOAK_NAME=$BENCH_PGBATON_NAME
  args=(start -s "$(bench_conn source "$SOAK_DB")" -t "$(bench_conn target "$SOAK_DB")"
    --jobs 2 --name "$SOAK_NAME")
  [ "$SOAK_PLUGIN" = auto ] || args+=(--plugin "$SOAK_PLUGIN")
  # as W2 and W3 (pgbench's tables have no float or numeric column anyway)
  [ "$SOAK_PLUGIN" = wal2json ] && args+=(--accept-nan-as-null)
  bench_pgbaton_launch "${args[@]}"
  bench_wait_phase target "$SOAK_DB" "$SOAK_NAME" streaming "$BENCH_TIMEOUT" || {
    soak_fail "pgbaton start did not reach streaming"
    return 1
  }
  bench_wait_analyzed target "$SOAK_DB" "$SOAK_NAME"
  soak_settle || {
    soak_fail "VACUUM or CHECKPOINT before the load failed"
    return 1
  }
  bench_wait_lag_below target "$SOAK_DB" "$SOAK_NAME" 1 120 || {
    soak_fail "lag not below 1 s before the load"
    return 1
  }
  pid=$(soak_pgbaton_pid) || {
    soak_fail "cannot find the pgbaton start process under its RSS wrapper"
    return 1
  }
  soak_status
  SOAK_R[plugin]=$(jq -r '.plugin // empty' <<<"$SOAK_ST")
  SOAK_R[rss_before_kb]=$(soak_proc_kb "$pid" VmRSS)
  SOAK_R[loadavg_load_start]=$(cut -d' ' -f1-3 /proc/loadavg)
  steal0=$(bench_steal)
  bench_log "SOAK: streaming with ${SOAK_R[plugin]:-?}, lag < 1 s, VmRSS ${SOAK_R[rss_before_kb]} kB;" \
    "load pgbench -n -c 4 -j 2 -R $SOAK_RATE -T $secs, sampled every $SOAK_INTERVAL s"
  soak_load "$secs" "$pid" || return 1
  SOAK_R[steal_seconds]=$(awk -v a="$steal0" -v b="$(bench_steal)" 'BEGIN { printf "%.2f", b - a }')
  SOAK_R[loadavg_load_end]=$(cut -d' ' -f1-3 /proc/loadavg)
  bench_log "SOAK: load done: ${SOAK_R[tps]:-?} tps, ${SOAK_R[transactions]:-?} transactions," \
    "latency average ${SOAK_R[latency_ms]:-?} ms; CPU stolen by the host ${SOAK_R[steal_seconds]} s"
  t1=$(bench_now)
  if bench_wait_lag_below target "$SOAK_DB" "$SOAK_NAME" 1 300; then
    SOAK_R[catchup_seconds]=$(bench_elapsed "$t1" "$(bench_now)")
  else
    soak_fail "lag not below 1 s within 300 s of the end of the load"
  fi
  SOAK_R[vmhwm_kb]=$(soak_proc_kb "$pid" VmHWM)
  SOAK_R[rss_end_kb]=$(soak_proc_kb "$pid" VmRSS)
  if soak_cutover; then
    soak_compare "after pgbaton cutover"
  else
    soak_fail "pgbaton cutover failed"
    # compare anyway, once start has applied everything the source wrote
    if kill -0 "$BENCH_PGBATON_PID" 2>/dev/null &&
      bench_wait_pgbaton_lsn target "$SOAK_DB" "$SOAK_NAME" \
        "$(bench_scalar source "$SOAK_DB" "SELECT pg_current_wal_lsn()")" 60; then
      soak_compare "without cutover (it failed), once applied through the source's position"
    fi
  fi
}

# soak_cleanup: no migration, slot, publication, frozen source or target
# database left (for workloads run after this one).
soak_cleanup() {
  bench_pgbaton_stop || true
  bench_record_rss SOAK "$(bench_pgbaton_rss_kb)"
  [ -n "$SOAK_NAME" ] || return 0
  "$PGBATON_BIN" clean -q -s "$(bench_conn source "$SOAK_DB")" -t "$(bench_conn target "$SOAK_DB")" \
    -n "$SOAK_NAME" >"$BENCH_CLIENT/soak_clean.log" 2>&1 ||
    bench_show_log "$BENCH_CLIENT/soak_clean.log" "pgbaton clean"
  bench_drop_slot source "$SOAK_NAME"
  bench_psql source "$SOAK_DB" -c "SET client_min_messages = warning" \
    -c "DROP PUBLICATION IF EXISTS $SOAK_NAME" >/dev/null 2>&1
  bench_psql source postgres -c "ALTER DATABASE $SOAK_DB RESET default_transaction_read_only" >/dev/null
  bench_reset_db target "$SOAK_DB"
}

wl_SOAK() {
  local scale=10 secs=$((SOAK_MINUTES * 60))
  [ "$QUICK" = 1 ] && scale=2
  SOAK_R[scale]=$scale
  SOAK_R[seconds]=$secs
  SOAK_SAMPLES="$BENCH_CLIENT/soak.samples"
  : >"$SOAK_SAMPLES"
  BENCH_TITLE["SOAK"]="pgbench -i -s $scale; pgbaton start --jobs 2$([ "$SOAK_PLUGIN" = auto ] || echo " --plugin $SOAK_PLUGIN") streaming; load pgbench -n -c 4 -j 2 -R $SOAK_RATE -T $secs ($SOAK_MINUTES min); status and RSS every $SOAK_INTERVAL s; then cutover"
  bench_log "SOAK: ${BENCH_TITLE["SOAK"]}"
  bench_declare SOAK
  if [ -n "$BENCH_PGBATON_MISSING" ]; then
    SOAK_FAIL=$BENCH_PGBATON_MISSING
    return 0
  fi
  soak_run "$scale" "$secs"
  soak_cleanup
}

# soak_col JQ: one value per sample (nulls left out).
soak_col() { jq -r "$1 // empty" "$SOAK_SAMPLES"; }

# soak_mb KB: kB in MB with one decimal, or "-".
soak_mb() { if [[ ${1:-} =~ ^[0-9]+$ ]]; then awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; else echo -; fi; }

# soak_2f V, soak_1f V: V with two decimals, with one.
soak_2f() { awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }
soak_1f() { awk -v v="$1" 'BEGIN { printf "%.1f", v }'; }

# soak_num V: V as a JSON number, or null.
soak_num() { if [[ ${1:-} =~ ^-?[0-9.]+$ ]]; then echo "$1"; else echo null; fi; }

report_SOAK() {
  local rss=() lags=() loads=() n first="" last="" max="" growth="" bound="" flat="" trend=""
  local p50="" p99="" lmax="" nolag v_lag v_lost v_sums v_rss unhealthy prog=()
  n=$(grep -c . "$SOAK_SAMPLES" 2>/dev/null) || n=0
  mapfile -t rss < <(soak_col .rss_kb)
  mapfile -t lags < <(soak_col .status.lag_seconds)
  mapfile -t loads < <(soak_col .loadavg1)
  nolag=$((n - ${#lags[@]}))
  unhealthy=$(jq -r 'select(.status_exit != 0) | .t' "$SOAK_SAMPLES" | grep -c .)
  read -r -a prog <<<"${SOAK_R[progress_tps]:-}"
  if [ ${#rss[@]} -gt 0 ]; then
    first=${rss[0]}
    last=${rss[-1]}
    max=$(bench_max "${rss[@]}")
    growth=$((last - first))
    bound=$((first / 10 > SOAK_FLAT_KB ? first / 10 : SOAK_FLAT_KB))
    if [ "$growth" -lt "$bound" ]; then flat=true; else flat=false; fi
    # least-squares slope of VmRSS over the later half of the samples (the
    # first minute's warm-up left out), in MB per hour
    trend=$(jq -r -s '.[(length / 2 | floor):][] | select(.rss_kb != null) | "\(.t) \(.rss_kb)"' "$SOAK_SAMPLES" | awk '
      { n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 }
      END { d = n * sxx - sx * sx; if (n < 2 || d == 0) print "-";
            else { v = (n * sxy - sx * sy) / d * 3600 / 1024; if (v > -0.005 && v < 0.005) v = 0;
                   printf "%.2f\n", v } }')
  fi
  if [ ${#lags[@]} -gt 0 ]; then
    p50=$(bench_percentile 50 "${lags[@]}")
    p99=$(bench_percentile 99 "${lags[@]}")
    lmax=$(bench_percentile 100 "${lags[@]}")
  fi
  echo
  echo "== SOAK: ${BENCH_TITLE[SOAK]}"
  [ -z "$SOAK_FAIL" ] || echo "did not complete: $SOAK_FAIL"
  echo "plugin: ${SOAK_R[plugin]:--}; $n samples over ${SOAK_R[load_seconds]:--} s of load"
  if [ ${#loads[@]} -gt 0 ]; then
    echo "machine: load average at the load's start ${SOAK_R[loadavg_load_start]:--}, at its end ${SOAK_R[loadavg_load_end]:--};" \
      "1-min load over the samples min $(soak_2f "$(bench_percentile 0 "${loads[@]}")") median $(soak_2f "$(bench_median "${loads[@]}")") max $(soak_2f "$(bench_max "${loads[@]}")");" \
      "CPU stolen by the host during the load ${SOAK_R[steal_seconds]:--} s"
  fi
  echo
  if [ -n "$first" ]; then
    if [ "$flat" = true ]; then v_rss=flat; else v_rss="NOT flat"; fi
    printf 'pgbaton start RSS (VmRSS, MB): before the load %s; first %s, last %s, max %s\n' \
      "$(soak_mb "${SOAK_R[rss_before_kb]:-}")" "$(soak_mb "$first")" "$(soak_mb "$last")" "$(soak_mb "$max")"
    printf '  last - first: %s MB (bound %s MB: 5 MB or 10 %% of first)   %s; least-squares trend over the later half of the samples %s MB/h\n' \
      "$(awk -v g="$growth" 'BEGIN { printf "%+.1f", g / 1024 }')" "$(soak_mb "$bound")" "$v_rss" "$trend"
  else
    echo "pgbaton start RSS: not measured"
  fi
  printf 'VmHWM at the end: %s MB; peak RSS (bench/rss.c, max of the process tree): %s MB   goal < 64 MB   %s\n' \
    "$(soak_mb "${SOAK_R[vmhwm_kb]:-}")" "$(soak_mb "${BENCH_RSS[SOAK]:-}")" \
    "$([ -n "${BENCH_RSS[SOAK]:-}" ] && { [ "${BENCH_RSS[SOAK]}" -lt 65536 ] && echo met || echo "NOT met"; } || echo "not measured")"
  if [ -n "$p99" ]; then
    if bench_lt "$p99" 1; then v_lag=met; else v_lag="NOT met"; fi
    printf 'lag_seconds (pgbaton status, every %s s): p50 %s, p99 %s, max %s (%s samples%s)   goal p99 < 1 s   %s\n' \
      "$SOAK_INTERVAL" "$p50" "$p99" "$lmax" "${#lags[@]}" "$([ "$nolag" -gt 0 ] && echo ", $nolag without a figure")" "$v_lag"
  else
    echo "lag_seconds: not measured"
  fi
  echo "pgbaton status: exit status non-zero (failed, stopped or stalled) in $unhealthy of $n samples"
  echo "after the load: lag below 1 s after ${SOAK_R[catchup_seconds]:--} s"
  echo "pgbench: ${SOAK_R[tps]:--} tps (rate $SOAK_RATE), ${SOAK_R[transactions]:--} transactions" \
    "(${SOAK_R[failed_transactions]:-0} failed), latency average ${SOAK_R[latency_ms]:--} ms, exit status ${SOAK_R[pgbench_exit]:--}"
  if [ ${#prog[@]} -gt 0 ]; then
    echo "  tps per $SOAK_INTERVAL s (pgbench -P): min $(soak_1f "$(bench_percentile 0 "${prog[@]}")"), median $(soak_1f "$(bench_median "${prog[@]}")"), max $(soak_1f "$(bench_max "${prog[@]}")") over ${#prog[@]} intervals"
  fi
  echo "cutover: write-unavailable ${SOAK_R[write_unavailable_ms]:--} ms"
  if [ -n "${SOAK_R[lost]:-}" ]; then
    if [ "${SOAK_R[lost]}" = 0 ]; then v_lost=met; else v_lost="NOT met"; fi
    if [ "${SOAK_R[sums_equal]}" = true ]; then v_sums=equal; else v_sums="DIFFER"; fi
    echo "compared ${SOAK_R[compared]}: pgbench_history rows source ${SOAK_R[source_rows]}, target ${SOAK_R[target_rows]}"
    printf 'lost transactions: %s   goal 0   %s\n' "${SOAK_R[lost]}" "$v_lost"
    printf 'sums of abalance tbalance bbalance: source %s, target %s   %s\n' \
      "${SOAK_R[source_sums]}" "${SOAK_R[target_sums]}" "$v_sums"
  else
    echo "lost transactions: not measured"
  fi
  # the figures as JSON members, the samples whole
  # shellcheck disable=SC2086 # lists of numbers
  BENCH_PARAMS["SOAK"]=$(jq -c -n \
    --argjson scale "${SOAK_R[scale]}" --argjson seconds "${SOAK_R[seconds]}" \
    --argjson interval "$SOAK_INTERVAL" --argjson rate "$SOAK_RATE" \
    --arg plugin_option "$SOAK_PLUGIN" --arg plugin "${SOAK_R[plugin]:-}" \
    --arg failure "$SOAK_FAIL" \
    --argjson rss_before "$(soak_num "${SOAK_R[rss_before_kb]:-}")" \
    --argjson rss_first "$(soak_num "$first")" --argjson rss_last "$(soak_num "$last")" \
    --argjson rss_max "$(soak_num "$max")" --argjson rss_growth "$(soak_num "$growth")" \
    --argjson rss_bound "$(soak_num "$bound")" --argjson rss_flat "${flat:-null}" \
    --argjson rss_trend "$(soak_num "$trend")" \
    --argjson rss_end "$(soak_num "${SOAK_R[rss_end_kb]:-}")" \
    --argjson vmhwm "$(soak_num "${SOAK_R[vmhwm_kb]:-}")" \
    --argjson p50 "$(soak_num "$p50")" --argjson p99 "$(soak_num "$p99")" \
    --argjson lmax "$(soak_num "$lmax")" --argjson nlag "${#lags[@]}" --argjson nolag "$nolag" \
    --argjson unhealthy "$unhealthy" \
    --argjson catchup "$(soak_num "${SOAK_R[catchup_seconds]:-}")" \
    --argjson load_seconds "$(soak_num "${SOAK_R[load_seconds]:-}")" \
    --argjson tps "$(soak_num "${SOAK_R[tps]:-}")" \
    --argjson latency "$(soak_num "${SOAK_R[latency_ms]:-}")" \
    --argjson txns "$(soak_num "${SOAK_R[transactions]:-}")" \
    --argjson failed_txns "$(soak_num "${SOAK_R[failed_transactions]:-}")" \
    --argjson pgbench_exit "$(soak_num "${SOAK_R[pgbench_exit]:-}")" \
    --argjson progress "$(bench_json_array ${SOAK_R[progress_tps]:-})" \
    --argjson unavail "$(soak_num "${SOAK_R[write_unavailable_ms]:-}")" \
    --arg compared "${SOAK_R[compared]:-}" \
    --argjson src_rows "$(soak_num "${SOAK_R[source_rows]:-}")" \
    --argjson tgt_rows "$(soak_num "${SOAK_R[target_rows]:-}")" \
    --argjson lost "$(soak_num "${SOAK_R[lost]:-}")" \
    --argjson sums_equal "${SOAK_R[sums_equal]:-null}" \
    --arg src_sums "${SOAK_R[source_sums]:-}" --arg tgt_sums "${SOAK_R[target_sums]:-}" \
    --arg load_start "${SOAK_R[loadavg_load_start]:-}" --arg load_end "${SOAK_R[loadavg_load_end]:-}" \
    --argjson steal "$(soak_num "${SOAK_R[steal_seconds]:-}")" \
    --slurpfile samples "$SOAK_SAMPLES" \
    '{seconds: $seconds, scale: $scale, rate: $rate, clients: 4, sample_interval_seconds: $interval,
      plugin_option: $plugin_option, plugin: (if $plugin == "" then null else $plugin end),
      failure: (if $failure == "" then null else $failure end),
      rss_before_load_kb: $rss_before, rss_first_kb: $rss_first, rss_last_kb: $rss_last,
      rss_max_kb: $rss_max, rss_growth_kb: $rss_growth, rss_flat_bound_kb: $rss_bound,
      rss_flat: $rss_flat, rss_trend_mb_per_hour: $rss_trend, rss_after_catchup_kb: $rss_end,
      vmhwm_kb: $vmhwm, lag_p50: $p50, lag_p99: $p99, lag_max: $lmax, lag_samples: $nlag,
      samples_without_lag: $nolag, samples_status_nonzero: $unhealthy, catchup_seconds: $catchup, load_seconds: $load_seconds,
      pgbench_tps: $tps, pgbench_latency_ms: $latency, pgbench_transactions: $txns,
      pgbench_failed_transactions: $failed_txns, pgbench_exit: $pgbench_exit,
      pgbench_progress_tps: $progress, write_unavailable_ms: $unavail,
      compared: (if $compared == "" then null else $compared end),
      source_history_rows: $src_rows, target_history_rows: $tgt_rows, lost_transactions: $lost,
      sums_equal: $sums_equal, source_sums: $src_sums, target_sums: $tgt_sums,
      loadavg_load_start: $load_start, loadavg_load_end: $load_end, steal_seconds: $steal,
      samples: $samples}' | sed 's/^{//; s/}$//')
}
