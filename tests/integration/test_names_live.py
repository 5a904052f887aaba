#!/usr/bin/env python3
"""Names, live: dnsmasq in a network namespace answers A, AAAA and CNAME queries for test
hosts; a client resolves the names (over UDP and TCP) and then talks to the addresses with
curl. nstats, capturing the veth, must label that traffic with the names asked for, label
the network from --label-net, and carry the pod identity; a replay of the same traffic
(captured by tcpdump) must name it the same way."""
import os
import signal
import socket
import struct
import subprocess
import tempfile
import time

from harness import NSTATS, Checks, LineWatcher, have, parse_output, require, run
from netns import TestHost

require(os.geteuid() == 0, "root (network namespaces and capture)")
require(all(have(t) for t in ("ip", "dnsmasq", "curl", "tcpdump")),
        "ip, dnsmasq (dnsmasq-base), curl, tcpdump")

c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-names-")
host = TestHost("nam")
DNS = "198.18.0.2"
DB4, WEB4, DB6 = "198.18.0.10", "198.18.0.11", "2001:db8::10"
PRINTER = "198.18.0.12"  # named only by its PTR record
SILENT = "198.18.0.3"    # a resolver that never answers


def query(name, qtype, tcp=False):
    """Sends one DNS query to the test resolver; returns the raw answer."""
    q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack("!HH", qtype, 1)
    if tcp:
        with socket.create_connection((DNS, 53), timeout=5) as s:
            s.sendall(struct.pack("!H", len(q)) + q)
            n = struct.unpack("!H", s.recv(2))[0]
            return s.recv(n)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(q, (DNS, 53))
        return s.recv(4096)


def rows_for(points, remote):
    return [t for m, t, _, _ in points if m == "nstats" and t.get("remote") == remote]


def check_named(points, what):
    for remote, name in ((DB4, "db.lab.test"), (DB6, "db.lab.test"), (WEB4, "www.lab.test")):
        rows = rows_for(points, remote)
        wrong = [(ts, t) for m, t, _, ts in points if m == "nstats" and t.get("remote") == remote
                 and (t.get("remote_name") != name or t.get("remote_source") != "dns")]
        c.ok(rows and not wrong, f"{what}: traffic to {remote} named {name}: {rows[:2]}; wrong: {wrong}")
        c.ok(rows and all(t.get("net") == "lab" for t in rows), f"{what}: {remote} net=lab")
    unnamed = rows_for(points, DNS)
    c.ok(unnamed and all(t.get("remote_source") == "net" and t.get("remote_name") == "lab"
                         for t in unnamed),
         f"{what}: the resolver itself, never named by DNS, falls back to its net label")


def main():
    host.setup()
    for addr in (DB4 + "/24", WEB4 + "/24", PRINTER + "/24", SILENT + "/24"):
        run(host.in_ns("ip", "addr", "add", addr, "dev", host.peer_if), check=True)
    run(host.in_ns("ip", "addr", "add", DB6 + "/64", "dev", host.peer_if, "nodad"), check=True)
    peer_mac = run(host.in_ns("cat", f"/sys/class/net/{host.peer_if}/address")).stdout.strip()
    for addr in (DB4, WEB4, DB6, PRINTER, SILENT):
        run(["ip", "neigh", "replace", addr, "lladdr", peer_mac, "dev", host.host_if, "nud",
             "permanent"], check=True)
    www = tempfile.mkdtemp(prefix="nstats-www-")
    with open(os.path.join(www, "index.html"), "w") as f:
        f.write("x" * 20000)
    host.start(host.in_ns("python3", "-m", "http.server", "--bind", "::", "8000", "--directory",
                          www))
    host.start(host.in_ns("dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts",
                          f"--listen-address={DNS}", "--bind-interfaces", "--port=53",
                          f"--host-record=db.lab.test,{DB4},{DB6}",
                          f"--host-record=web.lab.test,{WEB4}",
                          "--cname=www.lab.test,web.lab.test",
                          "--ptr-record=12.0.18.198.in-addr.arpa,printer.lab.test",
                          f"--pid-file={tmp}/dnsmasq.pid"))
    host.start(host.in_ns("python3", "-c", SILENT_RESOLVER, SILENT))
    time.sleep(1)
    pcap = os.path.join(tmp, "names.pcap")
    dump = host.start(["tcpdump", "-i", host.host_if, "-s", "0", "-U", "-w", pcap])
    env = dict(os.environ, POD_NAME="web-7d4b9c", POD_NAMESPACE="shop", NODE_NAME="node-3")
    ns = subprocess.Popen([NSTATS, "-i", host.host_if, "--interval", "1s", "--buffer-size", "64MiB", "--label-net",
                           "198.18.0.0/24=lab", "--label-net", "2001:db8::/64=lab", "--rdns",
                           "--dns-server", DNS],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    host.procs.append(ns)
    watcher = LineWatcher(ns.stderr)
    c.ok(watcher.wait_for("capturing on", 20), f"nstats started: {watcher.lines}")
    time.sleep(0.5)

    answers = [query("db.lab.test", 1), query("db.lab.test", 28), query("www.lab.test", 1, True)]
    print(f"answers in at {time.time():.3f}", flush=True)
    c.ok(all(len(a) > 12 and a[3] & 0x0f == 0 for a in answers), "dnsmasq answered")
    for url in (f"http://{DB4}:8000/", f"http://[{DB6}]:8000/", f"http://{WEB4}:8000/"):
        r = run(["curl", "-s", "-g", "-o", "/dev/null", "-w", "%{http_code}", url])
        c.eq(r.stdout, "200", f"curl {url}")
    # The printer: talked to in two intervals; its PTR answer names the later rows.
    for _ in range(2):
        r = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"http://{PRINTER}:8000/"])
        c.eq(r.stdout, "200", "curl the PTR-only host")
        time.sleep(1.5)
    ns.send_signal(signal.SIGTERM)
    out = ns.stdout.read()
    ns.wait(timeout=30)
    c.eq(ns.returncode, 0, f"nstats exit status ({watcher.text().strip()[-200:]})")
    dump.send_signal(signal.SIGINT)
    dump.wait(timeout=10)

    points = parse_output(out)
    check_named(points, "live")
    printer = rows_for(points, PRINTER)
    c.ok(printer and printer[-1].get("remote_name") == "printer.lab.test" and
         printer[-1].get("remote_source") == "ptr",
         f"PTR-only host named by reverse DNS: {printer[-1:]}")
    ident = [t for m, t, _, _ in points if m == "nstats"]
    c.ok(ident and all(t.get("host") == "web-7d4b9c" and t.get("namespace") == "shop" and
                       t.get("node") == "node-3" for t in ident),
         f"pod identity from the Downward API variables: {ident[:1]}")

    r = run([NSTATS, "-r", pcap, "--local-net", "198.18.0.1", "--label-net",
             "198.18.0.0/24=lab", "--label-net", "2001:db8::/64=lab"])
    c.eq(r.returncode, 0, f"replay exit status ({r.stderr.strip()})")
    check_named(parse_output(r.stdout), "replay")
    r = run([NSTATS, "-r", pcap, "--local-net", "198.18.0.1", "--dns-snoop=false"])
    rows = rows_for(parse_output(r.stdout), DB4)
    c.ok(rows and all(t.get("remote_source") == "addr" for t in rows),
         "--dns-snoop=false: addresses stay unnamed")
    r = run([NSTATS, "-r", pcap, "--label-net", "198.18.0.0/33=x"])
    c.ok(r.returncode == 2 and "--label-net" in r.stderr, f"bad --label-net: {r.stderr.strip()}")


SILENT_RESOLVER = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
while True:
    s.recvfrom(4096)  # read and never answer
'''


def silent_resolver():
    """A resolver that never answers: capture and export go on, names stay addresses, and the
    in-flight cap holds."""
    from servers import free_port
    port = free_port()
    ns = subprocess.Popen([NSTATS, "-i", host.host_if, "--interval", "1s", "--buffer-size", "64MiB", "--rdns",
                           "--dns-server", SILENT, "--rdns-max-in-flight", "4",
                           "--listen", f"127.0.0.1:{port}", "--stdout"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    host.procs.append(ns)
    watcher = LineWatcher(ns.stderr)
    c.ok(watcher.wait_for("capturing on", 20), "silent resolver: nstats started")
    # Ten hosts, so more addresses want names than the cap allows in flight.
    spray = "import socket\nfor i in range(20, 30):\n" \
            "    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('198.18.0.%d' % i, 9))\n"
    for addr in range(20, 30):
        run(host.in_ns("ip", "addr", "add", f"198.18.0.{addr}/24", "dev", host.peer_if))
    time.sleep(0.5)
    for _ in range(3):
        run(["python3", "-c", spray])
        time.sleep(1.2)
    import urllib.request
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    in_flight = [float(l.split()[-1]) for l in text.splitlines()
                 if l.startswith("nstats_rdns_in_flight ")]
    c.ok(in_flight and in_flight[0] <= 4, f"silent resolver: in flight within the cap {in_flight}")
    c.ok("nstats_rdns_limited_total" in text, "silent resolver: limits counted")
    # Two tries of 2 s each: the first timeouts land a few seconds after the first queries.
    deadline, timeouts = time.time() + 15, []
    while time.time() < deadline:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        timeouts = [float(l.split()[-1]) for l in text.splitlines()
                    if l.startswith('nstats_rdns_queries_total{result="timeout"}')]
        if timeouts and timeouts[0] >= 1:
            break
        time.sleep(0.5)
    c.ok(timeouts and timeouts[0] >= 1, f"silent resolver: timeouts counted {timeouts}")
    ns.send_signal(signal.SIGTERM)
    out = ns.stdout.read()
    ns.wait(timeout=30)
    c.eq(ns.returncode, 0, "silent resolver: exit status")
    points = parse_output(out)
    intervals = [ts for m, _, _, ts in points if m == "nstats_capture"]
    c.ok(len(intervals) >= 4, f"silent resolver: export went on every interval ({len(intervals)})")
    rows = [t for m, t, _, _ in points if m == "nstats" and t["remote"].startswith("198.18.0.2")]
    c.ok(rows and all(t["remote_source"] in ("addr", "net") for t in rows),
         "silent resolver: names stay addresses")


try:
    main()
    silent_resolver()
finally:
    host.teardown()
c.finish()
