#!/usr/bin/env python3
"""Deployment artefacts: Kubernetes overlays render and are accepted by kubectl; the staged
image filesystem runs nstats as a non-root user; every dashboard query names something
docs/METRICS.md defines; the systemd unit verifies; nstats captures holding only CAP_NET_RAW."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import yaml

from harness import (NSTATS, PCAPGEN, Checks, LineWatcher, capture_totals, have, parse_output,
                     read_ledger, require, run)
from netns import PEER4, TestHost, delta
import kubefake

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
require(os.geteuid() == 0, "root (chroot, setcap, network namespaces)")
require(all(have(t) for t in ("kubectl", "systemd-analyze", "setpriv", "setcap", "chroot",
                              "iperf3", "ip")),
        "kubectl, systemd-analyze, setpriv, setcap (libcap2-bin), iperf3, ip")

c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-deploy-")
os.chmod(tmp, 0o755)


def nstats_container(objs, overlay):
    for o in objs:
        spec = o.get("spec", {}).get("template", {}).get("spec", {})
        for where in ("containers", "initContainers"):
            for ctr in spec.get(where, []):
                if ctr["name"] == "nstats":
                    return o, spec, where, ctr
    raise AssertionError(f"{overlay}: no nstats container")


def check_kubernetes():
    server, url = kubefake.start()
    kubeconfig = os.path.join(tmp, "kubeconfig")
    with open(kubeconfig, "w") as f:
        f.write(f"""apiVersion: v1
kind: Config
clusters: [{{name: fake, cluster: {{server: "{url}"}}}}]
contexts: [{{name: fake, context: {{cluster: fake, user: fake, namespace: default}}}}]
current-context: fake
users: [{{name: fake, user: {{}}}}]
""")
    for overlay in ("sidecar", "native-sidecar", "daemonset"):
        path = os.path.join(DEPLOY, "kubernetes", "overlays", overlay)
        r = run(["kubectl", "kustomize", path])
        c.eq(r.returncode, 0, f"{overlay}: kubectl kustomize ({r.stderr.strip()})")
        objs = [o for o in yaml.safe_load_all(r.stdout) if o]
        kinds = sorted(o["kind"] for o in objs)
        c.ok("ConfigMap" in kinds and "PodMonitor" in kinds, f"{overlay}: objects {kinds}")
        obj, spec, where, ctr = nstats_container(objs, overlay)
        sc = ctr["securityContext"]
        c.eq(sc["capabilities"], {"drop": ["ALL"], "add": ["NET_RAW"]},
             f"{overlay}: drop ALL, add only NET_RAW")
        c.ok(sc["runAsNonRoot"] is True and sc["runAsUser"] != 0, f"{overlay}: non-root")
        c.ok(sc["readOnlyRootFilesystem"] is True, f"{overlay}: read-only root filesystem")
        env = {e["name"]: e for e in ctr.get("env", [])}
        for var, path_ in (("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace"),
                           ("NODE_NAME", "spec.nodeName")):
            c.eq(env.get(var, {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath"),
                 path_, f"{overlay}: {var} from the Downward API")
        c.eq(ctr["envFrom"][0]["configMapRef"]["name"], "nstats-config", f"{overlay}: envFrom")
        for probe in ("readinessProbe", "livenessProbe"):
            c.eq(ctr[probe]["httpGet"]["path"], "/healthz", f"{overlay}: {probe} on /healthz")
        c.eq(ctr["ports"][0]["containerPort"], 9781, f"{overlay}: metrics port 9781")
        c.ok(ctr["resources"]["limits"]["memory"] and ctr["resources"]["requests"]["cpu"],
             f"{overlay}: requests and limits")
        meta = obj["spec"]["template"]["metadata"]
        c.eq(meta["annotations"].get("prometheus.io/port"), "9781", f"{overlay}: scrape port")
        c.eq(meta["labels"].get("nstats.io/scrape"), "true", f"{overlay}: PodMonitor label")
        vols = {v["name"]: v for v in spec["volumes"]}
        c.eq(vols["nstats-influx"]["secret"]["secretName"], "nstats-influx",
             f"{overlay}: InfluxDB credentials from a Secret")
        c.ok(ctr["image"].startswith("nstats:"), f"{overlay}: image {ctr['image']}")
        if overlay == "native-sidecar":
            c.ok(where == "initContainers" and ctr.get("restartPolicy") == "Always",
                 "native sidecar: init container with restartPolicy Always")
        if overlay == "daemonset":
            c.ok(obj["kind"] == "DaemonSet" and spec.get("hostNetwork") is True,
                 "daemonset: hostNetwork DaemonSet")
            c.eq(env.get("NSTATS_K8S", {}).get("value"), "true", "daemonset: --k8s on")
            role = [o for o in objs if o["kind"] == "ClusterRole"]
            verbs = {v for o in role for r in o["rules"] for v in r["verbs"]}
            c.ok(role and verbs == {"get", "list", "watch"} and spec.get(
                "serviceAccountName") == "nstats", f"daemonset: read-only RBAC ({verbs})")
        r = run(["kubectl", "--kubeconfig", kubeconfig, "apply", "--dry-run=client",
                 "--validate=false", "-k", path])
        c.ok(r.returncode == 0 and r.stdout.count("(dry run)") == len(objs),
             f"{overlay}: kubectl apply --dry-run=client ({r.stdout.strip()} {r.stderr.strip()})")
    server.shutdown()


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


METRIC_RE = re.compile(r"\b((?:nstats|process)_[a-z_]+)\b")


def documented():
    text = open(os.path.join(ROOT, "docs", "METRICS.md")).read()
    prose = re.sub(r"```.*?```", "", text, flags=re.S)  # fences would pair backticks wrongly
    return set(re.findall(r"`([^`\n]+)`", prose)) | set(METRIC_RE.findall(text))


def influx_refs(q):
    refs = set(re.findall(r'FROM "([^"]+)"', q))
    refs |= set(re.findall(r'(?:sum|mean|last|max|min)\("([^"]+)"\)', q))
    group = re.search(r"GROUP BY (.*?)(?: fill|$)", q)
    if group:
        refs |= set(re.findall(r'"([^"]+)"', group.group(1)))
    refs |= set(re.findall(r'"([^"]+)" =~', q))
    refs |= set(re.findall(r'WITH KEY = "([^"]+)"', q))
    return refs


def prom_refs(expr):
    refs = set(METRIC_RE.findall(expr))
    for by in re.findall(r"by \(([^)]*)\)", expr):
        refs |= {x.strip() for x in by.split(",")}
    refs |= set(re.findall(r'([a-z_]+)=~?"', expr))
    refs |= set(re.findall(r"label_values\([^,]+, *([a-z_]+)\)", expr))
    return refs


def check_dashboards():
    known = documented()
    files = sorted(glob.glob(os.path.join(DEPLOY, "grafana", "dashboards", "*.json")))
    c.eq(len(files), 3, "three dashboards")
    for path in files:
        name = os.path.basename(path)
        d = json.load(open(path))
        c.ok(isinstance(d.get("schemaVersion"), int) and d["schemaVersion"] >= 30 and
             d.get("uid") and d.get("title"), f"{name}: schemaVersion, uid, title")
        c.ok(d["templating"]["list"][0]["type"] == "datasource", f"{name}: datasource variable")
        c.ok(d["panels"] and all(p.get("targets") for p in d["panels"]), f"{name}: panels")
        queries = [t.get("query") or t.get("expr") for p in d["panels"] for t in p["targets"]]
        queries += [v["query"] for v in d["templating"]["list"] if v["type"] == "query"]
        missing = set()
        for q in queries:
            refs = prom_refs(q) if "nstats_bytes_total" in q or "(" in q and "FROM" not in q \
                and "SHOW" not in q else influx_refs(q)
            missing |= {r for r in refs if r not in known}
        c.eq(sorted(missing), [], f"{name}: every query reference is in METRICS.md")
        for p in d["panels"]:
            c.eq(p["datasource"]["uid"], "${datasource}", f"{name}: panel {p['id']} datasource")


def check_systemd():
    unit = os.path.join(tmp, "nstats.service")
    text = open(os.path.join(DEPLOY, "systemd", "nstats.service")).read()
    with open(unit, "w") as f:
        f.write(text.replace("/usr/local/bin/nstats", NSTATS))
    env = dict(os.environ, MANPATH=os.path.join(ROOT, "docs", "man"))
    r = run(["systemd-analyze", "verify", unit], env=env)
    c.ok(r.returncode == 0 and not r.stderr.strip(), f"systemd-analyze verify: {r.stderr}")
    for needle in ("DynamicUser=yes", "CapabilityBoundingSet=CAP_NET_RAW",
                   "AmbientCapabilities=CAP_NET_RAW", "NoNewPrivileges=yes",
                   "ProtectSystem=strict"):
        c.ok(needle in text, f"unit has {needle}")
    r = run(["man", "-l", os.path.join(ROOT, "docs", "man", "man1", "nstats.1")],
            env=dict(os.environ, MANWIDTH="80"))
    c.ok(r.returncode == 0 and "--max-flows" in r.stdout, "man page renders")


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


check_kubernetes()
rootfs = check_rootfs()
try:
    check_dashboards()
    check_systemd()
    check_unprivileged_capture(rootfs)
finally:
    run(["umount", os.path.join(rootfs, "proc")])
c.finish()
