#!/bin/sh
# Runs every libFuzzer target for a while on a copy of its corpus; a crash fails the run and
# leaves the input in tests/fuzz/artifacts/.
set -eu
build=$1
seconds=${2:-60}
root=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$root/artifacts"
for target in decode lineproto prom dns k8s; do
    work=$(mktemp -d)
    cp "$root/corpus/$target/"* "$work/"
    echo "fuzz_$target: ${seconds}s"
    if ! "$build/fuzz_$target" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$root/artifacts/$target-" "$work" >"$work.log" 2>&1; then
        tail -n 40 "$work.log"
        echo "fuzz_$target: crashed; input saved under tests/fuzz/artifacts/" >&2
        exit 1
    fi
    tail -n 8 "$work.log"
    rm -rf "$work" "$work.log"
done
echo "fuzz: no crashes"
