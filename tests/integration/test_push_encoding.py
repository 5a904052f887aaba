#!/usr/bin/env python3
"""The push encoders against an independent decoder: random series sets over several intervals
(label values with UTF-8, invalid bytes, quotes, backslashes, newlines, long and empty values;
series that appear, disappear, repeat and change labels) go through pushenc, and every request
body is decoded with the official .proto files (protoc, python3-protobuf, python3-snappy) and
compared with a model written here: labels and their order, names, values, timestamps, StaleNaN
bits, requests cut at the maximum; for OTLP the resource and scope, one Metric per family run,
temporality, monotonicity, start times, no-value points for series that ended.
PUSHENC_SEED and PUSHENC_CASES choose the cases."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pushdecode  # noqa: E402

# Debian's python3-protobuf and python3-snappy are the system interpreter's: when another one
# (a virtualenv, pyenv) runs this without them, hand over to it.
if (pushdecode.missing() is not None and os.path.exists("/usr/bin/python3")
        and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3")
        and not os.environ.get("PUSHENC_REEXEC")):
    os.environ["PUSHENC_REEXEC"] = "1"
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)

import random  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from harness import BUILD, Checks, require  # noqa: E402

PUSHENC = os.path.join(BUILD, "pushenc")
require(os.path.exists(PUSHENC), "built pushenc")
why = pushdecode.missing()
require(why is None, why or "")

SEED = int(os.environ.get("PUSHENC_SEED", "20240601"))
CASES = int(os.environ.get("PUSHENC_CASES", "500"))
I64_MAX = 2**63 - 1

c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-pushenc-")

# ---- Random inputs -------------------------------------------------------------------------

ALPHABET = (list("abcxyz0129 _-.:/,;{}=%") + ['"', "\\", "\n", "\t", "\r", "é", "€", "😀",
                                              "ß", "\u2028", "\x7f", "\u00a0", "ﬁ"])
NAMES = ["a", "b", "remote", "remote_name", "local", "port", "proto", "net", "zz", "Upper",
         "le", "x_1"]


def rand_text(rng, long_ok=True):
    """Bytes of a label value or help text: empty, long, invalid UTF-8 or a mix of the above."""
    r = rng.random()
    if r < 0.08:
        return b""
    if r < 0.11 and long_ok:
        return ("long-" + "v" * rng.randint(200, 6000) + "é").encode()
    if r < 0.18:
        return bytes(rng.choice([0x61, 0x80, 0xbf, 0xc0, 0xc3, 0xe2, 0x82, 0xed, 0xa0, 0xf0,
                                 0xf4, 0x90, 0xff, 0x22, 0x5c])
                     for _ in range(rng.randint(1, 8)))
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12))).encode()


def rand_labels(rng):
    labels = [(rng.choice(NAMES), rand_text(rng)) for _ in range(rng.randint(0, 5))]
    if rng.random() < 0.05:
        labels.append(("__name__", b"spoof"))  # the encoder's own: remote write drops it
    if rng.random() < 0.05:
        labels.append(("", b"no name"))
    return labels


def rand_u64(rng):
    return rng.choice([0, 1, 7, I64_MAX, I64_MAX + 1, 2**64 - 1, 2**53 + 1,
                       rng.randrange(2**64), rng.randrange(10**6)])


def rand_double_bits(rng):
    return pushdecode.float_bits(rng.uniform(-1e9, 1e9)) if rng.random() < 0.5 else rng.choice([
        0, 0x8000000000000000, 0x3FF0000000000000, 0x7FF0000000000000, 0xFFF0000000000000,
        pushdecode.STALE_NAN, pushdecode.NORMAL_NAN, 0x7FF8000000000000, 0xFFF8000000000000,
        0x7FF4000000000001, 0x0000000000000001, rng.randrange(2**64)])


def family_name(rng):
    if rng.random() < 0.05:
        return b"fam_\xff_" + str(rng.randrange(100)).encode()
    return ("fam_" + rng.choice(["a", "b", "c", "d", "é", "x y"]) +
            rng.choice(["", "_total", "_bytes"])).encode()


def scenario(rng):
    """Intervals of operations, as the script pushenc reads and the model follows."""
    families = []
    for _ in range(rng.randint(1, 5)):
        keyed = rng.random() < 0.3
        families.append({"name": family_name(rng), "counter": rng.random() < 0.6,
                         "help": rand_text(rng, long_ok=False), "keyed": keyed,
                         "series": [rand_labels(rng) for _ in range(rng.randint(0, 6))]})
    keys = [rand_labels(rng) + [("remote", rand_text(rng))] for _ in range(rng.randint(1, 4))]
    intervals = []
    ts = rng.choice([0, rng.randrange(1, 2**41)])
    for _ in range(rng.randint(1, 6)):
        ops = []
        if rng.random() < 0.1:  # an empty interval: everything ends
            intervals.append((ts, ops))
            ts += rng.randint(1, 60000)
            continue
        # Series come and go; a remote's name gets learned (its labels change).
        for fam in families:
            fam["series"] = [s for s in fam["series"] if rng.random() > 0.2]
            fam["series"] += [rand_labels(rng) for _ in range(rng.randint(0, 2))]
            for s in fam["series"]:
                if rng.random() < 0.1:
                    s.append(("remote_name", rand_text(rng)))
        keys = [k for k in keys if rng.random() > 0.2] + [
            rand_labels(rng) + [("remote", rand_text(rng))] for _ in range(rng.randint(0, 2))]
        prepared = False
        for fam in rng.sample(families, k=len(families)):
            if rng.random() < 0.1:
                continue  # the family is not written this interval
            ops.append(("family", fam))
            if fam["keyed"]:
                if not prepared:
                    ops += [("key", k) for k in keys]
                    prepared = True
                for i in range(len(keys)):
                    for d in ("in", "out"):
                        ops.append(("keysample", i, d, rand_u64(rng)))
            for s in fam["series"]:
                if rng.random() < 0.5:
                    ops.append(("u64", rand_u64(rng), s))
                else:
                    ops.append(("double", rand_double_bits(rng), s))
                if rng.random() < 0.05:
                    ops.append(("u64", 1, list(s)))  # a repeat, dropped
        intervals.append((ts, ops))
        ts += rng.randint(1, 60000)
    return intervals


ENC = [chr(x) if chr(x).isalnum() and x < 0x80 or chr(x) in "._-" else "%%%02X" % x
       for x in range(256)]


def enc(b):
    """The script's %XX form of bytes."""
    if isinstance(b, str):
        b = b.encode()
    return "".join(ENC[x] for x in b)


def script(intervals):
    lines = []
    for ts, ops in intervals:
        lines.append(f"begin {ts}")
        for op in ops:
            if op[0] == "family":
                fam = op[1]
                kind = "counter" if fam["counter"] else "gauge"
                lines.append(f"family {kind} {enc(fam['name'])} {enc(fam['help'])}")
            elif op[0] in ("u64", "double"):
                value = str(op[1]) if op[0] == "u64" else "%016x" % op[1]
                fields = [op[0], value] + [f"{enc(n)}={enc(v)}" for n, v in op[2]]
                lines.append(" ".join(fields))
            elif op[0] == "key":
                lines.append(" ".join(["key"] + [f"{enc(n)}={enc(v)}" for n, v in op[1]]))
            else:
                lines.append(f"keysample {op[1]} {op[2]} {op[3]}")
        lines.append("end")
    return "\n".join(lines) + "\n"

# ---- The model -----------------------------------------------------------------------------


def repair(b):
    """Bytes as the encoders send strings: each byte that begins no well-formed UTF-8
    character becomes U+FFFD."""
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        pass
    out, i = [], 0
    while i < len(b):
        for n in (1, 2, 3, 4):
            try:
                s = b[i:i + n].decode("utf-8")
            except UnicodeDecodeError:
                continue
            if len(s) == 1:
                out.append(s)
                i += n
                break
        else:
            out.append("\ufffd")
            i += 1
    return "".join(out)


def canonical(labels, extras=(), reserved=()):
    """Labels as sent: without empty names or values, the extras' names or reserved ones, the
    first of a repeated name kept; sorted by name (bytes) with the extras merged in."""
    skip = {n for n, _ in extras} | set(reserved)
    kept, seen = [], set()
    for name, value in sorted((l for l in labels if l[0] and l[1] and l[0] not in skip),
                              key=lambda l: l[0].encode()):
        if name not in seen:
            seen.add(name)
            kept.append((name, value))
    merged = sorted(kept + [e for e in extras if e[1]], key=lambda l: l[0].encode())
    return tuple((repair(n.encode()), repair(v)) for n, v in merged)


def chunks(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]


def series_ops(ops, extra_labels, reserved_for_keys):
    """(family call, family, identity labels, kind, value) for each sample op, keys resolved;
    the family call counts the interval's family ops."""
    keys, fam, call = [], None, -1
    for op in ops:
        if op[0] == "family":
            fam = op[1]
            call += 1
        elif op[0] == "key":
            keys.append(op[1])
        elif op[0] == "keysample":
            extras = sorted(extra_labels(fam) + [("direction", op[2].encode())],
                            key=lambda l: l[0].encode())
            yield call, fam, canonical(keys[op[1]], extras, reserved_for_keys), "u64", op[3]
        else:
            yield call, fam, canonical(op[2], sorted(extra_labels(fam))), op[0], op[1]


def model_promwrite(intervals, max_series):
    """Per interval, its requests: lists of (labels, value bits, timestamp)."""
    out, prev = [], []
    for ts, ops in intervals:
        series, seen = [], set()
        for _, _, labels, kind, value in series_ops(
                ops, lambda fam: [("__name__", fam["name"])], ("__name__", "direction")):
            if labels in seen:
                continue
            seen.add(labels)
            if kind == "u64":
                bits = pushdecode.float_bits(float(value))
            elif (value >> 52 & 0x7FF) == 0x7FF and value & (2**52 - 1):
                bits = pushdecode.NORMAL_NAN  # any NaN
            else:
                bits = value
            series.append((labels, bits, ts))
        stale = [(labels, pushdecode.STALE_NAN, ts) for labels in prev if labels not in seen]
        out.append(chunks(series + stale, max_series))
        prev = [s[0] for s in series]
    return out


def model_otlp(intervals, max_points, start_ms):
    """Per interval, its requests: lists of Metrics (dicts as pushdecode makes them)."""
    out, prev, last_push = [], {}, None
    for ts, ops in intervals:
        requests, metrics, open_call, points = [], [], None, 0
        cur = {}

        def add(call_id, fam, point):
            nonlocal open_call, points, metrics
            if open_call != call_id:
                metrics.append({
                    "name": repair(fam["name"]), "description": repair(fam["help"]), "unit": "",
                    "type": "sum" if fam["counter"] else "gauge",
                    "temporality": pushdecode.CUMULATIVE if fam["counter"] else None,
                    "monotonic": True if fam["counter"] else None, "points": []})
                open_call = call_id
            metrics[-1]["points"].append(point)
            points += 1
            if points >= max_points:
                requests.append(metrics)
                metrics, open_call, points = [], None, 0

        def point(fam, attrs, start, kind, value, flags):
            bits = None
            if kind == "as_double":
                bits = value
            return {"attributes": list(attrs),
                    "start_ns": start * 1000000 if fam["counter"] else 0,
                    "time_ns": ts * 1000000, "kind": kind,
                    "value": value if kind == "as_int" else None, "value_bits": bits,
                    "flags": flags}

        for call, fam, attrs, kind, value in series_ops(ops, lambda fam: [], ("direction",)):
            call_id = (len(out), call)
            identity = (fam["name"], attrs)
            if identity in cur:
                continue
            if identity in prev:
                start = prev[identity][0]
            else:
                start = start_ms if last_push is None else last_push
            cur[identity] = (start, call_id, fam, attrs)
            if kind == "u64" and value <= I64_MAX:
                add(call_id, fam, point(fam, attrs, start, "as_int", value, 0))
            elif kind == "u64":
                add(call_id, fam, point(fam, attrs, start, "as_double",
                                        pushdecode.float_bits(float(value)), 0))
            else:
                add(call_id, fam, point(fam, attrs, start, "as_double", value, 0))
        for identity, (start, call_id, fam, attrs) in prev.items():
            if identity not in cur:
                add(call_id, fam, point(fam, attrs, start, None, None, 1))
        if points:
            requests.append(metrics)
        out.append(requests)
        prev, last_push = cur, ts
    return out

# ---- Running and comparing -----------------------------------------------------------------


def run_pushenc(text, workdir):
    """Per interval ended, in order: (end status, [(body bytes, timestamp)])."""
    os.makedirs(workdir, exist_ok=True)
    r = subprocess.run([PUSHENC, workdir], input=text.encode(), capture_output=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"pushenc exited {r.returncode}: {r.stderr.decode(errors='replace')}")
    intervals, bodies = [], []
    for line in r.stdout.decode().splitlines():
        word = line.split()
        if word[0] == "body":
            with open(os.path.join(workdir, word[1]), "rb") as f:
                bodies.append((f.read(), int(word[2])))
        else:
            intervals.append((int(word[1]), bodies))
            bodies = []
    shutil.rmtree(workdir)
    return intervals


def first_difference(got, want, path="body"):
    """Where two nested values first differ, for the failure message."""
    if isinstance(got, (list, tuple)) and isinstance(want, (list, tuple)):
        for i, (g, w) in enumerate(zip(got, want)):
            d = first_difference(g, w, f"{path}[{i}]")
            if d:
                return d
        if len(got) != len(want):
            return f"{path}: {len(got)} items, want {len(want)}"
        return None
    if isinstance(got, dict) and isinstance(want, dict):
        for k in sorted(set(got) | set(want)):
            d = first_difference(got.get(k), want.get(k), f"{path}.{k}")
            if d:
                return d
        return None
    if got != want:
        return f"{path}: got {str(got)[:200]!r}, want {str(want)[:200]!r}"
    return None


def promwrite_case(n, rng, intervals):
    """The encoder line for a remote write case, and what compares its output."""
    max_series = rng.choice([1, 2, 3, 7, 50, 0])

    def compare(got):
        want = model_promwrite(intervals, max_series or 2000)
        decoded = []
        for (rc, bodies), (ts, _) in zip(got, intervals):
            requests = []
            for body, body_ts in bodies:
                try:
                    series = pushdecode.decode_remote_write(body)
                except Exception as e:  # snappy or protobuf refused it
                    return f"interval at {ts}: body not decoded: {e}"
                c.ok(body_ts == ts, f"case {n}: body stamped {body_ts}, want {ts}")
                requests.append([(tuple(s["labels"]), s["samples"][0][1], s["samples"][0][2])
                                 if len(s["samples"]) == 1 else ("samples", len(s["samples"]))
                                 for s in series])
            decoded.append(requests)
            c.ok(rc == 0, f"case {n}: promwrite_end returned {rc}")
        return first_difference(decoded, want)
    return f"encoder promwrite --max {max_series}", compare


def otlp_case(n, rng, intervals):
    """The encoder line for an OTLP case, and what compares its output."""
    max_points = rng.choice([1, 2, 3, 7, 50, 0])
    start_ms = rng.choice([0, 1, rng.randrange(2**41)])
    resource = [(k, rand_text(rng, long_ok=False)) for k in rng.sample(
        ["service.name", "service.version", "host.name", "k8s.pod.name", "k8s.namespace.name",
         "k8s.node.name"], k=rng.randint(0, 6))]
    version = rng.choice([None, b"", b"0.1.0", "ünï".encode()])
    gz = rng.random() < 0.5
    args = ["encoder", "otlp", "--max", str(max_points), "--start", str(start_ms)]
    args += ["--gzip"] if gz else []
    args += ["--scope-version", enc(version)] if version is not None else []
    for k, v in resource:
        args += ["--resource", f"{enc(k)}={enc(v)}"]

    def compare(got):
        want = model_otlp(intervals, max_points or 2000, start_ms)
        want_resource = list(canonical(resource))
        c.eq(len(got), len(intervals), f"case {n}: intervals ended")
        decoded = []
        for (rc, bodies), (ts, _) in zip(got, intervals):
            requests = []
            for body, body_ts in bodies:
                c.ok((body[:2] == b"\x1f\x8b") == gz, f"case {n}: gzip {gz}")
                try:
                    req = pushdecode.decode_otlp(body)
                except Exception as e:  # gzip or protobuf refused it
                    return f"interval at {ts}: body not decoded: {e}"
                rms = req["resource_metrics"]
                ok = (len(rms) == 1 and rms[0]["resource"] == want_resource and
                      len(rms[0]["scopes"]) == 1 and rms[0]["scopes"][0]["name"] == "nstats" and
                      rms[0]["scopes"][0]["version"] == repair(version or b""))
                c.ok(ok, f"case {n}: resource and scope: {str(rms)[:300]}")
                c.ok(body_ts == ts, f"case {n}: body stamped {body_ts}, want {ts}")
                metrics = rms[0]["scopes"][0]["metrics"] if ok else None
                for m in metrics or []:
                    for p in m["points"]:
                        if p["kind"] == "as_double":
                            p["value"] = None  # compared by its bits
                requests.append(metrics)
            decoded.append(requests)
            c.ok(rc == 0, f"case {n}: otlp_end returned {rc}")
        return first_difference(decoded, want)
    return " ".join(args), compare


# Cases run in batches, one pushenc for a batch: starting a process (under ASan especially)
# costs more than a case.
BATCH = 50
started = time.monotonic()
failures = 0
rng = random.Random(SEED)
for first in range(0, CASES, BATCH):
    cases = []
    for n in range(first, min(first + BATCH, CASES)):
        intervals = scenario(rng)
        text = script(intervals)
        for name, case in (("promwrite", promwrite_case), ("otlp", otlp_case)):
            line, compare = case(n, rng, intervals)
            cases.append((n, name, intervals, line + "\n" + text, compare))
    got = run_pushenc("".join(case[3] for case in cases), os.path.join(tmp, "bodies"))
    c.eq(len(got), sum(len(case[2]) for case in cases), "intervals ended")
    for n, name, intervals, text, compare in cases:
        diff = compare(got[:len(intervals)])
        got = got[len(intervals):]
        if not c.ok(diff is None, f"case {n} ({name}): {diff}"):
            failures += 1
            path = os.path.join(tmp, f"case{n}-{name}.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print(f"  script kept: {path} (pushenc DIR < {path})", flush=True)
    if failures >= 5:
        print("stopping after 5 failing cases", flush=True)
        break
print(f"{min(first + BATCH, CASES)} cases (seed {SEED}) in {time.monotonic() - started:.1f} s",
      flush=True)
if failures == 0:
    shutil.rmtree(tmp, ignore_errors=True)
c.finish()
