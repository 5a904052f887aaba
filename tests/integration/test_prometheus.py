#!/usr/bin/env python3
"""Prometheus endpoint, live: nstats on a veth carrying traffic to thousands of peers, checked
by promtool and scraped by a real Prometheus; the reconciliation holds in PromQL and against
the kernel's counters; 200 slow clients neither drop packets nor delay a normal scrape."""
import gzip
import os
import re
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request

from harness import NSTATS, Checks, LineWatcher, metric_samples, metric_total, require, run
from netns import PEER4, TestHost, delta
from servers import Prometheus, free_port, have_all, prom_query

require(os.geteuid() == 0, "root (network namespaces and capture)")
require(have_all("ip", "iperf3", "prometheus", "promtool"), "ip, iperf3, prometheus, promtool")

c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-prom-")
host = TestHost("prm")
PORT = free_port()
# A host name that needs the exposition's escapes (quote, backslash); control characters such
# as a newline are refused at start (every sink gets the same identity).
HOST_TAG = 'pod "a"\\b'

SPRAY = r'''
import socket, struct, sys
ifname, count = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
src_mac = open(f"/sys/class/net/{ifname}/address").read().strip()
dst_mac = sys.argv[3]
eth = bytes.fromhex(dst_mac.replace(":", "")) + bytes.fromhex(src_mac.replace(":", "")) + b"\x08\x00"
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
for i in range(count):
    src = bytes([198, 19, (i >> 8) & 0xff, i & 0xff])
    payload = b"x" * (20 + i % 200)
    udp = struct.pack("!HHHH", 40000 + i % 1000, 9999, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0, src,
                     bytes([198, 18, 0, 1]))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s.send(eth + ip + udp)
'''


def get(path, headers=None, timeout=5):
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        body = r.read()
        if r.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return r.status, body.decode()





IDENTITY = ("host", "interface", "namespace", "node", "pod", "workload")


def check_conventions(text):
    """docs/METRICS.md's rules: identity only on nstats_info, no empty labels, one direction
    vocabulary, the interface named device, floats in their shortest exact form."""
    labels = {}
    for key in metric_samples(text):
        name, _, rest = key.partition("{")
        for pair in re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', rest):
            labels.setdefault(name, set()).add(pair)
    with_identity = sorted(n for n, ls in labels.items() if n != "nstats_info" and
                           any(k in IDENTITY for k, _ in ls))
    c.eq(with_identity, [], "identity labels only on nstats_info")
    c.eq(sorted(labels.get("nstats_info", ())),
         sorted({("device", PORT_IF[0]), ("host", 'pod \\"a\\"\\\\b'), ("workload", "web")}),
         "nstats_info: device, host (escaped), workload")
    c.eq(sorted(n for n, ls in labels.items() if any(v == "" for _, v in ls)), [],
         "no empty label values")
    directions = {v for ls in labels.values() for k, v in ls if k == "direction"}
    c.eq(directions, {"in", "out"}, "one direction vocabulary in every family")
    c.ok(("device", PORT_IF[0]) in labels.get("nstats_interface_bytes_total", ()),
         "the interface counters name their device")
    long_floats = re.findall(r" (\d+\.\d{16,})$", text, flags=re.M)
    c.eq(long_floats, [], "floats in their shortest exact form")


PORT_IF = []


def main():
    host.setup()
    host.start(host.in_ns("iperf3", "-s"))
    peer_script = os.path.join(tmp, "spray.py")
    with open(peer_script, "w") as f:
        f.write(SPRAY)
    host_mac = open(f"/sys/class/net/{host.host_if}/address").read().strip()
    PORT_IF.append(host.host_if)

    ns = subprocess.Popen([NSTATS, "-i", host.host_if, "--interval", "1s", "--buffer-size", "64MiB", "--host", HOST_TAG,
                           "--namespace", "shop", "--workload", "web", "--listen", f"127.0.0.1:{PORT}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    host.procs.append(ns)
    watcher = LineWatcher(ns.stderr)
    c.ok(watcher.wait_for("capturing on", 20), f"nstats started: {watcher.lines}")
    before = host.counters()

    # A real Prometheus scraping every second.
    prom = Prometheus(tmp, scrape_interval="1s", scrape=[
        f'{{job_name: nstats, static_configs: [{{targets: ["127.0.0.1:{PORT}"], '
        f'labels: {{namespace: shop, pod: web-1}}}}]}}'])
    host.procs.append(prom.proc)
    prom_port = prom.port

    # Thousands of distinct peers, plus steady TCP traffic.
    r = run(host.in_ns("python3", peer_script, host.peer_if, "3000", host_mac))
    c.eq(r.returncode, 0, f"spraying 3000 peers ({r.stderr.strip()[-200:]})")
    traffic = host.start(["iperf3", "-c", PEER4, "-t", "4", "-b", "20M"])

    # 200 slow clients: each sends half a request and then nothing.
    slow = []
    for _ in range(200):
        s = socket.create_connection(("127.0.0.1", PORT))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
    t0 = time.time()
    status, text = get("/metrics", timeout=5)
    elapsed = time.time() - t0
    c.ok(status == 200 and elapsed < 1.0, f"a scrape answers within 1 s beside 200 slow "
                                         f"clients ({elapsed:.3f}s)")
    traffic.wait(timeout=60)
    for s in slow:
        s.close()
    time.sleep(2.5)  # quiet link, ring blocks handed over, a couple of scrapes taken

    status, text = get("/metrics", headers={"Accept-Encoding": "gzip"})
    after = host.counters()
    c.eq(status, 200, "/metrics status")
    check = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                           capture_output=True)
    c.eq(check.returncode, 0, f"promtool check metrics: {check.stdout}{check.stderr}")
    keys = sum(1 for k in metric_samples(text) if k.startswith('nstats_bytes_total{direction="in"'))
    c.ok(keys >= 3000, f"thousands of keys exposed: {keys}")
    check_conventions(text)
    kernel_bytes, kernel_packets = delta(before, after)
    flows = metric_total(text, "nstats_bytes_total") + metric_total(text, "nstats_expired_bytes_total")
    c.eq(int(flows), kernel_bytes, "sum of flow series = the veth's rx+tx bytes")
    c.eq(int(metric_total(text, "nstats_capture_bytes_total")), kernel_bytes, "capture bytes = kernel")
    c.eq(int(metric_total(text, "nstats_interface_bytes_total")), kernel_bytes,
         "nstats_interface_bytes_total = kernel")
    c.eq(int(metric_total(text, "nstats_attributed_bytes_total")), kernel_bytes,
         "attributed bytes by kind add up")
    c.eq(int(metric_total(text, "nstats_capture_drops_total")), 0, "no capture drops")
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes", "nstats_build_info",
                 "nstats_keys", "nstats_folded_packets_total"):
        c.ok(any(k.split("{")[0] == name for k in metric_samples(text)), f"{name} present")

    # The same reconciliation as one PromQL expression, on what Prometheus scraped.
    time.sleep(2)
    expr = ('(sum(nstats_bytes_total) + sum(nstats_expired_bytes_total)) '
            '- sum(nstats_interface_bytes_total)')
    c.eq(prom_query(prom_port, expr), 0.0, f"PromQL: {expr} == 0")
    c.eq(prom_query(prom_port, "sum(nstats_interface_bytes_total)"), float(kernel_bytes),
         "PromQL: interface bytes = kernel")
    # Target labels are not fought: a PodMonitor's namespace and pod stay as they are.
    c.eq(prom_query(prom_port, 'count({__name__=~"nstats_.*", exported_namespace!=""})'), None,
         "no exported_namespace: nstats does not set the target's labels")
    c.eq(prom_query(prom_port, 'count(nstats_bytes_total{namespace="shop", pod="web-1"})'),
         float(sum(1 for k in metric_samples(text) if k.startswith("nstats_bytes_total{"))),
         "every flow series carries the target's namespace and pod")
    joined = ('sum by (namespace, pod, workload) (nstats_bytes_total * on (instance, job) '
              'group_left (workload) nstats_info)')
    c.eq(prom_query(prom_port, joined.replace("sum by", "count(sum by") + ")"), 1.0,
         "nstats_info joins the workload onto the flows")

    # Health and the other pages.
    c.eq(get("/healthz")[0], 200, "/healthz 200 while capturing")
    c.ok("<title>nstats" in get("/")[1], "/ is the live page")
    try:
        get("/nope")
        c.ok(False, "unknown path is 404")
    except urllib.error.HTTPError as e:
        c.eq(e.code, 404, "unknown path is 404")
    ns.send_signal(signal.SIGTERM)
    ns.wait(timeout=30)
    c.eq(ns.returncode, 0, f"nstats exit status ({watcher.text().strip()[-300:]})")
    prom.stop()


try:
    main()
finally:
    host.teardown()
c.finish()
