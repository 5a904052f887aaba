#!/usr/bin/env python3
"""An interface that goes away and comes back (a pod's veth recreated): nstats counts what it
read before, says on /healthz that it waits (503), keeps running, and counts the new
interface's traffic once it is back, also when the interface was taken down before it was
deleted. Totals equal the three interfaces' kernel counters.
An interface that is not there yet: with --listen nstats stays up (a sidecar's exit would take
its pod out of its Service), says why on /healthz, and captures once it appears."""
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

from harness import (NSTATS, Checks, LineWatcher, capture_totals, flow_totals, have, parse_output,
                     require, run)
from netns import HOST4, PEER4, TestHost

SEND = ("import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "for i in range(20):\n    s.sendto(b'x' * (10 + i), (sys.argv[1], 9999))\n")

require(os.geteuid() == 0, "root (network namespaces and capture)")
require(have("ip"), "ip")

c = Checks()
host = TestHost("gone")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def traffic(total):
    """UDP both ways across the veth; adds the kernel's rx+tx packets and bytes on the host
    side to total, read once the ring's block timeout has passed."""
    before = host.counters()
    for cmd in (["python3", "-c", SEND, PEER4], host.in_ns("python3", "-c", SEND, HOST4)):
        r = run(cmd)
        c.eq(r.returncode, 0, f"UDP across the veth ({r.stderr.strip()})")
    time.sleep(0.5)
    after = host.counters()
    total[0] += after["rx_packets"] - before["rx_packets"] + after["tx_packets"] - before[
        "tx_packets"]
    total[1] += after["rx_bytes"] - before["rx_bytes"] + after["tx_bytes"] - before["tx_bytes"]


def not_there_yet():
    port = free_port()
    ns = subprocess.Popen([NSTATS, "-i", host.host_if, "--interval", "1s", "--listen",
                           f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    host.procs.append(ns)
    watcher = LineWatcher(ns.stderr)
    c.ok(watcher.wait_for("no such interface", 10), f"says why: {watcher.lines}")
    time.sleep(1)
    c.ok(ns.poll() is None, "nstats with --listen stays up without its interface")
    status, text = health(port)
    c.ok(status == 503 and text.startswith("cannot capture:") and "no such interface" in text,
         f"/healthz: 503 and why ({status} {text.strip()})")
    host.setup()
    c.ok(watcher.wait_for("capturing on", 15), f"captures once the interface is there: "
                                               f"{watcher.lines}")
    status, text = health(port)
    c.eq(status, 200, f"/healthz then ({text.strip()})")
    c.eq(sum("no such interface" in line for line in watcher.lines), 1,
         "said once (retries are rate-limited)")
    ns.send_signal(signal.SIGTERM)
    ns.wait(timeout=30)
    c.eq(ns.returncode, 0, "exit status")
    # Without --listen, the reason is the exit, at once.
    r = run([NSTATS, "-i", "nstats-no-such", "--interval", "1s"], timeout=10)
    c.ok(r.returncode == 1 and "no such interface" in r.stderr, f"without --listen: exit 1 "
                                                                 f"({r.stderr.strip()})")


def main():
    not_there_yet()
    port = free_port()
    ns = subprocess.Popen([NSTATS, "-i", host.host_if, "--interval", "1s", "--stdout", "--listen",
                           f"127.0.0.1:{port}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    host.procs.append(ns)
    watcher = LineWatcher(ns.stderr)
    c.ok(watcher.wait_for("capturing on", 10), f"nstats started: {watcher.lines}")
    total = [0, 0]
    traffic(total)

    host.unlink()
    time.sleep(1.5)
    c.ok(ns.poll() is None, "nstats keeps running while the interface is gone")
    status, text = health(port)
    c.eq(status, 503, f"/healthz while the interface is gone ({text.strip()})")
    c.ok("waiting for it to come back" in text, f"/healthz says why ({text.strip()})")

    host.link()
    c.ok(watcher.wait_for("is back", 10), f"nstats found the interface again: {watcher.lines}")
    status, text = health(port)
    c.eq(status, 200, f"/healthz once the interface is back ({text.strip()})")
    traffic(total)

    # Taken down first and deleted later: the socket is unhooked at the down, so the delete
    # wakes no poll(); nstats must look again on its own (libpcap's required select timeout).
    run(["ip", "link", "set", host.host_if, "down"])
    time.sleep(2)
    host.unlink()
    deadline = time.time() + 10
    status, text = health(port)
    while status != 503 and time.time() < deadline:
        time.sleep(0.2)
        status, text = health(port)
    c.eq(status, 503, f"/healthz once a downed interface is deleted ({text.strip()})")
    c.ok("waiting for it to come back" in text, f"/healthz says why ({text.strip()})")
    host.link()
    c.ok(watcher.wait_for("is back", 10, times=2),
         f"nstats found the interface again after a down and a delete: {watcher.lines}")
    status, text = health(port)
    c.eq(status, 200, f"/healthz once the interface is back again ({text.strip()})")
    traffic(total)

    ns.send_signal(signal.SIGTERM)
    out, _ = ns.communicate(timeout=30)
    err = watcher.text()
    c.eq(ns.returncode, 0, f"nstats exit status (stderr: {err.strip()[-500:]})")
    points = parse_output(out)
    packets, nbytes = capture_totals(points)
    # The new link's own IPv6 multicast reports (when it comes up, before the traffic) are
    # counted too when nstats has found it by then: compare the IPv4 rows, which carry exactly
    # the traffic sent, with the kernel's counters around it.
    v4 = [t for k, t in flow_totals(points).items() if "." in k[0] and "." in k[1]]
    v4_bytes = sum(t[0] + t[1] for t in v4)
    v4_packets = sum(t[2] + t[3] for t in v4)
    print(f"kernel: {total[0]} packets, {total[1]} bytes; nstats: {v4_packets} IPv4 packets, "
          f"{v4_bytes} IPv4 bytes ({packets} packets, {nbytes} bytes in all)", flush=True)
    c.eq(v4_packets, total[0], "packets on both interfaces were counted")
    c.eq(v4_bytes, total[1], "bytes on both interfaces were counted")
    c.ok(packets - v4_packets <= 4, "nothing else but the new link's multicast reports")


try:
    main()
finally:
    host.teardown()
c.finish()
