#!/usr/bin/env python3
"""Push sinks, live: nstats captures a veth carrying iperf3 traffic and pushes by remote write
(to VictoriaMetrics behind a proxy the test takes down for several intervals) and by OTLP (to
the Python receiver, which answers 503 for a while). Capture comes first: no capture drops;
afterwards every 1 s interval is stored once by both sinks, with no gap, and the last pushed
nstats_capture_bytes_total equals the veth's kernel counters."""
import os
import signal
import subprocess
import tempfile
import time
import urllib.request

import pushdecode
from harness import NSTATS, Checks, LineWatcher, metric_total, require, system_python_for
from netns import PEER4, TestHost, delta
from servers import FakeReceiver, VictoriaMetrics, free_port, have_all

system_python_for(pushdecode.missing)
require(pushdecode.missing() is None, f"{pushdecode.missing()} (to decode what was pushed)")
require(os.geteuid() == 0, "root (network namespaces and capture)")
require(have_all("ip", "iperf3", "victoria-metrics"), "ip, iperf3 and victoria-metrics")

c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-push-live-")
host = TestHost("psh")
OK = [(200, {"Content-Type": "application/x-protobuf"}, "")]


def otlp_capture_points(fake):
    """(time ms, value) of every nstats_capture_bytes_total point the OTLP receiver got."""
    out = []
    for _, _, _, body in fake.requests:
        for rm in pushdecode.decode_otlp(body)["resource_metrics"]:
            for sc in rm["scopes"]:
                for m in sc["metrics"]:
                    if m["name"] == "nstats_capture_bytes_total":
                        out += [(p["time_ns"] // 1000000, p["value"]) for p in m["points"]
                                if not p["flags"] & pushdecode.FLAG_NO_RECORDED_VALUE]
    return out


def main():
    host.setup()
    host.start(host.in_ns("iperf3", "-s"))
    vm = VictoriaMetrics(tmp)
    proxy = FakeReceiver(["forward"], upstream=vm.url)
    otlp = FakeReceiver(OK)
    port = free_port()
    ns = subprocess.Popen([NSTATS, "-i", host.host_if, "--interval", "1s", "--buffer-size",
                           "64MiB", "--remote-write-url", proxy.url + "/api/v1/write",
                           "--otlp-url", otlp.url + "/v1/metrics", "--push-retry-max", "1s",
                           "--listen", f"127.0.0.1:{port}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    host.procs.append(ns)
    watcher = LineWatcher(ns.stderr)
    c.ok(watcher.wait_for("capturing on", 20), f"nstats started: {watcher.lines}")
    before = host.counters()
    traffic = host.start(["iperf3", "-c", PEER4, "-t", "9", "-b", "20M"])
    time.sleep(2)
    proxy.down()
    otlp.set_script([(503, {}, "busy")])
    time.sleep(4.5)
    proxy.up()
    otlp.set_script(OK)
    traffic.wait(timeout=60)
    time.sleep(2)
    after = host.counters()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    c.eq(metric_total(text, "nstats_capture_drops_total"), 0, "no capture drops")
    c.ok(metric_total(text, "nstats_export_batches_total", 'result="retried",sink="otlp"') +
         metric_total(text, "nstats_export_batches_total", 'sink="otlp",result="retried"') > 0,
         "OTLP retries counted")
    c.ok(metric_total(text, "nstats_export_batches_total", 'remote_write') > 0,
         "remote write batches counted")
    c.eq(metric_total(text, "nstats_export_batches_total", 'result="dropped"'), 0,
         "no batch dropped")
    ns.send_signal(signal.SIGTERM)
    ns.wait(timeout=60)
    c.eq(ns.returncode, 0, f"nstats exit status ({watcher.text().strip()[-300:]})")
    kernel_bytes, _ = delta(before, after)

    sent = set()
    for (_, _, _, body), status in zip(proxy.requests, proxy.statuses):
        if status == 204:
            sent.update(t for s in pushdecode.decode_remote_write(body)
                        for _, bits, t in s["samples"] if bits != pushdecode.STALE_NAN)
    deadline = time.time() + 10
    while True:  # what VictoriaMetrics took last may take a moment to show
        cap = vm.export_with_times('{__name__="nstats_capture_bytes_total"}')
        if (cap and set(cap[0][2]) == sent) or time.time() > deadline:
            break
        time.sleep(0.5)
    c.eq(len(cap), 1, "remote write: one capture series")
    c.eq(sorted(cap[0][2]) if cap else [], sorted(sent),
         "remote write: VictoriaMetrics holds what it took")
    rw = sorted(zip(cap[0][2], cap[0][1])) if cap else []
    ot = sorted(otlp_capture_points(otlp))
    ot_unique = sorted(set(ot))
    for name, pts in (("remote write", rw), ("OTLP", ot_unique)):
        stamps = [t for t, _ in pts]
        c.eq(len(stamps), len(set(stamps)), f"{name}: no interval twice")
        gaps = [b - a for a, b in zip(stamps, stamps[1:-1])]
        c.ok(len(stamps) >= 10 and all(g == 1000 for g in gaps),
             f"{name}: every 1 s interval, none missing ({len(stamps)}; gaps {sorted(set(gaps))})")
        c.eq(pts[-1][1] if pts else None, kernel_bytes,
             f"{name}: the last nstats_capture_bytes_total = the veth's rx+tx bytes")
    c.eq([t for t, _ in rw], [t for t, _ in ot_unique], "both sinks hold the same intervals")
    c.eq(rw[-1][1] if rw else None, ot_unique[-1][1] if ot_unique else None,
         "both sinks end at the same total")
    vm.stop()
    proxy.stop()
    otlp.stop()


try:
    main()
finally:
    host.teardown()
c.finish()
