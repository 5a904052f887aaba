#!/usr/bin/env python3
"""InfluxDB sink against real servers: InfluxDB 1.x (v1 /write), VictoriaMetrics (v2
/api/v2/write), nginx for TLS; and a scripted HTTP server for 500, 429, 4xx and hangs.
Everything is checked by querying the data back, not by trusting a 204."""
import collections
import os
import tempfile
import time

from harness import (NSTATS, PCAPGEN, Checks, flow_totals, parse_output, read_ledger, require,
                     run)
from servers import FakeInflux, InfluxDB, Nginx, VictoriaMetrics, have_all

require(os.path.exists(NSTATS) and os.path.exists(PCAPGEN), "built nstats and pcapgen")
require(have_all("influxd", "victoria-metrics", "nginx", "openssl"),
        "influxd, victoria-metrics, nginx, openssl (Debian influxdb, victoria-metrics, nginx-light)")

LOCAL = ["--local-net", "198.18.0.1/32", "--local-net", "2001:db8::1/128"]
c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-influx-")
cleanup = []


def generate(name, *args):
    pcap, ledger = os.path.join(tmp, name + ".pcap"), os.path.join(tmp, name + ".csv")
    run([PCAPGEN, "--out", pcap, "--ledger", ledger, *args], check=True)
    return pcap, ledger


def per_key(rows, names=("bytes_in", "bytes_out", "packets_in", "packets_out")):
    return {k: [int(v) for v in vals] for k, vals in rows.items()}


def check_v1(influx):
    influx.query("CREATE DATABASE net")
    pcap, ledger = generate("v1", "--packets", "40000", "--peers", "400", "--seed", "21",
                            "--ipv6-frac", "0.3", "--vlan-frac", "0.2", "--nonip-frac", "0.01",
                            "--frag-frac", "0.01", "--corrupt-frac", "0.01",
                            "--transit-frac", "0.01")
    r = run([NSTATS, "-r", pcap, *LOCAL, "--influx-url", influx.url, "--influx-db", "net",
             "--influx-batch-size", "16KiB"])
    c.eq(r.returncode, 0, f"v1 replay exit status ({r.stderr.strip()})")
    rows = influx.series('SELECT sum("bytes_in"), sum("bytes_out"), sum("packets_in"), '
                         'sum("packets_out") FROM "nstats" GROUP BY "local", "remote", "proto", '
                         '"port"', "net")
    got = {(t["local"], t["remote"], t["proto"], t["port"]):
           [v["sum"], v["sum_1"], v["sum_2"], v["sum_3"]] for t, v in rows}
    c.eq(got, read_ledger(ledger), "v1: per-key sums queried back equal the ledger")
    cap = influx.series('SELECT count("bytes"), sum("bytes") FROM "nstats_capture"', "net")
    c.eq(cap[0][1]["sum"], sum(v[0] + v[1] for v in read_ledger(ledger).values()),
         "v1: nstats_capture bytes")
    c.eq(cap[0][1]["count"], 6, "v1: one nstats_capture point per interval")
    exp = influx.series('SELECT count("queue_bytes") FROM "nstats_export"', "net")
    c.ok(exp and exp[0][1]["count"] == 6, f"v1: one nstats_export row per interval: {exp}")
    return pcap


def check_legacy(influx, pcap):
    influx.query("CREATE DATABASE legacy")
    r = run([NSTATS, "-r", pcap, *LOCAL, "--influx-url", influx.url, "--influx-db", "legacy",
             "--schema", "legacy", "--stdout"])
    c.eq(r.returncode, 0, f"legacy exit status ({r.stderr.strip()})")
    tags = sorted(v["tagKey"] for _, v in influx.series('SHOW TAG KEYS FROM "nstat"', "legacy"))
    c.eq(tags, ["hosts", "receiver", "sender"], "legacy: tag keys")
    fields = {v["fieldKey"]: v["fieldType"]
              for _, v in influx.series('SHOW FIELD KEYS FROM "nstat"', "legacy")}
    c.eq(fields, {"sendRate": "float", "receiveRate": "float"}, "legacy: field keys and types")
    # Rates times the interval give back the bytes of the default schema, per pair and interval.
    default = parse_output(run([NSTATS, "-r", pcap, *LOCAL]).stdout)
    span = {ts: f["interval_ms"] / 1000.0 for m, _, f, ts in default if m == "nstats_capture"}
    want = collections.defaultdict(lambda: [0, 0])
    for m, t, f, ts in default:
        if m == "nstats" and t["proto"] not in ("non-ip", "malformed"):
            want[(ts, t["local"], t["remote"])][0] += f["bytes_out"]
            want[(ts, t["local"], t["remote"])][1] += f["bytes_in"]
    rows = influx.series('SELECT "sendRate", "receiveRate", "sender", "receiver" FROM "nstat"',
                         "legacy")
    bad = 0
    for _, v in rows:
        ts = int(time.mktime(time.strptime(v["time"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone)
        ts_ns = ts * 10**9 + (int(v["time"][20:-1].ljust(9, "0")) if "." in v["time"] else 0)
        key = (ts_ns, v["sender"], v["receiver"])
        if v["receiver"] in ("non-ip", "malformed"):
            continue
        out_bytes = v["sendRate"] * span[ts_ns] / 8
        in_bytes = v["receiveRate"] * span[ts_ns] / 8
        w = want.get(key, [0, 0])
        if abs(out_bytes - w[0]) > 1e-6 * max(1, w[0]) or abs(in_bytes - w[1]) > 1e-6 * max(1, w[1]):
            bad += 1
    c.eq(bad, 0, f"legacy: rate x interval = bytes for all {len(rows)} rows")
    pairs = [v for _, v in rows if v["receiver"] not in ("non-ip", "malformed")]
    c.eq(len(pairs), len(want), "legacy: one row per pair and interval")


def check_v2(vm):
    pcap, ledger = generate("v2", "--packets", "20000", "--peers", "200", "--seed", "22",
                            "--ipv6-frac", "0.3")
    for gzip_flag in ("--influx-gzip=true", "--influx-gzip=false"):
        r = run([NSTATS, "-r", pcap, *LOCAL, "--influx-url", vm.url, "--influx-org", "org",
                 "--influx-bucket", "b" + gzip_flag[-4:], "--influx-token", "secret-token",
                 gzip_flag, "--host", "v2" + gzip_flag[-4:]])
        c.eq(r.returncode, 0, f"v2 {gzip_flag} exit status ({r.stderr.strip()})")
        c.ok("secret-token" not in r.stderr, "v2: token never logged")
        got = collections.defaultdict(lambda: [0, 0, 0, 0])
        for i, field in enumerate(("bytes_in", "bytes_out", "packets_in", "packets_out")):
            for labels, values in vm.export('{__name__="nstats_%s",host="v2%s"}'
                                            % (field, gzip_flag[-4:])):
                key = (labels["local"], labels["remote"], labels["proto"], labels["port"])
                got[key][i] += int(sum(values))
        c.eq(dict(got), read_ledger(ledger), f"v2 {gzip_flag}: per-key sums from VictoriaMetrics")


def check_tls(influx):
    nginx = Nginx(tmp, influx.port)
    cleanup.append(nginx.stop)
    influx.query("CREATE DATABASE tls")
    pcap, ledger = generate("tls", "--packets", "5000", "--peers", "50", "--seed", "23")
    base = [NSTATS, "-r", pcap, *LOCAL, "--influx-url", nginx.url, "--influx-db", "tls"]
    r = run(base + ["--shutdown-timeout", "2s"])
    c.ok(r.returncode == 1 and "certificate" in r.stderr.lower(),
         f"TLS: an unknown CA fails with a certificate error: {r.stderr.strip()[-300:]}")
    r = run(base + ["--influx-ca-file", nginx.ca])
    c.eq(r.returncode, 0, f"TLS with --influx-ca-file ({r.stderr.strip()[-300:]})")
    total = influx.series('SELECT sum("bytes") FROM "nstats_capture"', "tls")
    c.eq(total[0][1]["sum"], sum(v[0] + v[1] for v in read_ledger(ledger).values()),
         "TLS: bytes queried back")
    r = run(base + ["--influx-insecure"])
    c.eq(r.returncode, 0, "TLS with --influx-insecure")


def check_failures():
    pcap, ledger = generate("fail", "--packets", "3000", "--peers", "30", "--seed", "24",
                            "--duration", "30")
    want_bytes = sum(v[0] + v[1] for v in read_ledger(ledger).values())

    def delivered_bytes(fake):
        points = []
        seen = set()
        for _, _, _, body in fake.requests:
            if body in seen:
                continue  # a retried batch counts once
            seen.add(body)
        for body in seen:
            points += parse_output(body.decode())
        return sum(f["bytes"] for m, _, f, _ in points if m == "nstats_capture")

    def nstats_to(fake, *extra):
        return run([NSTATS, "-r", pcap, *LOCAL, "--influx-url", fake.url, "--influx-db", "x",
                    "--influx-retry-max", "1s", *extra], timeout=120)

    # 500 three times, then accepted: retried, delivered, exit 0.
    fake = FakeInflux([(500, {}, "boom")] * 3 + [(204, {}, "")])
    r = nstats_to(fake)
    c.eq(r.returncode, 0, f"500s then 204: exit status ({r.stderr.strip()[-300:]})")
    c.ok("retrying" in r.stderr and "recovered" in r.stderr, "500s: logged retry and recovery")
    c.eq(delivered_bytes(fake), want_bytes, "500s: every interval delivered once")
    fake.stop()

    # 429 with Retry-After: the next attempt waits that long.
    fake = FakeInflux([(429, {"Retry-After": "2"}, "slow down"), (204, {}, "")])
    r = nstats_to(fake)
    c.eq(r.returncode, 0, "429: exit status")
    gap = fake.requests[1][0] - fake.requests[0][0]
    c.ok(gap >= 1.9, f"429: Retry-After honoured ({gap:.2f}s)")
    fake.stop()

    # 400, 401, 404: dropped without retrying, the server's message logged once, exit 1.
    for status in (400, 401, 404):
        fake = FakeInflux([(status, {}, f'{{"error":"nope {status}"}}')])
        r = nstats_to(fake)
        n_batches = len({body for _, _, _, body in fake.requests})
        c.eq(r.returncode, 1, f"{status}: exit status")
        c.eq(len(fake.requests), n_batches, f"{status}: no batch sent twice")
        c.eq(r.stderr.count(f"nope {status}"), 2, f"{status}: message logged once (+ summary)")
        fake.stop()

    # A server that hangs: the request times out and is retried.
    fake = FakeInflux(["hang", (204, {}, "")])
    r = nstats_to(fake, "--influx-timeout", "500ms")
    c.eq(r.returncode, 0, f"hang: exit status ({r.stderr.strip()[-200:]})")
    c.ok("timed out" in r.stderr.lower() or "timeout" in r.stderr.lower(), "hang: timeout logged")
    c.eq(delivered_bytes(fake), want_bytes, "hang: every interval delivered")
    fake.stop()

    # Always failing, tiny queue: the queue stays under its cap, drops are counted, exit 1.
    fake = FakeInflux([(503, {}, "unavailable")])
    r = run([NSTATS, "-r", pcap, *LOCAL, "--interval", "1s", "--influx-url", fake.url,
             "--influx-db", "x", "--influx-gzip=false", "--influx-queue-size", "64KiB",
             "--influx-batch-size", "4KiB", "--shutdown-timeout", "1s", "--stdout"],
            timeout=120)
    c.eq(r.returncode, 1, "full queue: exit status")
    points = parse_output(r.stdout)
    queue = [f["queue_bytes"] for m, _, f, _ in points if m == "nstats_export"]
    dropped = [f["batches_dropped"] for m, _, f, _ in points if m == "nstats_export"]
    c.ok(queue and max(queue) <= 65536, f"full queue: never past the cap (max {max(queue)})")
    c.ok(dropped[-1] > 0 and "dropped" in r.stderr, f"full queue: drops counted ({dropped[-1]})")
    fake.stop()

    # Bad settings: one line, status 2.
    r = run([NSTATS, "-r", pcap, "--influx-url", "ftp://x", "--influx-db", "x"])
    c.ok(r.returncode == 2 and "http://" in r.stderr, f"bad URL scheme: {r.stderr.strip()}")
    r = run([NSTATS, "-r", pcap, "--influx-url", "http://x", "--influx-db", "x",
             "--influx-bucket", "y"])
    c.ok(r.returncode == 2 and "not both" in r.stderr, f"db and bucket: {r.stderr.strip()}")
    r = run([NSTATS, "--check-config", "--influx-url", "http://u:hunter2@h:1", "--influx-bucket",
             "b", "--influx-token", "s3cr3t-t0ken"])
    c.ok("hunter2" not in r.stdout and "s3cr3t" not in r.stdout and "(redacted)" in r.stdout,
         f"--check-config redacts secrets: {r.stdout}")
    secret = os.path.join(tmp, "token")
    with open(secret, "w") as f:
        f.write("file-token\n")
    fake = FakeInflux([(204, {}, "")])
    r = run([NSTATS, "-r", pcap, *LOCAL, "--influx-url", fake.url, "--influx-org", "o",
             "--influx-bucket", "b", "--influx-token-file", secret])
    auth = fake.requests[0][2].get("Authorization") if fake.requests else None
    c.eq(auth, "Token file-token", "token read from --influx-token-file")
    c.ok(fake.requests and "/api/v2/write?org=o&bucket=b" in fake.requests[0][1],
         "v2 path and query")
    fake.stop()


influx = InfluxDB(tmp)
try:
    influx.start()
    cleanup.append(influx.stop)
    vm = VictoriaMetrics(tmp)
    cleanup.append(vm.stop)
    pcap = check_v1(influx)
    check_legacy(influx, pcap)
    check_v2(vm)
    check_tls(influx)
    check_failures()
finally:
    for stop in reversed(cleanup):
        stop()
c.finish()
