"""A loopback HTTPS stand-in for the Kubernetes API server: real-shaped list and watch
responses for pods, services, nodes and ReplicaSets, scripted per test, with bearer-token
checks. Watch streams are newline-delimited JSON events, as the API server sends them."""
import http.server
import json
import os
import ssl
import subprocess
import threading
import time
import urllib.parse

from servers import send_json


def pod(name, ip, owner_kind, owner, ns="shop", rv="10", host_network=False):
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": ns, "resourceVersion": rv,
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": owner_kind,
                                              "name": owner, "controller": True}]},
            "spec": {"hostNetwork": host_network, "nodeName": "node-1"},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}}


def service(name, ip, ns="shop", rv="10"):
    return {"kind": "Service", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": ns, "resourceVersion": rv},
            "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip]}}


def node(name, ip, rv="10"):
    return {"kind": "Node", "apiVersion": "v1", "metadata": {"name": name, "resourceVersion": rv},
            "status": {"addresses": [{"type": "InternalIP", "address": ip},
                                     {"type": "Hostname", "address": name}]}}


def replicaset(name, deployment, ns="shop", rv="10"):
    return {"kind": "ReplicaSet", "apiVersion": "apps/v1",
            "metadata": {"name": name, "namespace": ns, "resourceVersion": rv,
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                              "name": deployment, "controller": True}]}}


class Fixture:
    """lists[kind] is a list of item lists, served in turn (the last one repeats); watches[kind]
    a list of scripted streams, each a list of (delay seconds, event dict) or the string
    "hold" (stay open, sending nothing); the last script repeats."""

    def __init__(self, tmp, lists, watches, tokens):
        self.lists, self.watches = lists, watches
        self.tokens = tokens  # accepted bearer tokens
        self.requests = []    # (kind, watch?, query, token)
        self.lock = threading.Lock()
        self.counts = {}
        self.closing = False
        cert, key = os.path.join(tmp, "api.crt"), os.path.join(tmp, "api.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=kubernetes", "-addext",
                        "subjectAltName=IP:127.0.0.1,DNS:kubernetes.default.svc",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        self.ca = cert
        fixture = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def send_json(self, status, obj):
                send_json(self, status, obj)

            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                q = urllib.parse.parse_qs(url.query)
                kind = url.path.rstrip("/").split("/")[-1]
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                watch = q.get("watch") == ["1"]
                with fixture.lock:
                    fixture.requests.append((kind, watch, q, token))
                    n = fixture.counts.get((kind, watch), 0)
                    fixture.counts[(kind, watch)] = n + 1
                if token not in fixture.tokens:
                    return self.send_json(401, {"kind": "Status", "code": 401,
                                                "message": "Unauthorized"})
                if kind not in fixture.lists:
                    return self.send_json(404, {"kind": "Status", "code": 404})
                if not watch:
                    # Pages as the API server cuts them: limit, and an opaque continue token
                    # (here "<list number>:<offset>"), so every page comes from one list.
                    limit = int(q.get("limit", ["0"])[0])
                    cont = q.get("continue", [""])[0]
                    if cont:
                        with fixture.lock:
                            fixture.counts[(kind, watch)] = n  # a page is not a new list
                        n, offset = (int(x) for x in cont.split(":"))
                    else:
                        offset = 0
                    items = fixture.lists[kind][min(n, len(fixture.lists[kind]) - 1)]
                    end = len(items) if limit <= 0 else min(len(items), offset + limit)
                    meta = {"resourceVersion": str(100 + n)}
                    if end < len(items):
                        meta["continue"] = f"{n}:{end}"
                        meta["remainingItemCount"] = len(items) - end
                    return self.send_json(200, {"kind": "List", "apiVersion": "v1",
                                                "metadata": meta, "items": items[offset:end]})
                script = fixture.watches[kind][min(n, len(fixture.watches[kind]) - 1)]
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    if script == "hold":
                        while not fixture.closing:
                            time.sleep(0.2)
                    else:
                        for delay, ev in script:
                            time.sleep(delay)
                            line = json.dumps(ev).encode() + b"\n"
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                            self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.closing = True
        self.server.shutdown()
