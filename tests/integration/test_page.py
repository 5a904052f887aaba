#!/usr/bin/env python3
"""The live page at /: nstats captures a veth whose peer lives in a namespace made here while
iperf3 and curl run across it, and a headless Chromium loads the page. The table must list the
peer, the chart must hold points, a screenshot must not be blank, nothing may break the
Content-Security-Policy, and the page must also work behind a path prefix (a proxy that strips
it, as kubectl proxy does). The assets are checked for their types and for URLs to other
hosts."""
import http.server
import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib

from harness import BUILD, NSTATS, Checks, LineWatcher, have, require, run
from netns import PEER4, PEER6, TestHost
from servers import free_port, wait_http

require(os.geteuid() == 0, "root (network namespaces and capture)")
require(all(have(t) for t in ("ip", "iperf3", "curl")), "ip, iperf3 and curl")
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)
require(CHROMIUM is not None, "chromium (scripts/install-deps.sh test)")

DEBIAN_CHARTJS = "/usr/share/javascript/chart.js/chart.min.js"
SCREENSHOT = os.path.join(BUILD, "test_page.png")
CHROMIUM_SECONDS = 240  # two shared cores: a cold Chromium takes its time

c = Checks()
host = TestHost("page")
PORT = free_port()
BASE = f"http://127.0.0.1:{PORT}"


def get(path, gzip=False):
    """(status, headers, body bytes) of a GET on nstats."""
    req = urllib.request.Request(BASE + path)
    if gzip:
        req.add_header("Accept-Encoding", "gzip")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def chromium(tmp, url, *args):
    """Runs headless Chromium on url; returns (stdout, console lines, seconds)."""
    profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", "--disable-extensions", "--hide-scrollbars",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=8000", *args, url]
    started = time.time()
    r = run(cmd, timeout=CHROMIUM_SECONDS)
    console = [line for line in r.stderr.splitlines() if ":CONSOLE" in line]
    return r.stdout, console, time.time() - started


def png_colours(path):
    """Distinct colours of an 8-bit RGB(A) PNG, decoded with zlib alone (no PIL here)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and colour in (2, 6) and interlace == 0, "unexpected PNG format"
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    colours = set()
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                cc = prev[i - bpp] if i >= bpp else 0
                p = a + b - cc
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else cc)
                line[i] = (line[i] + pred) & 255
        colours.update(bytes(line[i:i + 3]) for i in range(0, stride, bpp))
        prev = line
    return colours, width, height


class PrefixProxy(http.server.BaseHTTPRequestHandler):
    """Serves nstats under /nstats/, stripping the prefix as kubectl proxy or an ingress does."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if not self.path.startswith("/nstats/"):
            self.send_error(404)
            return
        status, headers, body = get(self.path[len("/nstats"):])
        self.send_response(status)
        for name in ("Content-Type", "Content-Security-Policy"):
            if headers.get(name):
                self.send_header(name, headers[name])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def check_headers_and_assets():
    status, headers, html = get("/")
    c.eq(status, 200, "/ answers")
    c.ok(headers.get("Content-Type", "").startswith("text/html"), f"/ is HTML: {headers}")
    csp = headers.get("Content-Security-Policy", "")
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"):
        c.ok(directive in csp, f"CSP has {directive}: {csp!r}")
    c.ok("unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp,
         f"CSP allows no inline code and no other host: {csp!r}")
    status, headers, _ = get("/", gzip=True)
    c.ok(status == 200 and headers.get("Content-Encoding") == "gzip" and
         headers.get("Content-Security-Policy") == csp, "the gzip answer carries the CSP too")

    text = html.decode()
    c.ok("<script>" not in text and "<style" not in text and " style=" not in text and
         not re.search(r"\son[a-z]+=", text), "no inline script, style or handler in the HTML")
    refs = re.findall(r'(?:src|href)="([^"]*)"', text)
    c.ok(len(refs) >= 4, f"the HTML references its assets: {refs}")
    c.ok(all(not re.match(r"^(/|[a-z]+:)", ref) for ref in refs),
         f"every URL in the HTML is relative: {refs}")

    types = {"page.js": "text/javascript", "page.css": "text/css", "chart.js": "text/javascript",
             "icon.svg": "image/svg+xml"}
    bodies = {}
    for name, want in types.items():
        status, headers, body = get("/assets/" + name)
        c.eq(status, 200, f"/assets/{name} answers")
        c.ok(headers.get("Content-Type", "").startswith(want),
             f"/assets/{name} is {want}: {headers.get('Content-Type')}")
        bodies[name] = body.decode()
    if os.path.exists(DEBIAN_CHARTJS):
        c.ok(bodies["chart.js"].encode() == open(DEBIAN_CHARTJS, "rb").read(),
             "assets/chart.js is Debian's libjs-chart.js, byte for byte")
    c.ok("Chart.js v3" in bodies["chart.js"], "assets/chart.js is Chart.js 3")
    for path in ("/assets/", "/assets/nope.js", "/assets/page.html", "/assets/../metrics",
                 "/index.html"):
        c.eq(get(path)[0], 404, f"{path} is not found")

    # No absolute URL to any host: none in our own files, and in Chart.js only inside its
    # licence comments (never a string the code could load).
    url = re.compile(r"https?://|(?<![:\w])//[a-z0-9.-]+\.[a-z]{2,}/", re.I)
    c.ok(not url.search(text), f"no absolute URL in the HTML: {url.findall(text)}")
    c.ok(not url.search(bodies["page.js"]), f"no absolute URL in page.js: "
         f"{url.findall(bodies['page.js'])}")
    c.ok(not url.search(bodies["page.css"]), "no absolute URL in page.css")
    c.ok(not re.search(r"""['"]/(api|assets|metrics|healthz)""", bodies["page.js"]),
         "page.js uses relative URLs only")
    js = bodies["chart.js"]
    stray = [m.start() for m in re.finditer(r"https?://", js)
             if js.rfind("/*", 0, m.start()) <= js.rfind("*/", 0, m.start())]
    c.eq(stray, [], "Chart.js names other hosts only in its licence comments")


def check_dom(dom, console, what):
    rows = re.search(r'<tbody id="rows">(.*?)</tbody>', dom, re.S)
    c.ok(rows is not None and PEER4 in rows.group(1),
         f"{what}: the table lists {PEER4}: {rows and re.sub('<[^>]+>', ' ', rows.group(1))}")
    points = re.search(r'<canvas id="chart"[^>]*data-points="(\d+)"', dom)
    series = re.search(r'<canvas id="chart"[^>]*data-series="(\d+)"', dom)
    c.ok(points is not None and int(points.group(1)) > 0,
         f"{what}: the chart holds points ({points and points.group(1)})")
    c.ok(series is not None and int(series.group(1)) >= 2,
         f"{what}: the chart has series ({series and series.group(1)})")
    banner = re.search(r'<div [^>]*id="banner"[^>]*>([^<]*)<', dom)
    c.ok(banner is not None and " hidden" in banner.group(0),
         f"{what}: no error banner ({banner and banner.group(1)})")
    c.ok(f'<span id="source">{host.host_if}</span>' in dom, f"{what}: the header names the source")
    c.ok(re.search(r'id="keys">\d', dom) is not None, f"{what}: the header shows the keys")
    # --price: a cost column, and each row's traffic class as a tag.
    c.ok(re.search(r'<th [^>]*id="cost-head"', dom) and
         not re.search(r'<th [^>]*id="cost-head"[^>]*hidden', dom),
         f"{what}: the cost column is shown with --price")
    c.ok(rows is not None and re.search(r'class="[^"]*col-cost[^"]*"[^>]*>\$\d', rows.group(1)),
         f"{what}: rows carry a cost")
    c.ok(rows is not None and '<span class="tag class">private</span>' in rows.group(1),
         f"{what}: rows carry their traffic class")
    return c.eq([line for line in console if "Content Security Policy" in line or
                 "Uncaught" in line or "Failed to load" in line], [],
                f"{what}: no CSP violation or script error") and PEER4 in dom


def main():
    tmp = tempfile.mkdtemp(prefix="nstats-page-")
    host.setup()
    with open(os.path.join(tmp, "blob"), "wb") as f:
        f.write(os.urandom(8 * 1024 * 1024))
    www_log = open(os.path.join(tmp, "http.log"), "w")
    host.start(host.in_ns("python3", "-m", "http.server", "--bind", "::", "8000", "--directory",
                          tmp), stdout=www_log, stderr=subprocess.STDOUT)
    host.start(host.in_ns("iperf3", "-s"))
    ns = subprocess.Popen([NSTATS, "-i", host.host_if, "--interval", "1s",
                           "--listen", f"127.0.0.1:{PORT}", "--price", "private=0.02"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    host.procs.append(ns)
    watcher = LineWatcher(ns.stderr)
    c.ok(watcher.wait_for("capturing on", 20), f"nstats started: {watcher.lines}")
    c.ok(wait_http(BASE + "/healthz"), "nstats answers HTTP")

    check_headers_and_assets()

    # Steady traffic both ways for as long as the browsers look, and a download over IPv6.
    c.ok(wait_http(f"http://[{PEER6}]:8000/"),
         f"HTTP server up in the namespace: {open(www_log.name).read()[-500:]}")
    r = run(["curl", "-s", "-g", "-o", "/dev/null", "--limit-rate", "2M",
             f"http://[{PEER6}]:8000/blob", "--max-time", "3"])
    c.ok(r.returncode in (0, 28), f"IPv6 download ran ({r.returncode})")
    iperf = None
    for _ in range(20):  # until the iperf3 server in the namespace listens
        iperf = host.start(["iperf3", "-c", PEER4, "-t", "600", "-b", "30M", "--bidir"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(1)
        if iperf.poll() is None:
            break
    time.sleep(3)  # a complete 2 s bucket with the traffic in it
    if not c.ok(iperf.poll() is None, "iperf3 is running"):
        print(iperf.stdout.read()[-1000:], flush=True)
    moved = sum(host.counters()[k] for k in ("rx_bytes", "tx_bytes"))
    c.ok(moved > 1000000, f"the traffic crossed our veth ({moved} bytes; another test host on "
         f"198.18.0.0/24 at the same time takes it: {run(['ip', '-br', 'addr']).stdout})")

    dom, console, secs = chromium(tmp, BASE + "/", "--dump-dom")
    print(f"chromium --dump-dom took {secs:.1f} s", flush=True)
    if not check_dom(dom, console, "page"):
        print("flows:", get("/api/v1/flows?limit=8")[2].decode()[:3000], flush=True)
        print("summary:", get("/api/v1/summary")[2].decode(), flush=True)

    # Behind a path prefix: every URL the page uses is relative.
    proxy_port = free_port()
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", proxy_port), PrefixProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    dom, console, secs = chromium(tmp, f"http://127.0.0.1:{proxy_port}/nstats/", "--dump-dom")
    proxy.shutdown()
    check_dom(dom, console, "page under /nstats/")

    if os.path.exists(SCREENSHOT):
        os.unlink(SCREENSHOT)
    _, console, secs = chromium(tmp, BASE + "/", f"--screenshot={SCREENSHOT}",
                                "--window-size=1280,900")
    print(f"chromium --screenshot took {secs:.1f} s: {SCREENSHOT}", flush=True)
    if c.ok(os.path.exists(SCREENSHOT), "screenshot written"):
        colours, width, height = png_colours(SCREENSHOT)
        c.eq((width, height), (1280, 900), "screenshot size")
        c.ok(len(colours) > 200, f"screenshot is not blank ({len(colours)} colours)")
    c.eq(ns.poll(), None, "nstats still running")
    shutil.rmtree(tmp, ignore_errors=True)


try:
    main()
finally:
    host.teardown()
c.finish()
