#!/usr/bin/env python3
"""Kubernetes names, live: nstats with --k8s, pointed at a loopback HTTPS fixture with the
same variables a pod has (KUBERNETES_SERVICE_HOST/PORT, a token and CA made here), lists and
watches pods, services, nodes and ReplicaSets; ADDED, MODIFIED and DELETED events, a 410
Gone that forces a re-list, and a rotated token. Traffic from a network namespace to the
addresses must carry the Kubernetes names, namespaces and workloads."""
import os
import signal
import subprocess
import tempfile
import time
import urllib.request

from harness import NSTATS, Checks, LineWatcher, have, parse_output, require, run
from k8sfixture import Fixture, node, pod, replicaset, service
from netns import TestHost
from servers import free_port

require(os.geteuid() == 0, "root (network namespaces and capture)")
require(all(have(t) for t in ("ip", "curl", "openssl")), "ip, curl, openssl")

c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-k8s-")
host = TestHost("k8s")
WEB, API, CRON, DB, NODE1, GONE_NODE = ("198.18.0.50", "198.18.0.51", "198.18.0.52",
                                        "198.18.0.60", "198.18.0.70", "198.18.0.71")

lists = {
    # The second pod list is what the re-list after 410 Gone sees: cron-1 exists only there.
    "pods": [[pod("web-1", WEB, "ReplicaSet", "web-7d4b9c"),
              pod("agent", NODE1, "DaemonSet", "agent", host_network=True)],
             [pod("web-1", WEB, "ReplicaSet", "web-7d4b9c"),
              pod("api-1", API, "StatefulSet", "api"), pod("cron-1", CRON, "Job", "cron-123")]],
    "services": [[service("db", DB)]],
    "nodes": [[node("node-1", NODE1), node("node-old", GONE_NODE)]],
    "replicasets": [[replicaset("web-7d4b9c", "web")]],
}
watches = {
    "pods": [[(0.5, {"type": "ADDED", "object": pod("api-1", API, "StatefulSet", "api", rv="11")}),
              (0.2, {"type": "MODIFIED", "object": pod("web-1", WEB, "ReplicaSet", "web-7d4b9c",
                                                       rv="12")}),
              (0.6, {"type": "BOOKMARK", "object": {"kind": "Pod", "apiVersion": "v1",
                                                    "metadata": {"resourceVersion": "13"}}})],
             [(0.2, {"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1",
                                                 "status": "Failure", "reason": "Expired",
                                                 "code": 410}})],
             "hold"],
    # The first services watch ends after the token rotation, so the next one must re-read it.
    "services": [[(4.5, {"type": "BOOKMARK", "object": {"kind": "Service", "apiVersion": "v1",
                                                        "metadata": {"resourceVersion": "50"}}})],
                 "hold"],
    "nodes": [[(0.5, {"type": "DELETED", "object": node("node-old", GONE_NODE, rv="13")}),
               (0.7, {"type": "BOOKMARK", "object": {"kind": "Node", "apiVersion": "v1",
                                                     "metadata": {"resourceVersion": "14"}}})],
              "hold"],
    "replicasets": ["hold"],
}


def main():
    host.setup()
    for addr in (WEB, API, CRON, DB, NODE1, GONE_NODE):
        run(host.in_ns("ip", "addr", "add", addr + "/24", "dev", host.peer_if), check=True)
    peer_mac = run(host.in_ns("cat", f"/sys/class/net/{host.peer_if}/address")).stdout.strip()
    for addr in (WEB, API, CRON, DB, NODE1, GONE_NODE):
        run(["ip", "neigh", "replace", addr, "lladdr", peer_mac, "dev", host.host_if, "nud",
             "permanent"], check=True)
    www = tempfile.mkdtemp(prefix="nstats-www-")
    host.start(host.in_ns("python3", "-m", "http.server", "--bind", "0.0.0.0", "8000",
                          "--directory", www))
    token = os.path.join(tmp, "token")
    with open(token, "w") as f:
        f.write("token-1\n")
    fx = Fixture(tmp, lists, watches, tokens={"token-1", "token-2"})
    metrics_port = free_port()
    env = dict(os.environ, KUBERNETES_SERVICE_HOST="127.0.0.1",
               KUBERNETES_SERVICE_PORT=str(fx.port), NSTATS_K8S_TOKEN_FILE=token,
               NSTATS_K8S_CA_FILE=fx.ca, POD_NAME="web-1", POD_NAMESPACE="shop")
    ns = subprocess.Popen([NSTATS, "-i", host.host_if, "--interval", "1s", "--buffer-size", "64MiB", "--k8s",
                           "--listen", f"127.0.0.1:{metrics_port}", "--stdout"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    host.procs.append(ns)
    watcher = LineWatcher(ns.stderr)
    c.ok(watcher.wait_for("capturing on", 20), f"nstats started: {watcher.lines}")
    time.sleep(2.5)  # lists, the scripted watch events, the 410 and the re-list
    with open(token, "w") as f:
        f.write("token-2\n")  # a rotated service-account token
    time.sleep(1.5)
    for addr in (WEB, API, CRON, DB, NODE1, GONE_NODE):
        r = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"http://{addr}:8000/"])
        c.eq(r.stdout, "200", f"curl {addr}")
    time.sleep(1.5)
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read().decode()
    except OSError as e:
        text = ""
        c.ok(False, f"scrape /metrics: {e}; nstats said: {watcher.text()[-2000:]}")
    ns.send_signal(signal.SIGTERM)
    out = ns.stdout.read()
    ns.wait(timeout=30)
    c.eq(ns.returncode, 0, f"nstats exit status ({watcher.text().strip()[-300:]})")
    fx.stop()

    rows = {}
    for m, t, _, _ in parse_output(out):
        if m == "nstats":
            rows[t["remote"]] = t
    for addr, kind, nsname, name, workload in (
            (WEB, "pod", "shop", "web-1", "Deployment/web"),
            (API, "pod", "shop", "api-1", "StatefulSet/api"),
            (CRON, "pod", "shop", "cron-1", "Job/cron-123"),
            (DB, "service", "shop", "db", None),
            (NODE1, "node", None, "node-1", None)):
        t = rows.get(addr, {})
        c.ok(t.get("remote_source") == "k8s" and t.get("remote_name") == name and
             t.get("remote_kind") == kind and t.get("remote_namespace") == nsname and
             t.get("remote_workload") == workload,
             f"{addr} named {kind} {nsname}/{name} ({workload}): {t}")
    c.ok(rows.get(GONE_NODE, {}).get("remote_source") in ("addr", "net"),
         f"a DELETED node no longer names its address: {rows.get(GONE_NODE)}")
    c.ok('remote_workload="Deployment/web"' in text, "Prometheus labels carry the workload")
    relists = [l for l in text.splitlines() if l.startswith("nstats_k8s_relists_total ")]
    c.ok(relists and float(relists[0].split()[-1]) >= 1, f"re-list after 410 counted: {relists}")
    tokens_seen = [tok for _, _, _, tok in fx.requests]
    c.ok(tokens_seen[0] == "token-1" and "token-2" in tokens_seen,
         "the rotated token was read again")
    c.ok(all(tok in ("token-1", "token-2") for tok in tokens_seen), "every request authorised")
    pod_watches = [q for kind, w, q, _ in fx.requests if kind == "pods" and w]
    c.ok(pod_watches and all(q.get("resourceVersion") for q in pod_watches),
         "watches carry a resourceVersion")


try:
    main()
finally:
    host.teardown()
c.finish()
