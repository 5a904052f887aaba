#!/usr/bin/env bash
# run.sh: benchmarks nstats against a bare libpcap read loop, darkstat and softflowd on synthetic captures.
#
# Usage: bench/run.sh BUILD_DIR
#   BUILD_DIR holds the built nstats, pcapgen, pcapread and export_bench binaries.
#
# Environment:
#   BENCH_DIR=/tmp/nstats-bench  where captures, ledgers and logs live; captures
#                                are reused while their parameters and the
#                                pcapgen binary stay the same
#   BENCH_ROUNDS=5               interleaved rounds per tool
#   BENCH_SKIP_NSTATS=1          stand pcapread in for a missing nstats (testing
#                                this script only; the numbers then mean nothing)
#   BENCH_SKIP_DARKSTAT=1        leave darkstat out
#   BENCH_SKIP_SOFTFLOWD=1       leave softflowd out
#   PYTHON=/usr/bin/python3      interpreter for the measuring helper
#
# Nothing here touches the network: darkstat in -r mode opens no socket, and
# softflowd runs without -n, its statistics-only mode, so it exports nothing.
set -euo pipefail

if [[ $# -ne 1 || ! -d $1 ]]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
BUILD_DIR=$(cd "$1" && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/nstats-bench}
ROUNDS=${BENCH_ROUNDS:-5}
PYTHON=${PYTHON:-/usr/bin/python3}
if [[ ! -x $PYTHON ]]; then
    PYTHON=$(command -v python3) || {
        echo "run.sh: python3 is needed to measure runs" >&2
        exit 1
    }
fi
# darkstat and softflowd install into sbin, which a non-login PATH may lack.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

die() {
    echo "run.sh: $*" >&2
    exit 1
}

need_exe() {
    [[ -x $1 ]] || die "$1 is missing (build it first)"
}

PCAPGEN=$BUILD_DIR/pcapgen
PCAPREAD=$BUILD_DIR/pcapread
NSTATS=$BUILD_DIR/nstats
need_exe "$PCAPGEN"
need_exe "$PCAPREAD"
NSTATS_LABEL=nstats
if [[ ${BENCH_SKIP_NSTATS:-0} == 1 ]]; then
    echo "run.sh: BENCH_SKIP_NSTATS=1: pcapread stands in for nstats; its numbers are not nstats'" >&2
    NSTATS_LABEL='nstats*'
else
    need_exe "$NSTATS"
fi
DARKSTAT=
if [[ ${BENCH_SKIP_DARKSTAT:-0} != 1 ]]; then
    DARKSTAT=$(command -v darkstat) || die "darkstat not found (apt-get install darkstat, or BENCH_SKIP_DARKSTAT=1)"
fi
SOFTFLOWD=
if [[ ${BENCH_SKIP_SOFTFLOWD:-0} != 1 ]]; then
    SOFTFLOWD=$(command -v softflowd) || die "softflowd not found (apt-get install softflowd, or BENCH_SKIP_SOFTFLOWD=1)"
fi

mkdir -p "$BENCH_DIR/logs"
RESULTS=$BENCH_DIR/results.tsv
: >"$RESULTS"

# Runs one command and appends "label<TAB>wall_s<TAB>maxrss_kib<TAB>cpu_s" to $RESULTS.
# wait4() gives the peak RSS of exactly that child, which RUSAGE_CHILDREN
# deltas cannot (ru_maxrss there is a maximum over all children, not a sum).
MEASURE_PY='
import os, sys, time
results, label, out_path, err_path = sys.argv[1:5]
cmd = sys.argv[5:]
out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
err_fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
actions = [(os.POSIX_SPAWN_DUP2, out_fd, 1), (os.POSIX_SPAWN_DUP2, err_fd, 2)]
t0 = time.perf_counter()
pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=actions)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - t0
code = os.waitstatus_to_exitcode(status)
if code != 0:
    shown = " ".join(cmd)
    sys.stderr.write(f"run.sh: {label} exited with {code}: {shown} (see {err_path})\n")
    sys.exit(1)
cpu = usage.ru_utime + usage.ru_stime
with open(results, "a") as f:
    f.write(f"{label}\t{wall:.6f}\t{usage.ru_maxrss}\t{cpu:.6f}\n")
'

# measure LABEL STDOUT_FILE -- CMD...
measure() {
    local label=$1 out=$2
    shift 3
    local err
    err=$BENCH_DIR/logs/$(printf '%s' "$label" | tr -c 'A-Za-z0-9_.-' '_').err
    "$PYTHON" -c "$MEASURE_PY" "$RESULTS" "$label" "$out" "$err" "$@"
}

# gen_capture NAME PCAPGEN_ARGS...: makes $BENCH_DIR/NAME.pcap and NAME.csv
# unless an earlier run left them with the same arguments and generator.
gen_capture() {
    local name=$1
    shift
    local pcap=$BENCH_DIR/$name.pcap ledger=$BENCH_DIR/$name.csv stamp=$BENCH_DIR/$name.stamp
    local want
    want="$* $(sha256sum <"$PCAPGEN" | cut -d' ' -f1)"
    if [[ -f $pcap && -f $ledger && -f $stamp && $(<"$stamp") == "$want" ]]; then
        echo "reusing $pcap"
        return
    fi
    rm -f "$stamp"
    echo "generating $pcap: pcapgen $*"
    local t0=$SECONDS
    "$PCAPGEN" --out "$pcap.tmp" --ledger "$ledger.tmp" "$@"
    mv "$pcap.tmp" "$pcap"
    mv "$ledger.tmp" "$ledger"
    echo "$want" >"$stamp"
    echo "generated in $((SECONDS - t0)) s"
}

# Sums a ledger into "packets bytes keys".
ledger_totals() {
    awk -F, 'NR > 1 { p += $7 + $8; b += $5 + $6; k++ } END { printf "%.0f %.0f %.0f\n", p, b, k }' "$1"
}

# Reads the file once so every timed run starts from a warm page cache, and
# checks the baseline agrees with the ledger before anything is timed.
warm_and_check() {
    local pcap=$1 ledger=$2
    cat "$pcap" >/dev/null
    local seen want
    seen=$("$PCAPREAD" "$pcap")
    want=$(ledger_totals "$ledger" | cut -d' ' -f1,2)
    [[ $seen == "$want" ]] || die "pcapread saw '$seen' in $pcap but the ledger says '$want'"
}

# nstats_argv PCAP ARGS...: sets NSTATS_ARGV to the nstats command line for PCAP.
nstats_argv() {
    if [[ ${BENCH_SKIP_NSTATS:-0} == 1 ]]; then
        NSTATS_ARGV=("$PCAPREAD" "$1")
    else
        NSTATS_ARGV=("$NSTATS" -r "$@")
    fi
}

# ---- The main comparison ------------------------------------------------------------

MAIN_ARGS=(--packets 5000000 --peers 50000 --seed 1 --linktype en10mb --ipv6-frac 0.3
    --udp-frac 0.3 --vlan-frac 0.2 --qinq-frac 0.05)
gen_capture main "${MAIN_ARGS[@]}"
MAIN=$BENCH_DIR/main.pcap
warm_and_check "$MAIN" "$BENCH_DIR/main.csv"

# nstats and the two peers are all sized for about 100k entries: darkstat
# keeps every host (this capture has about 100k: 50k peers, IPv4 and IPv6),
# softflowd tracks up to 100k flows before it expires the oldest.
nstats_argv "$MAIN" --local-net 198.18.0.1/32 --local-net 2001:db8::1/128 --max-flows 100000
NSTATS_MAIN=("${NSTATS_ARGV[@]}")
TOOLS=(pcapread "$NSTATS_LABEL")
[[ -n $DARKSTAT ]] && TOOLS+=(darkstat)
[[ -n $SOFTFLOWD ]] && TOOLS+=(softflowd)

echo "timing ${TOOLS[*]}: $ROUNDS interleaved rounds on $MAIN"
for ((round = 1; round <= ROUNDS; round++)); do
    for tool in "${TOOLS[@]}"; do
        case $tool in
        pcapread)
            measure pcapread "$BENCH_DIR/logs/pcapread.out" -- "$PCAPREAD" "$MAIN"
            ;;
        nstats*)
            measure "$NSTATS_LABEL" /dev/null -- "${NSTATS_MAIN[@]}"
            ;;
        darkstat)
            measure darkstat "$BENCH_DIR/logs/darkstat.out" -- "$DARKSTAT" -r "$MAIN" \
                --no-dns --no-macs --hosts-max 200000 --hosts-keep 100000
            ;;
        softflowd)
            measure softflowd "$BENCH_DIR/logs/softflowd.out" -- "$SOFTFLOWD" -r "$MAIN" \
                -d -6 -m 100000
            ;;
        esac
    done
    echo "  round $round/$ROUNDS done"
done

# ---- nstats against a million distinct peers, at its default --max-flows ------------

MANY_ARGS=(--packets 2000000 --peers 1000000 --uniform --seed 2 --linktype en10mb
    --ipv6-frac 0.3 --udp-frac 0.3)
gen_capture many "${MANY_ARGS[@]}"
MANY=$BENCH_DIR/many.pcap
warm_and_check "$MANY" "$BENCH_DIR/many.csv"
nstats_argv "$MANY" --local-net 198.18.0.1/32 --local-net 2001:db8::1/128
NSTATS_MANY=("${NSTATS_ARGV[@]}")
echo "timing $NSTATS_LABEL: $ROUNDS rounds on $MANY"
for ((round = 1; round <= ROUNDS; round++)); do
    measure "$NSTATS_LABEL@many" /dev/null -- "${NSTATS_MANY[@]}"
done
# Memory per key: the same capture with room for 100,000 and for every one of its 1,000,000
# keys; the difference in peak RSS over the 900,000 more keys (table, interval rows, names).
# Live rates (120 bytes a key) are filled only live, so they are not in it.
if [[ ${BENCH_SKIP_NSTATS:-0} != 1 ]]; then
    for keys in 100000 1000000; do
        nstats_argv "$MANY" --local-net 198.18.0.1/32 --local-net 2001:db8::1/128 \
            --max-flows "$keys"
        measure "$NSTATS_LABEL@keys$keys" /dev/null -- "${NSTATS_ARGV[@]}"
    done
fi

# ---- Report ----------------------------------------------------------------------------

REPORT_PY='
import statistics, sys
results, nstats_label, main_info, many_info = sys.argv[1:5]
runs = {}
for line in open(results):
    label, wall, rss, cpu = line.split("\t")
    runs.setdefault(label, []).append((float(wall), int(rss), float(cpu)))
med = {k: (statistics.median(w for w, _, _ in v), statistics.median(r for _, r, _ in v) / 1024.0,
           statistics.median(c for _, _, c in v))
       for k, v in runs.items()}
packets = int(main_info.split()[0])
print()
print("capture: %s packets, %s bytes (sum of len), %s ledger keys" % tuple(main_info.split()))
print("%-12s %8s %8s %8s %9s %10s %8s" % ("tool", "wall_s", "min_s", "max_s", "Mpkt/s",
      "rss_MiB", "cpu_s"))
for label in runs:
    if "@" in label:
        continue
    walls = [w for w, _, _ in runs[label]]
    print("%-12s %8.3f %8.3f %8.3f %9.2f %10.1f %8.3f" % (label, med[label][0], min(walls),
          max(walls), packets / med[label][0] / 1e6, med[label][1], med[label][2]))
print("medians of %d runs each, interleaved round robin" % len(runs["pcapread"]))
print()
def ratio(a, b):
    if a in med and b in med:
        print("%-22s wall %6.2fx   rss %6.2fx   cpu %6.2fx" % (a + "/" + b,
              med[a][0] / med[b][0], med[a][1] / med[b][1], med[a][2] / med[b][2]))
ratio(nstats_label, "pcapread")
ratio("darkstat", nstats_label)
ratio("softflowd", nstats_label)
many = nstats_label + "@many"
if many in med:
    print()
    print("many peers: %s packets, %s bytes, %s ledger keys, 1000000 peers, default --max-flows"
          % tuple(many_info.split()))
    print("%-12s wall %.3f s (median of %d), peak RSS %.1f MiB (max %.1f MiB)" % (
          nstats_label, med[many][0], len(runs[many]), med[many][1],
          max(r for _, r, _ in runs[many]) / 1024.0))
small, big = nstats_label + "@keys100000", nstats_label + "@keys1000000"
if small in med and big in med:
    print("memory per key: peak RSS %.1f MiB at --max-flows 100000, %.1f MiB at 1000000: "
          "%.0f bytes a key (without live rates, 120 more)" % (med[small][1], med[big][1],
          (med[big][1] - med[small][1]) * 1048576 / 900000))
if nstats_label.endswith("*"):
    print()
    print("* BENCH_SKIP_NSTATS=1: pcapread stood in for nstats")
'
"$PYTHON" -c "$REPORT_PY" "$RESULTS" "$NSTATS_LABEL" "$(ledger_totals "$BENCH_DIR/main.csv")" \
    "$(ledger_totals "$BENCH_DIR/many.csv")" | tee "$BENCH_DIR/report.txt"

# nstats reads files on a second thread, so its wall time is less than its CPU time; the cpu
# column and ratios show both. meter_bench prices the per-packet path alone (no reading).
echo
echo "nstats reads a file on a second thread: wall time overlaps reading and counting, cpu time adds them" |
    tee -a "$BENCH_DIR/report.txt"
if [[ -x "$BUILD_DIR/meter_bench" && ${BENCH_SKIP_NSTATS:-0} != 1 ]]; then
    "$BUILD_DIR/meter_bench" "$MAIN" 198.18.0.1/32 2001:db8::1/128 | tee -a "$BENCH_DIR/report.txt"
fi

# Export costs: encoding and compressing one interval of 10,000 rows, rendering /metrics for
# 100,000 series, and 2,500 keys' series in every push format: line protocol, the text, remote
# write, OTLP (CPU time, medians, from the same build).
if [[ -x "$BUILD_DIR/export_bench" ]]; then
    "$BUILD_DIR/export_bench" | tee -a "$BENCH_DIR/report.txt"
fi

# Reading the local listening sockets as the host's connections grow: sock_diag asks for
# listening sockets only, /proc/net lists every socket (CPU time including the kernel's).
if [[ -x "$BUILD_DIR/listeners_bench" ]]; then
    "$BUILD_DIR/listeners_bench" | tee -a "$BENCH_DIR/report.txt"
fi

# ---- Live: nstats against tcpdump on a veth (bench/live.sh: root; BENCH_SKIP_LIVE=1 skips) ----

"$(dirname "${BASH_SOURCE[0]}")/live.sh" "$BUILD_DIR" | tee -a "$BENCH_DIR/report.txt"

# ---- Headline: issue 15's goals against this run, read back from report.txt ----------------

HEADLINE_PY='
import re, sys
text = open(sys.argv[1]).read()
def find(pattern):
    m = re.search(pattern, text, re.M)
    return m.groups() if m else None
def verdict(value, goal):
    return "met" if value <= goal else "NOT met (the gap and its cause: bench/README.md)"
print()
print("headline: issue 15 goals, this run")
cpu = find(r"^nstats\S*/pcapread\s+wall\s+\S+\s+rss\s+\S+\s+cpu\s+([0-9.]+)x")
if cpu:
    r = float(cpu[0])
    print("  file: CPU time %.2fx a bare libpcap loop (goal <= 1.5x): %s" % (r, verdict(r, 1.5)))
live = find(r"^nstats/tcpdump CPU per packet: ([0-9.]+)x")
drops = find(r"^drops per round: nstats ([0-9 ]+);")
if live:
    r = float(live[0])
    d = sum(int(x) for x in drops[0].split()) if drops else -1
    print("  live: CPU per packet %.2fx tcpdump (goal <= 1.5x): %s; nstats drops %d%s" % (
          r, verdict(r, 1.5), d, "" if d == 0 else " (goal 0: NOT met)"))
else:
    print("  live: not run (BENCH_SKIP_LIVE=1, or not root)")
row = find(r"^\s+25000\s+\d+\s+[0-9.]+\s+([0-9.]+)\s+\d+\s+\d+\s+([0-9.]+)")
if row:
    ms, per = float(row[0]), float(row[1])
    print("  /metrics, 25,000 keys: render %.2f ms with names steady (goal <= 5 ms): %s" % (
          ms, verdict(ms, 5)))
    print("  /metrics, 25,000 keys: %.1f bytes a series (goal <= 60): %s" % (per, verdict(per, 60)))
mem = find(r"^memory per key: .*: (\d+) bytes a key")
if mem:
    b = int(mem[0])
    print("  memory: %d bytes a key (goal <= 128): %s" % (b, verdict(b, 128)))
'
"$PYTHON" -c "$HEADLINE_PY" "$BENCH_DIR/report.txt" | tee -a "$BENCH_DIR/report.txt"
