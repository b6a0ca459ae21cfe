#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build (`make fuzz`): each
# executable named fuzz_* under BUILD/tests, from a copy of its seed corpus
# tests/fuzz/corpus/NAME, with tests/fuzz/NAME.dict when that file exists.
# New targets join by following these names; nothing here lists them.
#
#   run_fuzzers.sh smoke BUILD   each target for FUZZ_SECONDS (10) or
#                                FUZZ_RUNS (300000) executions, whichever
#                                comes first, on a throw-away corpus copy
#   run_fuzzers.sh long BUILD    each target for FUZZ_MINUTES (10), on a
#                                corpus kept in BUILD/fuzz-corpus/NAME across
#                                campaigns; the figures go to FUZZ_REPORT
#                                (docs/fuzzing.md)
#
# FUZZ_TARGETS="fuzz_a fuzz_b" limits the run to those targets; FUZZ_JOBS
# (2) targets run at once. Fails when any target finds a crash, a memory
# error, undefined behaviour, a leak, a timeout (FUZZ_TIMEOUT, 10 s per
# input) or an out-of-memory (FUZZ_RSS_MB, 2048); then it prints the input
# in base64 and the command that reproduces it. The repository's seeds are
# never modified.
set -euo pipefail

MODE=${1:?usage: run_fuzzers.sh smoke|long BUILD_DIR}
BUILD=${2:?usage: run_fuzzers.sh smoke|long BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
FUZZ_JOBS=${FUZZ_JOBS:-2}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-10}
FUZZ_RSS_MB=${FUZZ_RSS_MB:-2048}
case "$MODE" in
  smoke)
    SECONDS_EACH=${FUZZ_SECONDS:-10}
    RUNS=${FUZZ_RUNS:-300000}
    ;;
  long)
    SECONDS_EACH=$(( ${FUZZ_MINUTES:-10} * 60 ))
    RUNS=
    REPORT=${FUZZ_REPORT:-$ROOT/docs/fuzzing.md}
    ;;
  *) echo "run_fuzzers.sh: mode is smoke or long, not '$MODE'" >&2; exit 2 ;;
esac

mapfile -t BINS < <(find "$BUILD/tests" -type f -name 'fuzz_*' -perm -u+x 2>/dev/null | sort)
if [ -n "${FUZZ_TARGETS:-}" ]; then
  wanted=" $FUZZ_TARGETS "
  kept=()
  for b in "${BINS[@]}"; do
    case "$wanted" in *" $(basename "$b") "*) kept+=("$b") ;; esac
  done
  BINS=("${kept[@]}")
fi
if [ ${#BINS[@]} -eq 0 ]; then
  echo "run_fuzzers.sh: no fuzz_* targets under $BUILD/tests (build them with 'make fuzz')" >&2
  exit 2
fi

WORK="$BUILD/fuzz-$MODE"
rm -rf "$WORK"
mkdir -p "$WORK"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

# run_one BIN: fuzzes one target; leaves WORK/NAME/{log,status,cmd,artifacts/}.
run_one() {
  local bin=$1 name dir corpus dict args rc=0
  name=$(basename "$bin")
  dir="$WORK/$name"
  mkdir -p "$dir/artifacts"
  if [ "$MODE" = long ]; then
    corpus="$BUILD/fuzz-corpus/$name"
  else
    corpus="$dir/corpus"
  fi
  mkdir -p "$corpus"
  if [ -d "$ROOT/tests/fuzz/corpus/$name" ]; then
    cp -n "$ROOT/tests/fuzz/corpus/$name"/* "$corpus"/ 2>/dev/null || true
  fi
  args=(-max_total_time="$SECONDS_EACH" -timeout="$FUZZ_TIMEOUT" -rss_limit_mb="$FUZZ_RSS_MB"
        -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$dir/artifacts/")
  [ -n "$RUNS" ] && args+=(-runs="$RUNS")
  dict="$ROOT/tests/fuzz/$name.dict"
  [ -f "$dict" ] && args+=(-dict="$dict")
  echo "$bin" >"$dir/bin"
  local start=$SECONDS
  (cd "$dir" && "$bin" "${args[@]}" "$corpus") >"$dir/log" 2>&1 || rc=$?
  echo "$rc $((SECONDS - start))" >"$dir/status"
}

echo "fuzz-$MODE: ${#BINS[@]} targets, ${SECONDS_EACH}s each${RUNS:+ or $RUNS runs}, $FUZZ_JOBS at a time"
for bin in "${BINS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$FUZZ_JOBS" ]; do wait -n || true; done
  run_one "$bin" &
done
wait

# final_stat NAME KEY: one of libFuzzer's final stats (stat::KEY: value).
final_stat() { sed -n "s/^stat::$2: *//p" "$WORK/$1/log" | tail -1 || true; }
# last_field NAME KEY: the last "KEY: N" of libFuzzer's progress lines.
last_field() { { grep -ao "$2: [0-9]*" "$WORK/$1/log" || true; } | tail -1 | cut -d' ' -f2; }

failed=()
rows=()
printf '%-24s %-10s %12s %9s %7s %7s %8s %7s %6s\n' target result execs exec/s cov ft corpus rss_mb secs
for bin in "${BINS[@]}"; do
  name=$(basename "$bin")
  dir="$WORK/$name"
  read -r rc secs <"$dir/status"
  execs=$(final_stat "$name" number_of_executed_units)
  eps=$(final_stat "$name" average_exec_per_sec)
  rss=$(final_stat "$name" peak_rss_mb)
  cov=$(last_field "$name" cov)
  ft=$(last_field "$name" ft)
  if [ "$MODE" = long ]; then corpus="$BUILD/fuzz-corpus/$name"; else corpus="$dir/corpus"; fi
  files=$(find "$corpus" -type f | wc -l)
  result=ok
  kinds=$(find "$dir/artifacts" -type f ! -name 'slow-unit-*' -printf '%f\n' | sed 's/-.*//' | sort -u |
          paste -sd, -)
  if [ "$rc" -ne 0 ] || [ -n "$kinds" ]; then
    result="FAIL:${kinds:-exit$rc}"
    failed+=("$name")
  fi
  printf '%-24s %-10s %12s %9s %7s %7s %8s %7s %6s\n' "$name" "$result" "${execs:-?}" "${eps:-?}" \
    "${cov:-?}" "${ft:-?}" "$files" "${rss:-?}" "$secs"
  rows+=("$name|$result|${execs:-?}|${eps:-?}|${cov:-?}|${ft:-?}|$files|${rss:-?}|$secs")
done

for name in "${failed[@]}"; do
  dir="$WORK/$name"
  bin=$(cat "$dir/bin")
  rel="${bin#"$ROOT"/}"
  echo
  echo "===== $name FAILED; the end of its log ($dir/log):"
  tail -n 60 "$dir/log"
  for a in "$dir"/artifacts/*; do
    [ -f "$a" ] || continue
    case "$(basename "$a")" in slow-unit-*) continue ;; esac
    size=$(wc -c <"$a")
    echo "----- input $(basename "$a") ($size bytes), base64:"
    base64 -w 76 "$a" | head -c 65536
    echo
    echo "----- reproduce it (from the repository root, after 'make fuzz'):"
    if [ "$size" -le 1024 ]; then
      echo "  echo '$(base64 -w 0 "$a")' | base64 -d >/tmp/$name.input"
    else
      echo "  base64 -d >/tmp/$name.input  # paste the base64 above, then Ctrl-D"
    fi
    echo "  $rel -timeout=$FUZZ_TIMEOUT -rss_limit_mb=$FUZZ_RSS_MB /tmp/$name.input"
    echo "  (the input is also kept at $a)"
  done
done

if [ "$MODE" = long ]; then
  python3 "$ROOT/tests/fuzz/fuzz_report.py" "$REPORT" "$SECONDS_EACH" "${rows[@]}"
  echo "fuzz-long: results written to $REPORT"
fi

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz-$MODE: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz-$MODE: all ${#BINS[@]} targets clean"
