#!/usr/bin/env python3
"""The live API on a veth carrying a steady iperf3 stream: after 12 s the 10 s rate of the top
row, and of all rows, is within 2 % of the rate the veth's kernel counters show over the same
seconds; rows + others = all for every grouping; the summary's attributed bytes equal the
captured bytes, and its capture counters the interval rows' over the same run."""
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

from harness import NSTATS, Checks, LineWatcher, capture_totals, have, parse_output, require
from netns import PEER4, TestHost

require(os.geteuid() == 0, "root (network namespaces and capture)")
require(have("ip") and have("iperf3"), "ip and iperf3")

RATE = 40_000_000  # bits/s asked of iperf3
c = Checks()
host = TestHost("api")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return json.loads(r.read())


def main():
    host.setup()
    host.start(host.in_ns("iperf3", "-s"))
    time.sleep(1.0)
    port = free_port()
    ns = subprocess.Popen([NSTATS, "-i", host.host_if, "--interval", "1s", "--stdout",
                           "--listen", f"127.0.0.1:{port}"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    host.procs.append(ns)
    out = []
    threading.Thread(target=lambda: out.append(ns.stdout.read()), daemon=True).start()
    watcher = LineWatcher(ns.stderr)
    c.ok(watcher.wait_for("capturing on", 10), f"nstats started: {watcher.lines}")

    iperf = host.start(["iperf3", "-c", PEER4, "-b", str(RATE), "-t", "16", "-J"],
                       stdout=subprocess.PIPE)
    samples = []  # (time, tx_bytes, rx_bytes) once a second
    for _ in range(12):
        k = host.counters()
        samples.append((time.time(), k["tx_bytes"], k["rx_bytes"]))
        time.sleep(1.0)
    flows = get(port, "/api/v1/flows?sort=r10&limit=5")
    k = host.counters()
    now = time.time()
    # The kernel's rate over the 10 s before the API's last complete bucket: compare with the
    # samples 10 s apart ending about a second before the request.
    t_end, tx_end, rx_end = samples[-1]
    t_beg, tx_beg, rx_beg = samples[-11]
    kernel_out = (tx_end - tx_beg) / (t_end - t_beg)
    kernel_in = (rx_end - rx_beg) / (t_end - t_beg)
    top = flows["rows"][0]
    api_out = top["out"]["r10"]
    all_out = flows["all"]["out"]["r10"]
    print(f"10 s rate out: kernel {kernel_out * 8 / 1e6:.3f} Mb/s, API top row "
          f"{api_out * 8 / 1e6:.3f} Mb/s, all rows {all_out * 8 / 1e6:.3f} Mb/s "
          f"(iperf3 asked {RATE / 1e6:.0f} Mb/s); in: kernel {kernel_in * 8 / 1e6:.3f}, "
          f"API {flows['all']['in']['r10'] * 8 / 1e6:.3f} Mb/s", flush=True)
    c.eq(top["remote"], PEER4, "the iperf3 peer is the top row")
    c.eq(top["port"], 5201, "its service port")
    c.ok(abs(api_out - kernel_out) <= 0.02 * kernel_out,
         f"the top row's 10 s rate is within 2 % of the kernel's ({api_out:.0f} vs "
         f"{kernel_out:.0f} B/s)")
    c.ok(abs(all_out - kernel_out) <= 0.02 * kernel_out, "all rows' 10 s rate within 2 %")
    c.ok(abs(api_out * 8 - RATE) <= 0.05 * RATE, "and near what iperf3 was asked (frames > payload)")

    for group in ("pair", "remote", "name", "port", "workload", "namespace", "net"):
        f = get(port, f"/api/v1/flows?group={group}&limit=1&sort=total")
        rows = sum(r["out"]["total"] + r["in"]["total"] for r in f["rows"])
        rest = f["others"]["out"]["total"] + f["others"]["in"]["total"]
        everything = f["all"]["out"]["total"] + f["all"]["in"]["total"]
        c.eq(rows + rest, everything, f"group={group}: rows + others = all")
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/flows?sort=nope", timeout=5)
        c.ok(False, "a bad sort is refused")
    except urllib.error.HTTPError as e:
        body = json.loads(e.read())
        c.ok(e.code == 400 and "sort" in body["error"], f"a bad sort is refused: {e.code} {body}")

    iperf.wait(timeout=30)
    time.sleep(1.5)
    s = get(port, "/api/v1/summary")
    c.eq(s["attributed"]["bytes"] + s["attributed"]["expired_bytes"], s["capture"]["bytes"],
         "attributed bytes equal the captured bytes")
    c.eq(s["capture"]["drops"], 0, "no capture drops")
    ns.send_signal(signal.SIGTERM)
    ns.wait(timeout=30)
    time.sleep(0.3)
    packets, nbytes = capture_totals(parse_output(out[0] if out else ""))
    c.ok(nbytes >= s["capture"]["bytes"], f"the interval rows carry at least what the summary "
                                         f"said ({nbytes} >= {s['capture']['bytes']})")
    print(f"summary: {json.dumps(s)[:400]}", flush=True)


try:
    main()
finally:
    host.teardown()
c.finish()
