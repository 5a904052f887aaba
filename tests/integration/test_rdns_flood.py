#!/usr/bin/env python3
"""A flood of 1,000,000 distinct addresses, replayed with reverse DNS on against a loopback
resolver that counts queries and never answers: memory stays within the caps, the query rate
holds, and every byte is still counted."""
import os
import socket
import tempfile
import threading
import time

from harness import (NSTATS, PCAPGEN, Checks, capture_totals, parse_output, read_ledger,
                     require, run)

require(os.path.exists(NSTATS) and os.path.exists(PCAPGEN), "built nstats and pcapgen")
require(os.path.exists("/usr/bin/time"), "GNU time (Debian time)")

c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-flood-")
RATE = 50

sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sink.bind(("127.0.0.1", 0))
port = sink.getsockname()[1]
queries = []


def count():
    while True:
        try:
            data, _ = sink.recvfrom(4096)
        except OSError:
            return
        queries.append((time.time(), data))


threading.Thread(target=count, daemon=True).start()
pcap, ledger = os.path.join(tmp, "flood.pcap"), os.path.join(tmp, "flood.csv")
run([PCAPGEN, "--out", pcap, "--ledger", ledger, "--packets", "2000000", "--peers", "1000000",
     "--uniform", "--seed", "31", "--duration", "20"], check=True)
report = os.path.join(tmp, "time.txt")
t0 = time.time()
r = run(["/usr/bin/time", "-f", "%M", "-o", report, NSTATS, "-r", pcap, "--local-net",
         "198.18.0.1", "--local-net", "2001:db8::1", "--rdns", "--dns-server",
         f"127.0.0.1:{port}", "--rdns-rate", str(RATE), "--name-cache-size", "4096"])
elapsed = time.time() - t0
time.sleep(0.5)
sink.close()
c.eq(r.returncode, 0, f"exit status ({r.stderr.strip()[-300:]})")
rss_kib = int(open(report).read().split()[-1])
print(f"elapsed {elapsed:.2f}s, peak RSS {rss_kib / 1024:.1f} MiB, {len(queries)} PTR queries",
      flush=True)
c.ok(rss_kib < 64 * 1024, f"peak RSS within 64 MiB: {rss_kib / 1024:.1f} MiB")
# Each query may be tried twice by c-ares; the rate limit counts queries started.
allowed = 2 * RATE * (int(elapsed) + 2)
c.ok(0 < len(queries) <= allowed, f"PTR query rate held: {len(queries)} <= {allowed}")
c.ok(all(b"\x07in-addr\x04arpa" in d or b"\x03ip6\x04arpa" in d for _, d in queries),
     "queries are PTR lookups")
want = sum(v[0] + v[1] for v in read_ledger(ledger).values())
c.eq(capture_totals(parse_output(r.stdout))[1], want, "every byte counted")
c.finish()
