#!/usr/bin/env python3
"""The Grafana dashboards against real servers. Three generated captures (two pods in two
namespaces, with --k8s names, and a plain host) are replayed through nstats, paced through a
pipe: the InfluxDB sink writes the default schema to a real InfluxDB 1.x while /metrics is
read at every 30 s of packet time (the PodMonitor's interval), given each target's labels as
Prometheus would, and backfilled into a real Prometheus with promtool; a second replay writes
the legacy schema. Then every template variable and every panel query of every dashboard runs
against its server with Grafana's macros substituted as Grafana does (the panel's min interval
applied to $__interval, $__rate_interval from the scrape interval, All or the test's pod), at
a 5 s and a 60 s $__interval. Every query must return data (what only a live capture has must
be empty); a traffic panel has no empty bucket inside the data (the saw-tooth of buckets
shorter than the rows are apart); totals over the range (the sum over time of a rate series
times its step) must agree at both intervals and with the generator's ledger; a top-N panel
must show the same N series at both intervals, the ones the ledger ranks first. The static
checks: every name a query uses is in docs/METRICS.md, every panel takes the dashboard's
data-source variable, has a min interval, units, and an axis of its own for a second unit.

The cost dashboards: the fixture's nodes are in three zones of two regions, its pods on them,
its Services' endpoints in one zone or two, and --label-net makes a vpc class, so the rows of
the two pods carry every class; nstats is given --price. Each row's class must be the one the
fixture's topology gives. The dashboards' price variables are set to the same prices: cost by
class, by workload and by namespace, workload and class must be the ledger's bytes of each
class and direction times its price (exact from InfluxDB; from Prometheus, exactly its own
bytes panels times the prices and near the ledger), the bytes by class the ledger's, and the
mixed Service's endpoints by class as each pod sees them. The recording rules
(deploy/prometheus/nstats-cost-rules.yml) are backfilled with promtool over the scrapes and
must agree with the dashboard's cost at nstats' --price."""
import glob
import gzip
import ipaddress
import json
import math
import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict

import yaml

from harness import NSTATS, PCAPGEN, Checks, read_ledger, require, run
from k8sfixture import Fixture, node, pod, replicaset, service
import servers
from servers import InfluxDB, free_port, have_all

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DASHBOARDS = os.path.join(ROOT, "deploy", "grafana", "dashboards")
RULES = os.path.join(ROOT, "deploy", "prometheus", "nstats-cost-rules.yml")
require(os.path.exists(NSTATS) and os.path.exists(PCAPGEN), "built nstats and pcapgen")
require(have_all("influxd", "prometheus", "promtool", "openssl"),
        "influxd, prometheus, promtool (Debian influxdb, prometheus), openssl")

c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-dash-")
cleanup = []

START = 1700000040          # packet time of the first packet: a whole minute
DURATION = 600              # seconds of packet time per capture
SCRAPE = 30                 # the PodMonitor's interval, and the dashboards' scrape_interval
# The dashboards' time range: the captures with two minutes either side (a rate window), as a
# person looking at them would choose.
FROM_MS, TO_MS = (START - 120) * 1000, (START + DURATION + 120) * 1000
LOCAL = ["--local-net", "198.18.0.1/32", "--local-net", "2001:db8::1/128"]
NAMES = ["--label-net", "2001:db8:1::/48=internet", "--label-net", "198.19.0.32/27=vpc"]

# Who counts: two pods (a PodMonitor target each) and a host scraped by a static config.
SOURCES = [
    {"host": "web-7d9f8-x2kqp", "namespace": "shop", "workload": "web", "node": "node-1",
     "k8s": True, "packets": 40000, "seed": 31,
     "target": {"job": "shop/nstats", "namespace": "shop", "pod": "web-7d9f8-x2kqp",
                "container": "nstats", "endpoint": "nstats-metrics",
                "instance": "10.1.0.11:9781"}},
    {"host": "ledger-0", "namespace": "billing", "workload": "ledger", "node": "node-2",
     "k8s": True, "packets": 30000, "seed": 32,
     "target": {"job": "billing/nstats", "namespace": "billing", "pod": "ledger-0",
                "container": "nstats", "endpoint": "nstats-metrics",
                "instance": "10.1.0.12:9781"}},
    {"host": "vm-1", "k8s": False, "packets": 20000, "seed": 33,
     "target": {"job": "nstats-hosts", "instance": "vm-1:9781"}},
]
POD = SOURCES[0]  # "the test's pod", chosen in the variables besides All

# Where the fixture's nodes are: (zone, region). node-9 has no Node object: unknown.
NODES = {"node-1": ("zone-a", "region-1"), "node-2": ("zone-b", "region-1"),
         "node-3": ("zone-c", "region-2"), "node-4": ("zone-a", "region-1")}


def zoned_node(name, ip):
    n = node(name, ip)
    zone, region = NODES[name]
    n["metadata"]["labels"] = {"topology.kubernetes.io/zone": zone,
                               "topology.kubernetes.io/region": region}
    return n


def on_node(p, name):
    p["spec"]["nodeName"] = name
    return p


def endpoint_slice(svc, endpoints, ns="shop"):
    """An EndpointSlice of svc with ready endpoints [(address, node, zone)]."""
    return {"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
            "metadata": {"name": svc + "-abcde", "namespace": ns, "resourceVersion": "10",
                         "labels": {"kubernetes.io/service-name": svc}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [a], "conditions": {"ready": True}, "nodeName": n,
                           "zone": z} for a, n, z in endpoints]}


# The busiest IPv4 peers of every capture (pcapgen ranks peer i+1 at 198.19.0.i+1) are pods
# and services in the fixture's cluster: they get names, namespaces, workloads and classes.
# web runs on node-1, ledger on node-2; objects has endpoints in zone-a and zone-b (mixed),
# search only in zone-b.
POD_NODES = {"198.19.0.1": "node-1", "198.19.0.2": "node-2", "198.19.0.3": "node-3",
             "198.19.0.4": "node-2", "198.19.0.5": "node-4", "198.19.0.8": "node-9"}
SERVICE_ENDPOINTS = {"198.19.0.6": [("10.2.0.1", "node-4", "zone-a"),
                                    ("10.2.0.2", "node-2", "zone-b")],
                     "198.19.0.7": [("10.2.0.3", "node-2", "zone-b")]}
SERVICE_NAMES = {"198.19.0.6": "objects", "198.19.0.7": "search"}
K8S = {
    "pods": [[on_node(p, POD_NODES[p["status"]["podIP"]]) for p in (
              pod("api-5f7c9-aaaaa", "198.19.0.1", "ReplicaSet", "api-5f7c9"),
              pod("api-5f7c9-bbbbb", "198.19.0.2", "ReplicaSet", "api-5f7c9"),
              pod("db-0", "198.19.0.3", "StatefulSet", "db"),
              pod("db-1", "198.19.0.5", "StatefulSet", "db"),
              pod("cache-0", "198.19.0.4", "StatefulSet", "cache", ns="infra"),
              pod("batch-0", "198.19.0.8", "StatefulSet", "batch"))]],
    "services": [[service("objects", "198.19.0.6"), service("search", "198.19.0.7")]],
    "nodes": [[zoned_node(n, f"10.250.0.{i + 1}") for i, n in enumerate(NODES)]],
    "replicasets": [[replicaset("api-5f7c9", "api")]],
    "endpointslices": [[endpoint_slice("objects", SERVICE_ENDPOINTS["198.19.0.6"]),
                        endpoint_slice("search", SERVICE_ENDPOINTS["198.19.0.7"])]],
}

# The prices: the cost dashboards' price variables, and nstats' --price for the gauge the
# recording rules join. Powers of two, so the InfluxDB sums are exact.
PRICE_VARS = {"price_cross_zone_out": "0.5", "price_cross_zone_in": "0.25",
              "price_cross_region_out": "2", "price_cross_region_in": "1",
              "price_internet_out": "4", "price_internet_in": "0.125",
              "price_other_out": "0.0625", "price_other_in": "0.03125"}
OTHER = ("private", "vpc")  # the classes "Other classes" offers: all are priced at "other"


def price(cls, direction):
    """USD per GB of a class in a direction (0 for classes with no price)."""
    stem = "other" if cls in OTHER else cls.replace("-", "_")
    return float(PRICE_VARS.get(f"price_{stem}_{direction}", 0))


PRICES = [f"--price={cls}:{d}={PRICE_VARS[f'price_{stem}_{d}']}"
          for cls, stem in (("cross-zone", "cross_zone"), ("cross-region", "cross_region"),
                            ("internet", "internet"), ("private", "other"), ("vpc", "other"))
          for d in ("in", "out")]

# Targets a replay cannot feed: the interface's own counters exist for a live capture only.
REPLAY_EMPTY = {("nstats-prometheus.json", 11, "A"): "capture drops are a live capture's",
                ("nstats-prometheus.json", 12, "A"): "interface counters are a live capture's"}


# ---------------------------------------------------------------------------------------------
# Static checks: names, data-source variable, min intervals.

METRIC_RE = re.compile(r"\b((?:nstats|process)_[a-z_]+)\b")


def documented():
    text = open(os.path.join(ROOT, "docs", "METRICS.md")).read()
    prose = re.sub(r"```.*?```", "", text, flags=re.S)  # fences would pair backticks wrongly
    return set(re.findall(r"`([^`\n]+)`", prose)) | set(METRIC_RE.findall(text))


def balanced(text):
    """text up to the first parenthesis it does not open itself."""
    depth = 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return text[:i]
    return text


def influx_refs(q):
    """Measurements, fields and tags an InfluxQL query names. A field of an outer query may be
    an alias its subqueries define (AS "rate"): that is a name of the query's own. A FROM may
    list several subqueries."""
    sub = q.find("FROM (")
    if sub != -1:
        inners, rest = [], q[sub + 5:]
        while rest.startswith("("):
            inners.append(balanced(rest[1:]))
            rest = rest[len(inners[-1]) + 2:]
            rest = rest[2:] if rest.startswith(", (") else rest
        outer = q[:sub] + "FROM " + rest
        aliases = set(re.findall(r'AS "([^"]+)"', " ".join(inners)))
        return (influx_refs(outer) - aliases).union(*(influx_refs(i) for i in inners))
    refs = set(re.findall(r'FROM "([^"]+)"', q))
    for args in re.findall(r"\b(?:sum|mean|last|max|min|top)\(([^)]*)\)", q):
        refs |= set(re.findall(r'"([^"]+)"', args))
    for group in re.findall(r"GROUP BY (.*)", q):
        refs |= set(re.findall(r'"([^"]+)"', balanced(group.split(" fill(")[0])))
    refs |= set(re.findall(r'"([^"]+)" (?:=~|!=|=) ', q))
    refs |= set(re.findall(r'WITH KEY = "([^"]+)"', q))
    refs |= set(re.findall(r'SELECT "([^"]+)"', q))
    return refs


def prom_refs(expr):
    refs = set(METRIC_RE.findall(expr))
    for by in re.findall(r"(?:by|on|group_left|group_right) \(([^)]*)\)", expr):
        refs |= {x.strip() for x in by.split(",") if x.strip()}
    refs |= set(re.findall(r'([a-z_]+)(?:=~|!=|=)"', expr))
    refs |= set(re.findall(r"label_values\([^,]+, *([a-z_]+)\)", expr))
    return refs


def load_dashboards():
    files = sorted(glob.glob(os.path.join(DASHBOARDS, "*.json")))
    c.eq([os.path.basename(f) for f in files],
         ["nstats-cost-influxdb.json", "nstats-cost-prometheus.json", "nstats-influxdb.json",
          "nstats-legacy.json", "nstats-prometheus.json"], "five dashboards")
    return {os.path.basename(f): json.load(open(f)) for f in files}


def check_static(dashboards):
    known = documented()
    for name, d in dashboards.items():
        c.ok(isinstance(d.get("schemaVersion"), int) and d["schemaVersion"] >= 30 and
             d.get("uid") and d.get("title"), f"{name}: schemaVersion, uid, title")
        variables = d["templating"]["list"]
        c.ok(variables[0]["type"] == "datasource", f"{name}: datasource variable")
        kind = variables[0]["query"]
        c.ok(d["panels"] and all(p.get("targets") for p in d["panels"]), f"{name}: panels")
        queries = [t.get("query") or t.get("expr") for p in d["panels"] for t in p["targets"]]
        queries += [v["query"] for v in variables if v["type"] == "query"]
        missing = set()
        for q in queries:
            refs = prom_refs(q) if kind == "prometheus" else influx_refs(q)
            missing |= {r for r in refs if r not in known}
        c.eq(sorted(missing), [], f"{name}: every query reference is in METRICS.md")
        names = {v["name"] for v in variables}
        for p in d["panels"]:
            c.eq(p["datasource"]["uid"], "${datasource}", f"{name}: panel {p['id']} datasource")
            # A bucket shorter than the rows (or scrapes) are apart alternates double and zero.
            floor = "$scrape_interval" if kind == "prometheus" else "$export_interval"
            c.eq(p.get("interval"), floor, f"{name}: panel {p['id']} min interval")
            if kind == "prometheus":
                c.ok(all(t.get("interval") == floor for t in p["targets"]),
                     f"{name}: panel {p['id']} min step (the base of $__rate_interval)")
            units = {p["fieldConfig"]["defaults"].get("unit")}
            units |= {pr["value"] for o in p["fieldConfig"].get("overrides", [])
                      for pr in o["properties"] if pr["id"] == "unit"}
            c.ok(units and None not in units, f"{name}: panel {p['id']} has units {units}")
            if p["type"] == "timeseries" and len(units) > 1:
                c.ok(all(any(pr["id"] == "custom.axisPlacement" for pr in o["properties"])
                         for o in p["fieldConfig"]["overrides"]),
                     f"{name}: panel {p['id']}: a second unit gets its own axis")
            used = set(re.findall(r"\$(\w+)", json.dumps(p["targets"]) + p.get("interval", "")))
            c.eq(sorted(u for u in used if u not in names | {"timeFilter", "col"} and
                        not u.startswith(("__", "tag_"))), [],
                 f"{name}: panel {p['id']}: every variable it uses is defined")


# ---------------------------------------------------------------------------------------------
# The replays.


def generate(src, i):
    pcap, ledger = os.path.join(tmp, f"src{i}.pcap"), os.path.join(tmp, f"src{i}.csv")
    run([PCAPGEN, "--out", pcap, "--ledger", ledger, "--packets", str(src["packets"]),
         "--peers", "60", "--seed", str(src["seed"]), "--duration", str(DURATION),
         "--start", str(START)], check=True)
    src["pcap"], src["ledger"] = pcap, read_ledger(ledger)
    # Reading a file, nstats opens each interval at its first packet and ends the last one at
    # the last packet, so an interval is a few ms short of --interval and a legacy rate
    # (bytes * 8 / its length) times the export interval overstates its bytes by this much.
    _, records = pcap_records(pcap)
    intervals = defaultdict(lambda: [None, 0])  # interval -> [first packet ms, bytes]
    for t, r in records:
        ms = int(round(t * 1e6)) // 1000
        slot = intervals[ms // 10000]
        slot[0] = ms if slot[0] is None else slot[0]
        slot[1] += struct.unpack("<I", r[12:16])[0]
    last_ms = int(round(records[-1][0] * 1e6)) // 1000
    src["legacy_slack"] = 1.0
    for n, (first, nbytes) in intervals.items():
        end = min((n + 1) * 10000, last_ms) if n == last_ms // 10000 else (n + 1) * 10000
        src["legacy_slack"] += nbytes * (10000 / max(end - first, 1) - 1)


def pcap_records(path):
    """(global header, [(ts seconds, record bytes)]) of a little-endian microsecond pcap."""
    data = open(path, "rb").read()
    c.eq(struct.unpack("<I", data[:4])[0], 0xa1b2c3d4, f"{path}: a pcap pcapgen wrote")
    out, off = [], 24
    while off < len(data):
        sec, usec, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        out.append((sec + usec / 1e6, data[off:off + 16 + incl]))
        off += 16 + incl
    return data[:24], out


def identity(src):
    args = ["--host", src["host"]]
    for flag in ("namespace", "workload", "node"):
        if src.get(flag):
            args += [f"--{flag}", src[flag]]
    return args


def k8s_env(fx, token):
    return dict(os.environ, KUBERNETES_SERVICE_HOST="127.0.0.1",
                KUBERNETES_SERVICE_PORT=str(fx.port), NSTATS_K8S_TOKEN_FILE=token,
                NSTATS_K8S_CA_FILE=fx.ca)


def metrics(port):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                 headers={"Accept-Encoding": "gzip"})  # as Prometheus asks
    with urllib.request.urlopen(req, timeout=10) as r:
        body = r.read()
        if r.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
    return body.decode()


def captured_packets(text):
    m = re.search(r"^nstats_capture_packets_total (\S+)$", text, re.M)
    return int(float(m.group(1))) if m else -1


def stepped_replay(src, influx, fx, token):
    """Feeds the capture to nstats through a pipe, SCRAPE seconds of packet time at a time;
    after each step, once nstats has counted every packet sent, /metrics is what a scrape at
    that packet time would have read. The InfluxDB sink writes the default schema meanwhile."""
    port = free_port()
    cmd = [NSTATS, "-r", "-", *LOCAL, *NAMES, *PRICES, *identity(src), "--listen",
           f"127.0.0.1:{port}", "--influx-url", influx.url, "--influx-db", "net"]
    env = os.environ
    if src["k8s"]:
        cmd.append("--k8s")
        env = k8s_env(fx, token)
    header, records = pcap_records(src["pcap"])
    log = os.path.join(tmp, src["host"] + ".log")
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=open(log, "w"), env=env)
    src["snapshots"] = []
    try:
        p.stdin.write(header)
        sent, i = 0, 0
        # Scraped from two minutes before the first packet to two minutes after the last, as
        # a running nstats is.
        for step in range(-120 // SCRAPE, (DURATION + 120) // SCRAPE + 1):
            t = START + step * SCRAPE
            chunk = []
            while i < len(records) and records[i][0] < t:
                chunk.append(records[i][1])
                i += 1
            p.stdin.write(b"".join(chunk))
            p.stdin.flush()
            sent += len(chunk)
            deadline = time.time() + 30
            text = ""
            while time.time() < deadline:
                try:
                    text = metrics(port)
                except OSError:
                    text = ""
                if captured_packets(text) == sent:
                    break
                time.sleep(0.2)
            src["snapshots"].append((t, text))
            if captured_packets(text) != sent:
                src["error"] = f"step {step}: nstats counted {captured_packets(text)} of {sent}"
                break
        p.stdin.close()
        p.wait(timeout=60)
        src["rc"] = p.returncode
    except (OSError, subprocess.SubprocessError) as e:
        src["error"] = repr(e)
    finally:
        src["stderr"] = open(log).read()
        if p.poll() is None:
            p.kill()
            p.wait()


def legacy_replay(src, influx, fx, token):
    cmd = [NSTATS, "-r", src["pcap"], *LOCAL, *NAMES, *identity(src), "--schema", "legacy",
           "--influx-url", influx.url, "--influx-db", "legacy"]
    env = os.environ
    if src["k8s"]:
        cmd.append("--k8s")
        env = k8s_env(fx, token)
    r = run(cmd, env=env)
    c.eq(r.returncode, 0, f"{src['host']}: legacy replay ({r.stderr.strip()[-300:]})")


# ---------------------------------------------------------------------------------------------
# Prometheus: the snapshots, with each target's labels, backfilled with promtool.

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def openmetrics(sources):
    """One OpenMetrics document of every snapshot: target labels added as a scrape adds them
    (a clashing exposed label would become exported_<name>), samples of a series in time
    order, one family after another."""
    series = defaultdict(list)  # (name, labels text) -> [(t, value)]
    for src in sources:
        for t, text in src["snapshots"]:
            for line in text.splitlines():
                m = SAMPLE_RE.match(line)
                if not m:
                    continue
                name, labels, value = m.group(1), m.group(2) or "", m.group(3)
                pairs = LABEL_RE.findall(labels)
                pairs = [("exported_" + k if k in src["target"] else k, v) for k, v in pairs]
                pairs += sorted(src["target"].items())
                text_labels = ",".join(f'{k}="{v}"' for k, v in sorted(pairs))
                series[(name, text_labels)].append((t, value))
    out = []
    for (name, labels), points in sorted(series.items()):
        for t, value in sorted(points):
            out.append(f"{name}{{{labels}}} {value} {t}")
    out.append("# EOF")
    return "\n".join(out) + "\n"


def visible(src, key=lambda labels: 0):
    """The bytes flow series' samples show (each one's last value minus its first), summed
    by key(labels)."""
    first, last = {}, {}
    for _, text in src["snapshots"]:
        for line in text.splitlines():
            if line.startswith("nstats_bytes_total{"):
                labels, value = line.rsplit(" ", 1)
                first.setdefault(labels, float(value))
                last[labels] = float(value)
    out = defaultdict(float)
    for k in last:
        out[key(dict(LABEL_RE.findall(k)))] += last[k] - first[k]
    return out


class Prometheus(servers.Prometheus):
    """servers.Prometheus over a TSDB backfilled with the snapshots."""

    def __init__(self, sources):
        path = os.path.join(tmp, "backfill.om")
        with open(path, "w") as f:
            f.write(openmetrics(sources))
        data = os.path.join(tmp, "prometheus-data")
        r = run(["promtool", "tsdb", "create-blocks-from", "openmetrics", path, data])
        c.eq(r.returncode, 0, f"promtool backfill ({r.stdout.strip()[-300:]} "
                              f"{r.stderr.strip()[-300:]})")
        super().__init__(tmp, data=data)


# ---------------------------------------------------------------------------------------------
# Grafana, as far as these dashboards need it.


def duration_ms(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d)", text)
    return int(m.group(1)) * {"ms": 1, "s": 1000, "m": 60000, "h": 3600000,
                              "d": 86400000}[m.group(2)]


def duration_text(ms):
    """Grafana's interval text: 10s, 1m, 500ms."""
    for unit, size in (("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def influx_regex_escape(v):
    return re.sub(r"([\\^$*+?.()|\[\]{}/])", r"\\\1", v)


def prom_regex_escape(v):
    v = v.replace("\\", "\\\\\\\\")
    return re.sub(r"([$^*{}\[\]'+?.()|])", r"\\\\\1", v)


class Grafana:
    """One dashboard on one server: variables resolved in order, queries interpolated."""

    def __init__(self, dashboard, server, kind, selection, influx_db=None, typed=None):
        self.d, self.server, self.kind, self.db = dashboard, server, kind, influx_db
        self.selection = selection  # variable -> value, the rest All
        self.typed = typed or {}    # textbox variable -> what the user typed
        self.vars = {}              # name -> (definition, [values] or "$__all")
        self.options = {}           # name -> the variable query's values

    def format(self, name):
        var, value = self.vars[name]
        if value == "$__all":
            if "allValue" in var:
                return var["allValue"]  # Grafana leaves a custom all value as it is
            value = self.options.get(name, [])
        if var["type"] in ("custom", "textbox", "constant"):
            return value[0]  # a single value is interpolated as it is
        esc = influx_regex_escape if self.kind == "influxdb" else prom_regex_escape
        values = [esc(v) for v in value]
        return values[0] if len(values) == 1 else "(" + "|".join(values) + ")"

    def interpolate(self, text, builtins):
        def sub(m):
            name = m.group(1)
            if name in builtins:
                return builtins[name]
            if name in self.vars:
                return self.format(name)
            return m.group(0)
        return re.sub(r"\$(\w+)", sub, text)

    def time_builtins(self):
        if self.kind == "influxdb":
            return {"timeFilter": f"time >= {FROM_MS}ms and time <= {TO_MS}ms"}
        return {"__range": f"{(TO_MS - FROM_MS) // 1000}s",
                "__range_s": str((TO_MS - FROM_MS) // 1000)}

    def resolve(self):
        """Runs every variable query in order (each sees the ones before it)."""
        for var in self.d["templating"]["list"]:
            name = var["name"]
            if var["type"] == "datasource":
                continue
            if var["type"] == "custom":
                self.vars[name] = (var, [var["current"]["value"]])
                continue
            if var["type"] in ("textbox", "constant"):
                self.vars[name] = (var, [self.typed.get(name, var["query"])])
                continue
            query = self.interpolate(var["query"], self.time_builtins())
            self.options[name] = self.variable_values(query)
            chosen = self.selection.get(name, "$__all")
            self.vars[name] = (var, chosen if chosen == "$__all" else [chosen])
        return self.options

    def variable_values(self, query):
        if self.kind == "influxdb":
            values = []
            for _, row in self.server.series(query, self.db):
                cols = [k for k in row if k != "time"] if "time" in row else list(row)
                v = row[cols[-1]] if cols else None  # Grafana: value[1], else value[0]
                if v not in (None, "") and v not in values:
                    values.append(v)
            return values
        m = re.fullmatch(r"label_values\((.*), *(\w+)\)", query)
        res = self.server.api(f"/api/v1/label/{m.group(2)}/values",
                              {"match[]": m.group(1), "start": FROM_MS / 1000,
                               "end": TO_MS / 1000})
        return res.get("data") or []

    def min_interval_ms(self, panel, target):
        spec = target.get("interval") or panel.get("interval")
        return duration_ms(self.interpolate(spec, {})) if spec else 0

    def run_target(self, panel, target, interval_ms):
        """Runs one target as Grafana would with $__interval = interval_ms before the panel's
        min interval. Returns (the step in ms, the query sent, [(labels, [(t, value)])])."""
        floor = self.min_interval_ms(panel, target)
        if self.kind == "influxdb":
            step = max(floor, interval_ms)
            q = self.interpolate(target["query"], {
                **self.time_builtins(), "__interval": duration_text(step),
                "__interval_ms": str(step)})
            out = []
            for result in self.server.query(q, self.db)["results"]:
                if "error" in result:
                    raise RuntimeError(f"{result['error']}: {q}")
                for s in result.get("series", []):
                    cols = s["columns"]
                    for j, col in enumerate(cols):
                        if col == "time":
                            continue
                        labels = dict(s.get("tags", {}), __col__=col)
                        out.append((labels, [(row[0], row[j]) for row in s["values"]]))
            return step, q, out
        # Prometheus: step = max($__interval, min step); $__rate_interval from the scrape
        # interval (the min step); start and end aligned to the step.
        step_s = max(interval_ms // 1000, floor // 1000, math.ceil((TO_MS - FROM_MS) / 11000000))
        scrape_s = (floor // 1000) or 15
        rate_s = max(step_s + scrape_s, 4 * scrape_s)
        q = self.interpolate(target["expr"], {
            **self.time_builtins(), "__interval": f"{step_s}s", "__interval_ms": str(step_s * 1000),
            "__rate_interval": f"{rate_s}s"})
        if target.get("instant"):
            res = self.server.api("/api/v1/query", {"query": q, "time": TO_MS / 1000})
        else:
            start = (FROM_MS // 1000) // step_s * step_s
            end = (TO_MS // 1000) // step_s * step_s
            res = self.server.api("/api/v1/query_range", {"query": q, "start": start,
                                                          "end": end, "step": step_s})
        if res.get("status") != "success":
            raise RuntimeError(f"{res.get('error')}: {q}")
        out = []
        for s in res["data"]["result"]:
            values = s.get("values") or [s["value"]]
            out.append((s["metric"], [(t, float(v)) for t, v in values]))
        return step_s * 1000, q, out


# ---------------------------------------------------------------------------------------------
# What the ledgers say.


def selected(selection):
    if selection.get("host", "$__all") == "$__all":
        return SOURCES
    return [s for s in SOURCES if s["host"] == selection["host"]]


def names_of(influx):
    """Per host, each remote's name and workload as nstats wrote them: the dashboards group by
    names, the ledger counts by address."""
    out = defaultdict(dict)
    rows = influx.series('SELECT sum("bytes_in") FROM "nstats" GROUP BY "host", "remote", '
                         '"remote_name", "remote_namespace", "remote_workload"', "net")
    for tags, _ in rows:
        out[tags["host"]][tags["remote"]] = tags
    return out


def ledger_by(sources, key, names):
    """{group: [bytes_in, bytes_out]} over the sources, grouped by key(ledger key, tags)."""
    out = defaultdict(lambda: [0, 0])
    for src in sources:
        for k, v in src["ledger"].items():
            g = key(k, names[src["host"]].get(k[1], {}))
            if g is not None:
                out[g][0] += v[0]
                out[g][1] += v[1]
    return out


def place_class(a, b):
    """The class between pods on nodes a and b, as the fixture's NODES place them."""
    if a == b:
        return "same-node"
    if a not in NODES or b not in NODES:
        return "unknown"
    (zone_a, region_a), (zone_b, region_b) = NODES[a], NODES[b]
    if region_a != region_b:
        return "cross-region"
    return "same-zone" if zone_a == zone_b else "cross-zone"


def endpoint_classes(src, remote):
    """{class: ready endpoints} of the Service at remote, seen from src's node."""
    out = defaultdict(int)
    for _, node_name, _ in SERVICE_ENDPOINTS[remote]:
        out[place_class(src["node"], node_name)] += 1
    return dict(out)


def model_class(src, remote):
    """The class a row of src to remote must carry: from the fixture's topology for a pod or
    Service (with --k8s), else from the --label-net ranges and the address."""
    if src["k8s"] and remote in POD_NODES:
        return place_class(src["node"], POD_NODES[remote])
    if src["k8s"] and remote in SERVICE_ENDPOINTS:
        classes = endpoint_classes(src, remote)
        return next(iter(classes)) if len(classes) == 1 else "mixed"
    addr = ipaddress.ip_address(remote)
    if addr in ipaddress.ip_network("198.19.0.32/27"):
        return "vpc"
    if addr in ipaddress.ip_network("2001:db8:1::/48"):
        return "internet"
    return "private"


def ledger_classes(sources, key=lambda src, cls: cls):
    """{key(source, class): [bytes_in, bytes_out]} over the sources' ledgers."""
    out = defaultdict(lambda: [0, 0])
    for src in sources:
        for k, v in src["ledger"].items():
            g = out[key(src, model_class(src, k[1]))]
            g[0] += v[0]
            g[1] += v[1]
    return out


def cost(cls, b):
    """USD of [bytes_in, bytes_out] of a class at the test's prices."""
    return (b[0] * price(cls, "in") + b[1] * price(cls, "out")) / 1e9


def where(src):
    return (src.get("namespace", ""), src.get("workload", ""))


def top(groups, n=10):
    ranked = sorted(groups.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))
    if len(ranked) > n:
        a, b = ranked[n - 1][1], ranked[n][1]
        c.ok(sum(a) != sum(b), f"the ledger's rank {n} and {n + 1} differ ({sum(a)})")
    return {g for g, _ in ranked[:n]}


# ---------------------------------------------------------------------------------------------
# Running every query, and what must agree.


def integral(points, step_ms, rate_scale):
    """The sum over time of a rate series: value x step, back in the ledger's unit."""
    return sum(v for _, v in points if v is not None) * step_ms / 1000 / rate_scale


def is_rate(kind, target):
    """A target whose points are per second (not a gauge's last or largest value)."""
    q = target.get("query") or target.get("expr")
    if kind == "influxdb":
        return re.search(r"\b(last|max)\(", q) is None
    return "rate(" in q.split(" and on ")[0]


def traffic(target):
    """Targets of frames counted: with traffic in every interval of the captures, their
    panel's total is never empty between the first and the last bucket with data."""
    q = target.get("query") or target.get("expr")
    return re.search(r"bytes|packets|Rate", q) is not None


def bits(target):
    """8 for a target in bits per second, whose sum over time is bits: the ledger has bytes."""
    q = target.get("query") or target.get("expr")
    return 8 if ("* 8000 /" in q or "* 8" in q or "Rate" in q) else 1


def gaps(series):
    """Buckets inside the data's span where the panel's total is null or zero: the saw-tooth
    of buckets shorter than the rows are apart."""
    total = defaultdict(float)
    seen = set()
    for _, points in series:
        for t, v in points:
            seen.add(t)
            total[t] += v or 0
    times = sorted(seen)
    live = [t for t in times if total[t] > 0]
    if not live:
        return 0
    return sum(1 for t in times if live[0] < t < live[-1] and total[t] <= 0)


def run_dashboard(name, d, server, kind, selection, db=None, typed=None):
    """Runs every variable and target at 5 s and 60 s. Returns {(panel id, refId): {interval:
    (step, series)}} and the variables' values."""
    g = Grafana(d, server, kind, selection, db, typed)
    options = g.resolve()
    sel = "All" if not selection else selection["host"]
    for var, values in options.items():
        c.ok(values, f"{name} [{sel}]: variable {var} has values")
    results = {}
    for p in d["panels"]:
        for t in p["targets"]:
            key = (p["id"], t["refId"])
            results[key] = {}
            for interval in (5000, 60000):
                step, q, series = g.run_target(p, t, interval)
                results[key][interval] = (step, series)
                filled = [s for s in series if any(v is not None for _, v in s[1])]
                if (name, p["id"], t["refId"]) in REPLAY_EMPTY:
                    c.eq(filled, [], f"{name} [{sel}] panel {p['id']}{t['refId']}: empty, as "
                                     f"{REPLAY_EMPTY[(name, p['id'], t['refId'])]}")
                    continue
                c.ok(filled, f"{name} [{sel}] panel {p['id']}{t['refId']} at "
                             f"{interval // 1000}s returns data: {q}")
                if is_rate(kind, t) and traffic(t) and p["type"] == "timeseries":
                    n = gaps(series)
                    c.eq(n, 0, f"{name} [{sel}] panel {p['id']}{t['refId']} at "
                               f"{interval // 1000}s (step {step // 1000}s): empty buckets "
                               "inside the data")
    return g, options, results


def agree(a, b, tolerance, what, slack=0.0):
    """a and b within a relative tolerance, or an absolute slack."""
    ok = abs(a - b) <= max(tolerance * max(abs(a), abs(b), 1), slack)
    line = f"{what}: {a:.10g} vs {b:.10g} ({(a - b) / max(abs(b), 1):+.4%}; tolerance {tolerance:g}"
    line += f", slack {slack:.0f})" if slack else ")"
    c.ok(ok, line)
    if ok:
        print(line, flush=True)
    return ok


def close(a, b, tolerance, what):
    """a and b within a relative tolerance, however small they are (costs in USD)."""
    ok = abs(a - b) <= tolerance * max(abs(a), abs(b)) or a == b
    line = (f"{what}: {a:.10g} vs {b:.10g} ({(a - b) / (abs(b) or 1):+.4%}; "
            f"tolerance {tolerance:g})")
    c.ok(ok, line)
    if ok:
        print(line, flush=True)
    return ok


def series_totals(kind, d, results, pid, ref, interval, key):
    """{key(labels): integral} of a rate target at one $__interval."""
    panel = next(p for p in d["panels"] if p["id"] == pid)
    target = next(t for t in panel["targets"] if t["refId"] == ref)
    step, series = results[(pid, ref)][interval]
    out = defaultdict(float)
    for labels, points in series:
        out[key(labels)] += integral(points, step, bits(target))
    return out


def compare_rates(name, kind, d, results, sel, tolerance):
    """Every rate target's sum over time is the same at 5 s and at 60 s."""
    for p in d["panels"]:
        for t in p["targets"]:
            if p["type"] != "timeseries" or not is_rate(kind, t) or \
                    (name, p["id"], t["refId"]) in REPLAY_EMPTY:
                continue
            if kind == "prometheus" and not traffic(t):
                continue  # CPU seconds and batches: too few increments to integrate alike
            a = sum(series_totals(kind, d, results, p["id"], t["refId"], 5000,
                                  lambda l: 0).values())
            b = sum(series_totals(kind, d, results, p["id"], t["refId"], 60000,
                                  lambda l: 0).values())
            agree(a, b, tolerance, f"{name} [{sel}] panel {p['id']}{t['refId']} "
                                   f"'{p['title']}': sum over time at 5s vs 60s")


def top_sets(results, pid, key):
    return {i: {key(l) for l, pts in s[1] if any(v is not None for _, v in pts)}
            for i, s in results[(pid, "A")].items()}


def check_influx(d, influx, names, selection):
    name, sel = "nstats-influxdb.json", "All" if not selection else selection["host"]
    _, options, results = run_dashboard(name, d, influx, "influxdb", selection, "net")
    sources = selected(selection)
    want_in = sum(v[0] for s in sources for v in s["ledger"].values())
    want_out = sum(v[1] for s in sources for v in s["ledger"].values())
    want_pin = sum(v[2] for s in sources for v in s["ledger"].values())
    want_pout = sum(v[3] for s in sources for v in s["ledger"].values())
    compare_rates(name, "influxdb", d, results, sel, 1e-9)
    # Variables: the chain and the top-N sets.
    if not selection:
        c.eq(sorted(options["namespace"]), ["billing", "shop"], f"{name}: namespaces")
        c.eq(sorted(options["workload"]), ["ledger", "web"], f"{name}: workloads")
        c.eq(sorted(options["host"]), sorted(s["host"] for s in SOURCES),
             f"{name}: All hosts, the one without namespace or workload included")
    else:
        c.eq(options["workload"], [POD["workload"]], f"{name}: workloads in {POD['namespace']}")
        c.eq(options["host"], [POD["host"]], f"{name}: hosts of {POD['workload']}")
    for interval in (5000, 60000):
        totals = series_totals("influxdb", d, results, 1, "A", interval, lambda l: l["__col__"])
        packets = series_totals("influxdb", d, results, 1, "B", interval,
                                lambda l: l["__col__"])
        got = [round(totals["in"]), round(totals["out"]), round(packets["packets in"]),
               round(packets["packets out"])]
        c.eq(got, [want_in, want_out, want_pin, want_pout],
             f"{name} [{sel}] traffic panel at {interval // 1000}s: sum over time of bytes and "
             "packets in/out = the ledger")
        print(f"{name} [{sel}] traffic panel at {interval // 1000}s (buckets of "
              f"{results[(1, 'A')][interval][0] // 1000}s): bytes in/out, packets in/out {got}; "
              f"ledger {[want_in, want_out, want_pin, want_pout]}", flush=True)
        per_host = series_totals("influxdb", d, results, 8, "A", interval, lambda l: l["host"])
        c.eq({h: round(v) for h, v in per_host.items()},
             {s["host"]: sum(v[0] + v[1] for v in s["ledger"].values()) for s in sources},
             f"{name} [{sel}] per pod/host at {interval // 1000}s = each ledger")
        for pid in (7, 9):
            total = sum(series_totals("influxdb", d, results, pid, "A", interval,
                                      lambda l: 0).values())
            c.eq(round(total), want_in + want_out,
                 f"{name} [{sel}] panel {pid} at {interval // 1000}s sums to the ledger")
        for ref in ("A", "B"):
            total = sum(series_totals("influxdb", d, results, 12, ref, interval,
                                      lambda l: 0).values())
            c.eq(round(total), want_in + want_out,
                 f"{name} [{sel}] captured/attributed {ref} at {interval // 1000}s = ledger")
    stat = {l["__col__"]: pts[-1][1] for ref in "AB" for l, pts in results[(2, ref)][60000][1]}
    c.eq(stat, {"in": want_in, "out": want_out, "captured": want_in + want_out},
         f"{name} [{sel}] bytes over the range = ledger")
    # Top panels: the variable's N, the ledger's N, the same at both intervals, exact bytes.
    for pid, var, col, key, field in (
            (3, "top_peer", 1, lambda k, t: t.get("remote_name") or None, "remote_name"),
            (4, "top_peer", 0, lambda k, t: t.get("remote_name") or None, "remote_name"),
            (5, "top_workload", None, lambda k, t: t.get("remote_workload") or None,
             "remote_workload"),
            (6, "top_port", None, lambda k, t: k[3], "port")):
        groups = ledger_by(sources, key, names)
        groups.pop(None, None)
        want = top(groups)
        c.eq(set(options[var]), want, f"{name} [{sel}] {var} = the ledger's top 10")
        sets = top_sets(results, pid, lambda l: l[field])
        c.eq(sets[5000], sets[60000], f"{name} [{sel}] panel {pid}: the same series at 5s and "
                                      "60s")
        c.eq(sets[60000], want, f"{name} [{sel}] panel {pid}: the ledger's top 10")
        print(f"{name} [{sel}] panel {pid}: {len(sets[5000])} series at 5s, "
              f"{len(sets[60000])} at 60s, {len(sets[5000] & want)} of the ledger's top "
              f"{len(want)}", flush=True)
        if col is not None:
            got = series_totals("influxdb", d, results, pid, "A", 5000, lambda l: l[field])
            c.eq({k: round(v) for k, v in got.items()}, {k: groups[k][col] for k in want},
                 f"{name} [{sel}] panel {pid}: each peer's bytes = the ledger")
    table = {(l["__col__"]): pts for l, pts in results[(10, "A")][5000][1]}
    by_remote = ledger_by(sources, lambda k, t: k[1], names)
    want = top(by_remote)
    rows = list(zip([v for _, v in table.get("remote", [])], [v for _, v in table["bytes"]]))
    c.eq(dict(rows), {r: sum(by_remote[r]) for r in want},
         f"{name} [{sel}] top 10 remote addresses table = the ledger")


def check_legacy(d, influx, names, selection):
    name, sel = "nstats-legacy.json", "All" if not selection else selection["host"]
    _, options, results = run_dashboard(name, d, influx, "influxdb", selection, "legacy")
    sources = selected(selection)
    # Rates x the export interval give back the bytes, except that a replayed interval runs
    # from its first packet, a few ms short of 10 s: legacy_slack bytes more at most.
    compare_rates(name, "influxdb", d, results, sel, 1e-9)
    slack = sum(s["legacy_slack"] for s in sources)
    if not selection:
        c.eq(sorted(options["host"]), sorted(s["host"] for s in SOURCES), f"{name}: hosts")
    groups = ledger_by(sources, lambda k, t: t.get("remote_name"), names)
    want = top(groups)
    c.eq(set(options["top_receiver"]), want, f"{name} [{sel}] top_receiver = the ledger's top")
    for interval in (5000, 60000):
        per_host = {}
        for ref, col in (("A", 1), ("B", 0)):
            for h, v in series_totals("influxdb", d, results, 4, ref, interval,
                                      lambda l: l["hosts"]).items():
                per_host[(h, col)] = v
        for src in sources:
            for col, word in ((1, "send"), (0, "receive")):
                agree(per_host.get((src["host"], col), 0),
                      sum(v[col] for v in src["ledger"].values()), 1e-9,
                      f"{name} [{sel}] {src['host']} {word} at {interval // 1000}s: sum over "
                      "time of the rate = the ledger's bytes", src["legacy_slack"])
        for pid, col in ((1, 1), (2, 0)):
            got = series_totals("influxdb", d, results, pid, "A", interval,
                                lambda l: l["receiver"])
            c.eq(set(got), want, f"{name} [{sel}] panel {pid} at {interval // 1000}s: the top "
                                 "10 receivers")
            bad = [(r, got[r], groups[r][col]) for r in want
                   if not -1e-6 <= got[r] - groups[r][col] <= slack]
            c.eq(bad, [], f"{name} [{sel}] panel {pid} at {interval // 1000}s: each receiver's "
                          "bytes = the ledger")
        total = sum(series_totals("influxdb", d, results, 3, "A", interval, lambda l: 0).values())
        agree(total, sum(v[0] + v[1] for s in sources for v in s["ledger"].values()), 1e-9,
              f"{name} [{sel}] per pod and sender at {interval // 1000}s = the ledger", slack)


def check_prometheus(d, prom, names, selection, tolerance):
    name, sel = "nstats-prometheus.json", "All" if not selection else selection["host"]
    _, options, results = run_dashboard(name, d, prom, "prometheus", selection)
    sources = selected(selection)
    want_in = sum(v[0] for s in sources for v in s["ledger"].values())
    want_out = sum(v[1] for s in sources for v in s["ledger"].values())
    compare_rates(name, "prometheus", d, results, sel, tolerance["steps"])
    if not selection:
        c.eq(sorted(options["namespace"]), ["billing", "shop"], f"{name}: namespaces")
        c.eq(sorted(options["workload"]), ["ledger", "web"], f"{name}: workloads")
        c.eq(sorted(options["host"]), sorted(s["host"] for s in SOURCES),
             f"{name}: All hosts, the one scraped without namespace included")
    else:
        c.eq(options["workload"], [POD["workload"]], f"{name}: workloads in {POD['namespace']}")
        c.eq(options["host"], [POD["host"]], f"{name}: hosts of {POD['workload']}")
    for interval in (5000, 60000):
        totals = series_totals("prometheus", d, results, 1, "A", interval,
                               lambda l: l["direction"])
        agree(totals["in"], want_in, tolerance["ledger"],
              f"{name} [{sel}] traffic in at {interval // 1000}s: sum over time vs the ledger")
        agree(totals["out"], want_out, tolerance["ledger"],
              f"{name} [{sel}] traffic out at {interval // 1000}s: sum over time vs the ledger")
        per_host = series_totals("prometheus", d, results, 8, "A", interval, lambda l: l["host"])
        captured = series_totals("prometheus", d, results, 12, "B", interval, lambda l: l["host"])
        for src in sources:
            want = sum(v[0] + v[1] for v in src["ledger"].values())
            agree(per_host.get(src["host"], 0), want, tolerance["ledger"],
                  f"{name} [{sel}] {src['host']} at {interval // 1000}s vs its ledger")
            agree(captured.get(src["host"], 0), want, tolerance["counter"],
                  f"{name} [{sel}] {src['host']} captured (one counter) at {interval // 1000}s "
                  "vs its ledger")
    stat = {l["direction"]: pts[-1][1] for l, pts in results[(2, "A")][60000][1]}
    agree(stat.get("in", 0), want_in, tolerance["ledger"], f"{name} [{sel}] bytes in over the "
                                                           "range vs the ledger")
    agree(stat.get("out", 0), want_out, tolerance["ledger"], f"{name} [{sel}] bytes out over "
                                                             "the range vs the ledger")
    captured = [pts[-1][1] for _, pts in results[(2, "B")][60000][1]]
    agree(captured[0] if captured else 0, want_in + want_out, tolerance["counter"],
          f"{name} [{sel}] bytes captured over the range (one counter per nstats) vs the ledger")
    for pid, key, field in ((3, lambda k, t: t.get("remote_name") or None, ("remote_name",)),
                            (4, lambda k, t: t.get("remote_name") or None, ("remote_name",)),
                            (5, lambda k, t: (t["remote_namespace"], t["remote_workload"])
                             if t.get("remote_workload") else None,
                             ("remote_namespace", "remote_workload")),
                            (6, lambda k, t: (k[2], k[3]), ("proto", "port"))):
        groups = ledger_by(sources, key, names)
        groups.pop(None, None)
        want = top(groups)
        sets = top_sets(results, pid, lambda l: l[field[0]] if len(field) == 1 else
                        tuple(l[f] for f in field))
        c.eq(sets[5000], sets[60000], f"{name} [{sel}] panel {pid}: the same series at 5s and "
                                      "60s")
        c.eq(sets[60000], want, f"{name} [{sel}] panel {pid}: the ledger's top 10")
        print(f"{name} [{sel}] panel {pid}: {len(sets[5000])} series at 5s, "
              f"{len(sets[60000])} at 60s, {len(sets[5000] & want)} of the ledger's top "
              f"{len(want)}", flush=True)
    rows = {l["remote"]: pts[-1][1] for l, pts in results[(10, "A")][5000][1]}
    by_remote = ledger_by(sources, lambda k, t: k[1], names)
    c.eq(set(rows), top(by_remote), f"{name} [{sel}] top 10 remote addresses: the ledger's")
    for r, v in rows.items():
        agree(v, sum(by_remote[r]), tolerance["ledger"], f"{name} [{sel}] {r} over the range")


def check_classes(influx):
    """Every row's class, as nstats wrote it to InfluxDB, is the fixture topology's."""
    written = defaultdict(set)
    for tags, _ in influx.series('SELECT sum("bytes_in") FROM "nstats" GROUP BY "host", '
                                 '"remote", "class"', "net"):
        written[(tags["host"], tags["remote"])].add(tags["class"])
    for src in SOURCES:
        bad = sorted((k[1], sorted(written[(src["host"], k[1])]), model_class(src, k[1]))
                     for k in src["ledger"] if written[(src["host"], k[1])] !=
                     {model_class(src, k[1])})
        c.eq(bad[:5], [], f"{src['host']}: every row's class is the topology's "
                          f"({len(bad)} remotes differ)")
        counts = defaultdict(int)
        for k in src["ledger"]:
            counts[model_class(src, k[1])] += 1
        print(f"{src['host']}: keys by class {dict(sorted(counts.items()))}", flush=True)


def table_rows(series, key_cols):
    """Rows of an InfluxDB table result (one series a column): {key: {column: value}}."""
    cols = {l["__col__"]: [v for _, v in pts] for l, pts in series}
    out = {}
    for i in range(len(next(iter(cols.values())))):
        out[tuple(cols[k][i] or "" for k in key_cols)] = {k: v[i] for k, v in cols.items()}
    return out


def check_cost_influx(d, influx, selection):
    name, sel = "nstats-cost-influxdb.json", "All" if not selection else selection["host"]
    _, options, results = run_dashboard(name, d, influx, "influxdb", selection, "net", PRICE_VARS)
    sources = selected(selection)
    compare_rates(name, "influxdb", d, results, sel, 1e-9)
    by_class = ledger_classes(sources)
    want = {cls: cost(cls, b) for cls, b in by_class.items() if cost(cls, b)}
    c.eq(sorted(options["other_class"]), sorted(OTHER), f"{name} [{sel}] other classes")
    if not selection:
        c.eq(sorted(by_class), sorted({"same-node", "same-zone", "cross-zone", "cross-region",
                                       "internet", "mixed", "unknown", *OTHER}),
             f"{name} [{sel}] every class has traffic")
    # Cost by class and in total over the range: the ledger's bytes times the prices.
    got = {l["class"]: pts[-1][1] for l, pts in results[(1, "A")][60000][1]}
    c.eq(sorted(got), sorted(want), f"{name} [{sel}] the priced classes")
    for cls in want:
        close(got.get(cls, 0), want[cls], 1e-9, f"{name} [{sel}] {cls}: USD over the range = "
                                                 "the ledger's bytes x the prices")
    total = [pts[-1][1] for _, pts in results[(1, "B")][60000][1]]
    close(total[0] if total else 0, sum(want.values()), 1e-9, f"{name} [{sel}] total USD")
    for interval in (5000, 60000):
        per_hour = series_totals("influxdb", d, results, 2, "A", interval, lambda l: l["class"])
        for cls in want:
            close(per_hour[cls] / 3600, want[cls], 1e-9,
                  f"{name} [{sel}] {cls} at {interval // 1000}s: sum over time of USD/h")
        c.eq(sorted(k for k, v in per_hour.items() if v), sorted(want),
             f"{name} [{sel}] USD/h at {interval // 1000}s: the priced classes")
        traffic_ = series_totals("influxdb", d, results, 5, "A", interval,
                                 lambda l: (l["class"], l["__col__"]))
        c.eq({k: round(v) for k, v in traffic_.items() if v},
             {(cls, col): b[i] for cls, b in by_class.items()
              for i, col in enumerate(("in", "out")) if b[i]},
             f"{name} [{sel}] traffic by class at {interval // 1000}s = the ledger")
    c.eq({(l["class"], l["__col__"]): pts[-1][1] for l, pts in results[(6, "A")][60000][1]},
         {(cls, col): b[i] for cls, b in by_class.items() for i, col in enumerate(("in", "out"))},
         f"{name} [{sel}] bytes by class over the range = the ledger")
    # Workloads: the top 10 (all there are), and by namespace, workload and class.
    by_where = defaultdict(float)
    for (w, cls), b in ledger_classes(sources, lambda src, cls: (where(src), cls)).items():
        by_where[w] += cost(cls, b)
    rows = table_rows(results[(3, "A")][5000][1], ("namespace", "workload"))
    c.eq(sorted(rows), sorted(by_where), f"{name} [{sel}] top workloads")
    for w, usd in by_where.items():
        close(rows.get(w, {}).get("USD") or 0, usd, 1e-9, f"{name} [{sel}] {w}: USD")
    by_wc = ledger_classes(sources, lambda src, cls: where(src) + (cls,))
    got_bytes = {(l.get("namespace", ""), l.get("workload", ""), l["class"], l["__col__"]):
                 pts[-1][1] for l, pts in results[(4, "A")][5000][1]}
    c.eq(got_bytes, {k + (col,): b[i] for k, b in by_wc.items()
                     for i, col in enumerate(("bytes in", "bytes out"))},
         f"{name} [{sel}] bytes by namespace, workload and class = the ledger")
    got_usd = {(l.get("namespace", ""), l.get("workload", ""), l["class"]): pts[-1][1]
               for l, pts in results[(4, "B")][5000][1]}
    c.eq(sorted(got_usd), sorted(k for k, b in by_wc.items() if cost(k[2], b)),
         f"{name} [{sel}] USD by namespace, workload and class: the priced ones")
    for k, b in by_wc.items():
        if cost(k[2], b):
            close(got_usd.get(k, 0), cost(k[2], b), 1e-9, f"{name} [{sel}] {k}: USD")
    print(f"{name} [{sel}] USD by class: " +
          ", ".join(f"{cls} {v:.6f}" for cls, v in sorted(want.items())), flush=True)


def check_cost_prometheus(d, prom, selection, tolerance):
    name, sel = "nstats-cost-prometheus.json", "All" if not selection else selection["host"]
    _, options, results = run_dashboard(name, d, prom, "prometheus", selection, None,
                                        PRICE_VARS)
    sources = selected(selection)
    compare_rates(name, "prometheus", d, results, sel, tolerance["steps"])
    by_class = ledger_classes(sources)
    want = {cls: cost(cls, b) for cls, b in by_class.items() if cost(cls, b)}
    c.eq(sorted(options["other_class"]), sorted(OTHER), f"{name} [{sel}] other classes")
    # Bytes by class over the range: near the ledger (flow series, see main); cost is exactly
    # those bytes times the prices.
    got_bytes = {(l["class"], l["direction"]): pts[-1][1]
                 for l, pts in results[(6, "A")][60000][1]}
    shown = defaultdict(float)
    for src in sources:
        for k, v in visible(src, lambda l: (l.get("class"), l.get("direction"))).items():
            shown[k] += v
    for cls, b in by_class.items():
        for i, direction in enumerate(("in", "out")):
            agree(got_bytes.get((cls, direction), 0), shown[(cls, direction)],
                  tolerance["visible"], f"{name} [{sel}] {cls} {direction}: bytes over the "
                                        "range vs what the flow series' samples show")
            agree(got_bytes.get((cls, direction), 0), b[i], tolerance["class"],
                  f"{name} [{sel}] {cls} {direction}: bytes over the range vs the ledger")
    got = {l["class"]: pts[-1][1] for l, pts in results[(1, "A")][60000][1]}
    c.eq(sorted(got), sorted(want), f"{name} [{sel}] the priced classes")
    for cls in want:
        close(got.get(cls, 0), cost(cls, [got_bytes.get((cls, "in"), 0),
                                          got_bytes.get((cls, "out"), 0)]), 1e-9,
              f"{name} [{sel}] {cls}: USD over the range = its bytes x the prices")
        close(got.get(cls, 0), want[cls], tolerance["class"],
              f"{name} [{sel}] {cls}: USD over the range vs the ledger's")
    total = [pts[-1][1] for _, pts in results[(1, "B")][60000][1]]
    close(total[0] if total else 0, sum(got.values()), 1e-9, f"{name} [{sel}] total USD")
    for interval in (5000, 60000):
        per_hour = series_totals("prometheus", d, results, 2, "A", interval,
                                 lambda l: l["class"])
        rates = series_totals("prometheus", d, results, 5, "A", interval,
                              lambda l: (l["class"], l["direction"]))
        c.eq(sorted(per_hour), sorted(want), f"{name} [{sel}] USD/h at {interval // 1000}s: "
                                             "the priced classes")
        for cls in want:
            close(per_hour.get(cls, 0) / 3600,
                  cost(cls, [rates.get((cls, "in"), 0), rates.get((cls, "out"), 0)]), 1e-9,
                  f"{name} [{sel}] {cls} at {interval // 1000}s: USD/h = the traffic panel's "
                  "bytes x the prices")
            close(per_hour.get(cls, 0) / 3600, want[cls], tolerance["class"],
                  f"{name} [{sel}] {cls} at {interval // 1000}s: sum over time of USD/h vs the "
                  "ledger")
    # By namespace, workload and class: USD is exactly bytes in and out times the prices.
    table = defaultdict(dict)
    for ref in "ABC":
        for l, pts in results[(4, ref)][5000][1]:
            table[(l.get("namespace", ""), l.get("workload", ""), l["class"])][ref] = pts[-1][1]
    by_wc = ledger_classes(sources, lambda src, cls: where(src) + (cls,))
    c.eq(sorted(table), sorted(by_wc), f"{name} [{sel}] namespaces, workloads and classes")
    for k, row in sorted(table.items()):
        if cost(k[2], [1, 1]):
            close(row.get("C", 0), cost(k[2], [row.get("A", 0), row.get("B", 0)]), 1e-9,
                  f"{name} [{sel}] {k}: USD = bytes in and out x the prices")
        else:
            c.ok("C" not in row, f"{name} [{sel}] {k}: no price, no cost")
    top_rows = {(l.get("namespace", ""), l.get("workload", "")): pts[-1][1]
                for l, pts in results[(3, "A")][5000][1]}
    by_where = defaultdict(float)
    for k, row in table.items():
        by_where[k[:2]] += row.get("C", 0)
    c.eq(sorted(top_rows), sorted(by_where), f"{name} [{sel}] top workloads")
    for w, usd in by_where.items():
        close(top_rows.get(w, 0), usd, 1e-9, f"{name} [{sel}] {w}: USD = its classes' sum")
    # The mixed Service: its endpoints by class, as each pod sees them.
    want_mixed = {}
    for src in sources:
        for remote, svc in SERVICE_NAMES.items():
            if src["k8s"] and model_class(src, remote) == "mixed":
                for cls, n in endpoint_classes(src, remote).items():
                    want_mixed[where(src) + ("shop", svc, cls)] = n
    got_mixed = {(l["namespace"], l["workload"], l["remote_namespace"], l["remote_name"],
                  l["class"]): pts[-1][1] for l, pts in results[(7, "A")][5000][1]}
    c.eq(got_mixed, want_mixed, f"{name} [{sel}] mixed Services' endpoints by class")
    return results


# The rules' rates run 5 minutes behind the traffic: they are evaluated (and summed) until the
# last scrape's samples have left their window.
RULES_END = TO_MS // 1000 + 300


def backfill_rules(prom):
    """The recording rules evaluated over the scrapes every 30 s by promtool, as Prometheus
    would have recorded them, one dependency level at a time (promtool reads from the server,
    which does not hold what it is writing). Returns a Prometheus over the scrapes and them."""
    rules = yaml.safe_load(open(RULES))["groups"][0]["rules"]
    level = {}
    for r in rules:
        level[r["record"]] = 1 + max([level[n] for n in level if n in r["expr"]], default=-1)
    for n in range(max(level.values()) + 1):
        path, out = os.path.join(tmp, f"rules-{n}.yml"), os.path.join(tmp, f"rules-{n}")
        with open(path, "w") as f:
            yaml.safe_dump({"groups": [{"name": "nstats-cost", "rules": [
                r for r in rules if level[r["record"]] == n]}]}, f)
        r = run(["promtool", "tsdb", "create-blocks-from", "rules", f"--url={prom.url}",
                 f"--start={FROM_MS // 1000}", f"--end={RULES_END}", "--eval-interval=30s",
                 f"--output-dir={out}", path])
        c.eq(r.returncode, 0, f"promtool backfills rules level {n} ({r.stderr.strip()[-300:]})")
        prom.stop()
        for block in os.listdir(out):
            shutil.move(os.path.join(out, block), os.path.join(prom.data, block))
        prom = servers.Prometheus(tmp, name=f"prometheus-rules-{n}", data=prom.data)
        cleanup.append(prom.stop)
    return prom


def check_rules(prom, results, sources):
    """The recorded cost, summed over the range, against the dashboard's (at the same prices:
    nstats' --price are the variables' values), and the recorded bytes against what the flow
    series' samples show."""
    span = RULES_END - FROM_MS // 1000
    recorded = {}
    for labels, v in prom.query(f"sum_over_time(namespace_workload_class:nstats_cost_usd:rate5m"
                                f"[{span}s]) * 30", RULES_END):
        recorded[(labels.get("namespace", ""), labels.get("workload", ""), labels["class"])] = v
    dashboard = {(l.get("namespace", ""), l.get("workload", ""), l["class"]): pts[-1][1]
                 for l, pts in results[(4, "C")][5000][1]}
    c.eq(sorted(recorded), sorted(dashboard), "recording rules: the namespaces, workloads and "
                                              "classes the dashboard prices")
    for k, v in sorted(dashboard.items()):
        close(recorded.get(k, 0), v, 0.05, f"recording rules: {k} USD vs the dashboard's")
    bytes_ = defaultdict(float)
    for labels, v in prom.query(f"sum_over_time(namespace_workload_class_direction:"
                                f"nstats_bytes:rate5m[{span}s]) * 30", RULES_END):
        bytes_[(labels.get("namespace", ""), labels.get("workload", ""))] += v
    for src in sources:
        agree(bytes_.get(where(src), 0), visible(src)[0], 0.05,
              f"recording rules: {where(src)} bytes vs what the flow series' samples show")
    per_pod = prom.query('sum by (instance, job, class, direction) '
                         '(pod_class_direction:nstats_cost_usd:rate5m)', TO_MS / 1000 - 120)
    c.ok(per_pod, f"recording rules: per-pod cost recorded ({len(per_pod)} series)")



def main():
    dashboards = load_dashboards()
    check_static(dashboards)

    for i, src in enumerate(SOURCES):
        generate(src, i)
    token = os.path.join(tmp, "token")
    with open(token, "w") as f:
        f.write("token-1\n")
    fx = Fixture(tmp, K8S, {kind: ["hold"] for kind in K8S}, tokens={"token-1"})
    cleanup.append(fx.stop)
    influx = InfluxDB(tmp)
    influx.start()
    cleanup.append(influx.stop)
    influx.query("CREATE DATABASE net")
    influx.query("CREATE DATABASE legacy")

    t0 = time.time()
    threads = [threading.Thread(target=stepped_replay, args=(s, influx, fx, token))
               for s in SOURCES]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for src in SOURCES:
        c.ok("error" not in src, f"{src['host']}: paced replay ({src.get('error')})")
        c.eq(src.get("rc"), 0, f"{src['host']}: nstats exit ({src.get('stderr', '')[-300:]})")
        c.ok("nstats_info{" in src["snapshots"][-1][1], f"{src['host']}: nstats_info exposed")
    print(f"paced replays with {len(SOURCES[0]['snapshots'])} scrapes each: "
          f"{time.time() - t0:.1f}s", flush=True)
    for src in SOURCES:
        legacy_replay(src, influx, fx, token)
    names = names_of(influx)
    c.eq(names[POD["host"]]["198.19.0.1"].get("remote_workload"), "Deployment/api",
         "the Kubernetes names reached the rows")
    check_classes(influx)
    prom = Prometheus(SOURCES)
    cleanup.append(prom.stop)

    # A flow series counts from its first scrape: what its key carried before that is in no
    # rate() or increase(), and a key that expires takes what it carried after its last
    # scrape along. With ~1,250 keys a capture, many of them short-lived, the flow panels read
    # 4-8 % under the ledger (the lines below say what the samples hold); the capture's own
    # counter, one per nstats, is exact. Steps of 30 s and 60 s integrate a little apart.
    # By class, the least busy peers (the vpc range) have the most short-lived keys: 12-15 %
    # under the ledger, 2-4 % over what the samples show (increase() extrapolates).
    tolerance = {"steps": 0.03, "ledger": 0.10, "counter": 0.005, "visible": 0.05,
                 "class": 0.20}
    for src in SOURCES:
        vis = visible(src)[0]
        print(f"{src['host']}: flow series show {vis:.0f} of the ledger's "
              f"{sum(v[0] + v[1] for v in src['ledger'].values())} bytes", flush=True)
    for selection in ({}, {"namespace": POD["namespace"], "workload": POD["workload"],
                           "host": POD["host"]}):
        check_influx(dashboards["nstats-influxdb.json"], influx, names, selection)
        check_legacy(dashboards["nstats-legacy.json"], influx, names,
                     {"host": POD["host"]} if selection else {})
        check_prometheus(dashboards["nstats-prometheus.json"], prom, names, selection, tolerance)
        check_cost_influx(dashboards["nstats-cost-influxdb.json"], influx, selection)
        results = check_cost_prometheus(dashboards["nstats-cost-prometheus.json"], prom,
                                        selection, tolerance)
        if not selection:
            cost_results = results
    t0 = time.time()
    check_rules(backfill_rules(prom), cost_results, SOURCES)
    print(f"recording rules backfilled and checked: {time.time() - t0:.1f}s", flush=True)


try:
    main()
finally:
    for stop in reversed(cleanup):
        stop()
if not c.failed:
    shutil.rmtree(tmp, ignore_errors=True)  # 100 MB of captures and databases; kept on failure
c.finish()
