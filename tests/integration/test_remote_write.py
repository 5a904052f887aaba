#!/usr/bin/env python3
"""Prometheus remote write 1.0 against real receivers: a Prometheus with its remote-write
receiver and VictoriaMetrics (/api/v1/write), both queried back per key against pcapgen's
ledger; the spec's headers and a tenancy header seen by a recording proxy; stale markers for
an expired key; and delivery through faults (receiver down for several intervals, 429 with
Retry-After, 400, 503, a restart with --spool-dir during an outage), with replays paced
through a pipe so that intervals take real time and the ledger stays exact."""
import base64
import collections
import os
import struct
import subprocess
import tempfile
import time
import urllib.request

import pushdecode
from harness import (NSTATS, PCAPGEN, Checks, PacedPipe, compare_keys, interval_ends_ms,
                     metric_samples, metric_total, read_ledger, require, run,
                     system_python_for, write_udp_pcap)
from servers import FakeReceiver, Nginx, Prometheus, VictoriaMetrics, free_port, have_all

system_python_for(pushdecode.missing)
require(pushdecode.missing() is None, f"{pushdecode.missing()} (to decode what was pushed)")
require(os.path.exists(NSTATS) and os.path.exists(PCAPGEN), "built nstats and pcapgen")
require(have_all("prometheus", "victoria-metrics", "nginx", "openssl"),
        "prometheus, victoria-metrics, nginx, openssl (Debian prometheus, victoria-metrics, "
        "nginx-light, openssl)")

LOCAL = ["--local-net", "198.18.0.1/32", "--local-net", "2001:db8::1/128"]
STALE_NAN = pushdecode.STALE_NAN
FLOW = ("nstats_bytes_total", "nstats_packets_total")
c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-rw-")
cleanup = []


def decode(body):
    """A remote-write body (snappy) -> [{"labels": {name: value}, "label_list": [(name, value)]
    as sent, "samples": [(ts, value, bits)]}]."""
    return [{"labels": dict(s["labels"]), "label_list": s["labels"],
             "samples": [(t, v, bits) for v, bits, t in s["samples"]]}
            for s in pushdecode.decode_remote_write(body)]


def generate(name, start, *args):
    pcap, ledger = os.path.join(tmp, name + ".pcap"), os.path.join(tmp, name + ".csv")
    run([PCAPGEN, "--out", pcap, "--ledger", ledger, "--start", str(start), *args], check=True)
    return pcap, read_ledger(ledger)


def key_of(labels):
    return (labels["local"], labels["remote"], labels["proto"], labels["port"])


def per_key(pairs):
    """[(labels, value)] of the two flow families -> {key: [bin, bout, pin, pout]}."""
    got = collections.defaultdict(lambda: [0, 0, 0, 0])
    for labels, value in pairs:
        i = (0 if labels["__name__"] == "nstats_bytes_total" else 2) + \
            (0 if labels["direction"] == "in" else 1)
        got[key_of(labels)][i] += int(value)
    return dict(got)


def ledger_total(ledger):
    return sum(v[0] + v[1] for v in ledger.values()), sum(v[2] + v[3] for v in ledger.values())


def received(fake):
    """Every series sample the fake saw, per label set, in arrival order (retries included)."""
    out = collections.defaultdict(list)
    for _, _, _, body in fake.requests:
        for s in decode(body):
            out[tuple(sorted(s["labels"].items()))].extend(s["samples"])
    return out


def stamps_of(fake, ok_only=True):
    """The sample timestamps of the bodies the fake took (2xx), or of all it was sent; stale
    markers (every series gets one as nstats ends) left out."""
    out = set()
    for (_, _, _, body), status in zip(fake.requests, fake.statuses):
        if not ok_only or (status and 200 <= status < 300):
            out.update(t for s in decode(body) for t, _, bits in s["samples"]
                       if bits != STALE_NAN)
    return out


def last_real(samples):
    real = [(t, v) for t, v, bits in samples if bits != STALE_NAN]
    return max(real)[1] if real else None


def vm_last(vm, name):
    """VictoriaMetrics' export: [(labels, last non-stale value by timestamp)]."""
    out = []
    for labels, values, stamps in vm.export_with_times('{__name__="%s"}' % name):
        real = [(t, v) for t, v in zip(stamps, values) if v is not None]
        out.append((labels, max(real)[1] if real else None))
    return out


def scrape(port):
    """/metrics, or "" while nstats does not answer yet."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            return r.read().decode()
    except OSError:
        return ""


def sink_metric(text, name, result=None):
    total = 0
    for k, v in metric_samples(text).items():
        if k.split("{")[0] == name and 'sink="remote_write"' in k and \
                (result is None or f'result="{result}"' in k):
            total += v
    return int(total)


def queue_empty(port):
    text = scrape(port)
    return "nstats_export_queue_batches" in text and \
        sink_metric(text, "nstats_export_queue_batches") == 0


def settle():
    """VictoriaMetrics shows what it took last a moment later, even after force_flush
    (seen: the last interval missing from an export made right after nstats ended)."""
    time.sleep(2)


def wait_until(cond, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def check_replay_prometheus(pcap, ledger, ends):
    prom = Prometheus(tmp, "prom-replay", remote_write_receiver=True)
    cleanup.append(prom.stop)
    r = run([NSTATS, "-r", pcap, *LOCAL, "--remote-write-url", prom.write_url,
             "--host", "web-1", "--namespace", "shop", "--node", "node-a"])
    c.eq(r.returncode, 0, f"Prometheus replay: exit status ({r.stderr.strip()[-300:]})")
    at = time.time()
    # Who sent it, as a PodMonitor's target labels say it for a scrape: on every series.
    last = ends[-1] / 1000
    got = prom.query('count({__name__=~"nstats_.*"})', at=last)
    mine = prom.query('count({__name__=~"nstats_.*",job="nstats",instance="web-1",'
                      'namespace="shop",pod="web-1"})', at=last)
    c.ok(got and got == mine, f"every series carries job, instance, namespace, pod: {got} {mine}")
    c.eq([l.get("node") for l, _ in prom.query("nstats_info", at=last)], ["node-a"],
         "nstats_info says the node")
    # last_over_time drops the name: one query per family.
    pairs = []
    for name in FLOW:
        for l, v in prom.query(f"last_over_time({name}[2h])", at=at):
            l["__name__"] = name
            pairs.append((l, v))
    compare_keys(c, per_key(pairs), ledger, "Prometheus: last value per key and direction")
    want_bytes, want_packets = ledger_total(ledger)
    got = prom.query("last_over_time(nstats_capture_bytes_total[2h])", at=at)
    c.eq([v for _, v in got], [float(want_bytes)], "Prometheus: nstats_capture_bytes_total")
    got = prom.query("last_over_time(nstats_capture_packets_total[2h])", at=at)
    c.eq([v for _, v in got], [float(want_packets)], "Prometheus: nstats_capture_packets_total")
    got = prom.query("count_over_time(nstats_capture_bytes_total[2h])", at=at)
    c.eq([v for _, v in got], [float(len(ends))],
         "Prometheus: one nstats_capture_bytes_total sample per interval")
    # Reconciliation (1) of docs/METRICS.md, at the last interval's end.
    expr = ("sum(nstats_bytes_total) + sum(nstats_expired_bytes_total) "
            "- sum(nstats_capture_bytes_total)")
    c.eq([v for _, v in prom.query(expr, at=ends[-1] / 1000)], [0.0],
         f"Prometheus: {expr} == 0 at the last interval")
    prom.stop()


def check_replay_vm(pcap, ledger, ends):
    vm = VictoriaMetrics(tmp, "vm-replay")
    cleanup.append(vm.stop)
    fake = FakeReceiver(["forward"], upstream=vm.url)
    cleanup.append(fake.stop)
    token = os.path.join(tmp, "token")
    with open(token, "w") as f:
        f.write("rw-secret-token\n")
    r = run([NSTATS, "-r", pcap, *LOCAL, "--remote-write-url", fake.url + "/api/v1/write",
             "--remote-write-header", "X-Scope-OrgID:tenant-a", "--remote-write-header",
             "X-Extra:1", "--remote-write-bearer-token-file", token])
    c.eq(r.returncode, 0, f"VictoriaMetrics replay: exit status ({r.stderr.strip()[-300:]})")
    settle()
    c.ok("rw-secret-token" not in r.stderr, "the bearer token is never logged")
    c.eq(sorted(set(fake.statuses)), [204], "VictoriaMetrics accepted every request")
    heads = [h for _, _, h, _ in fake.requests]
    c.ok(heads, "requests arrived")
    for name, want in (("Content-Encoding", "snappy"), ("Content-Type", "application/x-protobuf"),
                       ("X-Prometheus-Remote-Write-Version", "0.1.0"),
                       ("X-Scope-OrgID", "tenant-a"), ("X-Extra", "1"),
                       ("Authorization", "Bearer rw-secret-token")):
        c.eq(sorted({h.get(name) for h in heads}), [want], f"header {name} on every request")
    c.ok(all(h.get("User-Agent", "").startswith("nstats/") for h in heads),
         f"User-Agent nstats/...: {sorted({h.get('User-Agent') for h in heads})}")
    c.eq(sorted({p for _, p, _, _ in fake.requests}), ["/api/v1/write"], "the URL's path")

    # The bodies themselves: labels sorted and unique, one timestamp per interval end.
    stamps, marks, unsorted, empty = set(), set(), 0, 0
    for _, _, _, body in fake.requests:
        for s in decode(body):
            names = [n for n, _ in s["label_list"]]
            unsorted += names != sorted(set(names))
            empty += any(v == "" for _, v in s["label_list"])
            stamps.update(t for t, _, bits in s["samples"] if bits != STALE_NAN)
            marks.update(t for t, _, bits in s["samples"] if bits == STALE_NAN)
    c.eq(unsorted, 0, "every series' labels sorted by name, no name twice")
    c.eq(empty, 0, "no empty label values")
    c.eq(sorted(stamps), ends, "samples stamped with the interval ends (those of the line "
                               "protocol), nothing else")
    # Counting over, every series ends 1 ms after the last interval (no key expired before).
    c.eq(sorted(marks), [ends[-1] + 1], "stale markers only at the end of the run")
    ended = {k for k, s in received(fake).items() if s[-1][2] == STALE_NAN}
    c.eq(len(ended), len(received(fake)), "every series ends with a stale marker")
    seen = received(fake)
    pairs = [(dict(k), last_real(s)) for k, s in seen.items() if dict(k)["__name__"] in FLOW]
    compare_keys(c, per_key(pairs), ledger, "remote-write bodies: last value per key")

    pairs = []
    for name in FLOW:
        pairs += [(l, v) for l, v in vm_last(vm, name)]
    compare_keys(c, per_key(pairs), ledger, "VictoriaMetrics export: last value per key")
    cap = vm.export_with_times('{__name__="nstats_capture_bytes_total"}')
    c.eq(len(cap), 1, "one nstats_capture_bytes_total series")
    if cap:
        _, values, ts = cap[0]
        c.eq(ts, ends, "VictoriaMetrics: nstats_capture_bytes_total once per interval")
        c.eq(values[-1], ledger_total(ledger)[0], "VictoriaMetrics: capture bytes = ledger")
    fake.stop()
    vm.stop()

    # Basic auth from --remote-write-user and --remote-write-password-file.
    fake = FakeReceiver([(204, {}, "")])
    pw = os.path.join(tmp, "password")
    with open(pw, "w") as f:
        f.write("rw-pass\n")
    r = run([NSTATS, "-r", pcap, *LOCAL, "--remote-write-url", fake.url + "/api/v1/write",
             "--remote-write-user", "alice", "--remote-write-password-file", pw])
    c.eq(r.returncode, 0, f"basic auth: exit status ({r.stderr.strip()[-300:]})")
    c.eq(sorted({h.get("Authorization") for _, _, h, _ in fake.requests}),
         ["Basic " + base64.b64encode(b"alice:rw-pass").decode()], "basic auth header")
    c.ok("rw-pass" not in r.stderr, "the password is never logged")
    fake.stop()

    # Headers as --help shows them: a space after the colon, and values with spaces or commas.
    fake = FakeReceiver([(204, {}, "")])
    r = run([NSTATS, "-r", pcap, *LOCAL, "--remote-write-url", fake.url + "/api/v1/write",
             "--remote-write-header", "X-Scope-OrgID: tenant-b", "--remote-write-header",
             "X-Extra: a b, c"])
    c.eq(r.returncode, 0, f"--remote-write-header 'X-Scope-OrgID: tenant-b': exit status "
                          f"({r.stderr.strip()[-300:]})")
    for name, want in (("X-Scope-OrgID", "tenant-b"), ("X-Extra", "a b, c")):
        c.eq(sorted({h.get(name) for _, _, h, _ in fake.requests}), [want],
             f"header {name} as given")
    fake.stop()


def check_stale_markers():
    """Peer .2 talks at t0+1..2 s and again at t0+38 s; peer .3 all along. With a 10 s flow
    timeout and 5 s intervals .2 expires in between: its series get one stale marker each,
    Prometheus shows them gone after it, and they come back at .2's new total."""
    t0 = (int(time.time()) - 900) // 10 * 10
    recs = [(t0 + 1, 0, 100, 2, "out"), (t0 + 2, 0, 200, 2, "in")]
    recs += [(t0 + s, 0, 60 + s, 3, "out" if s % 4 else "in") for s in range(1, 45, 2)]
    recs += [(t0 + 38, 0, 300, 2, "out")]
    recs.sort()
    pcap = os.path.join(tmp, "stale.pcap")
    write_udp_pcap(pcap, recs)
    args = ["-r", pcap, *LOCAL, "--interval", "5s", "--flow-timeout", "10s"]
    ends = interval_ends_ms(args)
    prom = Prometheus(tmp, "prom-stale", remote_write_receiver=True)
    cleanup.append(prom.stop)
    vm = VictoriaMetrics(tmp, "vm-stale")
    cleanup.append(vm.stop)
    fakes = [FakeReceiver(["forward"], upstream=prom.url), FakeReceiver(["forward"],
                                                                        upstream=vm.url)]
    for fake in fakes:
        cleanup.append(fake.stop)
        r = run([NSTATS, *args, "--remote-write-url", fake.url + "/api/v1/write"])
        c.eq(r.returncode, 0, f"stale: exit status ({r.stderr.strip()[-300:]})")
    settle()
    seen = received(fakes[0])
    gone = {k: s for k, s in seen.items() if dict(k).get("remote") == "198.19.0.2" and
            dict(k)["__name__"] in FLOW}
    stays = {k: s for k, s in seen.items() if dict(k).get("remote") == "198.19.0.3" and
             dict(k)["__name__"] in FLOW}
    c.ok(gone and stays, f"stale: series of both peers pushed ({len(gone)}, {len(stays)})")
    final = ends[-1] + 1  # counting over: every series ends then
    stale_at = set()
    for k, samples in {**gone, **stays}.items():
        c.eq(samples[-1][0:3:2], (final, STALE_NAN), f"stale: {dict(k)} ends with the run")
    for k, samples in gone.items():
        marks = [t for t, _, bits in samples if bits == STALE_NAN and t != final]
        c.eq(len(marks), 1, f"stale: one stale marker for {dict(k)}")
        stale_at.update(marks)
        before = [t for t, _, bits in samples if bits != STALE_NAN and marks and t < marks[0]]
        after = [t for t, _, bits in samples if bits != STALE_NAN and marks and t > marks[0]]
        c.ok(before and after, f"stale: real samples before and after it (key restarted): "
                               f"{samples}")
    for k, samples in stays.items():
        c.eq([t for t, _, bits in samples if bits == STALE_NAN and t != final], [],
             f"stale: none for the live key {dict(k)} before the run ends")
    c.ok(len(stale_at) == 1 and stale_at <= set(ends),
         f"stale: the markers at one interval end: {sorted(stale_at)}")
    out = [s for k, s in gone.items() if dict(k)["__name__"] == "nstats_bytes_total" and
           dict(k)["direction"] == "out"]
    c.eq([last_real(s) for s in out], [300.0],
         "stale: the returning key counts from 0 again (300 bytes out)")
    if len(stale_at) == 1:
        ts = min(stale_at) / 1000
        q = 'nstats_bytes_total{remote="198.19.0.2",direction="out"}'
        c.eq([v for _, v in prom.query(q, at=ts - 0.001)], [100.0],
             "Prometheus: the series just before the stale marker")
        c.eq(prom.query(q, at=ts + 0.001), [], "Prometheus: gone right after the stale marker")
        c.eq(prom.query(q, at=ts + 10), [], "Prometheus: still gone 10 s later")
        c.eq([v for _, v in prom.query(q, at=ends[-1] / 1000)], [300.0],
             "Prometheus: back at the key's new total")
        exp = prom.query('nstats_expired_bytes_total', at=ts)
        c.eq(sum(v for _, v in exp), 300.0, "Prometheus: the expired key's bytes in "
                                            "nstats_expired_bytes_total")
        got = vm.export_with_times('{__name__="nstats_bytes_total",remote="198.19.0.2",'
                                   'direction="out"}', stale=True)
        c.ok(len(got) == 1 and [t for t, v in zip(got[0][2], got[0][1]) if v is None] ==
             [min(stale_at), final], f"VictoriaMetrics: the stale markers stored once: {got}")
    for fake in fakes:
        fake.stop()
    prom.stop()
    vm.stop()


def nstats_piped(url, *extra):
    port = free_port()
    p = subprocess.Popen([NSTATS, "-r", "-", *LOCAL, "--interval", "1s", "--remote-write-url",
                          url, "--push-retry-max", "1s", "--listen", f"127.0.0.1:{port}",
                          *extra], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    p.port = port
    return p


def finish(p, pacer):
    pacer.close()
    p.stdin = None  # closed: communicate() must not flush it
    try:
        _, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    return p.returncode, err.decode(errors="replace")


def check_capture_clean(text, what):
    c.eq(metric_total(text, "nstats_capture_drops_total"), 0, f"{what}: no capture drops")


def check_outage():
    """VictoriaMetrics behind the proxy, the proxy down for five 1 s intervals."""
    vm = VictoriaMetrics(tmp, "vm-outage")
    cleanup.append(vm.stop)
    fake = FakeReceiver(["forward"], upstream=vm.url)
    cleanup.append(fake.stop)
    start = int(time.time()) + 2
    pcap, ledger = generate("outage", start, "--packets", "3000", "--peers", "30", "--seed",
                            "31", "--duration", "12")
    ends = interval_ends_ms(["-r", pcap, *LOCAL, "--interval", "1s"])
    p = nstats_piped(fake.url + "/api/v1/write")
    pacer = PacedPipe(p, pcap)
    time.sleep(max(0, start + 3 - time.time()))
    fake.down()
    time.sleep(max(0, start + 8 - time.time()))
    fake.up()
    pacer.wait(30)
    c.ok(wait_until(lambda: queue_empty(p.port) and stamps_of(fake) >= set(ends[:-1]), 15),
         "outage: queue drained")
    text = scrape(p.port)
    c.ok(sink_metric(text, "nstats_export_batches_total", "retried") > 0,
         "outage: failed attempts counted as retried")
    c.eq(sink_metric(text, "nstats_export_batches_total", "dropped"), 0, "outage: none dropped")
    c.ok(sink_metric(text, "nstats_export_sent_bytes_total") > 0, "outage: sent bytes counted")
    last = sink_metric(text, "nstats_export_last_success_timestamp_seconds")
    c.ok(abs(last - time.time()) < 5, f"outage: last success just now ({last})")
    check_capture_clean(text, "outage")
    rc, err = finish(p, pacer)
    c.eq(rc, 0, f"outage: exit status ({err.strip()[-300:]})")
    settle()
    cap = vm.export_with_times('{__name__="nstats_capture_bytes_total"}')
    c.ok(len(cap) == 1 and cap[0][2] == ends,
         f"outage: every interval stored once ({len(ends)} intervals; "
         f"got {len(cap[0][2]) if cap else 0} samples)")
    if cap:
        c.eq(cap[0][1][-1], ledger_total(ledger)[0], "outage: capture bytes = ledger")
    pairs = []
    for name in FLOW:
        pairs += vm_last(vm, name)
    compare_keys(c, per_key(pairs), ledger, "outage: VictoriaMetrics per key")
    doubled = [(l, sorted(t for t in ts if ts.count(t) > 1)) for name in FLOW for l, _, ts in
               vm.export_with_times('{__name__="%s"}' % name) if len(ts) != len(set(ts))]
    c.ok(not doubled, f"outage: no series has a timestamp twice ({len(doubled)} have: "
                      f"{doubled[:2]})")
    fake.stop()
    vm.stop()


def check_statuses():
    """429 with Retry-After, 503, 400, against the recording fake."""
    pcap, ledger = generate("status", (int(time.time()) - 600) // 10 * 10, "--packets",
                            "3000", "--peers", "30", "--seed", "32", "--duration", "30")
    ends = interval_ends_ms(["-r", pcap, *LOCAL])
    ends_1s = interval_ends_ms(["-r", pcap, *LOCAL, "--interval", "1s"])

    fake = FakeReceiver([(429, {"Retry-After": "2"}, "slow down"), (204, {}, "")])
    cleanup.append(fake.stop)
    r = run([NSTATS, "-r", pcap, *LOCAL, "--remote-write-url", fake.url + "/api/v1/write",
             "--push-retry-max", "1s"], timeout=120)
    c.eq(r.returncode, 0, f"429: exit status ({r.stderr.strip()[-300:]})")
    if len(fake.requests) >= 2:
        gap = fake.requests[1][0] - fake.requests[0][0]
        c.ok(gap >= 1.9, f"429: Retry-After: 2 honoured over --push-retry-max 1s ({gap:.2f}s)")
        c.eq(fake.requests[1][3], fake.requests[0][3], "429: the same batch again")
    c.eq(sorted(stamps_of(fake)), ends, "429: every interval delivered")
    fake.stop()

    def held(script, what):
        """The whole file written to nstats' stdin, the pipe held open: every interval but
        the last pushed; /metrics read before the end."""
        fake = FakeReceiver(script)
        cleanup.append(fake.stop)
        p = nstats_piped(fake.url + "/api/v1/write")
        pacer = PacedPipe(p, pcap)
        ok = wait_until(lambda: queue_empty(p.port) and
                        stamps_of(fake, ok_only=False) >= set(ends_1s[:-1]), 30)
        c.ok(ok, f"{what}: the intervals so far handled")
        text = scrape(p.port)
        check_capture_clean(text, what)
        rc, err = finish(p, pacer)
        fake.stop()
        return fake, text, rc, err

    fake, text, rc, err = held([(503, {}, "busy")] * 2 + [(204, {}, "")], "503")
    c.eq(rc, 0, f"503: exit status ({err.strip()[-300:]})")
    c.eq(sink_metric(text, "nstats_export_batches_total", "retried"), 2, "503: two retries")
    c.eq(sink_metric(text, "nstats_export_batches_total", "dropped"), 0, "503: none dropped")
    bodies = [b for _, _, _, b in fake.requests]
    c.ok(len(bodies) >= 3 and bodies[0] == bodies[1] == bodies[2], "503: one batch, re-sent")
    c.eq(sorted(stamps_of(fake)), ends_1s, "503: every interval delivered")

    fake, text, rc, err = held([(400, {}, "out of order sample"), (204, {}, "")], "400")
    c.eq(rc, 1, f"400: exit status 1 for a dropped batch ({err.strip()[-300:]})")
    c.eq(sink_metric(text, "nstats_export_batches_total", "dropped"), 1, "400: counted dropped")
    c.eq(sink_metric(text, "nstats_export_batches_total", "retried"), 0, "400: not retried")
    bodies = [b for _, _, _, b in fake.requests]
    c.eq(bodies.count(bodies[0]) if bodies else 0, 1, "400: the refused batch never sent again")
    refused = {t for s in decode(bodies[0]) for t, _, _ in s["samples"]} if bodies else set()
    c.eq(sorted(stamps_of(fake)), sorted(set(ends_1s) - refused),
         "400: the other intervals delivered")
    c.ok("out of order sample" in err, f"400: the server's message logged: {err[-300:]}")


def check_spool_restart():
    """First run with the receiver down and --spool-dir: its batches wait on disk. Second run,
    paced, starts during the outage; the receiver returns: every interval of both runs is
    stored once, the spool emptied."""
    vm = VictoriaMetrics(tmp, "vm-spool")
    cleanup.append(vm.stop)
    fake = FakeReceiver(["forward"], upstream=vm.url)
    cleanup.append(fake.stop)
    fake.down()
    spool = os.path.join(tmp, "spool")
    t1 = (int(time.time()) - 300) // 10 * 10
    pcap1, ledger1 = generate("spool1", t1, "--packets", "2000", "--peers", "20", "--seed",
                              "33", "--duration", "8")
    ends1 = interval_ends_ms(["-r", pcap1, *LOCAL, "--interval", "1s"])
    r = run([NSTATS, "-r", pcap1, *LOCAL, "--interval", "1s", "--remote-write-url",
             fake.url + "/api/v1/write", "--spool-dir", spool, "--shutdown-timeout", "1s"])
    c.eq(r.returncode, 0, f"spool: first run exits 0, batches spooled ({r.stderr.strip()[-300:]})")
    rw_dir = os.path.join(spool, "remote-write")
    files = [f for f in os.listdir(rw_dir) if not f.startswith(".")] if os.path.isdir(rw_dir) \
        else []
    c.ok(len(files) >= len(ends1), f"spool: {len(files)} batches in {rw_dir} "
                                   f"({len(ends1)} intervals)")
    c.eq([f for f in os.listdir(spool) if f not in ("remote-write",) and
          not f.startswith(".") and os.path.isfile(os.path.join(spool, f))], [],
         "spool: nothing of remote write's at the top (InfluxDB's place)")

    start = int(time.time()) + 2
    pcap2, ledger2 = generate("spool2", start, "--packets", "2000", "--peers", "20", "--seed",
                              "34", "--duration", "8")
    ends2 = interval_ends_ms(["-r", pcap2, *LOCAL, "--interval", "1s"])
    p = nstats_piped(fake.url + "/api/v1/write", "--spool-dir", spool)
    pacer = PacedPipe(p, pcap2)
    time.sleep(max(0, start + 3 - time.time()))
    fake.up()
    pacer.wait(30)
    c.ok(wait_until(lambda: queue_empty(p.port), 15),
         "spool: queue drained after the receiver returned")
    check_capture_clean(scrape(p.port), "spool")
    rc, err = finish(p, pacer)
    c.eq(rc, 0, f"spool: second run exit status ({err.strip()[-300:]})")
    settle()
    c.eq([f for f in os.listdir(rw_dir) if not f.startswith(".")], [], "spool: emptied")
    cap = vm.export_with_times('{__name__="nstats_capture_bytes_total"}')
    stamps = sorted(t for _, _, ts in cap for t in ts)
    c.eq(stamps, sorted(ends1 + ends2), "spool: every interval of both runs stored once")
    by_time = dict(zip(cap[0][2], cap[0][1])) if len(cap) == 1 else {}
    c.eq((by_time.get(ends1[-1]), by_time.get(ends2[-1])),
         (ledger_total(ledger1)[0], ledger_total(ledger2)[0]),
         "spool: each run's capture bytes = its ledger")
    for name_ledger, lo, hi in ((ledger1, ends1[0], ends1[-1]), (ledger2, ends2[0], ends2[-1])):
        pairs = []
        for name in FLOW:
            for labels, values, ts in vm.export_with_times('{__name__="%s"}' % name):
                real = [(t, v) for t, v in zip(ts, values) if v is not None and lo <= t <= hi]
                if real:
                    pairs.append((labels, max(real)[1]))
        compare_keys(c, per_key(pairs), name_ledger, f"spool: run ending {hi} per key")
    fake.stop()
    vm.stop()


def check_tls(pcap, ledger):
    """TLS as for InfluxDB: nginx with a self-signed certificate in front of VictoriaMetrics."""
    vm = VictoriaMetrics(tmp, "vm-tls")
    cleanup.append(vm.stop)
    nginx = Nginx(tmp, vm.port)
    cleanup.append(nginx.stop)
    base = [NSTATS, "-r", pcap, *LOCAL, "--remote-write-url", nginx.url + "/api/v1/write",
            "--shutdown-timeout", "2s"]
    r = run(base)
    c.ok(r.returncode == 1 and "certificate" in r.stderr,
         f"TLS: an unknown CA fails with a certificate error: {r.stderr.strip()[-300:]}")
    r = run(base + ["--remote-write-ca-file", nginx.ca])
    c.eq(r.returncode, 0, f"TLS with --remote-write-ca-file ({r.stderr.strip()[-300:]})")
    settle()
    cap = vm.export_with_times('{__name__="nstats_capture_bytes_total"}')
    c.ok(cap and cap[0][1][-1] == ledger_total(ledger)[0],
         f"TLS: capture bytes in VictoriaMetrics equal the ledger: {cap and cap[0][1][-1]}")
    r = run(base + ["--remote-write-insecure"])
    c.eq(r.returncode, 0, f"TLS with --remote-write-insecure ({r.stderr.strip()[-300:]})")
    nginx.stop()
    vm.stop()


def main():
    t0 = (int(time.time()) - 1800) // 10 * 10
    pcap, ledger = generate("replay", t0, "--packets", "20000", "--peers", "300", "--seed",
                            "30", "--ipv6-frac", "0.3", "--vlan-frac", "0.1", "--nonip-frac",
                            "0.01", "--frag-frac", "0.01", "--corrupt-frac", "0.01",
                            "--transit-frac", "0.01")
    ends = interval_ends_ms(["-r", pcap, *LOCAL])
    check_replay_prometheus(pcap, ledger, ends)
    check_replay_vm(pcap, ledger, ends)
    check_tls(pcap, ledger)
    check_stale_markers()
    check_statuses()
    check_outage()
    check_spool_restart()


t_start = time.time()
try:
    main()
finally:
    for stop in reversed(cleanup):
        try:
            stop()
        except Exception:  # noqa: BLE001 - already stopped
            pass
print(f"took {time.time() - t_start:.1f}s", flush=True)
c.finish()
