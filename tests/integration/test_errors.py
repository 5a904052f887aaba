#!/usr/bin/env python3
"""Bad input: missing, garbage and truncated capture files, bad flags, a missing interface.
Each gets one clear line and a defined exit status; nothing counted is lost or doubled."""
import os
import signal
import struct
import subprocess
import tempfile
import threading
import time

from harness import NSTATS, PCAPGEN, Checks, capture_totals, flow_totals, parse_output, require, run

require(os.path.exists(NSTATS) and os.path.exists(PCAPGEN), "built nstats and pcapgen")
c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-errors-")


def one_clear_line(r, status, must_contain, what):
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    c.eq(r.returncode, status, f"{what}: exit status (stderr: {r.stderr.strip()!r})")
    c.ok(len(lines) == 1 and lines[0].startswith("nstats: ") and must_contain in lines[0],
         f"{what}: one line naming {must_contain!r}, got {lines!r}")
    c.ok("Sanitizer" not in r.stderr and "runtime error" not in r.stderr, f"{what}: clean")


# Flags and values: status 2, naming the culprit.
one_clear_line(run([NSTATS, "--no-such-flag"]), 2, "--no-such-flag", "unknown flag")
one_clear_line(run([NSTATS, "--interval", "fast"]), 2, "--interval", "bad duration")
one_clear_line(run([NSTATS, "--max-flows"]), 2, "--max-flows", "missing value")
one_clear_line(run([NSTATS, "--local-net", "300.1.2.3/8"]), 2, "--local-net", "bad CIDR")
one_clear_line(run([NSTATS, "-i", "lo", "-r", "x.pcap"]), 2, "together", "-i with -r")
one_clear_line(run([NSTATS, "--snaplen", "1"]), 2, "--snaplen", "snaplen out of range")
one_clear_line(run([NSTATS], env={**os.environ, "NSTATS_INTERVAL": "0s"}), 2,
               "NSTATS_INTERVAL", "bad environment value")

# Runtime failures: status 1.
one_clear_line(run([NSTATS, "-r", os.path.join(tmp, "missing.pcap")]), 1, "missing.pcap",
               "missing file")
garbage = os.path.join(tmp, "garbage.pcap")
with open(garbage, "wb") as f:
    f.write(os.urandom(4096))
one_clear_line(run([NSTATS, "-r", garbage]), 1, "garbage.pcap", "garbage file")
empty = os.path.join(tmp, "empty.pcap")
open(empty, "wb").close()
one_clear_line(run([NSTATS, "-r", empty]), 1, "empty.pcap", "empty file")
if os.geteuid() == 0:
    one_clear_line(run([NSTATS, "-i", "nstats-nope0"]), 1, "no such interface",
                   "missing interface")

# Help and version go to stdout with status 0.
r = run([NSTATS, "--help"])
c.ok(r.returncode == 0 and "--max-flows" in r.stdout and r.stderr == "", "--help")
r = run([NSTATS, "--version"])
c.ok(r.returncode == 0 and r.stdout.startswith("nstats "), "--version")
r = run([NSTATS, "--check-config", "--interval", "5s"],
        env={**os.environ, "IFACE": "eth7", "INFLUX": "db:8086"})
c.ok(r.returncode == 0 and "interval             = 5000ms  (flag)" in r.stdout and
     "interface            = eth7  (IFACE)" in r.stdout and "http://db:8086" in r.stdout,
     f"--check-config shows values and sources: {r.stdout!r}")

# A capture cut in the middle of a record: every whole record before the cut is counted once,
# the rows are still written, and the failure is reported.
pcap = os.path.join(tmp, "whole.pcap")
run([PCAPGEN, "--out", pcap, "--ledger", os.path.join(tmp, "whole.csv"), "--packets", "5000",
     "--peers", "50", "--seed", "9"], check=True)
data = open(pcap, "rb").read()
cut = len(data) * 2 // 3
truncated = os.path.join(tmp, "truncated.pcap")
with open(truncated, "wb") as f:
    f.write(data[:cut])
# The independent count: walk the pcap records ourselves.
off, whole_bytes, whole_packets = 24, 0, 0
while off + 16 <= cut:
    _, _, caplen, length = struct.unpack_from("<IIII", data, off)
    if off + 16 + caplen > cut:
        break
    whole_bytes += length
    whole_packets += 1
    off += 16 + caplen
r = run([NSTATS, "-r", truncated, "--local-net", "198.18.0.1/32"])
one_clear_line(r, 1, "truncated", "truncated file")
points = parse_output(r.stdout)
c.eq(capture_totals(points), (whole_packets, whole_bytes), "truncated: whole records counted")
c.eq(sum(t[0] + t[1] for t in flow_totals(points).values()), whole_bytes,
     "truncated: rows sum to the whole records' bytes")

# A pipe that goes quiet (tcpdump -w - | nstats -r -): what arrived is counted and written
# while the pipe waits, not held until a read-ahead chunk fills, and SIGTERM then writes the
# last interval and exits at once, with every packet that arrived counted.
records, off = [], 24
while off + 16 <= len(data) and len(records) < 300:
    _, _, caplen, length = struct.unpack_from("<IIII", data, off)
    records.append((data[off:off + 16 + caplen], length))
    off += 16 + caplen
proc = subprocess.Popen([NSTATS, "-r", "-", "--interval", "1s", "--local-net", "198.18.0.1/32"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
proc.stdin.write(data[:24] + b"".join(r for r, _ in records))
proc.stdin.flush()
early = []
reader = threading.Thread(target=lambda: early.extend(iter(proc.stdout.readline, b"")))
reader.start()
deadline = time.monotonic() + 10
while time.monotonic() < deadline and not any(l.startswith(b"nstats,") for l in early):
    time.sleep(0.1)
c.ok(any(l.startswith(b"nstats,") for l in early),
     "quiet pipe: rows written before the pipe closes")
t0 = time.monotonic()
proc.send_signal(signal.SIGTERM)
proc.wait(timeout=10)
reader.join(timeout=10)
proc.stdin.close()
err = proc.stderr.read().decode()
c.eq(proc.returncode, 0, f"quiet pipe: SIGTERM exits 0 ({err.strip()!r})")
c.ok(time.monotonic() - t0 < 3, "quiet pipe: SIGTERM exits at once")
points = parse_output(b"".join(early).decode())
c.eq(capture_totals(points), (len(records), sum(l for _, l in records)),
     "quiet pipe: every packet that arrived counted once")

c.finish()
