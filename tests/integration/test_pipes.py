#!/usr/bin/env python3
"""Captures read from pipes: a named pipe nobody writes to, one that sends a header and then
nothing, one that sends packets and then goes quiet, and a process substitution without
--local-net. Each stops on SIGTERM within a second, counting everything that was read; a pipe
is read once, and its local host guessed from the packets read ahead, as for a file. While a
pipe is idle, nstats still serves: a 9 MB /metrics page reaches a plain client whole."""
import os
import gzip
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

from harness import NSTATS, PCAPGEN, Checks, capture_totals, parse_output, require, run

require(os.path.exists(NSTATS) and os.path.exists(PCAPGEN), "built nstats and pcapgen")

c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-pipes-")


def generate(name, *args):
    pcap = os.path.join(tmp, name + ".pcap")
    r = run([PCAPGEN, "--out", pcap, "--ledger", os.path.join(tmp, name + ".csv"), *args])
    assert r.returncode == 0, r.stderr
    return pcap


def start(path, *args):
    return subprocess.Popen([NSTATS, "-r", path, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def stop_within_a_second(p, what):
    """SIGTERM; returns (stdout, stderr) and checks it ended in time, with status 0."""
    time.sleep(0.5)
    c.ok(p.poll() is None, f"{what}: still waiting before the signal")
    t0 = time.time()
    p.send_signal(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    took = time.time() - t0
    c.ok(took < 1.0, f"{what}: ended {took:.2f}s after SIGTERM")
    c.eq(p.returncode, 0, f"{what}: exit status (stderr: {err.strip()})")
    return out, err


def main():
    pcap = generate("small", "--packets", "3000", "--peers", "40", "--seed", "3")
    with open(pcap, "rb") as f:
        data = f.read()
    whole = run([NSTATS, "-r", pcap]).stdout
    want = capture_totals(parse_output(whole))
    c.ok(want[0] == 3000, f"the file read directly: {want}")

    # 1. A named pipe with no writer: opening it does not block signals.
    fifo = os.path.join(tmp, "fifo1")
    os.mkfifo(fifo)
    p = start(fifo)
    out, err = stop_within_a_second(p, "a named pipe nobody opens")
    c.ok("header" in err, f"says it stopped before a header came ({err.strip()[-200:]})")

    # 2. A header, then nothing, with the writer still there.
    fifo = os.path.join(tmp, "fifo2")
    os.mkfifo(fifo)
    p = start(fifo)
    w = os.open(fifo, os.O_WRONLY)
    os.write(w, data[:24])
    stop_within_a_second(p, "a pipe that sends only a header")
    os.close(w)

    # 2b. Half a header, then nothing.
    fifo = os.path.join(tmp, "fifo2b")
    os.mkfifo(fifo)
    p = start(fifo)
    w = os.open(fifo, os.O_WRONLY)
    os.write(w, data[:10])
    out, err = stop_within_a_second(p, "a pipe that sends half a header")
    c.ok("header" in err, f"says it stopped before a whole header came ({err.strip()[-200:]})")
    os.close(w)

    # 3. Packets, then quiet: what was read is counted, with the guess made from it.
    fifo = os.path.join(tmp, "fifo3")
    os.mkfifo(fifo)
    p = start(fifo)
    w = os.open(fifo, os.O_WRONLY)
    os.write(w, data)
    out, err = stop_within_a_second(p, "a pipe that sends packets and goes quiet")
    os.close(w)
    c.eq(capture_totals(parse_output(out)), want, "everything sent before the quiet was counted")
    c.ok("as the local host" in err, f"the local host was guessed from the pipe ({err[-300:]})")

    # 4. A process substitution without --local-net: read once, counted whole.
    r = run(["bash", "-c", f'"{NSTATS}" -r <(cat "{pcap}")'])
    c.eq(r.returncode, 0, f"-r <(cat file) exit status ({r.stderr.strip()[-300:]})")
    c.eq(capture_totals(parse_output(r.stdout)), want, "-r <(cat file) counts what -r file does")
    direct = run([NSTATS, "-r", pcap])
    c.eq(sorted(r.stdout.splitlines()), sorted(direct.stdout.splitlines()),
         "-r <(cat file) writes the same rows as -r file (same local host guessed)")

    # 5. A writer that trickles: the header in two pieces, then packets a few at a time.
    fifo = os.path.join(tmp, "fifo5")
    os.mkfifo(fifo)
    p = start(fifo)

    def trickle():
        w = os.open(fifo, os.O_WRONLY)
        os.write(w, data[:10])
        time.sleep(0.3)
        os.write(w, data[10:24])
        for i in range(24, len(data), 4096):
            os.write(w, data[i:i + 4096])
            time.sleep(0.01)
        os.close(w)

    t = threading.Thread(target=trickle)
    t.start()
    out, err = p.communicate(timeout=60)
    t.join()
    c.eq(p.returncode, 0, f"a trickling pipe: exit status ({err.strip()[-300:]})")
    c.eq(capture_totals(parse_output(out)), want, "a trickling pipe is counted whole")

    # 6. A pipe that goes quiet with 18,000 keys read: the loop still serves between waits
    # for the pipe. A plain client (no gzip) gets the whole 9 MB page; with 100 ms waits it
    # came at 100 KB/s and was cut at the 60 s answer deadline.
    big = generate("big", "--packets", "50000", "--peers", "1200", "--uniform", "--duration",
                   "600")
    with open(big, "rb") as f:
        big_data = f.read()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = subprocess.Popen([NSTATS, "-r", "-", "--listen", f"127.0.0.1:{port}", "--local-net",
                          "198.18.0.1", "--local-net", "2001:db8::1"], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    p.stdin.write(big_data[:len(big_data) // 2])
    p.stdin.flush()
    time.sleep(2)
    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(urllib.request.Request(
            url, headers={"Accept-Encoding": "gzip"}), timeout=30) as r:
        whole_page = gzip.decompress(r.read())
    t0 = time.time()
    try:
        with urllib.request.urlopen(url, timeout=50) as r:
            plain = r.read()
    except Exception as e:  # a cut answer: IncompleteRead, or a timeout
        plain = repr(e).encode()
    took = time.time() - t0
    # The pages' own counters (HTTP, process) may differ between two renders; the flows not.
    def flows(page):
        return [line for line in page.split(b"\n") if line.startswith(b"nstats_bytes_total")]
    c.ok(len(whole_page) > 8_000_000 and plain.endswith(b"\n") and
         flows(plain) == flows(whole_page),
         f"an idle pipe: the plain page whole ({len(plain)} of about {len(whole_page)} bytes in "
         f"{took:.1f}s)")
    p.stdin.close()
    p.wait(timeout=30)
    c.eq(p.returncode, 1, "the half-written capture ends as a truncated file (exit 1)")


main()
c.finish()
