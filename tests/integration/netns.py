"""A test host in a network namespace made here: a veth pair, quiet by construction (no
link-local addresses, no router solicitations, static neighbours), so the kernel's counters
carry only the test's own traffic. Addresses come from 198.18.0.0/15 and 2001:db8::/32.

Every test host has the same addresses on its root-namespace side, so two at once would route
into each other: ctest runs these tests one at a time (RUN_SERIAL), and a lock on
/tmp/nstats-netns.lock, held until the process ends, keeps two test runs on one machine
apart too."""
import fcntl
import os
import subprocess
import time

from harness import run

HOST4, PEER4 = "198.18.0.1", "198.18.0.2"
HOST6, PEER6 = "2001:db8::1", "2001:db8::2"


def sh(*cmd):
    r = run(list(cmd))
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r.stdout


class TestHost:
    def __init__(self, tag):
        pid = os.getpid() % 10000
        self.ns = f"nstats-{tag}-{pid}"
        self.host_if = f"ns{tag[:3]}{pid}a"
        self.peer_if = f"ns{tag[:3]}{pid}b"
        self.procs = []

    def in_ns(self, *cmd):
        return ["ip", "netns", "exec", self.ns, *cmd]

    def setup(self):
        self.lock = open("/tmp/nstats-netns.lock", "w")  # noqa: SIM115 - held to the end
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        sh("ip", "netns", "add", self.ns)
        self.link()

    def link(self):
        """Makes the veth pair (again, after unlink: as a pod's veth is recreated)."""
        sh("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.peer_if)
        sh("ip", "link", "set", self.peer_if, "netns", self.ns)
        for side, ifname in (([], self.host_if), (self.in_ns(), self.peer_if)):
            sh(*side, "ip", "link", "set", ifname, "addrgenmode", "none")
            sh(*side, "sysctl", "-qw", f"net.ipv6.conf.{ifname}.accept_ra=0")
            sh(*side, "sysctl", "-qw", f"net.ipv6.conf.{ifname}.router_solicitations=0")
        sh("ip", "addr", "add", f"{HOST4}/24", "dev", self.host_if)
        sh("ip", "addr", "add", f"{HOST6}/64", "dev", self.host_if, "nodad")
        sh(*self.in_ns("ip", "addr", "add", f"{PEER4}/24", "dev", self.peer_if))
        sh(*self.in_ns("ip", "addr", "add", f"{PEER6}/64", "dev", self.peer_if, "nodad"))
        sh("ip", "link", "set", self.host_if, "up")
        sh(*self.in_ns("ip", "link", "set", self.peer_if, "up"))
        sh(*self.in_ns("ip", "link", "set", "lo", "up"))
        host_mac = sh("cat", f"/sys/class/net/{self.host_if}/address").strip()
        peer_mac = sh(*self.in_ns("cat", f"/sys/class/net/{self.peer_if}/address")).strip()
        for addr in (PEER4, PEER6):
            sh("ip", "neigh", "replace", addr, "lladdr", peer_mac, "dev", self.host_if, "nud",
               "permanent")
        for addr in (HOST4, HOST6):
            sh(*self.in_ns("ip", "neigh", "replace", addr, "lladdr", host_mac, "dev",
                           self.peer_if, "nud", "permanent"))
        # Joining the addresses' multicast groups sends MLD reports for a moment (repeated
        # within about a second); let them pass before anyone reads counters.
        time.sleep(2.5)

    def unlink(self):
        sh("ip", "link", "del", self.host_if)

    def start(self, cmd, **kw):
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        p = subprocess.Popen(cmd, **kw)
        self.procs.append(p)
        return p

    def counters(self):
        base = f"/sys/class/net/{self.host_if}/statistics/"
        return {k: int(open(base + k).read()) for k in
                ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets")}

    def teardown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        run(["ip", "link", "del", self.host_if])
        run(["ip", "netns", "del", self.ns])


def delta(before, after):
    """rx+tx bytes and packets between two counter readings."""
    return ((after["rx_bytes"] - before["rx_bytes"]) + (after["tx_bytes"] - before["tx_bytes"]),
            (after["rx_packets"] - before["rx_packets"]) +
            (after["tx_packets"] - before["tx_packets"]))
