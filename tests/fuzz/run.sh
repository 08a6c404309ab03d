#!/usr/bin/env bash
# run.sh FUZZER SEEDS WORK SECONDS: runs the snapshot loader's fuzz target
# for SECONDS over the seed corpus SEEDS (read only) and the inputs it finds
# (kept in WORK, emptied first). Exit status 0 if it found nothing; on a
# crash, libFuzzer leaves the input as WORK/crash-* and prints how to replay
# it: FUZZER WORK/crash-*. ctest runs it briefly (tests/fuzz/fuzz.cmake).
set -euo pipefail
fuzzer=${1:?usage: run.sh FUZZER SEEDS WORK SECONDS}
seeds=${2:?}
work=${3:?}
seconds=${4:?}
rm -rf "$work"
mkdir -p "$work/corpus"
cd "$work"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
  -print_final_stats=1 "$work/corpus" "$seeds"
