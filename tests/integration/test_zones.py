#!/usr/bin/env python3
"""Traffic classes, live: nstats with --k8s against the loopback API fixture, which serves
nodes in two zones of one region and a zone of a second region, pods on them, Services and
their EndpointSlices (single-zone, two-zone, topology-aware, all in another zone). Traffic from
a network namespace to pod, node and Service addresses must carry the expected class and zone
in the InfluxDB rows and the Prometheus series, and the class in the API; a two-zone Service is "mixed" with its
endpoints per class exposed; --label-net classes what is neither cluster nor public; the
per-class byte sums equal the veth's kernel counters; the API's cost per class is the
--price arithmetic. A replay of public and private addresses checks the "internet" class."""
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.request

from harness import (NSTATS, Checks, LineWatcher, have, metric_series, parse_output, require,
                     run, write_udp_pcap)
from k8sfixture import Fixture, node, pod, service
from netns import TestHost
from servers import free_port

require(os.geteuid() == 0, "root (network namespaces and capture)")
require(all(have(t) for t in ("ip", "curl", "openssl")), "ip, curl, openssl")

c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-zones-")
host = TestHost("zones")

# Nodes: node-1 (nstats' own) and node-4 in zone a, node-2 in zone b (region r1), node-3 in
# zone c of region r2.
N1, N2, N3, N4 = "198.18.0.70", "198.18.0.71", "198.18.0.72", "198.18.0.73"
# Pods, by where they run.
SAME_NODE, SAME_ZONE, CROSS_ZONE, CROSS_REGION, NO_NODE = (
    "198.18.0.50", "198.18.0.51", "198.18.0.52", "198.18.0.53", "198.18.0.54")
# Services: endpoints in zone a only; in a and b; hinted per zone; in zone b only; none ready.
SVC_ONE, SVC_TWO, SVC_HINTED, SVC_FAR, SVC_NONE = (
    "198.18.0.60", "198.18.0.61", "198.18.0.62", "198.18.0.63", "198.18.0.64")
VPC, PRIVATE = "198.18.0.97", "198.18.0.90"

EXPECT = {
    SAME_NODE: "same-node", N1: "same-node", SAME_ZONE: "same-zone", N4: "same-zone",
    CROSS_ZONE: "cross-zone", N2: "cross-zone", CROSS_REGION: "cross-region",
    N3: "cross-region", NO_NODE: "unknown", SVC_ONE: "same-zone", SVC_TWO: "mixed",
    SVC_HINTED: "same-zone", SVC_FAR: "cross-zone", SVC_NONE: "unknown", VPC: "vpc",
    PRIVATE: "private",
}
ZONES = {
    SAME_NODE: "a", N1: "a", SAME_ZONE: "a", N4: "a", CROSS_ZONE: "b", N2: "b",
    CROSS_REGION: "c", N3: "c", NO_NODE: None, SVC_ONE: "a", SVC_TWO: None, SVC_HINTED: "a",
    SVC_FAR: "b", SVC_NONE: None, VPC: None, PRIVATE: None,
}
PRICES = {"cross-zone": 0.01, "cross-region": 0.02, "mixed": 0.01, "vpc": 0.005}


def zoned_node(name, ip, zone, region):
    n = node(name, ip)
    n["metadata"]["labels"] = {"topology.kubernetes.io/zone": zone,
                               "topology.kubernetes.io/region": region}
    return n


def on_node(p, node_name):
    p["spec"]["nodeName"] = node_name
    return p


def slice_of(svc, name, endpoints):
    return {"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
            "metadata": {"name": name, "namespace": "shop", "resourceVersion": "10",
                         "labels": {"kubernetes.io/service-name": svc}},
            "addressType": "IPv4", "endpoints": endpoints}


def ep(ip, node_name, zone, ready=True, hint=None):
    e = {"addresses": [ip], "conditions": {"ready": ready}, "nodeName": node_name, "zone": zone}
    if hint:
        e["hints"] = {"forZones": [{"name": hint}]}
    return e


lists = {
    "nodes": [[zoned_node("node-1", N1, "a", "r1"), zoned_node("node-2", N2, "b", "r1"),
               zoned_node("node-3", N3, "c", "r2"), zoned_node("node-4", N4, "a", "r1")]],
    "pods": [[on_node(pod("web-1", "198.18.0.1", "ReplicaSet", "web-7d4b9c"), "node-1"),
              on_node(pod("db-0", SAME_NODE, "StatefulSet", "db"), "node-1"),
              on_node(pod("db-1", SAME_ZONE, "StatefulSet", "db"), "node-4"),
              on_node(pod("db-2", CROSS_ZONE, "StatefulSet", "db"), "node-2"),
              on_node(pod("db-3", CROSS_REGION, "StatefulSet", "db"), "node-3"),
              on_node(pod("db-4", NO_NODE, "StatefulSet", "db"), "node-9")]],
    "services": [[service("one", SVC_ONE), service("two", SVC_TWO), service("hinted", SVC_HINTED),
                  service("far", SVC_FAR), service("none", SVC_NONE)]],
    "replicasets": [[]],
    "endpointslices": [[
        slice_of("one", "one-abc", [ep(SAME_ZONE, "node-4", "a"), ep(CROSS_ZONE, "node-2", "b",
                                                                      ready=False)]),
        slice_of("two", "two-abc", [ep(SAME_ZONE, "node-4", "a")]),
        slice_of("two", "two-def", [ep(CROSS_ZONE, "node-2", "b"),
                                    ep(CROSS_REGION, "node-3", "c")]),
        slice_of("hinted", "hinted-abc", [ep(SAME_ZONE, "node-4", "a", hint="a"),
                                          ep(CROSS_ZONE, "node-2", "b", hint="b")]),
        slice_of("far", "far-abc", [ep(CROSS_ZONE, "node-2", "b")]),
        slice_of("none", "none-abc", [ep(CROSS_ZONE, "node-2", "b", ready=False)]),
    ]],
}
watches = {kind: ["hold"] for kind in lists}


def get(url):
    return urllib.request.urlopen(url, timeout=10).read().decode()


def live():
    host.setup()
    peers = [a for a in EXPECT]
    for addr in peers:
        run(host.in_ns("ip", "addr", "add", addr + "/24", "dev", host.peer_if), check=True)
    peer_mac = run(host.in_ns("cat", f"/sys/class/net/{host.peer_if}/address")).stdout.strip()
    for addr in peers:
        run(["ip", "neigh", "replace", addr, "lladdr", peer_mac, "dev", host.host_if, "nud",
             "permanent"], check=True)
    www = tempfile.mkdtemp(prefix="nstats-www-")
    with open(os.path.join(www, "blob"), "wb") as f:
        f.write(os.urandom(200000))
    host.start(host.in_ns("python3", "-m", "http.server", "--bind", "0.0.0.0", "8000",
                          "--directory", www))
    token = os.path.join(tmp, "token")
    with open(token, "w") as f:
        f.write("token-1\n")
    fx = Fixture(tmp, lists, watches, tokens={"token-1"})
    port = free_port()
    env = dict(os.environ, KUBERNETES_SERVICE_HOST="127.0.0.1",
               KUBERNETES_SERVICE_PORT=str(fx.port), NSTATS_K8S_TOKEN_FILE=token,
               NSTATS_K8S_CA_FILE=fx.ca, POD_NAME="web-1", POD_NAMESPACE="shop")
    env.pop("NODE_NAME", None)  # the own node comes from the own pod's nodeName
    args = [NSTATS, "-i", host.host_if, "--interval", "1s", "--buffer-size", "64MiB", "--k8s",
            "--listen", f"127.0.0.1:{port}", "--stdout", "--label-net", "198.18.0.96/28=vpc"]
    for cls, price in PRICES.items():
        args += ["--price", f"{cls}={price}"]
    ns = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env)
    host.procs.append(ns)
    watcher = LineWatcher(ns.stderr)
    c.ok(watcher.wait_for("capturing on", 20), f"nstats started: {watcher.lines}")
    time.sleep(2)  # the lists
    before = host.counters()
    for addr in peers:
        r = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"http://{addr}:8000/blob"])
        c.eq(r.stdout, "200", f"curl {addr}")
    time.sleep(1.5)
    after = host.counters()
    base = f"http://127.0.0.1:{port}"
    try:
        metrics = get(base + "/metrics")
        by_class = json.loads(get(base + "/api/v1/flows?group=class&limit=100"))
        pairs = json.loads(get(base + "/api/v1/flows?group=remote&limit=100"))
    except OSError as e:
        metrics, by_class, pairs = "", {"rows": []}, {"rows": []}
        c.ok(False, f"nstats' pages: {e}; it said {watcher.text()[-2000:]}")
    ns.send_signal(signal.SIGTERM)
    out = ns.stdout.read()
    ns.wait(timeout=30)
    c.eq(ns.returncode, 0, f"nstats exit status ({watcher.text().strip()[-300:]})")
    fx.stop()

    points = parse_output(out)
    rows = [(t, f) for m, t, f, _ in points if m == "nstats"]
    for addr, cls in EXPECT.items():
        got = {t.get("class") for t, _ in rows if t.get("remote") == addr}
        c.ok(got == {cls}, f"InfluxDB rows of {addr} have class {cls}: {got}")
        zones = {t.get("remote_zone") for t, _ in rows if t.get("remote") == addr}
        c.ok(zones == {ZONES[addr]}, f"InfluxDB rows of {addr} have zone {ZONES[addr]}: {zones}")
    sums = {}
    for t, f in rows:
        sums[t["class"]] = sums.get(t["class"], 0) + f["bytes_in"] + f["bytes_out"]
    kernel = (after["rx_bytes"] - before["rx_bytes"]) + (after["tx_bytes"] - before["tx_bytes"])
    captured = sum(f["bytes"] for m, _, f, _ in points if m == "nstats_capture")
    c.eq(sum(sums.values()), captured, f"per-class sums {sums} add up to every captured byte")
    c.eq(captured, kernel, "captured bytes equal the veth's rx+tx bytes")
    drops = sum(f["capture_drops"] + f["interface_drops"] for m, _, f, _ in points
                if m == "nstats_capture")
    c.eq(drops, 0, "no capture drops")

    samples = metric_series(metrics)
    for addr, cls in EXPECT.items():
        got = {lab.get("class") for name, lab, _ in samples
               if name == "nstats_bytes_total" and lab.get("remote") == addr}
        c.ok(got == {cls}, f"Prometheus series of {addr} have class {cls}: {got}")
        zones = {lab.get("remote_zone") for name, lab, _ in samples
                 if name == "nstats_bytes_total" and lab.get("remote") == addr}
        c.ok(zones == {ZONES[addr]}, f"Prometheus series of {addr} have zone {ZONES[addr]}")
    shares = {lab["class"]: v for name, lab, v in samples
              if name == "nstats_service_endpoints" and lab.get("remote_name") == "two"}
    c.eq(shares, {"same-zone": 1, "cross-zone": 1, "cross-region": 1},
         "the mixed Service's ready endpoints per class")
    c.ok(not [lab for name, lab, _ in samples if name == "nstats_service_endpoints" and
              lab.get("remote_name") != "two"], "only mixed Services' endpoints are listed")
    info = [lab for name, lab, _ in samples if name == "nstats_info"]
    c.ok(info and info[0].get("zone") == "a" and info[0].get("region") == "r1",
         f"nstats_info says where here is: {info}")
    prices = {(lab["class"], lab["direction"]): v for name, lab, v in samples
              if name == "nstats_price_usd_per_gigabyte"}
    c.eq(prices, {(k, d): v for k, v in PRICES.items() for d in ("in", "out")},
         "the --price gauges")

    api_rows = {r["class"]: r for r in by_class.get("rows", [])}
    for cls, r in api_rows.items():
        total = r["in"]["total"] + r["out"]["total"]
        want = total * PRICES.get(cls, 0) / 1e9
        c.ok(abs(r.get("cost_usd", -1) - want) < 1e-12,
             f"API class {cls}: cost {r.get('cost_usd')} = {total} bytes x {PRICES.get(cls, 0)}")
    c.ok({"same-node", "same-zone", "cross-zone", "cross-region", "mixed", "vpc",
          "private", "unknown"} <= set(api_rows), f"the API groups by class: {sorted(api_rows)}")
    remote_classes = {r["remote"]: r["class"] for r in pairs.get("rows", [])}
    c.ok(all(remote_classes.get(a) == cls for a, cls in EXPECT.items()),
         f"the API's rows carry the class: {remote_classes}")


def replay():
    """Public addresses are the internet; special-purpose ones are private. A capture file:
    nothing is sent anywhere."""
    pcap = os.path.join(tmp, "classes.pcap")
    write_udp_pcap(pcap, [(1700000000, 0, 100, 1, "out"), (1700000000, 1, 200, 2, "out"),
                          (1700000000, 2, 300, 3, "in")],
                   remotes={1: "8.8.4.4", 2: "10.1.2.3", 3: "2606:4700::1111"})
    r = run([NSTATS, "-r", pcap, "--local-net", "198.18.0.0/15", "--local-net", "2001:db8::/32",
             "--label-net", "10.0.0.0/8=vpc"])
    c.eq(r.returncode, 0, f"replay: {r.stderr.strip()}")
    got = {t["remote"]: t.get("class") for m, t, _, _ in parse_output(r.stdout) if m == "nstats"}
    c.eq(got, {"8.8.4.4": "internet", "10.1.2.3": "vpc", "2606:4700::1111": "internet"},
         "replay: classes of addresses Kubernetes does not know")


try:
    replay()
    live()
finally:
    host.teardown()
c.finish()
