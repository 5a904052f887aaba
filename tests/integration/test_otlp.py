#!/usr/bin/env python3
"""OTLP metrics over HTTP: replays into a Python OTLP receiver (servers.FakeReceiver, POST
/v1/metrics, bodies gzipped or not, decoded to dicts). No real receiver is used because the
Debian packages the tests run against have none: Prometheus 2.42 has no OTLP receiver
(it came with 2.47, behind a feature flag) and VictoriaMetrics 1.79 none either (1.92).
Checked: per-key totals equal pcapgen's ledger; the flow families are cumulative, monotonic
Sums whose points have start_time <= time; the identity is in resource attributes
(k8s.pod.name etc.); an expired key gets a point flagged "no recorded value" exactly once and,
when it returns, a new start_time; headers; faults share remote write's machinery and are
checked there (test_remote_write.py), here only a 503 retried and a 400 dropped."""
import collections
import os
import tempfile
import time

import pushdecode
from harness import (NSTATS, PCAPGEN, Checks, compare_keys, interval_ends_ms, read_ledger,
                     require, run, system_python_for, write_udp_pcap)
from servers import FakeReceiver

system_python_for(pushdecode.missing)
require(pushdecode.missing() is None, f"{pushdecode.missing()} (to decode what was pushed)")
require(os.path.exists(NSTATS) and os.path.exists(PCAPGEN), "built nstats and pcapgen")

LOCAL = ["--local-net", "198.18.0.1/32", "--local-net", "2001:db8::1/128"]
FLOW = ("nstats_bytes_total", "nstats_packets_total")
NO_RECORDED_VALUE = pushdecode.FLAG_NO_RECORDED_VALUE
CUMULATIVE = pushdecode.CUMULATIVE
OK = [(200, {"Content-Type": "application/x-protobuf"}, "")]
c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-otlp-")
cleanup = []


def decode(body):
    """An OTLP body -> {"resource_metrics": [{"resource": {attrs}, "scope_metrics": [{"scope",
    "metrics": [{"name", "unit", "sum" | "gauge": {"data_points": [{"attributes": {...},
    "start_time_unix_nano", "time_unix_nano", "as_int" | "as_double", "flags"}],
    "aggregation_temporality", "is_monotonic"}}]}]}]} (pushdecode's, in OTLP's own words)."""
    out = []
    for rm in pushdecode.decode_otlp(body)["resource_metrics"]:
        scopes = []
        for sc in rm["scopes"]:
            metrics = []
            for m in sc["metrics"]:
                pts = []
                for p in m["points"]:
                    q = {"attributes": dict(p["attributes"]), "start_time_unix_nano": p["start_ns"],
                         "time_unix_nano": p["time_ns"], "flags": p["flags"]}
                    if p["kind"]:
                        q[p["kind"]] = p["value"]
                    pts.append(q)
                metrics.append({"name": m["name"], "unit": m["unit"], m["type"]: {
                    "data_points": pts, "aggregation_temporality": m["temporality"],
                    "is_monotonic": m["monotonic"]}})
            scopes.append({"scope": {"name": sc["name"], "version": sc["version"]},
                           "metrics": metrics})
        out.append({"resource": dict(rm["resource"]), "scope_metrics": scopes})
    return {"resource_metrics": out}


def env(extra):
    names = ("NSTATS_", "IFACE", "INFLUX", "IDB", "POD_", "NODE_NAME", "KUBERNETES_")
    e = {k: v for k, v in os.environ.items() if not k.startswith(names)}
    e.update(extra)
    return e


def points(fake):
    """Every data point received, in arrival order: [(resource attrs, metric name, kind,
    metric dict, point)]."""
    out = []
    for _, _, _, body in fake.requests:
        for rm in decode(body)["resource_metrics"]:
            for sm in rm["scope_metrics"]:
                for m in sm["metrics"]:
                    kind = "sum" if "sum" in m else "gauge"
                    for p in m.get(kind, {}).get("data_points", []):
                        out.append((rm["resource"], m["name"], kind, m, p))
    return out


def stamps_of(fake):
    """The interval ends (ms) of the points in the bodies the fake took (2xx); the no-value
    points every series gets as nstats ends left out."""
    out = set()
    for (_, _, _, body), status in zip(fake.requests, fake.statuses):
        if status and 200 <= status < 300:
            for rm in decode(body)["resource_metrics"]:
                for sm in rm["scope_metrics"]:
                    for m in sm["metrics"]:
                        for p in m.get("sum", m.get("gauge", {})).get("data_points", []):
                            if not p.get("flags", 0) & NO_RECORDED_VALUE:
                                out.add(p["time_unix_nano"] // 1000000)
    return out


def value(p):
    return p.get("as_int", p.get("as_double"))


def series_of(pts):
    """{(metric name, attributes): [point, ...]} in arrival order."""
    out = collections.defaultdict(list)
    for _, name, _, _, p in pts:
        out[(name, tuple(sorted(p["attributes"].items())))].append(p)
    return out


def per_key(series):
    got = collections.defaultdict(lambda: [0, 0, 0, 0])
    for (name, attrs), pts in series.items():
        if name not in FLOW:
            continue
        a = dict(attrs)
        real = [p for p in pts if not p["flags"] & NO_RECORDED_VALUE]
        if not real:
            continue
        last = max(real, key=lambda p: p["time_unix_nano"])
        i = (0 if name == "nstats_bytes_total" else 2) + (0 if a["direction"] == "in" else 1)
        got[(a["local"], a["remote"], a["proto"], a["port"])][i] += int(value(last))
    return dict(got)


def check_replay():
    t0 = (int(time.time()) - 1800) // 10 * 10
    pcap, ledger = os.path.join(tmp, "replay.pcap"), os.path.join(tmp, "replay.csv")
    run([PCAPGEN, "--out", pcap, "--ledger", ledger, "--start", str(t0), "--packets", "20000",
         "--peers", "300", "--seed", "40", "--ipv6-frac", "0.3", "--nonip-frac", "0.01",
         "--frag-frac", "0.01", "--corrupt-frac", "0.01"], check=True)
    ledger = read_ledger(ledger)
    ends = interval_ends_ms(["-r", pcap, *LOCAL])
    fake = FakeReceiver(OK)
    cleanup.append(fake.stop)
    r = run([NSTATS, "-r", pcap, *LOCAL, "--otlp-url", fake.url + "/v1/metrics", "--otlp-header",
             "X-Scope-OrgID:tenant-o", "--workload", "web"],
            env=env({"POD_NAME": "web-7d4f-x2x", "POD_NAMESPACE": "shop", "NODE_NAME": "node-a"}))
    c.eq(r.returncode, 0, f"replay: exit status ({r.stderr.strip()[-300:]})")
    heads = [h for _, _, h, _ in fake.requests]
    c.ok(heads, "replay: requests arrived")
    c.eq(sorted({p for _, p, _, _ in fake.requests}), ["/v1/metrics"], "replay: the path")
    c.eq(sorted({h.get("Content-Type") for h in heads}), ["application/x-protobuf"],
         "replay: Content-Type")
    c.eq(sorted({h.get("X-Scope-OrgID") for h in heads}), ["tenant-o"], "replay: --otlp-header")
    c.ok(all(h.get("Content-Encoding") in (None, "gzip") for h in heads),
         f"replay: gzip or identity: {sorted({str(h.get('Content-Encoding')) for h in heads})}")
    pts = points(fake)
    c.ok(pts, "replay: points decoded")
    resources = {tuple(sorted(res.items())) for res, *_ in pts}
    c.eq(len(resources), 1, "replay: one resource")
    res = dict(next(iter(resources))) if resources else {}
    for k, v in (("k8s.pod.name", "web-7d4f-x2x"), ("k8s.namespace.name", "shop"),
                 ("k8s.node.name", "node-a")):
        c.eq(res.get(k), v, f"replay: resource attribute {k}")
    c.ok("web" in res.values(), f"replay: the workload among the resource attributes: {res}")
    c.ok(str(res.get("service.name", "")) != "", f"replay: service.name set: {res}")
    ids = ("host", "namespace", "node", "pod", "workload")
    c.eq(sorted({k for _, name, _, _, p in pts for k in p["attributes"]
                 if k in ids and name != "nstats_info"}), [],
         "replay: identity only on the resource (and nstats_info, as on /metrics)")

    ser = series_of(pts)
    compare_keys(c, per_key(ser), ledger, "replay: last point per key and direction")
    flows = [(m, p) for _, name, _, m, p in pts if name in FLOW]
    c.ok(flows and all("sum" in m and m["sum"]["aggregation_temporality"] == CUMULATIVE and
                       m["sum"]["is_monotonic"] for m, _ in flows),
         "replay: flow families are cumulative monotonic Sums")
    c.ok(all(0 < p["start_time_unix_nano"] <= p["time_unix_nano"] for _, p in flows),
         "replay: every flow point has 0 < start_time <= time")
    stamps = sorted({p["time_unix_nano"] // 1000000 for *_, p in pts
                     if not p["flags"] & NO_RECORDED_VALUE})
    c.eq(stamps, ends, "replay: points stamped with the interval ends")
    ended = sorted({p["time_unix_nano"] // 1000000 for *_, p in pts
                    if p["flags"] & NO_RECORDED_VALUE})
    c.eq(ended, [ends[-1] + 1], "replay: every series ends 1 ms after the last interval")
    ser = {k: [p for p in ps if not p["flags"] & NO_RECORDED_VALUE] for k, ps in ser.items()}
    backwards = [k for k, ps in ser.items() if k[0] in FLOW and
                 any(b["start_time_unix_nano"] == a["start_time_unix_nano"] and value(b) < value(a)
                     for a, b in zip(ps, ps[1:]))]
    c.eq(backwards, [], "replay: no series goes backwards within one start_time")
    starts = [k for k, ps in ser.items() if len({p["start_time_unix_nano"] for p in ps}) != 1]
    c.eq(starts, [], "replay: one start_time per series (no key expired)")
    cap = ser.get(("nstats_capture_bytes_total", ()), [])
    c.eq(value(cap[-1]) if cap else None, sum(v[0] + v[1] for v in ledger.values()),
         "replay: nstats_capture_bytes_total = ledger")
    c.eq(len(cap), len(ends), "replay: one capture point per interval")
    fake.stop()

    # Headers as --help shows them: a space after the colon, values with spaces or commas.
    fake = FakeReceiver(OK)
    cleanup.append(fake.stop)
    r = run([NSTATS, "-r", pcap, *LOCAL, "--otlp-url", fake.url + "/v1/metrics", "--otlp-header",
             "Authorization: Basic dTpw", "--otlp-header", "X-Extra: a b, c"])
    c.eq(r.returncode, 0, f"--otlp-header 'Authorization: Basic dTpw': exit status "
                          f"({r.stderr.strip()[-300:]})")
    for name, want in (("Authorization", "Basic dTpw"), ("X-Extra", "a b, c")):
        c.eq(sorted({h.get(name) for _, _, h, _ in fake.requests}), [want],
             f"header {name} as given")
    fake.stop()


def check_expiry():
    """Peer .2 talks at t0+1..2 s and again at t0+38 s, peer .3 all along; a 10 s flow timeout
    and 5 s intervals: .2 expires in between."""
    t0 = (int(time.time()) - 900) // 10 * 10
    recs = [(t0 + 1, 0, 100, 2, "out"), (t0 + 2, 0, 200, 2, "in")]
    recs += [(t0 + s, 0, 60 + s, 3, "out" if s % 4 else "in") for s in range(1, 45, 2)]
    recs += [(t0 + 38, 0, 300, 2, "out")]
    recs.sort()
    pcap = os.path.join(tmp, "expiry.pcap")
    write_udp_pcap(pcap, recs)
    args = ["-r", pcap, *LOCAL, "--interval", "5s", "--flow-timeout", "10s"]
    ends = interval_ends_ms(args)
    fake = FakeReceiver(OK)
    cleanup.append(fake.stop)
    r = run([NSTATS, *args, "--otlp-url", fake.url + "/v1/metrics"])
    c.eq(r.returncode, 0, f"expiry: exit status ({r.stderr.strip()[-300:]})")
    ser = series_of(points(fake))
    gone = {k: ps for k, ps in ser.items() if k[0] in FLOW and
            dict(k[1]).get("remote") == "198.19.0.2"}
    stays = {k: ps for k, ps in ser.items() if k[0] in FLOW and
             dict(k[1]).get("remote") == "198.19.0.3"}
    c.ok(gone and stays, f"expiry: both peers' series ({len(gone)}, {len(stays)})")
    final = (ends[-1] + 1) * 1000000  # counting over: every series ends then
    for k, ps in {**gone, **stays}.items():
        c.ok(ps[-1]["flags"] & NO_RECORDED_VALUE and ps[-1]["time_unix_nano"] == final,
             f"expiry: {k} ends with the run: {ps[-1]}")
    for k, ps in gone.items():
        ps = [p for p in ps if p["time_unix_nano"] != final]
        flagged = [p for p in ps if p["flags"] & NO_RECORDED_VALUE]
        c.eq(len(flagged), 1, f"expiry: one no-recorded-value point for {k}")
        if len(flagged) != 1:
            continue
        f = flagged[0]
        c.ok(f["time_unix_nano"] // 1000000 in ends, "expiry: the flagged point at an interval end")
        c.ok("as_int" not in f and "as_double" not in f or value(f) == 0,
             f"expiry: the flagged point carries no value: {f}")
        before = [p for p in ps if p["time_unix_nano"] < f["time_unix_nano"]]
        after = [p for p in ps if p["time_unix_nano"] > f["time_unix_nano"]]
        c.ok(before and after, f"expiry: points before and after for {k}")
        if before and after:
            c.eq(f["start_time_unix_nano"], before[-1]["start_time_unix_nano"],
                 "expiry: the flagged point ends the old life (its start_time)")
            c.ok(after[0]["start_time_unix_nano"] > before[-1]["start_time_unix_nano"],
                 f"expiry: the returning key has a new start_time "
                 f"({before[-1]['start_time_unix_nano']} -> {after[0]['start_time_unix_nano']})")
            c.ok(after[0]["start_time_unix_nano"] > f["time_unix_nano"] - 5 * 10**9,
                 "expiry: the new start_time is within the interval it returned in")
    out = [p for k, ps in gone.items() if k[0] == "nstats_bytes_total" and
           dict(k[1])["direction"] == "out" for p in ps]
    c.eq([value(p) for p in out if not p["flags"] & NO_RECORDED_VALUE][-1:], [300],
         "expiry: the returning key counts from 0 again (300 bytes out)")
    for k, ps in stays.items():
        c.eq([p for p in ps if p["flags"] & NO_RECORDED_VALUE and p["time_unix_nano"] != final],
             [], f"expiry: no flagged point for the live key {k} before the run ends")
    fake.stop()


def check_faults():
    pcap, ledger = os.path.join(tmp, "faults.pcap"), os.path.join(tmp, "faults.csv")
    run([PCAPGEN, "--out", pcap, "--ledger", ledger, "--start",
         str((int(time.time()) - 600) // 10 * 10), "--packets", "3000", "--peers", "30",
         "--seed", "41", "--duration", "30"], check=True)
    ends = interval_ends_ms(["-r", pcap, *LOCAL])
    fake = FakeReceiver([(503, {}, "busy")] * 2 + OK)
    cleanup.append(fake.stop)
    r = run([NSTATS, "-r", pcap, *LOCAL, "--otlp-url", fake.url + "/v1/metrics",
             "--push-retry-max", "1s"])
    c.eq(r.returncode, 0, f"503: exit status ({r.stderr.strip()[-300:]})")
    bodies = [b for _, _, _, b in fake.requests]
    c.ok(len(bodies) >= 3 and bodies[0] == bodies[1] == bodies[2], "503: the batch re-sent")
    c.eq(sorted(stamps_of(fake)), ends, "503: every interval delivered")
    fake.stop()
    fake = FakeReceiver([(400, {}, "bad metric")] + OK)
    cleanup.append(fake.stop)
    r = run([NSTATS, "-r", pcap, *LOCAL, "--otlp-url", fake.url + "/v1/metrics",
             "--push-retry-max", "1s"])
    c.eq(r.returncode, 1, f"400: exit status 1 ({r.stderr.strip()[-300:]})")
    bodies = [b for _, _, _, b in fake.requests]
    c.eq(bodies.count(bodies[0]) if bodies else 0, 1, "400: not sent again")
    c.eq(len(stamps_of(fake)), len(ends) - 1, "400: the other intervals delivered")
    fake.stop()


t_start = time.time()
try:
    check_replay()
    check_expiry()
    check_faults()
finally:
    for stop in reversed(cleanup):
        try:
            stop()
        except Exception:  # noqa: BLE001 - already stopped
            pass
print(f"took {time.time() - t_start:.1f}s", flush=True)
c.finish()
