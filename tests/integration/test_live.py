#!/usr/bin/env python3
"""Live test: nstats captures a veth whose peer lives in a network namespace made here, while
iperf3 (TCP, UDP) and curl over HTTP (IPv4, IPv6) run across it. nstats' totals must equal
the veth's kernel counters over the same period, with no capture drops."""
import os
import signal
import subprocess
import tempfile
import time

from harness import (NSTATS, Checks, LineWatcher, capture_totals, flow_totals, have,
                     parse_output, require, run)
from netns import HOST4, HOST6, PEER4, PEER6, TestHost

require(os.geteuid() == 0, "root (network namespaces and capture)")
require(all(have(t) for t in ("ip", "iperf3", "curl")), "ip, iperf3 and curl")

c = Checks()
host = TestHost("live")
HOST_IF = host.host_if


def wait_port(host, port, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if run(["curl", "-s", "-o", "/dev/null", "--max-time", "1",
                f"http://{host}:{port}/"]).returncode == 0:
            return True
        time.sleep(0.1)
    return False


def main():
    host.setup()
    www = tempfile.mkdtemp(prefix="nstats-www-")
    with open(os.path.join(www, "blob"), "wb") as f:
        f.write(os.urandom(3 * 1024 * 1024 + 17))
    host.start(host.in_ns("python3", "-m", "http.server", "--bind", "::", "8000", "--directory",
                          www))
    host.start(host.in_ns("iperf3", "-s", "-B", "::"))
    c.ok(wait_port(f"[{PEER6}]", 8000), "HTTP server up in the namespace")
    time.sleep(1.5)  # iperf3 server start, and any settling of the link

    ns = subprocess.Popen([NSTATS, "-i", HOST_IF, "--interval", "1s", "--buffer-size", "64MiB"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    host.procs.append(ns)
    watcher = LineWatcher(ns.stderr)
    c.ok(watcher.wait_for("capturing on", 10), f"nstats started capturing: {watcher.lines}")
    before = host.counters()

    traffic = [
        ["iperf3", "-c", PEER4, "-t", "2", "-p", "5201", "-b", "200M"],
        ["iperf3", "-c", PEER4, "-u", "-b", "20M", "-t", "2", "-p", "5201"],
        ["iperf3", "-c", PEER6, "-t", "1", "-p", "5201", "-R", "-b", "200M"],
        ["curl", "-s", "-o", "/dev/null", f"http://{PEER4}:8000/blob"],
        ["curl", "-s", "-o", "/dev/null", "-g", f"http://[{PEER6}]:8000/blob"],
    ]
    for cmd in traffic:
        for _ in range(10):
            r = run(cmd)
            # The iperf3 server may still be closing the last test (after UDP especially):
            # try again. The refused attempt's bytes are on the veth and counted like any.
            if "server is busy" not in r.stdout + r.stderr:
                break
            time.sleep(0.5)
        c.eq(r.returncode, 0, f"{' '.join(cmd)} ({r.stderr.strip()[-200:]})")
    time.sleep(1.0)  # let the last FINs and ACKs pass
    after = host.counters()
    ns.send_signal(signal.SIGTERM)
    out = ns.stdout.read()
    ns.wait(timeout=30)
    err = watcher.text()
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
    host.teardown()
c.finish()
