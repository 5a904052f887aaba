#!/usr/bin/env python3
"""Live delivery through outages: nstats captures a veth carrying iperf3 traffic and writes to
a real InfluxDB that the test stops for several intervals and starts again, then restarts
nstats itself during an outage with --spool-dir. Afterwards every interval is in InfluxDB and
the totals equal the veth's kernel counters."""
import os
import signal
import subprocess
import tempfile
import time

from harness import NSTATS, Checks, LineWatcher, parse_output, require
from netns import PEER4, TestHost, delta
from servers import InfluxDB, have_all

require(os.geteuid() == 0, "root (network namespaces and capture)")
require(have_all("ip", "iperf3", "influxd"), "ip, iperf3 and influxd")

c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-influx-live-")
host = TestHost("ifx")
influx = InfluxDB(tmp)


def start_nstats(tag, *extra):
    p = subprocess.Popen([NSTATS, "-i", host.host_if, "--interval", "1s", "--buffer-size", "64MiB", "--host", tag,
                          "--influx-url", influx.url, "--influx-db", "live",
                          "--influx-retry-max", "1s", "--stdout", *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    host.procs.append(p)
    p.watcher = LineWatcher(p.stderr)
    if not p.watcher.wait_for("capturing on", 20):
        raise RuntimeError(f"nstats did not start capturing: {p.watcher.lines}")
    return p


def stop_nstats(p):
    p.send_signal(signal.SIGTERM)
    out = p.stdout.read()
    p.wait(timeout=60)
    return p.returncode, out, p.watcher.text()


def iperf(seconds):
    return host.start(["iperf3", "-c", PEER4, "-t", str(seconds), "-b", "5M"])


def stored(tag):
    rows = influx.series(f"""SELECT sum("bytes"), count("bytes") FROM "nstats_capture"
                             WHERE "host" = '{tag}'""", "live")
    return (rows[0][1]["sum"], rows[0][1]["count"]) if rows else (0, 0)


def outage():
    """InfluxDB down for four 1 s intervals in the middle of the traffic."""
    p = start_nstats("outage")
    before = host.counters()
    traffic = iperf(9)
    time.sleep(2)
    influx.stop()
    time.sleep(4.5)
    influx.start()
    traffic.wait(timeout=60)
    time.sleep(1)
    after = host.counters()
    rc, out, err = stop_nstats(p)
    c.eq(rc, 0, f"outage: nstats exit status ({err.strip()[-300:]})")
    c.ok("retrying" in err and "recovered" in err, "outage: failure and recovery logged")
    points = parse_output(out)
    intervals = [f for m, _, f, _ in points if m == "nstats_capture"]
    kernel_bytes, _ = delta(before, after)
    c.eq(sum(f["bytes"] for f in intervals), kernel_bytes, "outage: stdout totals = kernel")
    c.eq(stored("outage"), (kernel_bytes, len(intervals)),
         "outage: InfluxDB holds every interval and the kernel's bytes")
    c.eq(sum(f["capture_drops"] for f in intervals), 0, "outage: no capture drops")


def restart_with_spool():
    spool = os.path.join(tmp, "spool")
    influx.stop()
    p = start_nstats("spool", "--spool-dir", spool, "--shutdown-timeout", "1s")
    before1 = host.counters()
    iperf(3).wait(timeout=60)
    time.sleep(1)
    after1 = host.counters()
    rc, _, err = stop_nstats(p)
    c.eq(rc, 0, f"spool: first run exits 0 with its batches spooled ({err.strip()[-300:]})")
    spooled = [f for f in os.listdir(spool) if f.endswith(".lp.gz")]
    c.ok(len(spooled) >= 4, f"spool: batches on disk after the first run: {len(spooled)}")

    p = start_nstats("spool", "--spool-dir", spool)
    before2 = host.counters()
    traffic = iperf(3)
    time.sleep(1)
    influx.start()
    traffic.wait(timeout=60)
    time.sleep(2)
    after2 = host.counters()
    rc, _, err = stop_nstats(p)
    c.eq(rc, 0, f"spool: second run exit status ({err.strip()[-300:]})")
    want = delta(before1, after1)[0] + delta(before2, after2)[0]
    c.eq(stored("spool")[0], want, "spool: InfluxDB holds both runs' bytes")
    c.eq([f for f in os.listdir(spool) if not f.startswith(".")], [], "spool: emptied")


try:
    host.setup()
    host.start(host.in_ns("iperf3", "-s"))
    influx.start()
    influx.query("CREATE DATABASE live")
    time.sleep(1)
    outage()
    restart_with_spool()
finally:
    influx.stop()
    host.teardown()
c.finish()
