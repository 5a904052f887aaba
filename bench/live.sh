#!/usr/bin/env bash
# live.sh: the live CPU cost of nstats against tcpdump -w /dev/null, capturing a veth at the highest packet rate here.
#
# Usage: bench/live.sh BUILD_DIR      (as root: it makes a network namespace and a veth pair)
#   BUILD_DIR holds the built nstats, pcapgen and pktblast (bench/pktblast.c).
#
# Environment:
#   BENCH_DIR=/tmp/nstats-bench  where the capture, the raw results and logs live
#   BENCH_ROUNDS=5               interleaved rounds per capturer
#   BENCH_SKIP_LIVE=1            skip this benchmark
#   BENCH_LIVE_SECONDS=4         how long the generator sends to each capturer a round
#   BENCH_LIVE_PPS=0             generator rate in packets/s; 0 sends as fast as it can
#   BENCH_LIVE_LOCK=/tmp/nstats-netns.lock  taken while the namespace exists (others' netns
#                                tests share the machine)
#   PYTHON=/usr/bin/python3      interpreter for the measuring helper
#
# What it does: a namespace with a quiet veth pair (the peer end in the namespace, which
# forwards nothing and answers nothing), a small pcapgen capture replayed by pktblast out of
# the host end on one CPU, and on another CPU, in turn, either
#   nstats -i VETH --buffer-size 4MiB --listen 127.0.0.1:PORT >/dev/null
#   tcpdump -i VETH -w /dev/null -s 128 -B 4096
# (the same snaplen and ring: nstats' defaults), both at nice -10 as the generator. CPU time is user + system of the capturer's
# whole thread group from /proc/PID/stat, from just before the generator starts until the
# ring has drained after it stops, divided by the packets the veth carried meanwhile.
# Traffic stays on the veth: every frame is addressed to the peer end, whose namespace
# drops it (no forwarding, blackhole routes, static neighbours).
set -euo pipefail

if [[ $# -ne 1 || ! -d $1 ]]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
BUILD_DIR=$(cd "$1" && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/nstats-bench}
ROUNDS=${BENCH_ROUNDS:-5}
SECONDS_PER_ROUND=${BENCH_LIVE_SECONDS:-4}
PPS=${BENCH_LIVE_PPS:-0}
LOCK=${BENCH_LIVE_LOCK:-/tmp/nstats-netns.lock}
PYTHON=${PYTHON:-/usr/bin/python3}
if [[ ! -x $PYTHON ]]; then
    PYTHON=$(command -v python3) || {
        echo "live.sh: python3 is needed to measure runs" >&2
        exit 1
    }
fi
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

skip() {
    echo "live: skipped: $*"
    exit 0
}

die() {
    echo "live.sh: $*" >&2
    exit 1
}

[[ ${BENCH_SKIP_LIVE:-0} == 1 ]] && skip "BENCH_SKIP_LIVE=1"
[[ ${BENCH_SKIP_NSTATS:-0} == 1 ]] && skip "BENCH_SKIP_NSTATS=1 (there is no nstats to measure)"
[[ $(id -u) -eq 0 ]] || skip "needs root (a network namespace, a veth pair and packet capture); run as root, or BENCH_SKIP_LIVE=1"

# The generator and the capturer each get a CPU of their own: the first two this process may use.
read -r GEN_CPU CAP_CPU < <("$PYTHON" -c 'import os; c = sorted(os.sched_getaffinity(0)); print(*c[:2])') || true
[[ -n ${CAP_CPU:-} ]] || skip "needs two CPUs (one for the generator, one for the capturer)"

NSTATS=$BUILD_DIR/nstats
PCAPGEN=$BUILD_DIR/pcapgen
[[ -x $NSTATS ]] || die "$NSTATS is missing (build it first)"
[[ -x $PCAPGEN ]] || die "$PCAPGEN is missing (build it first)"
TCPDUMP=$(command -v tcpdump) || die "tcpdump not found (apt-get install tcpdump)"
command -v ip >/dev/null || die "ip not found (apt-get install iproute2)"
command -v taskset >/dev/null || die "taskset not found (util-linux)"

mkdir -p "$BENCH_DIR/logs"

PKTBLAST=$BUILD_DIR/pktblast
[[ -x $PKTBLAST ]] || die "$PKTBLAST not built (cmake --build $BUILD_DIR --target pktblast)"

# The replayed capture: 100,000 frames of pcapgen's Zipf mix over 1,000 peers (about 12,000
# keys, under nstats' default --max-flows), each at most 128 bytes (pcapgen's snaplen): small
# frames give the highest packet rate. pktblast loops over it.
LIVE_PCAP=$BENCH_DIR/live.pcap
LIVE_ARGS=(--packets 100000 --peers 1000 --seed 3 --linktype en10mb --ipv6-frac 0.3 --udp-frac 0.3)
want="${LIVE_ARGS[*]} $(sha256sum <"$PCAPGEN" | cut -d' ' -f1)"
if [[ ! -f $LIVE_PCAP || ! -f $BENCH_DIR/live.stamp || $(<"$BENCH_DIR/live.stamp") != "$want" ]]; then
    "$PCAPGEN" --out "$LIVE_PCAP" --ledger "$BENCH_DIR/live.csv" "${LIVE_ARGS[@]}" 2>/dev/null
    echo "$want" >"$BENCH_DIR/live.stamp"
fi

# ---- The namespace, held under the shared lock ---------------------------------------------

exec 9>>"$LOCK"
if ! flock -n 9; then
    echo "live: waiting for $LOCK (another netns run is on)"
    flock 9
fi

TAG=$$
NS=nstats-bench-$TAG
HOST_IF=nsbl${TAG}a
PEER_IF=nsbl${TAG}b
HOST_IF=${HOST_IF:0:15}
PEER_IF=${PEER_IF:0:15}
in_ns() {
    ip netns exec "$NS" "$@"
}

cleanup() {
    local pid
    for pid in $(jobs -p); do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    ip link del "$HOST_IF" 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS"
ip link add "$HOST_IF" type veth peer name "$PEER_IF"
ip link set "$PEER_IF" netns "$NS"
ip link set "$HOST_IF" addrgenmode none
in_ns ip link set "$PEER_IF" addrgenmode none
sysctl -qw "net.ipv6.conf.$HOST_IF.accept_ra=0" "net.ipv6.conf.$HOST_IF.router_solicitations=0"
in_ns sysctl -qw "net.ipv6.conf.$PEER_IF.accept_ra=0" "net.ipv6.conf.$PEER_IF.router_solicitations=0"
in_ns sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
ip addr add 198.18.0.1/24 dev "$HOST_IF"
ip addr add 2001:db8::1/64 dev "$HOST_IF" nodad
in_ns ip addr add 198.18.0.2/24 dev "$PEER_IF"
in_ns ip addr add 2001:db8::2/64 dev "$PEER_IF" nodad
ip link set "$HOST_IF" up
in_ns ip link set "$PEER_IF" up
in_ns ip link set lo up
HOST_MAC=$(<"/sys/class/net/$HOST_IF/address")
PEER_MAC=$(in_ns cat "/sys/class/net/$PEER_IF/address")
ip neigh replace 198.18.0.2 lladdr "$PEER_MAC" dev "$HOST_IF" nud permanent
ip neigh replace 2001:db8::2 lladdr "$PEER_MAC" dev "$HOST_IF" nud permanent
in_ns ip neigh replace 198.18.0.1 lladdr "$HOST_MAC" dev "$PEER_IF" nud permanent
in_ns ip neigh replace 2001:db8::1 lladdr "$HOST_MAC" dev "$PEER_IF" nud permanent
# The replayed peers (198.19.0.0/16, 198.18.128.0/17, 2001:db8:1::/48) are routed nowhere in
# the namespace: blackholes drop them without an ICMP error back across the veth.
in_ns ip route add blackhole 198.18.0.0/15
in_ns ip -6 route add blackhole 2001:db8::/32
# Joining the addresses' multicast groups sends MLD reports for a moment; let them pass.
sleep 2.5

# ---- Rounds --------------------------------------------------------------------------------

# One capturer, one round: prints a results row
#   tool round cpu_s packets gen_packets gen_pps captured drops exact lifetime_cpu_s
LIVE_PY='
import os, re, signal, subprocess, sys, time, urllib.request
(tool, rnd, nstats, tcpdump, pktblast, pcap, host_if, peer_mac, host_mac, gen_cpu, cap_cpu,
 seconds, pps, logs) = sys.argv[1:15]
TICK = os.sysconf("SC_CLK_TCK")
# Both ahead of whatever else the machine runs (nice 0), so its load disturbs less.
PRIO = ["nice", "-n", "-10"]

def iface_counts():
    base = "/sys/class/net/%s/statistics/" % host_if
    read = lambda k: int(open(base + k).read())
    return (read("rx_packets") + read("tx_packets"), read("rx_bytes") + read("tx_bytes"))

def blast(secs):
    gen = subprocess.run(PRIO + ["taskset", "-c", gen_cpu, pktblast, "--interface", host_if, "--pcap",
                          pcap, "--dst-mac", peer_mac, "--src-mac", host_mac, "--seconds", secs,
                          "--pps", pps], capture_output=True, text=True)
    if gen.returncode != 0:
        sys.exit("live.sh: pktblast failed: " + gen.stderr.strip())
    return dict(kv.split("=") for kv in gen.stdout.split())

def cpu_s(pid):
    # utime and stime of the whole thread group (every thread, live or exited).
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK

def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

def on_term(signo, frame):
    raise SystemExit("live.sh: interrupted")
signal.signal(signal.SIGTERM, on_term)
proc = None
if tool == "none":
    # The generator alone: the rate it reaches with no capturer on the interface.
    p0 = iface_counts()[0]
    g = blast(str(min(2.0, float(seconds))))
    print(tool, rnd, 0, iface_counts()[0] - p0, g["packets"], g["pps"], 0, 0, "n/a", 0, 0)
    sys.exit(0)
try:
    err_path = os.path.join(logs, "live-%s-%s.err" % (tool, rnd))
    err = open(err_path, "w+")
    if tool == "nstats":
        port = free_port()
        cmd = [nstats, "-i", host_if, "--buffer-size", "4MiB", "--listen", "127.0.0.1:%d" % port]
        ready = "capturing on"
    else:
        cmd = [tcpdump, "-i", host_if, "-w", "/dev/null", "-s", "128", "-B", "4096"]
        ready = "listening on"
    before = iface_counts()
    proc = subprocess.Popen(PRIO + ["taskset", "-c", cap_cpu] + cmd, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.time() + 20
    while ready not in open(err_path).read():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            sys.exit("live.sh: %s did not start: %s" % (tool, open(err_path).read().strip()))
        time.sleep(0.05)
    time.sleep(0.5)
    cpu0 = cpu_s(proc.pid)
    pkts0 = iface_counts()[0]
    g = blast(seconds)
    # Let the capturer empty its ring: it is done when its CPU time stops moving.
    last = cpu_s(proc.pid)
    for _ in range(50):
        time.sleep(0.2)
        now = cpu_s(proc.pid)
        if now == last:
            break
        last = now
    time.sleep(0.3)
    cpu1 = cpu_s(proc.pid)
    pkts1 = iface_counts()[0]
    captured = drops = captured_bytes = -1
    if tool == "nstats":
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
            text = r.read().decode()
        m = {}
        for line in text.splitlines():
            if line.startswith("nstats_capture_"):
                name, value = line.rsplit(" ", 1)
                m[name] = int(float(value))
        captured = m["nstats_capture_packets_total"]
        captured_bytes = m["nstats_capture_bytes_total"]
        drops = (m.get("nstats_capture_drops_total{reason=\"kernel\"}", 0) +
                 m.get("nstats_capture_drops_total{reason=\"interface\"}", 0))
    proc.send_signal(signal.SIGINT)
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    after = iface_counts()
    text = open(err_path).read()
    if code != 0:
        sys.exit("live.sh: %s exited with %d: %s" % (tool, code, text.strip()))
    if tool == "tcpdump":
        captured = int(re.search(r"(\d+) packets captured", text).group(1))
        drops = int(re.search(r"(\d+) packets dropped by kernel", text).group(1))
        # What tcpdump saw over its life, against the same interface counters.
        exact = "n/a"
    else:
        # yes: no drops, and every packet and byte of the veth counted; sum: drops, and the
        # packets counted plus those dropped are the veth packets; no: neither.
        if drops == 0 and captured == after[0] - before[0] and captured_bytes == after[1] - before[1]:
            exact = "yes"
        elif drops > 0 and captured + drops == after[0] - before[0]:
            exact = "sum"
        else:
            exact = "no"
finally:
    if proc is not None and proc.returncode is None:
        proc.kill()
        proc.wait()
print(tool, rnd, "%.3f" % (cpu1 - cpu0), pkts1 - pkts0, g["packets"], g["pps"], captured, drops,
      exact, "%.3f" % (usage.ru_utime + usage.ru_stime), after[0] - before[0])
'

RESULTS=$BENCH_DIR/live.tsv
: >"$RESULTS"
rate="as fast as it can"
[[ $PPS != 0 ]] && rate="at $PPS packets/s"
echo
echo "live: pktblast on CPU $GEN_CPU sends $rate out of $HOST_IF (${SECONDS_PER_ROUND} s for each capturer),"
echo "      the capturer runs on CPU $CAP_CPU; $ROUNDS interleaved rounds of:"
echo "  none     (the generator alone, 2 s)"
echo "  nstats   nstats -i $HOST_IF --buffer-size 4MiB --listen 127.0.0.1:PORT >/dev/null"
echo "  tcpdump  tcpdump -i $HOST_IF -w /dev/null -s 128 -B 4096"
echo "  (generator and capturer at nice -10; load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
for ((round = 1; round <= ROUNDS; round++)); do
    # Alternate which capturer goes first, so a drift in the machine's load hits both alike.
    order=(none nstats tcpdump)
    ((round % 2 == 0)) && order=(none tcpdump nstats)
    for tool in "${order[@]}"; do
        "$PYTHON" -c "$LIVE_PY" "$tool" "$round" "$NSTATS" "$TCPDUMP" "$PKTBLAST" "$LIVE_PCAP" \
            "$HOST_IF" "$PEER_MAC" "$HOST_MAC" "$GEN_CPU" "$CAP_CPU" "$SECONDS_PER_ROUND" "$PPS" \
            "$BENCH_DIR/logs" | tr ' ' '\t' >>"$RESULTS"
    done
    echo "  round $round/$ROUNDS done"
done

# ---- Report ----------------------------------------------------------------------------------

# live.tsv columns: tool round cpu_s veth_packets sent_packets sent_pps captured drops exact
# lifetime_cpu_s lifetime_veth_packets (cpu_s over the traffic; lifetime_cpu_s from wait4,
# start-up and the last interval included).
REPORT_PY='
import statistics, sys
rows = [line.split("\t") for line in open(sys.argv[1]).read().splitlines()]
by = {}
for tool, rnd, cpu, pkts, gpk, gpps, captured, drops, exact, life, life_pkts in rows:
    by.setdefault(tool, []).append(dict(cpu=float(cpu), pkts=int(pkts), pps=float(gpps),
                                        captured=int(captured), drops=int(drops), exact=exact))
tools = ("nstats", "tcpdump")
per = {t: [r["cpu"] / r["pkts"] * 1e6 for r in by[t]] for t in tools}
med = {t: statistics.median(v) for t, v in per.items()}
n = len(per["nstats"])
print()
print("live: CPU per million packets on a veth (user+system of all threads, /proc/PID/stat),")
print("      medians of %d interleaved rounds; Mpkt/s is what the generator reached meanwhile" % n)
print("%-8s %11s %7s %7s %8s %6s %6s %7s" % ("tool", "cpu_s/Mpkt", "min", "max", "Mpkt/s",
      "min", "max", "drops"))
for t in tools:
    pps = [r["pps"] / 1e6 for r in by[t]]
    print("%-8s %11.4f %7.4f %7.4f %8.3f %6.3f %6.3f %7d" % (t, med[t], min(per[t]), max(per[t]),
          statistics.median(pps), min(pps), max(pps), sum(r["drops"] for r in by[t])))
if "none" in by:
    pps = [r["pps"] / 1e6 for r in by["none"]]
    print("%-8s %11s %7s %7s %8.3f %6.3f %6.3f" % ("none", "", "", "", statistics.median(pps),
          min(pps), max(pps)))
ratios = sorted(a / b for a, b in zip(per["nstats"], per["tcpdump"]))
print()
print("nstats/tcpdump CPU per packet: %.2fx (per round %.2f-%.2fx)" % (med["nstats"] / med["tcpdump"],
      ratios[0], ratios[-1]))
ns = by["nstats"]
exact = sum(r["exact"] == "yes" for r in ns)
print("nstats: no drops and packets and bytes equal to the veth\x27s rx+tx counters in %d of %d rounds"
      % (exact, n))
summed = sum(r["exact"] == "sum" for r in ns)
if summed:
    print("        in %d more, it dropped, and counted plus dropped equals the veth\x27s packets" % summed)
bad = sum(r["exact"] == "no" for r in ns)
if bad:
    print("        in %d, its counts do NOT match the veth\x27s" % bad)
print("drops per round: nstats %s; tcpdump %s" % (" ".join(str(r["drops"]) for r in ns),
      " ".join(str(r["drops"]) for r in by["tcpdump"])))
'
{
    "$PYTHON" -c "$REPORT_PY" "$RESULTS"
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on these CPUs moves the numbers)"
} | tee "$BENCH_DIR/live.txt"
