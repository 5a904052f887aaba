#!/usr/bin/env python3
"""NAT-exact attribution in node mode. Network namespaces made here act as a node, a client
pod on it, a router, two backend pods "in another zone" and an "internet" host (addresses in
198.18.0.0/15 only). In the node, iptables DNATs a Service VIP to the two backends with the
statistic match and masquerades egress to the internet, as kube-proxy does. nstats in the node
namespace, capturing the uplink (after both translations) and the pod's host-side veth (before
the DNAT), must count each pair for the client pod and the backend that really got the bytes,
exactly equal to tcpdump on the backends' and the internet host's own veths; without
conntrack (--conntrack=false) the uplink shows the node's address instead. Without
CAP_NET_ADMIN nstats still counts, and says on /healthz and in a metric that conntrack is
unavailable; the image's binary as uid 65532, given NET_ADMIN in its bounding set as the
DaemonSet snippet in docs/COST.md does, reads conntrack through its file capability."""
import os
import signal
import subprocess
import tempfile
import time
import urllib.request

from harness import NSTATS, Checks, LineWatcher, have, parse_output, pcap_records, require, run
from servers import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

require(os.geteuid() == 0, "root (network namespaces and capture)")
require(all(have(t) for t in ("ip", "iptables", "tcpdump", "curl", "ethtool", "setpriv")),
        "ip, iptables, tcpdump, curl, ethtool, setpriv")

c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-nat-")
TAG = f"nat{os.getpid() % 10000}"
NS = {name: f"{TAG}-{name}" for name in ("node", "pod", "lan", "b1", "b2", "inet")}
POD, NODE_POD_SIDE, NODE_UP, LAN_UP = "198.18.1.2", "198.18.1.1", "198.18.0.1", "198.18.0.2"
B1, B2, INET, VIP = "198.18.10.2", "198.18.11.2", "198.19.5.2", "198.18.100.1"
procs = []


def sh(*cmd):
    r = run(list(cmd))
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r.stdout


def ns(name, *cmd):
    return ["ip", "netns", "exec", NS[name], *cmd]


def veth(a, a_if, a_addr, b, b_if, b_addr):
    """A veth pair between namespaces a and b, quiet: no IPv6, no offloads (so every hop
    carries the same frames), up."""
    sh("ip", "link", "add", a_if, "netns", NS[a], "type", "veth", "peer", "name", b_if, "netns",
       NS[b])
    for side, ifname, addr in ((a, a_if, a_addr), (b, b_if, b_addr)):
        sh(*ns(side, "ip", "addr", "add", addr, "dev", ifname))
        sh(*ns(side, "ethtool", "-K", ifname, "tso", "off", "gso", "off", "gro", "off"))
        sh(*ns(side, "ip", "link", "set", ifname, "up"))


def setup():
    for name in NS.values():
        sh("ip", "netns", "add", name)
    for name in NS:
        sh(*ns(name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"))
        sh(*ns(name, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"))
        sh(*ns(name, "ip", "link", "set", "lo", "up"))
    veth("pod", "eth0", POD + "/24", "node", "vpod", NODE_POD_SIDE + "/24")
    veth("node", "up0", NODE_UP + "/24", "lan", "lan0", LAN_UP + "/24")
    veth("b1", "eth0", B1 + "/24", "lan", "lb1", "198.18.10.1/24")
    veth("b2", "eth0", B2 + "/24", "lan", "lb2", "198.18.11.1/24")
    veth("inet", "eth0", INET + "/24", "lan", "linet", "198.19.5.1/24")
    sh(*ns("pod", "ip", "route", "add", "default", "via", NODE_POD_SIDE))
    sh(*ns("node", "ip", "route", "add", "default", "via", LAN_UP))
    sh(*ns("lan", "ip", "route", "add", "198.18.1.0/24", "via", NODE_UP))
    for name, gw in (("b1", "198.18.10.1"), ("b2", "198.18.11.1"), ("inet", "198.19.5.1")):
        sh(*ns(name, "ip", "route", "add", "default", "via", gw))
    for name in ("node", "lan"):
        sh(*ns(name, "sysctl", "-qw", "net.ipv4.ip_forward=1"))
    # kube-proxy's iptables mode: a Service VIP to its backends by the statistic match (here
    # in turn), and pods' internet egress masqueraded behind the node's address.
    sh(*ns("node", "iptables", "-t", "nat", "-A", "PREROUTING", "-d", VIP, "-p", "tcp",
           "--dport", "80", "-m", "statistic", "--mode", "nth", "--every", "2", "--packet", "0",
           "-j", "DNAT", "--to-destination", f"{B1}:8000"))
    sh(*ns("node", "iptables", "-t", "nat", "-A", "PREROUTING", "-d", VIP, "-p", "tcp",
           "--dport", "80", "-j", "DNAT", "--to-destination", f"{B2}:8000"))
    sh(*ns("node", "iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "198.18.1.0/24", "-d",
           "198.19.0.0/16", "-j", "MASQUERADE"))
    www = tempfile.mkdtemp(prefix="nstats-www-")
    with open(os.path.join(www, "blob"), "wb") as f:
        f.write(os.urandom(300000))
    for name in ("b1", "b2", "inet"):
        start(ns(name, "python3", "-m", "http.server", "--bind", "0.0.0.0", "8000",
                 "--directory", www))


def start(cmd, **kw):
    p = subprocess.Popen(cmd, **kw)
    procs.append(p)
    return p


def teardown():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for name in NS.values():
        run(["ip", "netns", "del", name])


def wire_bytes(path):
    """The sum of the frames' wire lengths in a capture."""
    import struct
    _, records = pcap_records(path)
    return sum(struct.unpack_from("<I", rec, 12)[0] for _, _, rec in records)


def nstats(name, *args, caps=None, binary=NSTATS):
    cmd = [binary, "-i", *args, "--interval", "1s", "--buffer-size", "16MiB", "--local-net",
           "198.18.1.0/24", "--local-net", NODE_UP]
    if caps:
        cmd = ["setpriv", *caps, *cmd]
    p = start(ns("node", *cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    w = LineWatcher(p.stderr)
    c.ok(w.wait_for("capturing on", 20), f"nstats {name} started: {w.lines}")
    return p, w


def finish(p, w, name):
    p.send_signal(signal.SIGTERM)
    out = p.stdout.read()
    p.wait(timeout=30)
    c.eq(p.returncode, 0, f"nstats {name} exit status ({w.text().strip()[-300:]})")
    totals = {}
    for m, t, f, _ in parse_output(out):
        # The TCP rows: the veths' ARP frames are not in the ground truth's filter.
        if m == "nstats" and t["proto"] == "tcp":
            key = (t["local"], t["remote"], t["proto"], t["port"])
            totals[key] = totals.get(key, 0) + f["bytes_in"] + f["bytes_out"]
    drops = sum(f["capture_drops"] + f["interface_drops"] for m, _, f, _ in parse_output(out)
                if m == "nstats_capture")
    c.eq(drops, 0, f"{name}: no capture drops")
    return totals, w.text()


def main():
    setup()
    time.sleep(1)
    dumps = {}
    for name in ("b1", "b2", "inet", "pod"):
        dumps[name] = os.path.join(tmp, f"{name}.pcap")
        start(ns(name, "tcpdump", "-i", "eth0", "-s", "128", "-U", "-w", dumps[name],
                 "tcp port 8000 or tcp port 80"), stderr=subprocess.DEVNULL)
    metrics_port = free_port()
    up, up_w = nstats("uplink", "up0")
    vpod, vpod_w = nstats("pod veth", "vpod")
    plain, plain_w = nstats("uplink without conntrack", "up0", "--conntrack=false")
    nocap, nocap_w = nstats("uplink without CAP_NET_ADMIN", "up0", "--listen",
                            f"127.0.0.1:{metrics_port}", "--stdout",
                            caps=["--bounding-set", "-net_admin", "--inh-caps", "-net_admin"])
    # The image's binary as the DaemonSet runs it with NET_ADMIN added: uid 65532, the two
    # capabilities in the bounding set only, got through its permitted file capabilities.
    rootfs = os.path.join(tmp, "rootfs")
    r = run([os.path.join(ROOT, "deploy", "rootfs.sh"), NSTATS, rootfs])
    c.eq(r.returncode, 0, f"rootfs.sh ({r.stderr.strip()})")
    image, image_w = nstats("uplink, the image's binary as uid 65532", "up0",
                            binary=os.path.join(rootfs, "usr", "bin", "nstats"),
                            caps=["--inh-caps=-all", "--bounding-set=-all,+net_raw,+net_admin",
                                  "--reuid=65532", "--regid=65532", "--clear-groups", "--"])
    time.sleep(1.5)  # tcpdump's start
    for i in range(4):
        r = run(ns("pod", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                   f"http://{VIP}/blob"))
        c.eq(r.stdout, "200", f"pod -> Service VIP, request {i}")
    for i in range(2):
        r = run(ns("pod", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                   f"http://{INET}:8000/blob"))
        c.eq(r.stdout, "200", f"pod -> internet host, request {i}")
    time.sleep(1.5)
    health = metrics = ""
    try:
        base = f"http://127.0.0.1:{metrics_port}"
        health = run(ns("node", "curl", "-s", base + "/healthz")).stdout
        metrics = run(ns("node", "curl", "-s", base + "/metrics")).stdout
    except OSError:
        pass
    conntrack_l = run(ns("node", "conntrack", "-L")).stdout if have("conntrack") else ""
    up_t, up_log = finish(up, up_w, "uplink")
    vpod_t, _ = finish(vpod, vpod_w, "pod veth")
    plain_t, _ = finish(plain, plain_w, "uplink without conntrack")
    nocap_t, _ = finish(nocap, nocap_w, "uplink without CAP_NET_ADMIN")
    image_t, image_log = finish(image, image_w, "uplink, the image's binary")
    for p in procs:
        if p.args[-1].startswith("tcp port") and p.poll() is None:
            p.send_signal(signal.SIGINT)
            p.wait(timeout=10)
    truth = {name: wire_bytes(path) for name, path in dumps.items()}
    print(f"ground truth (tcpdump on each end's own veth): {truth}", flush=True)
    print(f"uplink rows: {up_t}", flush=True)
    c.ok(truth["b1"] > 600000 and truth["b2"] > 600000 and truth["inet"] > 600000,
         f"both backends and the internet host served: {truth}")

    want = {(POD, B1, "tcp", "8000"): truth["b1"], (POD, B2, "tcp", "8000"): truth["b2"],
            (POD, INET, "tcp", "8000"): truth["inet"]}
    c.ok("conntrack: NAT'd packets are counted" in up_log, "conntrack is read on the node")
    for key, n in want.items():
        c.eq(up_t.get(key), n, f"uplink: {key} equals the far end's own veth")
        c.eq(vpod_t.get(key), n, f"pod veth: {key} equals the far end's own veth")
    c.eq(sum(up_t.values()), sum(want.values()),
         f"uplink: nothing else counted ({sorted(up_t)})")
    c.eq(sum(vpod_t.values()), truth["pod"], "pod veth: every byte the pod's own veth carried")
    c.eq(sum(want.values()), truth["pod"], "the pod's bytes = the far ends' bytes")
    # Without conntrack: the masquerade hides the pod, the VIP hides the backends.
    c.eq(plain_t.get((NODE_UP, INET, "tcp", "8000")), truth["inet"],
         "without conntrack the uplink counts the internet bytes for the node's address")
    c.ok((POD, INET, "tcp", "8000") not in plain_t, "... and not for the pod")
    c.eq(nocap_t, plain_t, "without CAP_NET_ADMIN: the same counts as without conntrack")
    c.ok("conntrack: NAT'd packets are counted" in image_log,
         f"the image's binary as uid 65532 reads conntrack: {image_log.strip()[-300:]}")
    c.eq(image_t, up_t, "the image's binary as uid 65532 counts as root does")
    c.ok("conntrack unavailable" in health and health.startswith("ok:"),
         f"/healthz says conntrack is unavailable, and is ok: {health!r}")
    c.ok("nstats_conntrack_up 0" in metrics, "nstats_conntrack_up is 0 without CAP_NET_ADMIN")
    if conntrack_l:
        print(conntrack_l, flush=True)


try:
    main()
finally:
    teardown()
c.finish()
