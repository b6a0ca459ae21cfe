#!/usr/bin/env bash
# Runs every benchmark and prints each figure beside its same-run baseline.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
"$ROOT/$BUILD/tests/bench/bench_foundation"
"$ROOT/$BUILD/tests/bench/bench_recorder"
"$ROOT/$BUILD/tests/bench/bench_graphical"
"$ROOT/$BUILD/tests/bench/bench_rfb"
"$ROOT/$BUILD/tests/bench/bench_export"
"$ROOT/$BUILD/tests/bench/bench_recordings"
"$ROOT/$BUILD/tests/bench/bench_ssh"
"$ROOT/$BUILD/tests/bench/bench_login"
if [ -x "$ROOT/$BUILD/tests/bench/bench_vnc" ]; then
  "$ROOT/$BUILD/tests/bench/bench_vnc"
  "$ROOT/$BUILD/tests/bench/bench_vnc" sessions 100
fi
