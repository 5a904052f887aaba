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
import urllib.error
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
    """VictoriaMetrics (Debian victoria-metrics): InfluxDB's /api/v2/write, Prometheus remote
    write (write_url), Prometheus queries and an exact export of every sample."""

    def __init__(self, tmp, name="vm"):
        self.dir = os.path.join(tmp, name)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.write_url = self.url + "/api/v1/write"
        self.proc = subprocess.Popen(
            ["victoria-metrics", f"-httpListenAddr=127.0.0.1:{self.port}",
             f"-storageDataPath={self.dir}", "-retentionPeriod=100y", "-search.disableCache",
             "-loggerLevel=ERROR"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_http(self.url + "/health"):
            raise RuntimeError("victoria-metrics did not start")

    def export(self, match):
        """Every sample of the series matching match: [(labels, [values])]."""
        return [(labels, values) for labels, values, _ in self.export_with_times(match)]

    def export_with_times(self, match, stale=False):
        """Every sample of the series matching match: [(labels, [values], [timestamps ms])];
        stale markers (stored as null) only if stale."""
        urllib.request.urlopen(self.url + "/internal/force_flush", timeout=30).read()
        data = urllib.parse.urlencode({"match[]": match, "start": "0"}).encode()
        with urllib.request.urlopen(self.url + "/api/v1/export", data=data, timeout=30) as r:
            lines = r.read().decode().splitlines()
        out = []
        for line in lines:
            obj = json.loads(line)
            pairs = [(v, t) for v, t in zip(obj["values"], obj["timestamps"])
                     if stale or v is not None]
            out.append((obj["metric"], [v for v, _ in pairs], [t for _, t in pairs]))
        return out

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


class Prometheus:
    """Prometheus (Debian prometheus) on loopback with its TSDB in a temporary directory (or
    data, filled beforehand, e.g. by promtool's backfill); scrape is a list of scrape_configs
    entries as YAML text, remote_write_receiver turns on /api/v1/write (write_url)."""

    def __init__(self, tmp, name="prometheus", scrape=(), remote_write_receiver=False, data=None,
                 scrape_interval="30s"):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.data = data or os.path.join(self.dir, "tsdb")
        conf = os.path.join(self.dir, "prometheus.yml")
        with open(conf, "w") as f:
            f.write(f"global: {{scrape_interval: {scrape_interval}, "
                    f"evaluation_interval: {scrape_interval}}}\n")
            if scrape:
                f.write("scrape_configs:\n" + "".join(f"  - {s}\n" for s in scrape))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.write_url = self.url + "/api/v1/write"
        cmd = ["prometheus", f"--config.file={conf}", f"--storage.tsdb.path={self.data}",
               "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{self.port}"]
        if remote_write_receiver:
            cmd.append("--web.enable-remote-write-receiver")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "log"), "w"))
        if not wait_http(self.url + "/-/ready", 60):
            raise RuntimeError("prometheus did not start")

    def api(self, path, params):
        """A GET on the HTTP API: the JSON answer, an error's included."""
        query = urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=30) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            return json.load(e)

    def query(self, expr, at=None):
        """An instant query: [(labels, value)], value a float."""
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        res = self.api("/api/v1/query", params)
        if res.get("status") != "success":
            raise RuntimeError(f"{expr}: {res}")
        return [(r["metric"], float(r["value"][1])) for r in res["data"]["result"]]

    def stop(self):
        if self.proc.poll() is None:
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
    client_body_buffer_size 64m;
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


class FakeReceiver:
    """A loopback HTTP server answering POSTs from a script, for what real servers do not do
    on demand: a list of steps used in order, the last one repeating. A step is (status,
    headers, body), "hang" (no answer for 5 s) or "forward" (passed on to upstream, whose
    answer is returned: a fault-injecting proxy in front of a real server). down() closes the
    port and every open connection (connections refused) until up(). Records every request as
    (time, path, headers, body), the body gunzipped (other encodings as sent), and the status
    answered in statuses (None for a hang)."""

    def __init__(self, script, upstream=None):
        self.script = list(script)
        self.step = 0
        self.upstream = upstream
        self.requests = []  # (time, path, headers, decompressed body)
        self.statuses = []
        self.lock = threading.Lock()
        self.busy = threading.Lock()  # held while a request is answered: down() waits for it
        self.conns = set()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                with fake.lock:
                    fake.conns.add(self.connection)

            def finish(self):
                with fake.lock:
                    fake.conns.discard(self.connection)
                try:
                    super().finish()
                except OSError:
                    pass

            def do_POST(self):
                with fake.busy:
                    try:
                        self.answer()
                    except OSError:
                        pass  # the client went away, or down() reset the connection

            def answer(self):
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                body = raw
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(raw)
                with fake.lock:
                    fake.requests.append((time.time(), self.path, dict(self.headers), body))
                    step = fake.script[min(fake.step, len(fake.script) - 1)]
                    fake.step += 1
                if step == "hang":
                    fake.statuses.append(None)
                    fake.busy.release()  # a hang does not keep the receiver up
                    try:
                        time.sleep(5)
                    finally:
                        fake.busy.acquire()
                    return
                if step == "forward":
                    status, headers, payload = fake._forward(self.path, self.headers, raw)
                else:
                    status, headers, text = step
                    payload = text.encode()
                fake.statuses.append(status)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.handler = Handler
        self.port = 0
        self.server = None
        self.up()
        self.url = f"http://127.0.0.1:{self.port}"

    def _forward(self, path, headers, raw):
        keep = {k: v for k, v in headers.items()
                if k.lower() not in ("host", "content-length", "connection", "expect")}
        req = urllib.request.Request(self.upstream + path, data=raw, headers=keep, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, {}, r.read()
        except urllib.error.HTTPError as e:
            return e.code, {}, e.read()

    def set_script(self, script):
        """Answers from script from the next request on."""
        with self.lock:
            self.script = list(script)
            self.step = 0

    def up(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), self.handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def down(self):
        """Stops listening and resets the open connections, between two requests (one being
        answered is answered first, so nothing is both stored upstream and failed here): the
        receiver is gone."""
        self.server.shutdown()
        self.server.server_close()
        with self.busy, self.lock:
            conns = list(self.conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self.down()


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
