"""Shared helpers for the integration tests: running nstats, parsing its output, checking."""
import csv
import os
import shutil
import subprocess
import sys

BUILD = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.abspath("build")
NSTATS = os.path.join(BUILD, "nstats")
PCAPGEN = os.path.join(BUILD, "pcapgen")
SKIP = 77


class Checks:
    """Counts checks like the unit harness and ends with 'N passed, N failed'."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}", flush=True)
        return cond

    def eq(self, got, want, what):
        return self.ok(got == want, f"{what}: got {got!r}, want {want!r}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed else 0)


def require(cond, why):
    """Skips the test (exit 77) when a tool or privilege is missing; under CI that is a failure."""
    if cond:
        return
    if os.environ.get("CI") == "true":
        print(f"required for CI but missing: {why}", flush=True)
        sys.exit(1)
    print(f"skipped: {why}", flush=True)
    sys.exit(SKIP)


def have(tool):
    return shutil.which(tool) is not None


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    return subprocess.run(cmd, **kw)


def _split_unescaped(s, seps):
    """Splits line-protocol text at unescaped separators, keeping escapes in the parts."""
    parts, cur, i = [], [], 0
    quoted = False
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            cur.append(s[i:i + 2])
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        if c in seps and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def _unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s) and s[i + 1] in ",= ":
            out.append(s[i + 1])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def parse_line(line):
    """One line of line protocol -> (measurement, tags, fields, timestamp)."""
    head, fields_text, ts = _split_unescaped(line, " ")
    parts = _split_unescaped(head, ",")
    measurement = _unescape(parts[0])
    tags = {}
    for p in parts[1:]:
        k, v = _split_unescaped(p, "=")
        tags[_unescape(k)] = _unescape(v)
    fields = {}
    for f in _split_unescaped(fields_text, ","):
        k, v = _split_unescaped(f, "=")
        if v.endswith("i"):
            v = int(v[:-1])
        elif v.startswith('"'):
            v = v[1:-1]
        else:
            v = float(v)
        fields[_unescape(k)] = v
    return measurement, tags, fields, int(ts)


def parse_output(text):
    return [parse_line(l) for l in text.splitlines() if l.strip()]


def flow_totals(points):
    """Sums the nstats rows over all intervals per (local, remote, proto, port)."""
    totals = {}
    for m, tags, fields, _ in points:
        if m != "nstats":
            continue
        key = (tags["local"], tags["remote"], tags["proto"], tags["port"])
        t = totals.setdefault(key, [0, 0, 0, 0])
        t[0] += fields["bytes_in"]
        t[1] += fields["bytes_out"]
        t[2] += fields["packets_in"]
        t[3] += fields["packets_out"]
    return totals


def capture_totals(points):
    """Sums the nstats_capture rows: (packets, bytes)."""
    packets = sum(f["packets"] for m, _, f, _ in points if m == "nstats_capture")
    nbytes = sum(f["bytes"] for m, _, f, _ in points if m == "nstats_capture")
    return packets, nbytes


def read_ledger(path):
    """The generator's ledger -> {(local, remote, proto, port): [bin, bout, pin, pout]}."""
    out = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            key = (row["local"], row["remote"], row["proto"], row["port"])
            out[key] = [int(row["bytes_in"]), int(row["bytes_out"]),
                        int(row["packets_in"]), int(row["packets_out"])]
    return out


class LineWatcher:
    """Reads a process's text stream on a thread, so a test can wait for a line without racing
    Python's own buffering against select(), and keeps the pipe drained meanwhile."""

    def __init__(self, stream):
        import threading
        self.lines = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for line in stream:
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()

    def wait_for(self, needle, seconds, times=1):
        """Waits until times lines (so far) hold needle; False after seconds."""
        import time
        deadline = time.time() + seconds
        with self.cond:
            while sum(needle in l for l in self.lines) < times:
                left = deadline - time.time()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def text(self):
        self.thread.join(timeout=30)
        return "".join(self.lines)


def metric_samples(text):
    """A Prometheus text page as {"name{labels}": value}."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name_labels, value = line.rsplit(" ", 1)
            out[name_labels] = float(value)
    return out


def metric_series(text):
    """A Prometheus text page as [(name, {label: value}, value)]."""
    import re
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_labels, value = line.rsplit(" ", 1)
        name, _, labels = name_labels.partition("{")
        found = re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"', labels)
        out.append((name, {k: v.replace('\\"', '"').replace("\\n", "\n")
                           .replace("\\\\", "\\") for k, v in found}, float(value)))
    return out


def metric_total(text, name, having=""):
    """The sum of a family's samples (those whose labels contain having); an int when whole."""
    total = sum(v for k, v in metric_samples(text).items()
                if k.split("{")[0] == name and having in k)
    return int(total) if float(total).is_integer() else total


def pcap_records(path):
    """A classic little-endian microsecond pcap file -> (global header, [(ts_sec, ts_usec,
    record bytes with its header)])."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    out, i = [], 24
    while i + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack_from("<IIII", data, i)
        out.append((sec, usec, data[i:i + 16 + incl]))
        i += 16 + incl
    return data[:24], out


class PacedPipe:
    """Feeds a capture to a process's stdin in real time: each record when the wall clock
    reaches its timestamp (the capture made with pcapgen --start in the near future), so an
    `-r -` replay's intervals take real time while the totals stay the generator's ledger.
    The pipe stays open after the last record until close(), so the last interval stays open
    too and the process can be inspected before it ends."""

    def __init__(self, proc, path):
        import threading
        self.proc = proc
        self.header, self.records = pcap_records(path)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._feed, daemon=True)
        self.thread.start()

    def _feed(self):
        import time
        w = self.proc.stdin
        try:
            w.write(self.header)
            w.flush()
            for sec, usec, rec in self.records:
                wait = sec + usec / 1e6 - time.time()
                if wait > 0:
                    time.sleep(wait)
                w.write(rec)
                w.flush()
        except (BrokenPipeError, ValueError):
            pass
        self.done.set()

    def wait(self, seconds):
        """True once every record was written."""
        return self.done.wait(seconds)

    def close(self):
        self.thread.join(timeout=120)
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass


def write_udp_pcap(path, records, remotes=None):
    """A capture of UDP frames between 198.18.0.1 and 198.19.0.X port 53, one per (ts_sec,
    ts_usec, wire length, X, "out" or "in"), captured whole. remotes may map X to another
    address; an IPv6 one talks to 2001:db8::1. Returns the sum of the lengths."""
    import ipaddress
    import struct
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for ts_sec, ts_usec, length, peer, direction in records:
            remote = ipaddress.ip_address((remotes or {}).get(peer, f"198.19.0.{peer}"))
            v6 = remote.version == 6
            local = ipaddress.ip_address("2001:db8::1" if v6 else "198.18.0.1").packed
            src, dst = (local, remote.packed) if direction == "out" else (remote.packed, local)
            sport, dport = (40000, 53) if direction == "out" else (53, 40000)
            payload = length - (62 if v6 else 42)
            udp = struct.pack("!HHHH", sport, dport, 8 + payload, 0)
            if v6:
                ip = struct.pack("!IHBB16s16s", 6 << 28, 8 + payload, 17, 64, src, dst)
            else:
                ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + payload, 1, 0, 64, 17, 0, src,
                                 dst)
            ethertype = b"\x86\xdd" if v6 else b"\x08\x00"
            frame = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + ethertype + ip + udp + bytes(payload)
            f.write(struct.pack("<IIII", ts_sec, ts_usec, len(frame), len(frame)) + frame)
    return sum(r[2] for r in records)


def compare_keys(c, got, want, what):
    """One check that per-key totals {key: [bytes_in, bytes_out, packets_in, packets_out]}
    equal the ledger's, rows of zeros counting as absent; prints every differing key."""
    got = {k: v for k, v in got.items() if any(v)}
    want = {k: v for k, v in want.items() if any(v)}
    bad = [(k, want.get(k), got.get(k)) for k in sorted(set(got) | set(want))
           if got.get(k) != want.get(k)]
    for k, w, g in bad[:20]:
        print(f"  {what}: key {k}: want {w}, got {g}", flush=True)
    if len(bad) > 20:
        print(f"  {what}: ... {len(bad) - 20} more keys differ", flush=True)
    return c.ok(not bad, f"{what}: {len(want)} keys equal the ledger ({len(bad)} differ)")


def interval_ends_ms(build_args):
    """The interval ends (ms) of a sink-less run of nstats with these arguments, from its
    nstats_capture rows: what every push must be stamped with."""
    r = run([NSTATS, *build_args])
    if r.returncode != 0:
        raise RuntimeError(f"nstats {build_args}: {r.stderr.strip()}")
    return [ts // 1000000 for m, _, _, ts in parse_output(r.stdout) if m == "nstats_capture"]


def system_python_for(missing):
    """Debian's python3-* modules belong to /usr/bin/python3: when another interpreter (pyenv,
    a virtualenv) runs a test that lacks them (missing() names one), run the test again with
    /usr/bin/python3. Returns only if the test goes on in this interpreter."""
    if (missing() is not None and os.path.exists("/usr/bin/python3")
            and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3")
            and not os.environ.get("NSTATS_TEST_REEXEC")):
        os.environ["NSTATS_TEST_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
