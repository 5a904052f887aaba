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


def clean_env(extra):
    """The environment without any setting nstats reads, plus the row's own."""
    names = ("NSTATS_", "IFACE", "INFLUX", "IDB", "POD_", "NODE_NAME", "KUBERNETES_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(names)}
    env.update(extra)
    return env


missing = os.path.join(tmp, "missing.pcap")
garbage = os.path.join(tmp, "garbage.pcap")
with open(garbage, "wb") as f:
    f.write(os.urandom(4096))
empty = os.path.join(tmp, "empty.pcap")
open(empty, "wb").close()
bad_labels = os.path.join(tmp, "labels.txt")
with open(bad_labels, "w") as f:
    f.write("# cost classes\n10.0.0.0/8=cluster\n10.0.0.0/33=broken\n")
# A missing capture file: should a check wrongly pass, the run fails at once (status 1) instead
# of capturing live.
NOFILE = ["-r", missing]

# One row per rejected input: (what, argv, environment, exit status, text the one line holds).
# Status 2 is a bad flag or value; 1 is a runtime failure.
ROWS = [
    ("unknown flag", ["--no-such-flag"], {}, 2, "--no-such-flag"),
    ("bad duration", ["--interval", "fast"], {}, 2, "--interval"),
    ("missing value", ["--max-flows"], {}, 2, "--max-flows"),
    ("bad CIDR", ["--local-net", "300.1.2.3/8"], {}, 2, "--local-net"),
    ("-i with -r", ["-i", "lo", "-r", "x.pcap"], {}, 2, "together"),
    ("snaplen out of range", ["--snaplen", "1"], {}, 2, "--snaplen"),
    ("bad environment value", [], {"NSTATS_INTERVAL": "0s"}, 2, "NSTATS_INTERVAL"),
    ("missing file", ["-r", missing], {}, 1, "missing.pcap"),
    ("garbage file", ["-r", garbage], {}, 1, "garbage.pcap"),
    ("empty file", ["-r", empty], {}, 1, "empty.pcap"),
]
if os.geteuid() == 0:
    ROWS.append(("missing interface", ["-i", "nstats-nope0"], {}, 1, "no such interface"))

# Every value a run rejects before it starts: --check-config rejects it too, with status 2 and
# the same line.
CHECK_ROWS = [
    ("--interface with --read", ["-i", "lo", "-r", "x.pcap"], {},
     "--interface and --read cannot be used together"),
    ("verbose and quiet", [*NOFILE, "-v", "-q"], {},
     "--verbose and --quiet cannot be used together"),
    ("bad --schema", [*NOFILE, "--schema", "modern"], {},
     "bad value for --schema: 'modern' is not default or legacy"),
    ("bad NSTATS_SCHEMA", NOFILE, {"NSTATS_SCHEMA": "Legacy"},
     "bad value for NSTATS_SCHEMA: 'Legacy' is not default or legacy"),
    ("bad boolean", [*NOFILE, "--rdns=maybe"], {}, "bad value for --rdns"),
    ("--listen without an address", [*NOFILE, "--listen", "9781"], {},
     "bad value for --listen: '9781'"),
    ("bad NSTATS_LISTEN", NOFILE, {"NSTATS_LISTEN": "localhost:http"},
     "bad value for NSTATS_LISTEN"),
    ("InfluxDB database without URL", [*NOFILE, "--influx-db", "net"], {},
     "an InfluxDB database or bucket needs --influx-url"),
    ("InfluxDB bucket without URL", NOFILE, {"NSTATS_INFLUX_BUCKET": "net"},
     "an InfluxDB database or bucket needs --influx-url"),
    ("InfluxDB URL without database", [*NOFILE], {"INFLUX": "db:8086"},
     "InfluxDB needs either a database"),
    ("InfluxDB database and bucket",
     [*NOFILE, "--influx-url", "http://x", "--influx-db", "a", "--influx-bucket", "b"], {},
     "not both"),
    ("InfluxDB URL scheme", [*NOFILE, "--influx-url", "ftp://u:hunter2@x", "--influx-db", "a"],
     {}, "must start with http:// or https://"),
    ("missing password file",
     [*NOFILE, "--influx-password-file", os.path.join(tmp, "no-password")], {},
     "--influx-password-file: cannot read"),
    ("missing token file", NOFILE, {"NSTATS_INFLUX_TOKEN_FILE": os.path.join(tmp, "no-token")},
     "--influx-token-file: cannot read"),
    ("bad --label-net", [*NOFILE, "--label-net", "10.0.0.0/8"], {},
     "bad value for --label-net: '10.0.0.0/8' is not CIDR=LABEL"),
    ("bad NSTATS_LABEL_NET", NOFILE, {"NSTATS_LABEL_NET": "10.0.0.0/8=a,fd00::/129=b"},
     "bad value for NSTATS_LABEL_NET"),
    ("missing --label-file", [*NOFILE, "--label-file", os.path.join(tmp, "no-labels")], {},
     "--label-file: "),
    ("bad line in --label-file", [*NOFILE, "--label-file", bad_labels], {},
     "labels.txt:3: '10.0.0.0/33' is not a network"),
    ("--k8s without an API server", [*NOFILE, "--k8s"], {},
     "--k8s: no --k8s-api and no KUBERNETES_SERVICE_HOST/PORT"),
    ("--k8s with half the in-cluster variables", [*NOFILE, "--k8s"],
     {"KUBERNETES_SERVICE_HOST": "10.96.0.1"}, "--k8s: no --k8s-api"),
    ("unusable --spool-dir",
     [*NOFILE, "--influx-url", "http://127.0.0.1:1", "--influx-db", "d", "--spool-dir",
      os.path.join(tmp, "no-such-dir", "spool")], {}, "spool directory "),
    ("bad --dns-server", [*NOFILE, "--rdns", "--dns-server", "resolver.example"], {},
     "reverse DNS via resolver.example"),
    # Values that used to be accepted, then failed every request, spun or broke output.
    ("missing --influx-ca-file",
     [*NOFILE, "--influx-url", "https://127.0.0.1:1", "--influx-db", "d", "--influx-ca-file",
      "/nonexistent/ca.pem"], {}, "--influx-ca-file: cannot read /nonexistent/ca.pem: "),
    ("INFLUX with a space", NOFILE, {"INFLUX": "junk value", "IDB": "x"},
     "bad value for INFLUX: InfluxDB URL 'http://junk value' holds a space"),
    ("InfluxDB URL port out of range", NOFILE,
     {"NSTATS_INFLUX_URL": "http://u:s3/cr@t@db:99999", "IDB": "x"},
     "bad value for NSTATS_INFLUX_URL: InfluxDB URL 'http://(redacted)@db:99999' has a bad "
     "port (1-65535)"),
    ("--listen port out of range", [*NOFILE, "--listen", "1.2.3.4:99999"], {},
     "bad value for --listen: '1.2.3.4:99999'"),
    ("--dns-server port out of range", [*NOFILE, "--rdns", "--dns-server", "1.2.3.4:99999"], {},
     "reverse DNS via 1.2.3.4:99999: a port must be in 1-65535"),
    ("--label-file /dev/zero", [*NOFILE, "--label-file", "/dev/zero"], {},
     "--label-file: /dev/zero:1: a NUL byte: not a text file"),
    ("non-UTF-8 --host", [*NOFILE, "--host", "web-\udcff"], {},
     "bad value for --host: not UTF-8 text, or holds a control character"),
    ("non-UTF-8 POD_NAME", NOFILE, {"POD_NAME": "web-\udcc0\udcaf"},
     "bad value for POD_NAME: not UTF-8 text"),
    ("control characters in NODE_NAME", NOFILE, {"NODE_NAME": "n\x1b[2J"},
     "bad value for NODE_NAME: not UTF-8 text"),
]

for what, argv, env, status, text in ROWS:
    one_clear_line(run([NSTATS, *argv], env=clean_env(env), timeout=60), status, text, what)

for what, argv, env, text in CHECK_ROWS:
    ran = run([NSTATS, *argv], env=clean_env(env), timeout=60)
    checked = run([NSTATS, *argv, "--check-config"], env=clean_env(env), timeout=60)
    one_clear_line(ran, 2, text, f"{what} (run)")
    one_clear_line(checked, 2, text, f"{what} (--check-config)")
    c.eq(checked.stderr, ran.stderr, f"{what}: --check-config says what the run says")
    c.eq(checked.stdout, "", f"{what}: --check-config prints no configuration")
c.ok("hunter2" not in "".join(run([NSTATS, *NOFILE, "--influx-url", "ftp://u:hunter2@x"],
                                   env=clean_env({})).stderr),
     "a rejected URL is shown without its password")
c.ok("s3/cr" not in run([NSTATS, *NOFILE], env=clean_env(
    {"NSTATS_INFLUX_URL": "http://u:s3/cr@t@db:99999", "IDB": "x"})).stderr,
     "a rejected URL is shown without a password holding '/' and '@'")
# Passwords holding '@' or '/' and query-string credentials: in no log line and not in
# --check-config.
SECRET_URL = "http://admin:p@ss/w0rd@127.0.0.1:1/?u=me&p=q-secret"
r = run([NSTATS, *NOFILE, "--influx-url", SECRET_URL, "--influx-db", "d", "-v"],
        env=clean_env({}))
c.ok(r.returncode == 1 and "p=(redacted)" in r.stderr and "p@ss" not in r.stderr and
     "w0rd" not in r.stderr and "q-secret" not in r.stderr,
     f"URL secrets never logged: {r.stderr.strip()!r}")
r = run([NSTATS, *NOFILE, "--influx-url", SECRET_URL, "--influx-db", "d", "--check-config"],
        env=clean_env({}))
c.ok(r.returncode == 0 and
     "influx-url           = http://(redacted)@127.0.0.1:1/?u=me&p=(redacted)  (flag)" in r.stdout
     and "p@ss" not in r.stdout and "w0rd" not in r.stdout and "q-secret" not in r.stdout,
     f"URL secrets not in --check-config: {r.stdout!r}")

# Help and version go to stdout with status 0.
r = run([NSTATS, "--help"])
c.ok(r.returncode == 0 and "--max-flows" in r.stdout and r.stderr == "", "--help")
r = run([NSTATS, "--version"])
c.ok(r.returncode == 0 and r.stdout.startswith("nstats "), "--version")
r = run([NSTATS, "--check-config", "--interval", "5s"],
        env={**os.environ, "IFACE": "eth7", "INFLUX": "db:8086", "IDB": "net"})
c.ok(r.returncode == 0 and "interval             = 5s  (flag)" in r.stdout and
     "interface            = eth7  (IFACE)" in r.stdout and "http://db:8086" in r.stdout,
     f"--check-config shows values and sources: {r.stdout!r}")
# Resolved values: identity from the Downward API, the in-cluster API URL, exact sizes.
r = run([NSTATS, "--check-config", "-r", "x.pcap", "--listen", ":9781", "--k8s"],
        env=clean_env({"POD_NAME": "web-1", "POD_NAMESPACE": "shop", "NODE_NAME": "node-3",
                       "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}))
for line in ("host                 = web-1  (POD_NAME)",
             "namespace            = shop  (POD_NAMESPACE)",
             "node                 = node-3  (NODE_NAME)",
             "k8s-api              = https://10.96.0.1:443  (KUBERNETES_SERVICE_HOST/PORT)",
             "k8s-service-port     = 443  (KUBERNETES_SERVICE_PORT)",
             "buffer-size          = 4MiB  (default)",
             "listen               = :9781  (flag)"):
    c.ok(r.returncode == 0 and line in r.stdout, f"--check-config shows {line!r}: {r.stdout!r}")

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
