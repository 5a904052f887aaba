#!/usr/bin/env python3
"""Deployment artefacts: the staged image filesystem runs nstats as a non-root user; make
install puts a unit that verifies; nstats captures holding only CAP_NET_RAW. (The Kubernetes
manifests are test_kubernetes.py's, the image's build test_image.py's, the dashboards
test_dashboards.py's.)"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from harness import (NSTATS, PCAPGEN, Checks, LineWatcher, capture_totals, have, parse_output,
                     read_ledger, require, run)
from netns import PEER4, TestHost, delta

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
require(os.geteuid() == 0, "root (chroot, setcap, network namespaces)")
require(all(have(t) for t in ("systemd-analyze", "setpriv", "setcap", "chroot", "iperf3", "ip")),
        "systemd-analyze, setpriv, setcap (libcap2-bin), iperf3, ip")

c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-deploy-")
os.chmod(tmp, 0o755)


def check_rootfs():
    rootfs = os.path.join(tmp, "rootfs")
    r = run([os.path.join(DEPLOY, "rootfs.sh"), NSTATS, rootfs])
    c.eq(r.returncode, 0, f"rootfs.sh ({r.stderr.strip()})")
    c.ok(not os.path.exists(os.path.join(rootfs, "bin", "sh")), "no shell in the image")
    caps = run(["getcap", os.path.join(rootfs, "usr", "bin", "nstats")]).stdout
    c.ok("cap_net_raw" in caps, f"file capability: {caps.strip()}")
    # /proc inside, for sanitizer builds of the binary (they read /proc/self); the image itself
    # gets one from the container runtime.
    os.makedirs(os.path.join(rootfs, "proc"), exist_ok=True)
    run(["mount", "-t", "proc", "proc", os.path.join(rootfs, "proc")], check=True)
    user = ["chroot", "--userspec=65532:65532", rootfs]
    r = run(user + ["/usr/bin/nstats", "--version"])
    c.ok(r.returncode == 0 and r.stdout.startswith("nstats "), f"--version inside ({r.stderr})")
    pcap = os.path.join(rootfs, "tmp", "t.pcap")
    ledger = os.path.join(tmp, "t.csv")
    run([PCAPGEN, "--out", pcap, "--ledger", ledger, "--packets", "5000", "--peers", "50"],
        check=True)
    os.chmod(pcap, 0o644)
    r = run(user + ["/usr/bin/nstats", "-r", "/tmp/t.pcap", "--local-net", "198.18.0.1",
                    "--local-net", "2001:db8::1"])
    c.eq(r.returncode, 0, f"-r replay inside the image as uid 65532 ({r.stderr.strip()})")
    c.eq(capture_totals(parse_output(r.stdout))[1],
         sum(v[0] + v[1] for v in read_ledger(ledger).values()), "replay inside: totals")
    return rootfs


def installed_env(path):
    """The NSTATS_* examples of the settings file, uncommented, as systemd would read them."""
    env = {}
    for line in open(path):
        m = re.fullmatch(r"#(NSTATS_[A-Z_]+)=(.*)", line.strip())
        if m:
            env[m.group(1)] = m.group(2)
    return env


def check_systemd():
    """make install into a staging DESTDIR, with PREFIX=/usr and with the default /usr/local:
    every file where it belongs, the unit's ExecStart on the installed binary, the unit verified
    with the installed files laid over this host's in a mount namespace of its own (so the
    binary and man page it names are the installed ones, and the host is left alone)."""
    if not c.ok(all(have(t) for t in ("make", "cmake", "unshare", "mount", "man")),
                "make, cmake, unshare, mount, man"):
        return
    paths = run(["systemd-analyze", "unit-paths"]).stdout.split()
    for given in ("/usr", None):
        shown = given or "/usr/local (default)"
        prefix = given or "/usr/local"
        dest = os.path.join(tmp, "destdir" + prefix.replace("/", "-"))
        cmd = ["make", "-C", ROOT, "install", f"BUILD={os.path.dirname(NSTATS)}",
               f"DESTDIR={dest}"] + ([f"PREFIX={given}"] if given else [])
        r = run(cmd)
        if not c.eq(r.returncode, 0, f"make install PREFIX={shown} ({r.stdout} {r.stderr})"):
            continue
        unit_dir = prefix + "/lib/systemd/system"
        files = {f"{prefix}/bin/nstats": "0o755", f"{prefix}/share/man/man1/nstats.1": "0o644",
                 f"{unit_dir}/nstats.service": "0o644", "/etc/default/nstats": "0o644"}
        found = {}
        for d, _, names in os.walk(dest):
            for n in names:
                full = os.path.join(d, n)
                found["/" + os.path.relpath(full, dest)] = oct(os.stat(full).st_mode & 0o7777)
        c.eq(found, files, f"PREFIX={shown}: installed files and modes")
        if found != files:
            continue
        c.ok(unit_dir in paths, f"PREFIX={shown}: systemd reads units from {unit_dir} ({paths})")
        binary = dest + prefix + "/bin/nstats"
        c.eq(run([binary, "--version"]).stdout, run([NSTATS, "--version"]).stdout,
             f"PREFIX={shown}: the installed binary runs")
        unit = dest + unit_dir + "/nstats.service"
        text = open(unit).read()
        c.eq(re.findall(r"^ExecStart=(.*)$", text, re.M), [prefix + "/bin/nstats"],
             f"PREFIX={shown}: ExecStart names the installed binary")
        c.eq(re.findall(r"@[A-Z_]+@", text), [], f"PREFIX={shown}: no template placeholder left")
        for needle in ("DynamicUser=yes", "CapabilityBoundingSet=CAP_NET_RAW",
                       "AmbientCapabilities=CAP_NET_RAW", "NoNewPrivileges=yes",
                       "ProtectSystem=strict", "EnvironmentFile=-/etc/default/nstats"):
            c.ok(needle in text, f"PREFIX={shown}: unit has {needle}")
        # The installed bin/ and man/ over the host's, read-only, in a private mount namespace:
        # verify fails unless ExecStart is executable and man:nstats(1) (Documentation=) opens.
        lay = " && ".join(
            f"mount -t overlay overlay -o lowerdir={dest}{d}:{d} {d}"
            for d in (prefix + "/bin", prefix + "/share/man"))
        r = run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                 f'{lay} && exec systemd-analyze verify "$0"', unit])
        c.ok(r.returncode == 0 and not r.stderr.strip(),
             f"PREFIX={shown}: systemd-analyze verify ({r.stderr.strip()})")
        r = run(["man", "-l", dest + prefix + "/share/man/man1/nstats.1"],
                env=dict(os.environ, MANWIDTH="80"))
        c.ok(r.returncode == 0 and "--max-flows" in r.stdout,
             f"PREFIX={shown}: installed man page renders")
        # Every example in the settings file, uncommented, is a setting nstats accepts.
        settings = dest + "/etc/default/nstats"
        env = installed_env(settings)
        r = run([binary, "--check-config"], env=dict(env, PATH=os.environ["PATH"]))
        c.ok(r.returncode == 0 and len(env) >= 5 and
             all(f"({k})" in r.stdout for k in env),
             f"PREFIX={shown}: /etc/default/nstats examples {sorted(env)} ({r.stderr.strip()})")
        # A second install keeps the administrator's settings.
        with open(settings, "a") as f:
            f.write("NSTATS_INTERFACE=lo\n")
        r = run(cmd)
        c.ok(r.returncode == 0 and open(settings).read().endswith("NSTATS_INTERFACE=lo\n"),
             f"PREFIX={shown}: reinstall keeps /etc/default/nstats ({r.stdout.strip()})")


def capture_as(cmd, host, tag):
    """Runs an nstats capture command on the test host's veth while iperf3 runs."""
    p = subprocess.Popen(cmd + ["-i", host.host_if, "--interval", "1s", "--buffer-size", "64MiB"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    host.procs.append(p)
    watcher = LineWatcher(p.stderr)
    started = watcher.wait_for("capturing on", 20)
    c.ok(started, f"{tag}: capturing ({watcher.lines})")
    if not started:
        return
    before = host.counters()
    r = run(["iperf3", "-c", PEER4, "-t", "1", "-b", "10M"])
    c.eq(r.returncode, 0, f"{tag}: iperf3")
    time.sleep(0.5)
    after = host.counters()
    p.send_signal(signal.SIGTERM)
    out = p.stdout.read()
    p.wait(timeout=30)
    c.eq(p.returncode, 0, f"{tag}: exit status ({watcher.text().strip()[-200:]})")
    c.eq(capture_totals(parse_output(out))[1], delta(before, after)[0],
         f"{tag}: counted the veth's bytes")


def check_unprivileged_capture(rootfs):
    host = TestHost("dep")
    try:
        host.setup()
        host.start(host.in_ns("iperf3", "-s"))
        time.sleep(0.5)
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                  "--inh-caps=-all,+net_raw", "--ambient-caps=-all,+net_raw",
                  "--bounding-set=-all,+net_raw", "--no-new-privs"]
        binary = os.path.join(tmp, "nstats")
        shutil.copy(NSTATS, binary)
        os.chmod(binary, 0o755)
        capture_as(nobody + [binary], host, "uid 65534 with only CAP_NET_RAW (ambient)")
        # Without the capability, a clear one-line refusal.
        r = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", binary, "-i", host.host_if])
        c.ok(r.returncode == 1 and "no permission to capture" in r.stderr,
             f"no capability: clear refusal ({r.stderr.strip()})")
        # The image's binary: its file capability is enough for uid 65532.
        capture_as(["chroot", "--userspec=65532:65532", rootfs, "/usr/bin/nstats"], host,
                   "image binary as uid 65532 (file capability)")
    finally:
        host.teardown()


rootfs = check_rootfs()
try:
    check_systemd()
    check_unprivileged_capture(rootfs)
finally:
    run(["umount", os.path.join(rootfs, "proc")])
c.finish()
