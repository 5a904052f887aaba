#!/usr/bin/env python3
"""nstats top against a real nstats on a veth carrying a steady iperf3 stream: --batch shows
the iperf3 peer first with its 10 s rate within 2 % of the veth's kernel counters (and of
iperf3's own payload rate plus the headers of the frames it sent); the interactive view in
tmux draws the header and the peer's row, and its keys (b, g, 1/2/3, q) and a resize work,
q exiting 0 with the terminal restored; standalone mode (nstats top -i VETH) shows the same
peer and stops the nstats it started. Every screen is printed, to be read."""
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time

from harness import NSTATS, Checks, LineWatcher, have, require, run
from netns import HOST4, PEER4, TestHost

require(os.geteuid() == 0, "root (network namespaces and capture)")
require(all(have(t) for t in ("ip", "iperf3", "tmux")), "ip, iperf3 and tmux")

RATE = 20_000_000  # bits/s asked of iperf3
# Ethernet (14), IPv4 (20) and TCP with timestamps (32) bytes around each packet's payload. A
# veth passes GSO packets of up to 64 KB unsegmented, and counts and shows them as one frame,
# so the kernel's packet count (not payload / MSS) says how many headers there are.
FRAME_HEADERS = 66
c = Checks()
host = TestHost("top")
TMUX = ["tmux", "-L", f"nstats-top-{os.getpid()}", "-f", "/dev/null"]
UNITS = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bits_per_s(text):
    """'20.9Mb' -> 20.9e6; '2.61MB' -> 20.88e6 (bytes count eight bits)."""
    m = re.fullmatch(r"([0-9.]+)([KMGT]?)([bB])", text)
    if m is None:
        raise ValueError(f"not a rate: {text!r}")
    v = float(m.group(1)) * UNITS[m.group(2)]
    return v * 8 if m.group(3) == "B" else v


def show(title, text):
    print(f"----- {title} -----\n{text.rstrip()}\n-----", flush=True)


def tmux(*args, check=True):
    r = run(TMUX + list(args), timeout=20)
    if check and r.returncode != 0:
        raise RuntimeError(f"tmux {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def capture(target):
    return tmux("capture-pane", "-p", "-t", target)


def wait_screen(target, pred, seconds=10):
    """Captures the pane until pred(text) holds; returns the last capture and whether it did."""
    deadline = time.time() + seconds
    while True:
        text = capture(target)
        if pred(text):
            return text, True
        if time.time() > deadline:
            return text, False
        time.sleep(0.25)


def start_pane(name, cmd, work):
    """A tmux session running cmd through sh, which then writes cmd's exit status and the
    terminal's settings to files and waits, so the restored screen can be read."""
    rc_file = os.path.join(work, f"{name}.rc")
    stty_file = os.path.join(work, f"{name}.stty")
    script = f"{cmd}; echo $? > {rc_file}; stty -a > {stty_file}; echo after-top; sleep 600"
    tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "40", "sh -c " + shlex.quote(script))
    return rc_file, stty_file


def wait_file(path, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if os.path.exists(path) and open(path).read().strip():
            return open(path).read()
        time.sleep(0.1)
    return None


def peer_row(text):
    return next((l for l in text.splitlines() if l.startswith(PEER4)), None)


def second_line(text):
    """The line after the peer's row when it is a row's second line (out)."""
    lines = text.splitlines()
    i = next((i for i, l in enumerate(lines) if l.startswith(PEER4)), None)
    if i is None or i + 1 >= len(lines):
        return None
    return lines[i + 1] if re.match(r"^  \S.* out +\d", lines[i + 1]) else None


def check_quit(name, rc_file, stty_file):
    tmux("send-keys", "-t", name, "q")
    rc = wait_file(rc_file)
    c.eq(rc.strip() if rc else None, "0", f"{name}: q exits 0")
    stty = wait_file(stty_file) or ""
    c.ok(re.search(r"(?<!-)icanon", stty) and re.search(r"(?<![-\w])echo\b", stty),
         f"{name}: the terminal is back in canonical mode with echo: {stty[:300]!r}")
    text, ok = wait_screen(name, lambda t: "after-top" in t, 5)
    show(f"{name}: after q", text)
    c.ok(ok and "nstats top -" not in text, f"{name}: the screen is restored after q")


def batch_phase(port):
    """iperf3 at RATE for 16 s; at 12 s, one batch screen sorted by the 10 s rate (the issue's
    measure: within 2 % after 12 s). Buckets end on their 2 s marks (the rates' tick is aimed
    at them), so the key's first complete buckets hold 2 s each."""
    iperf = host.start(["iperf3", "-c", PEER4, "--bind-dev", host.host_if, "-b", str(RATE),
                        "-t", "16", "-J"],
                       stdout=subprocess.PIPE, text=True)
    samples = []  # (time, tx_bytes, tx_packets) once a second
    for _ in range(12):
        k = host.counters()
        samples.append((time.time(), k["tx_bytes"], k["tx_packets"]))
        time.sleep(1.0)
    top = run([NSTATS, "top", "--connect", f"127.0.0.1:{port}", "--batch", "--iterations", "1",
               "--sort", "r10"], timeout=30)
    js = run([NSTATS, "top", "--connect", f"http://127.0.0.1:{port}/", "--batch", "--iterations",
              "1", "--json", "--limit", "3"], timeout=30)
    classes = run([NSTATS, "top", "--connect", f"127.0.0.1:{port}", "--batch", "--iterations",
                   "1", "--group", "class"], timeout=30)
    # The API's 10 s window ends at its last complete 2 s bucket, up to 2.5 s back: the
    # kernel's rate over the 10 s ending about a second before the request is compared.
    t_end, tx_end, pk_end = samples[-1]
    t_beg, tx_beg, pk_beg = samples[-11]
    kernel_out = (tx_end - tx_beg) * 8 / (t_end - t_beg)
    packets_per_s = (pk_end - pk_beg) / (t_end - t_beg)
    show("nstats top --batch --iterations 1 --sort r10", top.stdout + top.stderr)
    c.eq(top.returncode, 0, f"--batch exits 0 ({top.stderr.strip()})")
    iperf_out, _ = iperf.communicate(timeout=30)
    report = json.loads(iperf_out)
    if not c.ok("error" not in report, f"iperf3 ran: {report.get('error')}"):
        return
    payload = report["end"]["sum_sent"]["bits_per_second"]
    # iperf3 counts TCP payload; the veth (and nstats) count whole frames.
    iperf_frames = payload + packets_per_s * FRAME_HEADERS * 8

    lines = top.stdout.splitlines()
    head = next((i for i, l in enumerate(lines) if l.startswith("REMOTE")), None)
    c.ok(head is not None and lines[0].startswith("nstats top - " + host.host_if),
         "the screen has a header naming the veth and column headings")
    row = lines[head + 1].split() if head is not None and head + 1 < len(lines) else []
    c.ok(len(row) >= 8 and row[0] == PEER4 and row[1] == "5201/tcp",
         f"the iperf3 peer is the first row: {row}")
    if len(row) < 8:
        return
    # Columns: name, port, in 2s 10s 40s, out 2s 10s 40s, totals, peaks. iperf3 -c sends:
    # its stream is out of this host.
    shown = bits_per_s(row[6])
    print(f"10 s rate out: nstats top {shown / 1e6:.3f} Mb/s; veth kernel counters "
          f"{kernel_out / 1e6:.3f} Mb/s; iperf3 payload {payload / 1e6:.3f} Mb/s + headers of "
          f"{packets_per_s:.0f} frames/s = {iperf_frames / 1e6:.3f} Mb/s (asked {RATE / 1e6:.0f})",
          flush=True)
    c.ok(abs(shown - kernel_out) <= 0.02 * kernel_out,
         f"top's 10 s rate within 2 % of the kernel's ({shown:.0f} vs {kernel_out:.0f} b/s)")
    c.ok(abs(shown - iperf_frames) <= 0.02 * iperf_frames,
         f"and of iperf3's payload rate plus frame headers ({shown:.0f} vs {iperf_frames:.0f})")
    c.ok(bits_per_s(row[3]) < 0.02 * shown, f"the stream's in direction is small: {row[3]}")

    # Grouped by traffic class, with --price: a CLASS column and each class's cost.
    show("nstats top --batch --group class", classes.stdout + classes.stderr)
    clines = classes.stdout.splitlines()
    chead = next((l for l in clines if l.startswith("CLASS")), "")
    private = next((l.split() for l in clines if l.startswith("private ")), [])
    c.ok(chead.rstrip().endswith("cost"), f"a cost column with --price: {chead!r}")
    c.ok(private and private[-1].startswith("$") and private[-1] != "$0",
         f"the private class (the test's 198.18/15 peer) has a cost: {private}")

    c.eq(js.returncode, 0, f"--json exits 0 ({js.stderr.strip()})")
    docs = [json.loads(l) for l in js.stdout.splitlines() if l.strip()]
    c.eq(len(docs), 1, "--json prints one document a screen")
    if docs:
        d = docs[0]
        c.ok(d.get("limit") == 3 and d["rows"] and d["rows"][0]["remote"] == PEER4 and
             d["rows"][0]["local"] == HOST4, f"--json is the API's flows document: {js.stdout[:300]}")
        out10 = d["rows"][0]["out"]["r10"] * 8
        c.ok(abs(out10 - kernel_out) <= 0.02 * kernel_out,
             f"--json's 10 s rate within 2 % of the kernel's ({out10:.0f} vs {kernel_out:.0f})")


def interactive_phase(port, work):
    name = "attached"
    rc_file, stty_file = start_pane(name, f"{NSTATS} top --connect 127.0.0.1:{port}", work)
    text, ok = wait_screen(name, lambda t: "nstats top - " in t and peer_row(t) is not None)
    show("interactive, attached", text)
    c.ok(ok, "the header and the peer's row are drawn")
    c.ok("group pair" in text and "sort 10s" in text and "bits/s" in text,
         "the header shows grouping, sort and units")
    c.ok(re.search(r"\d[KMG]?b\b", peer_row(text) or "") is not None, "rates in bits")

    tmux("send-keys", "-t", name, "b")
    text, ok = wait_screen(name, lambda t: "bytes/s" in t and
                           re.search(r"\d[KMG]?B\b", (peer_row(t) or "").split("/tcp")[-1]))
    show("after b", text)
    c.ok(ok, "b switches the rates to bytes (B units)")

    tmux("send-keys", "-t", name, "g")
    text, ok = wait_screen(name, lambda t: "group remote" in t and peer_row(t) is not None)
    show("after g", text)
    c.ok(ok, "g groups by remote, and the header says so")

    for key, label in (("3", "sort 40s"), ("1", "sort 2s"), ("2", "sort 10s")):
        tmux("send-keys", "-t", name, key)
        text, ok = wait_screen(name, lambda t, label=label: label in t, 5)
        c.ok(ok, f"{key} changes the sort label to '{label}'")

    tmux("resize-window", "-t", name, "-x", "92", "-y", "24")
    text, ok = wait_screen(name, lambda t: "nstats top - " in t and peer_row(t) is not None and
                           max(len(l) for l in t.splitlines()) <= 92, 5)
    show("after resize-window to 92x24", text)
    c.ok(ok, "after a resize the screen is drawn whole at the new width")
    tmux("resize-window", "-t", name, "-x", "160", "-y", "40")
    text, ok = wait_screen(name, lambda t: len(t.splitlines()[0]) > 140, 5)
    c.ok(ok, "and at its old width again")
    tmux("send-keys", "-t", name, "t")
    text, ok = wait_screen(name, lambda t: "2 lines" in t and second_line(t) is not None, 5)
    show("after resize back and t (two lines a row)", text)
    c.ok(ok, f"t shows two lines a row, out on the second: {second_line(text)!r}")

    check_quit(name, rc_file, stty_file)
    tmux("kill-session", "-t", name)


def standalone_phase(work):
    name = "standalone"
    rc_file, stty_file = start_pane(name, f"{NSTATS} top -i {host.host_if}", work)
    # Once a 2 s bucket is complete, the 5 Mb/s stream shows in Mb.
    text, ok = wait_screen(name, lambda t: f"nstats top - {host.host_if}" in t and
                           peer_row(t) is not None and "5201/tcp" in peer_row(t) and
                           "Mb" in peer_row(t), 15)
    show(f"standalone: nstats top -i {host.host_if}", text)
    c.ok(ok, "standalone mode captures the veth itself and shows the peer")
    c.ok("http://127.0.0.1:" in text, "it reads the API of the nstats it started on loopback")
    # The nstats it started: the one child of nstats top, itself the shell's child.
    shell = int(tmux("display-message", "-p", "-t", name, "#{pane_pid}").strip())
    top_pids = run(["pgrep", "-P", str(shell)]).stdout.split()
    children = run(["pgrep", "-P", top_pids[0]]).stdout.split() if top_pids else []
    c.eq(len(children), 1, "nstats top runs one capture process")
    check_quit(name, rc_file, stty_file)
    if children:
        deadline = time.time() + 5
        while time.time() < deadline and os.path.exists(f"/proc/{children[0]}"):
            time.sleep(0.1)
        c.ok(not os.path.exists(f"/proc/{children[0]}"), "the capture it started is stopped")
    tmux("kill-session", "-t", name)


def main(work):
    host.setup()
    host.start(host.in_ns("iperf3", "-s"))
    time.sleep(1.0)
    port = free_port()
    ns = subprocess.Popen([NSTATS, "-i", host.host_if, "--listen", f"127.0.0.1:{port}", "--price",
                           "private=0.02"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    host.procs.append(ns)
    watcher = LineWatcher(ns.stderr)
    c.ok(watcher.wait_for("capturing on", 10), f"nstats started: {watcher.lines}")

    batch_phase(port)
    # A slower stream for the interactive part, so the peer keeps a live row.
    host.start(["iperf3", "-c", PEER4, "--bind-dev", host.host_if, "-b", "5M", "-t", "60"])
    time.sleep(3)
    interactive_phase(port, work)
    standalone_phase(work)


work_dir = tempfile.mkdtemp(prefix="nstats-top-")
try:
    main(work_dir)
finally:
    run(TMUX + ["kill-server"])
    host.teardown()
    shutil.rmtree(work_dir, ignore_errors=True)
c.finish()
