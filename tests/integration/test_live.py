#!/usr/bin/env python3
"""Live test: nstats captures a veth whose peer lives in a network namespace made here, while
iperf3 (TCP, UDP) and curl over HTTP (IPv4, IPv6) run across it. nstats' totals must equal
the veth's kernel counters over the same period, with no capture drops."""
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

from harness import NSTATS, Checks, capture_totals, flow_totals, have, parse_output, require, run

require(os.geteuid() == 0, "root (network namespaces and capture)")
require(all(have(t) for t in ("ip", "iperf3", "curl")), "ip, iperf3 and curl")

NS = f"nstats-live-{os.getpid()}"
HOST_IF, NS_IF = f"nsl{os.getpid() % 10000}a", f"nsl{os.getpid() % 10000}b"
HOST4, PEER4 = "198.18.0.1", "198.18.0.2"
HOST6, PEER6 = "2001:db8::1", "2001:db8::2"
c = Checks()
procs = []


def sh(*cmd, check=True):
    r = run(list(cmd))
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r.stdout


def in_ns(*cmd):
    return ["ip", "netns", "exec", NS, *cmd]


def mac(ifname, ns=False):
    cmd = ["cat", f"/sys/class/net/{ifname}/address"]
    return sh(*(in_ns(*cmd) if ns else cmd)).strip()


def counters():
    base = f"/sys/class/net/{HOST_IF}/statistics/"
    return {k: int(open(base + k).read()) for k in
            ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets")}


def setup():
    sh("ip", "netns", "add", NS)
    sh("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF)
    sh("ip", "link", "set", NS_IF, "netns", NS)
    # No link-local addresses, router solicitations or DAD: the link carries only our traffic.
    for side in ([], in_ns()):
        ifname = NS_IF if side else HOST_IF
        sh(*side, "ip", "link", "set", ifname, "addrgenmode", "none")
        sh(*side, "sysctl", "-qw", f"net.ipv6.conf.{ifname}.accept_ra=0")
        sh(*side, "sysctl", "-qw", f"net.ipv6.conf.{ifname}.router_solicitations=0")
    sh("ip", "addr", "add", f"{HOST4}/24", "dev", HOST_IF)
    sh("ip", "addr", "add", f"{HOST6}/64", "dev", HOST_IF, "nodad")
    sh(*in_ns("ip", "addr", "add", f"{PEER4}/24", "dev", NS_IF))
    sh(*in_ns("ip", "addr", "add", f"{PEER6}/64", "dev", NS_IF, "nodad"))
    sh("ip", "link", "set", HOST_IF, "up")
    sh(*in_ns("ip", "link", "set", NS_IF, "up"))
    sh(*in_ns("ip", "link", "set", "lo", "up"))
    # Static neighbours: no ARP or neighbour discovery at random moments.
    host_mac, peer_mac = mac(HOST_IF), mac(NS_IF, ns=True)
    sh("ip", "neigh", "replace", PEER4, "lladdr", peer_mac, "dev", HOST_IF, "nud", "permanent")
    sh("ip", "neigh", "replace", PEER6, "lladdr", peer_mac, "dev", HOST_IF, "nud", "permanent")
    sh(*in_ns("ip", "neigh", "replace", HOST4, "lladdr", host_mac, "dev", NS_IF, "nud",
              "permanent"))
    sh(*in_ns("ip", "neigh", "replace", HOST6, "lladdr", host_mac, "dev", NS_IF, "nud",
              "permanent"))


def teardown():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    run(["ip", "link", "del", HOST_IF])
    run(["ip", "netns", "del", NS])


def start(cmd, **kw):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    procs.append(p)
    return p


def wait_port(host, port, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if run(["curl", "-s", "-o", "/dev/null", "--max-time", "1",
                f"http://{host}:{port}/"]).returncode == 0:
            return True
        time.sleep(0.1)
    return False


def main():
    setup()
    www = tempfile.mkdtemp(prefix="nstats-www-")
    with open(os.path.join(www, "blob"), "wb") as f:
        f.write(os.urandom(3 * 1024 * 1024 + 17))
    start(in_ns("python3", "-m", "http.server", "--bind", "::", "8000", "--directory", www))
    start(in_ns("iperf3", "-s", "-B", "::"))
    c.ok(wait_port(f"[{PEER6}]", 8000), "HTTP server up in the namespace")
    time.sleep(1.5)  # iperf3 server start, and any settling of the link

    ns = subprocess.Popen([NSTATS, "-i", HOST_IF, "--interval", "1s"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    procs.append(ns)
    deadline, ready = time.time() + 10, False
    stderr_lines = []
    while time.time() < deadline and not ready:
        rl, _, _ = select.select([ns.stderr], [], [], 0.5)
        if rl:
            line = ns.stderr.readline()
            stderr_lines.append(line)
            ready = "capturing on" in line
    c.ok(ready, f"nstats started capturing: {stderr_lines}")
    before = counters()

    traffic = [
        ["iperf3", "-c", PEER4, "-t", "2", "-p", "5201", "-b", "200M"],
        ["iperf3", "-c", PEER4, "-u", "-b", "20M", "-t", "2", "-p", "5201"],
        ["iperf3", "-c", PEER6, "-t", "1", "-p", "5201", "-R", "-b", "200M"],
        ["curl", "-s", "-o", "/dev/null", f"http://{PEER4}:8000/blob"],
        ["curl", "-s", "-o", "/dev/null", "-g", f"http://[{PEER6}]:8000/blob"],
    ]
    for cmd in traffic:
        r = run(cmd)
        c.eq(r.returncode, 0, f"{' '.join(cmd)} ({r.stderr.strip()[-200:]})")
    time.sleep(1.0)  # let the last FINs and ACKs pass
    after = counters()
    ns.send_signal(signal.SIGTERM)
    out, err = ns.communicate(timeout=30)
    c.eq(ns.returncode, 0, f"nstats exit status (stderr: {err.strip()})")

    points = parse_output(out)
    totals = flow_totals(points)
    packets, nbytes = capture_totals(points)
    kernel_bytes = (after["rx_bytes"] - before["rx_bytes"]) + (after["tx_bytes"] - before["tx_bytes"])
    kernel_packets = ((after["rx_packets"] - before["rx_packets"]) +
                      (after["tx_packets"] - before["tx_packets"]))
    print(f"kernel: {kernel_bytes} bytes, {kernel_packets} packets; "
          f"nstats: {nbytes} bytes, {packets} packets, {len(totals)} keys", flush=True)
    c.eq(nbytes, kernel_bytes, "captured bytes equal the veth's rx+tx bytes")
    c.eq(packets, kernel_packets, "captured packets equal the veth's rx+tx packets")
    c.eq(sum(t[0] + t[1] for t in totals.values()), kernel_bytes, "rows sum to the kernel's bytes")
    # Direction: the veth's tx is nstats' out, rx is in.
    c.eq(sum(t[1] for t in totals.values()), after["tx_bytes"] - before["tx_bytes"], "bytes out = tx")
    c.eq(sum(t[0] for t in totals.values()), after["rx_bytes"] - before["rx_bytes"], "bytes in = rx")
    drops = sum(f["capture_drops"] + f["interface_drops"] for m, _, f, _ in points
                if m == "nstats_capture")
    c.eq(drops, 0, "no capture drops")
    for key in [(HOST4, PEER4, "tcp", "5201"), (HOST4, PEER4, "udp", "5201"),
                (HOST6, PEER6, "tcp", "5201"), (HOST4, PEER4, "tcp", "8000"),
                (HOST6, PEER6, "tcp", "8000")]:
        t = totals.get(key)
        c.ok(t is not None and t[0] > 0 and t[1] > 0, f"row {key} counted both ways: {t}")
    http = totals.get((HOST4, PEER4, "tcp", "8000"), [0, 0, 0, 0])
    c.ok(http[0] > 3 * 1024 * 1024, f"HTTP download counted inbound: {http}")
    c.ok(all(k[3] != "0" or k[2] not in ("tcp", "udp") for k in totals),
         f"no TCP/UDP row without a service port: {sorted(totals)}")


try:
    main()
finally:
    teardown()
c.finish()
