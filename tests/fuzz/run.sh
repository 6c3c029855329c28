#!/usr/bin/env bash
# Build the libFuzzer targets (clang, JF_FUZZ=ON) and run each in turn from
# its seed corpus: tests/fuzz/run.sh [SECONDS | -runs=N] [TARGET…]
# (default 20 s each, every target). New inputs are kept under the build
# directory, never in the seeds; a crash, leak, sanitizer report or broken
# invariant leaves its input in $FUZZ_BUILD/artifacts and fails the run.
# Each target runs alone (the machine's cores are shared): see README.md.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

FUZZ_BUILD=${JF_FUZZ_BUILD_DIR:-$JF_ROOT/build-fuzz}
LIMIT=${1:-20}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(fuzz_token fuzz_body fuzz_idcard fuzz_csv_load)
case $LIMIT in
-runs=*) budget=$LIMIT ;;
*[!0-9]* | "") die "usage: $0 [SECONDS | -runs=N] [TARGET…]" ;;
*) budget=-max_total_time=$LIMIT ;;
esac

say "building the fuzz targets ($FUZZ_BUILD)"
cmake -S "$JF_ROOT" -B "$FUZZ_BUILD" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
    -DJF_FUZZ=ON >/dev/null
cmake --build "$FUZZ_BUILD" --target "${TARGETS[@]}" -j "$(nproc)" >/dev/null

mkdir -p "$FUZZ_BUILD/artifacts"
status=0
for t in "${TARGETS[@]}"; do
    seeds=$JF_ROOT/tests/fuzz/corpus/${t#fuzz_}
    work=$FUZZ_BUILD/corpus/${t#fuzz_}
    mkdir -p "$work"
    log=$FUZZ_BUILD/$t.log
    say "$t: $budget"
    # -max_len: tokens stop at 4 KiB, bodies and files are exercised well
    # below their caps; leaks are reported at the end of each input.
    if "$FUZZ_BUILD/tests/fuzz/$t" "$budget" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$FUZZ_BUILD/artifacts/$t-" \
        "$work" "$seeds" >"$log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^Done' "$log" >&2 || true
    else
        tail -40 "$log" >&2
        status=1
    fi
done
exit "$status"
