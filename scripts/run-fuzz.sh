#!/usr/bin/env bash
# scripts/run-fuzz.sh — make fuzz's runner: BUILD SECONDS TARGET...
#
# For each target (BUILD/fuzz/fuzz_<name>, built by make):
#   1. replays every input in fuzz/regressions/<name>/ once: each crashed
#      once and was fixed, so each must pass;
#   2. fuzzes for SECONDS on BUILD/corpus/<name>/, where fuzz/corpus/<name>/
#      is copied first (the repository's corpus is only read; what libFuzzer
#      adds stays in BUILD and grows over local runs).
# A crash, sanitizer report, leak or timeout fails the run: the message names
# the target and the input, which libFuzzer writes to BUILD/artifacts/<name>/.
# Each target's output is in BUILD/logs/<name>.log; its last figures
# (executions, coverage, corpus) are printed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 3 ]; then
  echo "usage: $0 BUILD SECONDS TARGET..." >&2
  exit 2
fi
build=$1 seconds=$2
shift 2

# Our own settings, not those of the shell that runs make: leaks count, and
# the first UBSan report stops the run (it is also built not to recover).
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# The log without libFuzzer's progress lines (#N NEW, REDUCE, pulse).
report() {
  grep -v '^#[0-9]' "$1" | tail -n 80 >&2 || true
}

for t in "$@"; do
  bin=$build/fuzz/fuzz_$t
  artifacts=$build/artifacts/$t
  corpus=$build/corpus/$t
  log=$build/logs/$t.log
  mkdir -p "$artifacts" "$corpus" "$build/logs"

  shopt -s nullglob
  regressions=(fuzz/regressions/"$t"/*)
  shopt -u nullglob
  if [ ${#regressions[@]} -gt 0 ]; then
    if ! "$bin" -artifact_prefix="$artifacts/" "${regressions[@]}" >"$log" 2>&1; then
      report "$log"
      input=$(grep '^Running: ' "$log" | tail -n 1 | sed 's/^Running: //')
      echo "fuzz: $t fails on its regression input $input (log: $log)" >&2
      exit 1
    fi
    echo "== fuzz $t: ${#regressions[@]} regression inputs pass"
  fi

  cp -R "fuzz/corpus/$t/." "$corpus/"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1; then
    report "$log"
    input=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
    echo "fuzz: $t failed; the input is ${input:-not written (see $log)}" >&2
    echo "fuzz: replay it with $bin ${input:-<input>}; once fixed, add it to fuzz/regressions/$t/" >&2
    exit 1
  fi
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
  echo "== fuzz $t: ${done_line:-finished (no DONE line in $log)}"
done
