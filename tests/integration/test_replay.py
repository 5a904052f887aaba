#!/usr/bin/env python3
"""Replay tests: nstats -r over generated captures must reproduce the generator's ledger
exactly, per key, and agree with tshark's own per-frame decode, per address pair."""
import collections
import os
import subprocess
import tempfile

from harness import (NSTATS, PCAPGEN, Checks, capture_totals, flow_totals, have, parse_output,
                     read_ledger, require, run)

LOCAL = ["--local-net", "198.18.0.1/32", "--local-net", "2001:db8::1/128"]
SPECIAL = {"non-ip", "malformed"}

require(os.path.exists(NSTATS) and os.path.exists(PCAPGEN), "built nstats and pcapgen")
require(have("tshark") and have("editcap"), "tshark and editcap (Debian tshark)")
require(os.path.exists("/usr/bin/time"), "GNU time (Debian time)")

c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-replay-")


def generate(name, *args):
    pcap = os.path.join(tmp, name + ".pcap")
    ledger = os.path.join(tmp, name + ".csv")
    r = run([PCAPGEN, "--out", pcap, "--ledger", ledger, *args])
    assert r.returncode == 0, r.stderr
    return pcap, ledger


def nstats(pcap, *args, stdin=None):
    r = run([NSTATS, "-r", pcap, *args], stdin=stdin)
    c.eq(r.returncode, 0, f"nstats -r {os.path.basename(pcap)} {' '.join(args)} exit status "
                          f"(stderr: {r.stderr.strip()})")
    return parse_output(r.stdout), r.stderr


def tshark_pairs(pcap):
    """Bytes and frames per unordered IP address pair, from tshark's decode of every frame."""
    out = run(["tshark", "-r", pcap, "-n", "-T", "fields", "-E", "occurrence=f", "-e", "ip.src",
               "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "frame.len"])
    assert out.returncode == 0, out.stderr
    pairs = collections.defaultdict(lambda: [0, 0])
    for line in out.stdout.splitlines():
        s4, d4, s6, d6, length = line.split("\t")
        src, dst = (s4, d4) if s4 else (s6, d6)
        if not src:
            continue
        p = pairs[frozenset((src, dst))]
        p[0] += int(length)
        p[1] += 1
    return dict(pairs)


def nstats_pairs(totals):
    pairs = collections.defaultdict(lambda: [0, 0])
    for (local, remote, proto, _), t in totals.items():
        if proto in SPECIAL or remote == "other":
            continue
        p = pairs[frozenset((local, remote))]
        p[0] += t[0] + t[1]
        p[1] += t[2] + t[3]
    return dict(pairs)


def check_exact(name, pcap, ledger, *args):
    points, _ = nstats(pcap, *LOCAL, *args)
    got = flow_totals(points)
    want = read_ledger(ledger)
    c.eq(len(got), len(want), f"{name}: number of keys")
    bad = [(k, got.get(k), v) for k, v in want.items() if got.get(k) != v]
    c.ok(not bad, f"{name}: keys differing from the ledger (first 5): {bad[:5]}")
    extra = [k for k in got if k not in want]
    c.ok(not extra, f"{name}: keys not in the ledger (first 5): {extra[:5]}")
    packets, nbytes = capture_totals(points)
    c.eq(nbytes, sum(v[0] + v[1] for v in want.values()), f"{name}: captured bytes")
    c.eq(packets, sum(v[2] + v[3] for v in want.values()), f"{name}: captured packets")
    c.eq(sum(t[0] + t[1] for t in got.values()), nbytes, f"{name}: rows sum to captured bytes")
    return points


# Ethernet with VLAN and QinQ tags, IPv4 and IPv6, every special kind of frame.
dirty_args = ["--packets", "60000", "--peers", "700", "--seed", "7", "--vlan-frac", "0.2",
              "--qinq-frac", "0.05", "--ipv6-frac", "0.3", "--icmp-frac", "0.02",
              "--nonip-frac", "0.01", "--frag-frac", "0.01", "--corrupt-frac", "0.01",
              "--truncate-frac", "0.01", "--transit-frac", "0.02", "--duration", "60"]
pcap, ledger = generate("dirty", *dirty_args)
points = check_exact("ethernet+vlan+qinq, corrupt and truncated", pcap, ledger)

# Intervals: 60 s of capture time in 10 s intervals, aligned to multiples of 10 s.
stamps = sorted({ts for m, _, _, ts in points if m == "nstats_capture"})
c.eq(len(stamps), 6, "six intervals in 60 s of capture")
c.ok(all(ts % 10_000_000_000 == 0 for ts in stamps[:-1]), f"interval ends aligned: {stamps}")

# The same file through pcapng, and through stdin.
pcapng = os.path.join(tmp, "dirty.pcapng")
run(["editcap", "-F", "pcapng", pcap, pcapng], check=True)
check_exact("pcapng", pcapng, ledger)
with open(pcap, "rb") as f:
    points, _ = nstats("-", *LOCAL, stdin=f)
c.eq(flow_totals(points), read_ledger(ledger), "stdin: totals equal the ledger")

# Clean captures of every link type: exact against the ledger, and per address pair against
# tshark's independent decode.
for linktype in ["en10mb", "sll", "sll2", "raw", "null"]:
    extra = ["--vlan-frac", "0.3", "--qinq-frac", "0.1"] if linktype == "en10mb" else []
    pcap, ledger = generate(f"clean-{linktype}", "--linktype", linktype, "--packets", "20000",
                            "--peers", "300", "--seed", "11", "--ipv6-frac", "0.4",
                            "--icmp-frac", "0.02", "--transit-frac", "0.02", *extra)
    points = check_exact(f"clean {linktype}", pcap, ledger)
    c.eq(nstats_pairs(flow_totals(points)), tshark_pairs(pcap),
         f"clean {linktype}: per-pair bytes and frames equal tshark's")

# Without --local-net, the busiest address is taken as local, and said so.
pcap, ledger = generate("guess", "--packets", "20000", "--peers", "300", "--seed", "3",
                        "--ipv6-frac", "0")
r = run([NSTATS, "-r", pcap])
c.ok("taking 198.18.0.1" in r.stderr, f"local host guessed and reported: {r.stderr.strip()}")
c.eq(flow_totals(parse_output(r.stdout)), read_ledger(ledger), "guessed local: totals exact")

# A small --max-flows: new keys fold into per-local other rows, and nothing is lost.
pcap, ledger = generate("bounded", "--packets", "50000", "--peers", "5000", "--seed", "5",
                        "--ipv6-frac", "0.3", "--duration", "30")
points, _ = nstats(pcap, *LOCAL, "--max-flows", "100", "--flow-timeout", "1h")
got = flow_totals(points)
want = read_ledger(ledger)
packets, nbytes = capture_totals(points)
c.eq(sum(t[0] + t[1] for t in got.values()), sum(v[0] + v[1] for v in want.values()),
     "bounded: all bytes accounted")
c.eq(nbytes, sum(v[0] + v[1] for v in want.values()), "bounded: captured bytes")
ordinary = [k for k in got if k[1] != "other"]
c.ok(len(ordinary) <= 100, f"bounded: at most 100 ordinary keys, got {len(ordinary)}")
others = {k: v for k, v in got.items() if k[1] == "other"}
c.ok(others and all(k[0] in ("198.18.0.1", "2001:db8::1") for k in others),
     f"bounded: other rows per local address: {list(others)}")
for local in ("198.18.0.1", "2001:db8::1"):
    c.eq(sum(v[0] + v[1] for k, v in got.items() if k[0] == local),
         sum(v[0] + v[1] for k, v in want.items() if k[0] == local),
         f"bounded: bytes of local {local}")
folded = sum(f["folded_packets"] for m, _, f, _ in points if m == "nstats_capture")
c.eq(folded, sum(v[2] + v[3] for v in others.values()), "bounded: folded packets reported")



def peak_rss_kib(cmd):
    """Runs cmd under GNU time and returns (stdout text, its peak RSS in KiB)."""
    report = os.path.join(tmp, "time.txt")
    r = run(["/usr/bin/time", "-f", "%M", "-o", report, *cmd])
    c.eq(r.returncode, 0, f"{cmd[0]} exit status")
    return r.stdout, int(open(report).read().split()[-1])


# Memory is flat in the number of distinct peers: with the default bound, a capture with four
# times the peers peaks at about the same RSS, and every byte is still in some row.
rss = {}
for peers in (100_000, 400_000):
    pcap, ledger = generate(f"peers{peers}", "--packets", str(2 * peers), "--peers", str(peers),
                            "--uniform", "--seed", "13", "--duration", "20")
    text, rss[peers] = peak_rss_kib([NSTATS, "-r", pcap, *LOCAL])
    points = parse_output(text)
    want = read_ledger(ledger)
    c.eq(capture_totals(points)[1], sum(v[0] + v[1] for v in want.values()),
         f"{peers} peers: captured bytes")
    c.eq(sum(t[0] + t[1] for t in flow_totals(points).values()),
         sum(v[0] + v[1] for v in want.values()), f"{peers} peers: rows hold every byte")
print(f"peak RSS: {rss}", flush=True)
c.ok(rss[400_000] < rss[100_000] * 1.15 + 2048, f"peak RSS flat in peers: {rss}")

c.finish()
