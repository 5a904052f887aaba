"""Real servers for the integration tests, started on loopback ports picked here, plus a small
scriptable HTTP server for failure modes that real servers do not produce on demand."""
import gzip
import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except Exception:  # noqa: BLE001 - any failure means "not up yet"
            time.sleep(0.1)
    return False


class InfluxDB:
    """InfluxDB 1.x (Debian influxdb) with its data in a temporary directory."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "influxdb")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "influxdb.conf")
        with open(self.conf, "w") as f:
            f.write(f"""reporting-disabled = true
bind-address = "127.0.0.1:{free_port()}"
[meta]
  dir = "{self.dir}/meta"
[data]
  dir = "{self.dir}/data"
  wal-dir = "{self.dir}/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
""")
        self.proc = None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen(["influxd", "-config", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "log"), "a"))
        if not wait_http(self.url + "/ping"):
            raise RuntimeError("influxd did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None

    def query(self, q, db=None):
        params = {"q": q}
        if db:
            params["db"] = db
        data = urllib.parse.urlencode(params).encode()
        with urllib.request.urlopen(self.url + "/query", data=data, timeout=30) as r:
            return json.load(r)

    def series(self, q, db):
        """Rows of every series a query returns: [(tags, {column: value})]."""
        out = []
        for result in self.query(q, db)["results"]:
            if "error" in result:
                raise RuntimeError(result["error"])
            for s in result.get("series", []):
                for values in s["values"]:
                    out.append((s.get("tags", {}), dict(zip(s["columns"], values))))
        return out


class VictoriaMetrics:
    """VictoriaMetrics (Debian victoria-metrics): InfluxDB's /api/v2/write, Prometheus queries."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "vm")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            ["victoria-metrics", f"-httpListenAddr=127.0.0.1:{self.port}",
             f"-storageDataPath={self.dir}", "-retentionPeriod=100y", "-search.disableCache",
             "-loggerLevel=ERROR"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_http(self.url + "/health"):
            raise RuntimeError("victoria-metrics did not start")

    def export(self, match):
        """Every sample of the series matching match: [(labels, [values])]."""
        urllib.request.urlopen(self.url + "/internal/force_flush", timeout=30).read()
        data = urllib.parse.urlencode({"match[]": match, "start": "0"}).encode()
        with urllib.request.urlopen(self.url + "/api/v1/export", data=data, timeout=30) as r:
            lines = r.read().decode().splitlines()
        out = []
        for line in lines:
            obj = json.loads(line)
            out.append((obj["metric"], obj["values"]))
        return out

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


class Nginx:
    """nginx terminating TLS with a self-signed certificate, proxying to an HTTP upstream."""

    def __init__(self, tmp, upstream_port):
        self.dir = os.path.join(tmp, "nginx")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.ca = os.path.join(self.dir, "cert.pem")
        key = os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out",
                        self.ca], check=True, capture_output=True)
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""daemon off;
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {self.dir}/body;
  proxy_temp_path {self.dir}/proxy;
  server {{
    listen 127.0.0.1:{self.port} ssl;
    ssl_certificate {self.ca};
    ssl_certificate_key {key};
    client_max_body_size 64m;
    location / {{ proxy_pass http://127.0.0.1:{upstream_port}; }}
  }}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-p", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            time.sleep(0.1)
        self.url = f"https://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


class FakeInflux:
    """A loopback HTTP server answering writes from a script: a list of (status, headers,
    body) or "hang" entries, used in order, the last one repeating. Records every request."""

    def __init__(self, script):
        self.script = list(script)
        self.requests = []  # (time, path, headers, decompressed body)
        self.lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                with fake.lock:
                    n = len(fake.requests)
                    fake.requests.append((time.time(), self.path, dict(self.headers), body))
                    step = fake.script[min(n, len(fake.script) - 1)]
                if step == "hang":
                    time.sleep(5)
                    return
                status, headers, text = step
                payload = text.encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def send_json(handler, status, obj):
    """Answers an http.server request with a JSON body."""
    body = json.dumps(obj).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def have_all(*tools):
    return all(shutil.which(t) for t in tools)


def prom_query(prom_port, expr):
    """An instant PromQL query on a Prometheus on loopback: the first result's value, or None."""
    q = urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(f"http://127.0.0.1:{prom_port}/api/v1/query?{q}",
                                timeout=10) as r:
        res = json.load(r)["data"]["result"]
    return float(res[0]["value"][1]) if res else None
