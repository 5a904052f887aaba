#!/usr/bin/env python3
"""InfluxDB sink against real servers: InfluxDB 1.x (v1 /write), VictoriaMetrics (v2
/api/v2/write), nginx for TLS; and a scripted HTTP server for 500, 429, 4xx and hangs.
Everything is checked by querying the data back, not by trusting a 204."""
import base64
import collections
import os
import struct
import tempfile
import time

from harness import (NSTATS, PCAPGEN, Checks, flow_totals, parse_output, read_ledger, require,
                     run)
from servers import FakeReceiver, InfluxDB, Nginx, VictoriaMetrics, have_all

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


def write_pcap(name, records):
    """A capture of UDP frames from 198.18.0.1 to 198.19.0.2:53, one per (ts_sec, ts_usec,
    wire length), captured whole. Returns its path and the sum of the lengths."""
    path = os.path.join(tmp, name + ".pcap")
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for ts_sec, ts_usec, length in records:
            payload = length - 42
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + payload, 1, 0, 64, 17, 0,
                             bytes([198, 18, 0, 1]), bytes([198, 19, 0, 2]))
            udp = struct.pack("!HHHH", 40000, 53, 8 + payload, 0)
            frame = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + b"\x08\x00" + ip + udp + bytes(payload)
            f.write(struct.pack("<IIII", ts_sec, ts_usec, len(frame), len(frame)) + frame)
    return path, sum(r[2] for r in records)


def stored_bytes(influx, db):
    """(sum of nstats_capture bytes, sum of the nstats rows' bytes) queried back."""
    cap = influx.series('SELECT sum("bytes") FROM "nstats_capture"', db)
    rows = influx.series('SELECT sum("bytes_in"), sum("bytes_out") FROM "nstats"', db)
    return (cap[0][1]["sum"] if cap else 0,
            rows[0][1]["sum"] + rows[0][1]["sum_1"] if rows else 0)


def check_boundary(influx):
    """A capture whose last packet falls exactly on an interval boundary: that packet's
    interval must get a timestamp of its own, or InfluxDB keeps one of the two points."""
    influx.query("CREATE DATABASE boundary")
    t0 = 1700000000  # a multiple of 10 s
    pcap, want = write_pcap("boundary", [(t0 + 1, 0, 200), (t0 + 5, 250000, 184),
                                         (t0 + 10, 0, 46)])
    r = run([NSTATS, "-r", pcap, *LOCAL, "--influx-url", influx.url, "--influx-db", "boundary",
             "--stdout"])
    c.eq(r.returncode, 0, f"boundary: exit status ({r.stderr.strip()[-300:]})")
    stamps = [ts for m, _, _, ts in parse_output(r.stdout) if m == "nstats_capture"]
    c.ok(len(stamps) == 2 and stamps[1] > stamps[0],
         f"boundary: two intervals with different timestamps: {stamps}")
    got = stored_bytes(influx, "boundary")
    print(f"boundary: {want} bytes in the capture, InfluxDB holds {got} "
          "(nstats_capture, nstats rows)", flush=True)
    c.eq(got, (want, want), "boundary: InfluxDB holds every byte (capture row, flow rows)")

    # A record stamped ts_sec=0xffffffff (read as -1 s): counted as malformed at the time of
    # the packet before it; no timestamp InfluxDB refuses is written, so nothing is lost.
    influx.query("CREATE DATABASE farfuture")
    pcap, want = write_pcap("farfuture", [(t0 + 1, 0, 300), (0xffffffff, 0, 77),
                                          (0xffffffff, 999999, 88), (t0 + 2, 0, 100)])
    r = run([NSTATS, "-r", pcap, *LOCAL, "--influx-url", influx.url, "--influx-db",
             "farfuture", "--stdout"])
    c.eq(r.returncode, 0, f"ts_sec 0xffffffff: exit status ({r.stderr.strip()[-300:]})")
    stamps = [ts for _, _, _, ts in parse_output(r.stdout)]
    c.ok(stamps and max(stamps) <= 2**63 - 2, f"ts_sec 0xffffffff: timestamps in range {stamps}")
    c.eq(stored_bytes(influx, "farfuture"), (want, want), "ts_sec 0xffffffff: every byte stored")
    mal = influx.series('SELECT sum("bytes_in") FROM "nstats" WHERE "proto" = \'malformed\'',
                        "farfuture")
    c.eq(mal[0][1]["sum"] if mal else 0, 165, "ts_sec 0xffffffff: in the malformed row")


def check_redirects(influx):
    """InfluxDB moved: 307 and 308 are followed with the POST and its body, credentials stay
    with the first host; any other 3xx is retried with the status logged, never dropped,
    spooled batches included."""
    influx.query("CREATE DATABASE moved")
    pcap, ledger = generate("moved", "--packets", "3000", "--peers", "30", "--seed", "25",
                            "--duration", "30")
    want = sum(v[0] + v[1] for v in read_ledger(ledger).values())
    target = influx.url + "/write?db=moved&precision=ns"
    spool = os.path.join(tmp, "moved-spool")
    # First run: InfluxDB unreachable, the batches stay in the spool.
    r = run([NSTATS, "-r", pcap, *LOCAL, "--influx-url", "http://127.0.0.1:1", "--influx-db",
             "moved", "--spool-dir", spool, "--shutdown-timeout", "1s", "--host", "spooled"])
    spooled = [f for f in os.listdir(spool) if f.endswith(".lp.gz")]
    c.ok(r.returncode == 0 and spooled, f"307: batches spooled first ({len(spooled)})")
    # Second run: through a 307, the spooled batches go first, then this run's.
    for status in (307, 308):
        fake = FakeReceiver([(status, {"Location": target}, "")])
        r = run([NSTATS, "-r", pcap, *LOCAL, "--influx-url", fake.url, "--influx-db", "moved",
                 "--spool-dir", spool, "--host", f"moved{status}"])
        c.eq(r.returncode, 0, f"{status}: exit status ({r.stderr.strip()[-300:]})")
        c.ok("dropp" not in r.stderr, f"{status}: nothing dropped")
        fake.stop()
    c.eq([f for f in os.listdir(spool) if not f.startswith(".")], [], "307: spool emptied")
    for host in ("spooled", "moved307", "moved308"):
        got = influx.series(f'SELECT sum("bytes") FROM "nstats_capture" WHERE "host" = '
                            f"'{host}'", "moved")
        c.eq(got[0][1]["sum"] if got else 0, want, f"307/308: every byte of {host} stored")

    # Credentials go to the first host only; the POST and its body reach the second.
    second = FakeReceiver([(204, {}, "")])
    first = FakeReceiver([(307, {"Location": second.url + "/write?db=x"}, "")])
    r = run([NSTATS, "-r", pcap, *LOCAL, "--influx-url", first.url, "--influx-db", "x",
             "--influx-user", "u", "--influx-password", "pw-secret"])
    c.eq(r.returncode, 0, f"307 to another host: exit status ({r.stderr.strip()[-300:]})")
    c.ok(first.requests and all("Authorization" in h for _, _, h, _ in first.requests),
         "307: the first host gets the credentials")
    c.ok(second.requests and not any("Authorization" in h for _, _, h, _ in second.requests),
         "307: the other host does not")
    c.eq(len(second.requests), len(first.requests), "307: every body re-sent (as a POST)")
    c.ok(all(body for _, _, _, body in second.requests), "307: bodies not empty")
    first.stop()
    second.stop()

    # 302 would turn the POST into a GET: not followed, retried with the status named.
    fake = FakeReceiver([(302, {"Location": target}, "")] * 2 + [(204, {}, "")])
    r = run([NSTATS, "-r", pcap, *LOCAL, "--influx-url", fake.url, "--influx-db", "x",
             "--influx-retry-max", "1s"], timeout=120)
    c.eq(r.returncode, 0, f"302: exit status ({r.stderr.strip()[-300:]})")
    c.ok("HTTP 302" in r.stderr and "retrying" in r.stderr, f"302: logged: {r.stderr[-400:]}")
    c.ok(all(path.startswith("/write?") for _, path, _, _ in fake.requests),
         "302: never followed")
    bodies = {body for _, _, _, body in fake.requests}
    c.eq(sum(f["bytes"] for b in bodies for m, _, f, _ in parse_output(b.decode())
             if m == "nstats_capture"), want, "302: every interval delivered, none dropped")
    fake.stop()


def check_url_shapes(influx):
    """Passwords holding '@' and '/', and InfluxDB 1.x credentials in the query string: the
    request goes where it should, with the right credentials, and no secret is logged."""
    influx.query("CREATE DATABASE shapes")
    pcap, ledger = generate("shapes", "--packets", "2000", "--peers", "20", "--seed", "26")
    want = sum(v[0] + v[1] for v in read_ledger(ledger).values())
    fake = FakeReceiver([(204, {}, "")])
    url = fake.url.replace("http://", "http://admin:p@ss/w0rd@") + "/?u=me&p=q-secret"
    r = run([NSTATS, "-r", pcap, *LOCAL, "--influx-url", url, "--influx-db", "x", "-v"])
    c.eq(r.returncode, 0, f"URL shapes: exit status ({r.stderr.strip()[-300:]})")
    path = fake.requests[0][1] if fake.requests else ""
    c.eq(path, "/write?u=me&p=q-secret&db=x&precision=ns", "URL shapes: the write URL")
    auth = fake.requests[0][2].get("Authorization") if fake.requests else None
    c.eq(auth, "Basic " + base64.b64encode(b"admin:p@ss/w0rd").decode(),
         "URL shapes: the user information as credentials")
    c.ok("p@ss" not in r.stderr and "w0rd" not in r.stderr and "q-secret" not in r.stderr,
         f"URL shapes: no secret logged: {r.stderr[-400:]}")
    c.ok("p=(redacted)" in r.stderr, "URL shapes: the endpoint logged with p redacted")
    r = run([NSTATS, "--check-config", "-r", pcap, "--influx-url", url, "--influx-db", "x"])
    c.ok(r.returncode == 0 and "p@ss" not in r.stdout and "w0rd" not in r.stdout and
         "q-secret" not in r.stdout, f"URL shapes: --check-config redacts: {r.stdout}")
    fake.stop()
    # And against InfluxDB itself (no authentication: credentials are ignored).
    url = influx.url.replace("http://", "http://admin:p@ss/w0rd@") + "/?u=me&p=q-secret"
    r = run([NSTATS, "-r", pcap, *LOCAL, "--influx-url", url, "--influx-db", "shapes"])
    c.eq(r.returncode, 0, f"URL shapes to InfluxDB: exit status ({r.stderr.strip()[-300:]})")
    c.eq(stored_bytes(influx, "shapes"), (want, want), "URL shapes: every byte stored")


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
    fake = FakeReceiver([(500, {}, "boom")] * 3 + [(204, {}, "")])
    r = nstats_to(fake)
    c.eq(r.returncode, 0, f"500s then 204: exit status ({r.stderr.strip()[-300:]})")
    c.ok("retrying" in r.stderr and "recovered" in r.stderr, "500s: logged retry and recovery")
    c.eq(delivered_bytes(fake), want_bytes, "500s: every interval delivered once")
    fake.stop()

    # 429 with Retry-After: the next attempt waits that long.
    fake = FakeReceiver([(429, {"Retry-After": "2"}, "slow down"), (204, {}, "")])
    r = nstats_to(fake)
    c.eq(r.returncode, 0, "429: exit status")
    gap = fake.requests[1][0] - fake.requests[0][0]
    c.ok(gap >= 1.9, f"429: Retry-After honoured ({gap:.2f}s)")
    fake.stop()

    # 400, 401, 404: dropped without retrying, the server's message logged once, exit 1.
    for status in (400, 401, 404):
        fake = FakeReceiver([(status, {}, f'{{"error":"nope {status}"}}')])
        r = nstats_to(fake)
        n_batches = len({body for _, _, _, body in fake.requests})
        c.eq(r.returncode, 1, f"{status}: exit status")
        c.eq(len(fake.requests), n_batches, f"{status}: no batch sent twice")
        c.eq(r.stderr.count(f"nope {status}"), 2, f"{status}: message logged once (+ summary)")
        fake.stop()

    # A server's message with terminal escapes: logged with them escaped, on one line.
    fake = FakeReceiver([(400, {}, "bad\x1b[2J\x1b]0;title\x07\rnstats: forged")])
    r = nstats_to(fake)
    c.ok("\x1b" not in r.stderr and "\x07" not in r.stderr and "\r" not in r.stderr and
         "bad\\x1b[2J\\x1b]0;title\\x07" in r.stderr and
         not any(l.startswith("nstats: forged") for l in r.stderr.splitlines()),
         f"control characters from the server escaped in the log: {r.stderr[-300:]!r}")
    fake.stop()

    # A refusal, then an outage, then recovery: the summary names the refusal that dropped
    # the batch, not the outage long over, nor a full queue that never happened.
    fake = FakeReceiver([(400, {}, '{"error":"bad point"}'), (503, {}, "busy"), (204, {}, "")])
    r = nstats_to(fake)
    summary = [l for l in r.stderr.splitlines() if "during the run" in l]
    c.eq(r.returncode, 1, "400 then recovery: exit status")
    c.ok(len(summary) == 1 and "HTTP 400" in summary[0] and "bad point" in summary[0] and
         "503" not in summary[0] and "queue" not in summary[0] and
         "later batches were delivered" in summary[0],
         f"400 then recovery: the summary names the refusal: {summary}")
    c.ok("not delivered" not in r.stderr, "400 then recovery: nothing left undelivered")
    fake.stop()

    # A server that hangs: the request times out and is retried.
    fake = FakeReceiver(["hang", (204, {}, "")])
    r = nstats_to(fake, "--influx-timeout", "500ms")
    c.eq(r.returncode, 0, f"hang: exit status ({r.stderr.strip()[-200:]})")
    c.ok("timed out" in r.stderr.lower() or "timeout" in r.stderr.lower(), "hang: timeout logged")
    c.eq(delivered_bytes(fake), want_bytes, "hang: every interval delivered")
    fake.stop()

    # Always failing, tiny queue: the queue stays under its cap, drops are counted, exit 1.
    fake = FakeReceiver([(503, {}, "unavailable")])
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
    fake = FakeReceiver([(204, {}, "")])
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
    check_boundary(influx)
    check_redirects(influx)
    check_url_shapes(influx)
finally:
    for stop in reversed(cleanup):
        stop()
c.finish()
