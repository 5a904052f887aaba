#!/bin/sh
# Runs every libFuzzer target for a while on a copy of its corpus and states the coverage each
# reached (libFuzzer's last "cov:" and "ft:": edges and features of the instrumented library);
# a crash fails the run and leaves the input in tests/fuzz/artifacts/.
set -eu
build=$1
seconds=${2:-60}
root=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$root/artifacts"
summary=""
for target in decode lineproto prom dns k8s api pcapfile promwrite; do
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
    # The last status line, e.g. "#1234567  DONE   cov: 155 ft: 549 corp: 232/10919b ...".
    cov=$(grep -E '^#[0-9]+.* cov: [0-9]+ ft: [0-9]+' "$work.log" | tail -n 1 |
        sed -E 's/^#([0-9]+).* cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*/runs \1, cov \2, ft \3, corpus \4/')
    line="fuzz_$target: ${cov:-no coverage reported} (seeds $(ls "$root/corpus/$target" | wc -l))"
    echo "$line"
    summary="$summary$line
"
    rm -rf "$work" "$work.log"
done
printf '%s' "$summary"
echo "fuzz: no crashes"
