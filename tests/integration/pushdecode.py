"""Decodes push request bodies to plain Python values with the official protobuf definitions
(tests/proto, compiled by protoc at first use): a remote write body (snappy, prompb.WriteRequest)
and an OTLP metrics body (ExportMetricsServiceRequest, gzip or not). For tests and for the
OTLP receiver the end-to-end tests run. Needs protoc, python3-protobuf and python3-snappy
(Debian's packages belong to /usr/bin/python3); missing() says which is absent."""
import gzip
import importlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile

PROTO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "proto")
PROMPB = os.path.join(PROTO_DIR, "prompb")
OTLP = os.path.join(PROTO_DIR, "otlp")
# protoc finds google/protobuf/descriptor.proto (which gogo.proto imports) here.
SYSTEM_INCLUDE = "/usr/include"

STALE_NAN = 0x7FF0000000000002
NORMAL_NAN = 0x7FF8000000000001
FLAG_NO_RECORDED_VALUE = 1
CUMULATIVE = 2

_modules = None


def missing():
    """What decoding needs and this machine lacks, as a sentence; None when nothing is."""
    if shutil.which("protoc") is None:
        return "protoc (protobuf-compiler)"
    for module, package in (("google.protobuf", "python3-protobuf"), ("snappy", "python3-snappy")):
        try:
            importlib.import_module(module)
        except ImportError:
            return f"{package} for {sys.executable}"
    return None


def _load():
    """Compiles the .proto files into a temporary directory once and imports them."""
    global _modules
    if _modules is not None:
        return _modules
    out = tempfile.mkdtemp(prefix="nstats-proto-")
    protos = [os.path.join(PROMPB, "remote.proto"), os.path.join(PROMPB, "types.proto"),
              os.path.join(PROMPB, "gogoproto", "gogo.proto")]
    for root, _, files in os.walk(OTLP):
        protos += [os.path.join(root, f) for f in files if f.endswith(".proto")]
    subprocess.run(["protoc", "-I", PROMPB, "-I", OTLP, "-I", SYSTEM_INCLUDE,
                    f"--python_out={out}"] + protos, check=True, capture_output=True, text=True)
    sys.path.insert(0, out)
    _modules = {
        "remote": importlib.import_module("remote_pb2"),
        "service": importlib.import_module(
            "opentelemetry.proto.collector.metrics.v1.metrics_service_pb2"),
    }
    return _modules


def float_bits(x):
    """The 64 bits of a double (NaN payloads kept), as an int."""
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def decode_remote_write(body, compressed=True):
    """A remote write body as a list of series, in order: {"labels": [(name, value), ...] in
    the order sent, "samples": [(value, value_bits, timestamp_ms), ...]}."""
    import snappy
    raw = snappy.uncompress(body) if compressed else body
    req = _load()["remote"].WriteRequest()
    req.ParseFromString(raw)
    return [{"labels": [(l.name, l.value) for l in ts.labels],
             "samples": [(s.value, float_bits(s.value), s.timestamp) for s in ts.samples]}
            for ts in req.timeseries]


def _attributes(kvs):
    """KeyValues as a list of (key, value) in the order sent; non-string values as they are."""
    out = []
    for kv in kvs:
        kind = kv.value.WhichOneof("value")
        out.append((kv.key, getattr(kv.value, kind) if kind else None))
    return out


def _point(p):
    kind = p.WhichOneof("value")
    value = getattr(p, kind) if kind else None
    return {"attributes": _attributes(p.attributes), "start_ns": p.start_time_unix_nano,
            "time_ns": p.time_unix_nano, "kind": kind, "value": value,
            "value_bits": float_bits(value) if kind == "as_double" else None, "flags": p.flags}


def decode_otlp(body, encoding=None):
    """An OTLP metrics body (gzip if encoding is "gzip", or if it starts with gzip's magic) as
    {"resource_metrics": [{"resource": [(key, value), ...], "scopes": [{"name", "version",
    "metrics": [{"name", "description", "unit", "type": "sum"|"gauge"|other, "temporality",
    "monotonic", "points": [{"attributes", "start_ns", "time_ns", "kind": "as_int" |
    "as_double" | None, "value", "value_bits", "flags"}]}]}]}]}."""
    if encoding == "gzip" or body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    req = _load()["service"].ExportMetricsServiceRequest()
    req.ParseFromString(body)
    out = []
    for rm in req.resource_metrics:
        scopes = []
        for sm in rm.scope_metrics:
            metrics = []
            for m in sm.metrics:
                kind = m.WhichOneof("data")
                data = getattr(m, kind) if kind else None
                metrics.append({
                    "name": m.name, "description": m.description, "unit": m.unit, "type": kind,
                    "temporality": getattr(data, "aggregation_temporality", None),
                    "monotonic": getattr(data, "is_monotonic", None),
                    "points": [_point(p) for p in data.data_points] if kind in ("sum", "gauge")
                    else []})
            scopes.append({"name": sm.scope.name, "version": sm.scope.version,
                           "metrics": metrics})
        out.append({"resource": _attributes(rm.resource.attributes), "scopes": scopes})
    return {"resource_metrics": out}
