#!/usr/bin/env python3
"""Kubernetes manifests (deploy/kubernetes): every overlay, with every Pod Security component,
renders and is accepted by `kubectl apply --dry-run=client`, and keeps what it states. The level
on the workload (annotation nstats.io/pod-security) must be the one the Pod Security Standards
give the rendered pod spec, evaluated here from a table of the standards' rules; the runtimes it
names (nstats.io/captures-on) must be exactly those where nstats, started by setpriv with the
security context that container runtime would build from the manifest, counts a veth's bytes;
everywhere else it must fail clearly. Also: sidecars never carry a readiness probe, the
application's selector and prometheus.io/* annotations are left alone, the ConfigMap is
generated (a change rolls the pods), and the ClusterRoleBinding follows `namespace:`."""
import copy
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import yaml

from harness import NSTATS, Checks, LineWatcher, capture_totals, have, parse_output, require, run
from netns import PEER4, TestHost, delta
import kubefake

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
K8S = os.path.join(ROOT, "deploy", "kubernetes")
require(os.geteuid() == 0, "root (setpriv with any uid, setcap, network namespaces)")
require(all(have(t) for t in ("kubectl", "setpriv", "setcap", "getcap", "iperf3", "ip")),
        "kubectl (with kustomize), setpriv, setcap/getcap (libcap2-bin), iperf3, ip")

c = Checks()
tmp = tempfile.mkdtemp(prefix="nstats-kubernetes-")
os.chmod(tmp, 0o755)  # the simulated containers run nstats from here as uid 65532

OVERLAYS = ("sidecar", "native-sidecar", "daemonset")
COMPONENTS = ("pss-baseline-nonroot", "pss-baseline-root", "pss-privileged-any-runtime")
# Each overlay's Pod Security line as shipped: the DaemonSet is privileged anyway (hostNetwork),
# so it takes the choice that captures on every runtime.
DEFAULT_COMPONENT = {"sidecar": "pss-baseline-nonroot", "native-sidecar": "pss-baseline-nonroot",
                     "daemonset": "pss-privileged-any-runtime"}

# ---------------------------------------------------------------------------------------------
# The Pod Security Standards as the Kubernetes documentation states them (Kubernetes 1.34,
# https://kubernetes.io/docs/concepts/security/pod-security-standards/). Each control: (name,
# function(pod metadata, pod spec) -> list of violations). "containers" means containers,
# initContainers and ephemeralContainers.

BASELINE_ADDABLE_CAPS = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL",
                         "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID",
                         "SYS_CHROOT"}
BASELINE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
                    "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
                    "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                    "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"}
BASELINE_SELINUX_TYPES = {None, "", "container_t", "container_init_t", "container_kvm_t",
                          "container_engine_t"}
RESTRICTED_VOLUME_TYPES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                           "persistentVolumeClaim", "projected", "secret"}


def all_containers(spec):
    return (spec.get("containers", []) + spec.get("initContainers", []) +
            spec.get("ephemeralContainers", []))


def sc_of(obj):
    return obj.get("securityContext") or {}


def each_sc(spec):
    """(where, securityContext) for the pod and every container."""
    yield "pod", sc_of(spec)
    for ctr in all_containers(spec):
        yield ctr["name"], sc_of(ctr)


def b_host_process(meta, spec):
    return [f"{w}: windowsOptions.hostProcess" for w, sc in each_sc(spec)
            if (sc.get("windowsOptions") or {}).get("hostProcess")]


def b_host_namespaces(meta, spec):
    return [f"{f}: true" for f in ("hostNetwork", "hostPID", "hostIPC") if spec.get(f)]


def b_privileged(meta, spec):
    return [f"{ctr['name']}: privileged" for ctr in all_containers(spec)
            if sc_of(ctr).get("privileged")]


def b_capabilities(meta, spec):
    out = []
    for ctr in all_containers(spec):
        added = set((sc_of(ctr).get("capabilities") or {}).get("add") or [])
        if added - BASELINE_ADDABLE_CAPS:
            out.append(f"{ctr['name']}: adds {sorted(added - BASELINE_ADDABLE_CAPS)}")
    return out


def b_host_path(meta, spec):
    return [f"volume {v['name']}: hostPath" for v in spec.get("volumes", []) if "hostPath" in v]


def b_host_ports(meta, spec):
    return [f"{ctr['name']}: hostPort {p['hostPort']}" for ctr in all_containers(spec)
            for p in ctr.get("ports", []) if p.get("hostPort")]


def b_apparmor(meta, spec):
    out = [f"annotation {k}={v}" for k, v in (meta.get("annotations") or {}).items()
           if k.startswith("container.apparmor.security.beta.kubernetes.io/") and
           v not in ("", "runtime/default") and not v.startswith("localhost/")]
    out += [f"{w}: appArmorProfile {sc['appArmorProfile'].get('type')}" for w, sc in each_sc(spec)
            if "appArmorProfile" in sc and
            sc["appArmorProfile"].get("type") not in ("RuntimeDefault", "Localhost")]
    return out


def b_selinux(meta, spec):
    out = []
    for w, sc in each_sc(spec):
        opts = sc.get("seLinuxOptions") or {}
        if opts.get("type") not in BASELINE_SELINUX_TYPES or opts.get("user") or opts.get("role"):
            out.append(f"{w}: seLinuxOptions {opts}")
    return out


def b_proc_mount(meta, spec):
    return [f"{ctr['name']}: procMount {sc_of(ctr)['procMount']}" for ctr in all_containers(spec)
            if sc_of(ctr).get("procMount") not in (None, "Default")]


def b_seccomp(meta, spec):
    return [f"{w}: seccompProfile {sc['seccompProfile'].get('type')}" for w, sc in each_sc(spec)
            if "seccompProfile" in sc and
            sc["seccompProfile"].get("type") not in ("RuntimeDefault", "Localhost")]


def b_sysctls(meta, spec):
    return [f"sysctl {s['name']}" for s in sc_of(spec).get("sysctls", [])
            if s["name"] not in BASELINE_SYSCTLS]


def b_probe_hosts(meta, spec):
    out = []
    for ctr in all_containers(spec):
        handlers = [ctr.get(p) for p in ("livenessProbe", "readinessProbe", "startupProbe")]
        handlers += [(ctr.get("lifecycle") or {}).get(h) for h in ("postStart", "preStop")]
        for h in filter(None, handlers):
            for kind in ("httpGet", "tcpSocket"):
                if (h.get(kind) or {}).get("host"):
                    out.append(f"{ctr['name']}: {kind}.host {h[kind]['host']}")
    return out


def r_volume_types(meta, spec):
    return [f"volume {v['name']}: {sorted(set(v) - {'name'})}" for v in spec.get("volumes", [])
            if not set(v) - {"name"} <= RESTRICTED_VOLUME_TYPES]


def r_privilege_escalation(meta, spec):
    return [f"{ctr['name']}: allowPrivilegeEscalation not false" for ctr in all_containers(spec)
            if sc_of(ctr).get("allowPrivilegeEscalation") is not False]


def r_run_as_non_root(meta, spec):
    pod = sc_of(spec).get("runAsNonRoot")
    out = ["pod: runAsNonRoot false"] if pod is False else []
    for ctr in all_containers(spec):
        mine = sc_of(ctr).get("runAsNonRoot")
        if mine is False or (mine is None and pod is not True):
            out.append(f"{ctr['name']}: runAsNonRoot not true")
    return out


def r_run_as_user(meta, spec):
    return [f"{w}: runAsUser 0" for w, sc in each_sc(spec) if sc.get("runAsUser") == 0]


def r_seccomp(meta, spec):
    pod = (sc_of(spec).get("seccompProfile") or {}).get("type")
    out = []
    for ctr in all_containers(spec):
        mine = (sc_of(ctr).get("seccompProfile") or {}).get("type")
        if (mine or pod) not in ("RuntimeDefault", "Localhost"):
            out.append(f"{ctr['name']}: seccompProfile {mine or pod}")
    return out


def r_capabilities(meta, spec):
    out = []
    for ctr in all_containers(spec):
        caps = sc_of(ctr).get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            out.append(f"{ctr['name']}: does not drop ALL")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            out.append(f"{ctr['name']}: adds {sorted(set(caps['add']) - {'NET_BIND_SERVICE'})}")
    return out


BASELINE = [("HostProcess", b_host_process), ("Host Namespaces", b_host_namespaces),
            ("Privileged Containers", b_privileged), ("Capabilities", b_capabilities),
            ("HostPath Volumes", b_host_path), ("Host Ports", b_host_ports),
            ("AppArmor", b_apparmor), ("SELinux", b_selinux), ("/proc Mount Type", b_proc_mount),
            ("Seccomp", b_seccomp), ("Sysctls", b_sysctls),
            ("Probes and lifecycle hooks host", b_probe_hosts)]
RESTRICTED = [("Volume Types", r_volume_types), ("Privilege Escalation", r_privilege_escalation),
              ("Running as Non-root", r_run_as_non_root),
              ("Running as Non-root user", r_run_as_user), ("Seccomp", r_seccomp),
              ("Capabilities", r_capabilities)]


def pss_level(meta, spec):
    """The most restrictive level the pod meets, and why it does not meet the one above."""
    why = [f"{name}: {v}" for name, check in BASELINE for v in check(meta, spec)]
    if why:
        return "privileged", why
    why = [f"{name}: {v}" for name, check in RESTRICTED for v in check(meta, spec)]
    return ("baseline", why) if why else ("restricted", [])


def pod_with(sc, **spec):
    return {"containers": [{"name": "nstats", "image": "nstats", "securityContext": sc}], **spec}


RESTRICTED_SC = {"runAsNonRoot": True, "runAsUser": 65532, "allowPrivilegeEscalation": False,
                 "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}


def check_evaluator():
    """Each control fires on a pod that breaks it, and only then: the evaluator can fail."""
    def variant(**changes):
        sc = copy.deepcopy(RESTRICTED_SC)
        sc.update(changes)
        return sc
    cases = [
        ("restricted as written", {}, pod_with(RESTRICTED_SC), "restricted"),
        ("restricted may add NET_BIND_SERVICE", {},
         pod_with(variant(capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})),
         "restricted"),
        ("the manifests before issue 12: drop ALL + add NET_RAW", {},
         pod_with(variant(allowPrivilegeEscalation=True,
                          capabilities={"drop": ["ALL"], "add": ["NET_RAW"]})), "privileged"),
        ("add CHOWN (in baseline's list)", {},
         pod_with(variant(capabilities={"drop": ["ALL"], "add": ["CHOWN"]})), "baseline"),
        ("keep NET_RAW by not dropping it", {},
         pod_with(variant(capabilities={"drop": ["CHOWN"]})), "baseline"),
        ("allowPrivilegeEscalation unset", {},
         pod_with({k: v for k, v in RESTRICTED_SC.items() if k != "allowPrivilegeEscalation"}),
         "baseline"),
        ("runAsUser 0", {}, pod_with(variant(runAsUser=0)), "baseline"),
        ("runAsNonRoot only on the pod", {},
         pod_with({k: v for k, v in RESTRICTED_SC.items() if k != "runAsNonRoot"},
                  securityContext={"runAsNonRoot": True}), "restricted"),
        ("no seccomp profile", {},
         pod_with({k: v for k, v in RESTRICTED_SC.items() if k != "seccompProfile"}), "baseline"),
        ("nfs volume", {}, pod_with(RESTRICTED_SC, volumes=[{"name": "n", "nfs": {}}]),
         "baseline"),
        ("hostNetwork", {}, pod_with(RESTRICTED_SC, hostNetwork=True), "privileged"),
        ("hostPID", {}, pod_with(RESTRICTED_SC, hostPID=True), "privileged"),
        ("privileged container", {}, pod_with(variant(privileged=True)), "privileged"),
        ("hostPath volume", {}, pod_with(RESTRICTED_SC, volumes=[{"name": "h", "hostPath": {}}]),
         "privileged"),
        ("seccomp Unconfined", {},
         pod_with(variant(seccompProfile={"type": "Unconfined"})), "privileged"),
        ("unsafe sysctl", {},
         pod_with(RESTRICTED_SC, securityContext={"sysctls": [{"name": "kernel.msgmax"}]}),
         "privileged"),
        ("safe sysctl", {}, pod_with(RESTRICTED_SC, securityContext={
            "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start"}]}), "restricted"),
        ("procMount Unmasked", {}, pod_with(variant(procMount="Unmasked")), "privileged"),
        ("SELinux type spc_t", {},
         pod_with(variant(seLinuxOptions={"type": "spc_t"})), "privileged"),
        ("AppArmor unconfined (field)", {},
         pod_with(variant(appArmorProfile={"type": "Unconfined"})), "privileged"),
        ("AppArmor unconfined (annotation)",
         {"annotations": {"container.apparmor.security.beta.kubernetes.io/nstats": "unconfined"}},
         pod_with(RESTRICTED_SC), "privileged"),
        ("hostProcess", {},
         pod_with(variant(windowsOptions={"hostProcess": True})), "privileged"),
        ("probe host", {}, {"containers": [{"name": "nstats", "securityContext": RESTRICTED_SC,
                                            "livenessProbe": {"httpGet": {"host": "10.0.0.1"}}}]},
         "privileged"),
    ]
    port = pod_with(RESTRICTED_SC)
    port["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 80}]
    cases.append(("hostPort", {}, port, "privileged"))
    for what, meta, spec, want in cases:
        got, why = pss_level(meta, spec)
        c.eq(got, want, f"PSS evaluator: {what} ({why})")


# ---------------------------------------------------------------------------------------------
# Rendering every variant, as a user would: a copy of deploy/kubernetes with the overlay's one
# Pod Security line changed (and the prometheus-annotations line uncommented, for that opt-in).

PSS_LINE = re.compile(r"^  - \.\./\.\./components/(pss-[a-z-]+)$", re.M)
ANNOTATIONS_LINE = "  # - ../../components/prometheus-annotations"
CONNTRACK_LINE = "  # - ../../components/conntrack"
# The application's own scrape annotations, added to the example app in the copies: nstats must
# leave them alone unless the prometheus-annotations opt-in is chosen.
APP_SCRAPE = {"prometheus.io/scrape": "true", "prometheus.io/port": "8080",
              "prometheus.io/path": "/app-metrics"}


def variant_tree(overlay, component, annotations=False):
    name = f"{overlay}-{component}" + ("-annotations" if annotations else "")
    root = os.path.join(tmp, "variants", name)
    shutil.copytree(K8S, root)
    path = os.path.join(root, "overlays", overlay, "kustomization.yaml")
    text = open(path).read()
    text = PSS_LINE.sub(f"  - ../../components/{component}", text)
    if annotations:
        text = text.replace(ANNOTATIONS_LINE, ANNOTATIONS_LINE.replace("# ", ""))
    open(path, "w").write(text)
    app = os.path.join(root, "example-app", "sidecar", "deployment.yaml")
    doc = yaml.safe_load(open(app))
    doc["spec"]["template"]["metadata"]["annotations"] = dict(APP_SCRAPE)
    yaml.safe_dump(doc, open(app, "w"))
    return os.path.join(root, "overlays", overlay)


def render(path, tag):
    r = run(["kubectl", "kustomize", path])
    c.eq(r.returncode, 0, f"{tag}: kubectl kustomize ({r.stderr.strip()})")
    return [o for o in yaml.safe_load_all(r.stdout) if o] if r.returncode == 0 else []


def find(objs, kind, name=None):
    return [o for o in objs if o["kind"] == kind and (name is None or
                                                       o["metadata"]["name"] == name)]


def nstats_workload(objs):
    for o in objs:
        spec = o.get("spec", {}).get("template", {}).get("spec", {})
        for where in ("containers", "initContainers"):
            for ctr in spec.get(where, []):
                if ctr["name"] == "nstats":
                    return o, spec, where, ctr
    raise AssertionError("no nstats container")


def component_doc(component):
    """The component's stated level (its header) and runtimes (its container patch)."""
    base = os.path.join(K8S, "components", component)
    header = open(os.path.join(base, "kustomization.yaml")).readline()
    m = re.match(r"# Pod Security: (restricted|baseline|privileged)\.", header)
    patch = yaml.safe_load(open(os.path.join(base, "container.yaml")))
    return (m.group(1) if m else None,
            patch["metadata"]["annotations"]["nstats.io/captures-on"],
            patch["spec"]["template"]["spec"]["containers"][0]["securityContext"])


def check_render(overlay, component, objs, annotations):
    tag = f"{overlay} + {component}" + (" + prometheus-annotations" if annotations else "")
    obj, spec, where, ctr = nstats_workload(objs)
    meta = obj["spec"]["template"]["metadata"]
    stated_level, stated_runtimes, stated_sc = component_doc(component)

    # Pod Security: the level the workload states is the level its pod spec has.
    got, why = pss_level(meta, spec)
    ann = obj["metadata"].get("annotations", {})
    c.eq(ann.get("nstats.io/pod-security"), got, f"{tag}: stated Pod Security level ({why})")
    c.eq(ann.get("nstats.io/captures-on"), stated_runtimes, f"{tag}: stated runtimes")
    c.eq(ctr.get("securityContext"), stated_sc, f"{tag}: the component's securityContext")
    if overlay != "daemonset":
        c.eq(got, stated_level, f"{tag}: level as the component's header says")
    else:
        c.eq(got, "privileged", f"{tag}: hostNetwork makes the DaemonSet privileged")
        ns = find(objs, "Namespace")
        c.ok(len(ns) == 1 and ns[0]["metadata"]["labels"].get(
            "pod-security.kubernetes.io/enforce") == got,
            f"{tag}: its namespace enforces {got} ({[n['metadata'] for n in ns]})")
    sc = ctr["securityContext"]
    c.ok(sc["readOnlyRootFilesystem"] is True, f"{tag}: read-only root filesystem")
    c.eq(sc["seccompProfile"], {"type": "RuntimeDefault"}, f"{tag}: seccomp RuntimeDefault")
    if sc["runAsUser"] != 0:
        c.ok(sc["runAsNonRoot"] is True and sc["allowPrivilegeEscalation"] is True,
             f"{tag}: non-root, with the escalation its file capability needs")
    else:
        c.ok(sc["allowPrivilegeEscalation"] is False, f"{tag}: uid 0 with no_new_privs")
    caps = sc["capabilities"]
    if stated_level == "baseline":
        c.ok("add" not in caps and "NET_RAW" not in caps["drop"] and
             set(caps["drop"]) == set(RUNTIME_DEFAULTS["containerd"]) - {"NET_RAW"},
             f"{tag}: keeps NET_RAW, drops the rest of the default set, adds nothing ({caps})")

    # The nstats container: Downward API, settings, ports, resources, credentials, image.
    env = {e["name"]: e for e in ctr.get("env", [])}
    for var, path in (("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace"),
                      ("NODE_NAME", "spec.nodeName"),
                      ("NSTATS_WORKLOAD", "metadata.labels['app.kubernetes.io/name']")):
        c.eq(env.get(var, {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath"), path,
             f"{tag}: {var} from the Downward API")
    workload = "nstats" if overlay == "daemonset" else "web"
    c.eq(meta["labels"].get("app.kubernetes.io/name"), workload,
         f"{tag}: the pod label NSTATS_WORKLOAD reads")
    cms = find(objs, "ConfigMap")
    c.ok(len(cms) == 1 and re.fullmatch(r"nstats-config-[a-z0-9]{10}", cms[0]["metadata"]["name"]),
         f"{tag}: generated ConfigMap with a hash suffix ({[m['metadata']['name'] for m in cms]})")
    c.eq(ctr["envFrom"][0]["configMapRef"]["name"], cms[0]["metadata"]["name"] if cms else None,
         f"{tag}: envFrom follows the generated name")
    c.eq(ctr["ports"][0], {"name": "nstats-metrics", "containerPort": 9781},
         f"{tag}: metrics port 9781")
    c.ok(ctr["resources"]["limits"]["memory"] and ctr["resources"]["requests"]["cpu"],
         f"{tag}: requests and limits")
    vols = {v["name"]: v for v in spec["volumes"]}
    c.eq(vols["nstats-influx"]["secret"]["secretName"], "nstats-influx",
         f"{tag}: InfluxDB credentials from a Secret")
    c.ok(ctr["image"].startswith("nstats:"), f"{tag}: image {ctr['image']}")

    # Probes: a sidecar never gates its application; liveness only catches a wedged nstats.
    live = ctr.get("livenessProbe", {}).get("httpGet", {})
    c.eq((live.get("path"), live.get("port")), ("/", "nstats-metrics"),
         f"{tag}: liveness on / (answered whatever the capture's state)")
    c.ok("startupProbe" not in ctr, f"{tag}: no startupProbe")
    if overlay == "daemonset":
        c.eq(ctr.get("readinessProbe", {}).get("httpGet", {}).get("path"), "/healthz",
             f"{tag}: DaemonSet readiness on /healthz")
    else:
        c.ok("readinessProbe" not in ctr, f"{tag}: no readinessProbe on a sidecar")

    # Scraping: the PodMonitor by default, the annotations only when opted in; never both.
    c.eq(meta["labels"].get("nstats.io/scrape"), "true", f"{tag}: PodMonitor label")
    monitors = find(objs, "PodMonitor")
    scrape = {k: v for k, v in (meta.get("annotations") or {}).items()
              if k.startswith("prometheus.io/")}
    if annotations:
        c.eq(monitors, [], f"{tag}: no PodMonitor with the annotations")
        c.eq(scrape, {"prometheus.io/scrape": "true", "prometheus.io/port": "9781",
                      "prometheus.io/path": "/metrics"}, f"{tag}: scrape annotations")
    else:
        c.ok(len(monitors) == 1 and monitors[0]["spec"]["selector"]["matchLabels"] ==
             {"nstats.io/scrape": "true"} and
             monitors[0]["spec"]["podMetricsEndpoints"][0]["port"] == "nstats-metrics",
             f"{tag}: the PodMonitor selects nstats' pods and port")
        c.eq(scrape, {} if overlay == "daemonset" else APP_SCRAPE,
             f"{tag}: prometheus.io/* annotations left as the application set them")

    # Labels: app.kubernetes.io/* on every object, no selector changed by them.
    for o in objs:
        labels = o["metadata"].get("labels", {})
        c.ok("app.kubernetes.io/name" in labels,
             f"{tag}: {o['kind']}/{o['metadata']['name']} has app.kubernetes.io/name")
        if o is not obj or overlay == "daemonset":
            c.ok(labels.get("app.kubernetes.io/part-of") == "nstats" and
                 labels.get("app.kubernetes.io/name") == "nstats",
                 f"{tag}: {o['kind']}/{o['metadata']['name']} labelled as nstats ({labels})")
    if overlay == "daemonset":
        c.eq(obj["spec"]["selector"], {"matchLabels": {"app.kubernetes.io/name": "nstats"}},
             f"{tag}: DaemonSet selector as written")
    else:
        c.eq(obj["spec"]["selector"], {"matchLabels": {"app": "web"}},
             f"{tag}: the application's selector untouched")
        c.eq(obj["metadata"]["labels"], {"app.kubernetes.io/name": "web"},
             f"{tag}: the application's labels untouched")
        c.eq([x["name"] for x in spec.get("containers", []) if x["name"] != "nstats"], ["web"],
             f"{tag}: the application's container kept")

    if overlay == "native-sidecar":
        c.ok(where == "initContainers" and ctr.get("restartPolicy") == "Always",
             f"{tag}: init container with restartPolicy Always")
    else:
        c.eq(where, "containers", f"{tag}: nstats in containers")
    if overlay == "daemonset":
        c.ok(obj["kind"] == "DaemonSet" and spec.get("hostNetwork") is True,
             f"{tag}: hostNetwork DaemonSet")
        c.eq(env.get("NSTATS_K8S", {}).get("value"), "true", f"{tag}: --k8s on")
        role = find(objs, "ClusterRole")
        verbs = {v for o in role for r in o["rules"] for v in r["verbs"]}
        c.ok(role and verbs == {"get", "list", "watch"} and
             spec.get("serviceAccountName") == "nstats", f"{tag}: read-only RBAC ({verbs})")
        binding = find(objs, "ClusterRoleBinding")[0]
        c.eq([(s["name"], s.get("namespace")) for s in binding["subjects"]], [("nstats", "nstats")],
             f"{tag}: ClusterRoleBinding subject in the overlay's namespace")
        c.eq(sorted({o["metadata"].get("namespace") for o in objs
                     if o["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding")}),
             ["nstats"], f"{tag}: every namespaced object in namespace nstats")
    return obj, ctr


def check_same_container(sidecar, native):
    """The two sidecar components must not drift apart: one container, two places."""
    a = {k: v for k, v in sidecar.items()}
    b = {k: v for k, v in native.items() if k != "restartPolicy"}
    c.eq(b, a, "native sidecar's container equals the classic sidecar's but for restartPolicy")


def check_namespaced():
    """A kustomization that puts the DaemonSet elsewhere moves the binding's subject with it."""
    root = os.path.join(tmp, "elsewhere")
    shutil.copytree(K8S, root)
    outer = os.path.join(root, "monitoring")
    os.makedirs(outer)
    with open(os.path.join(outer, "kustomization.yaml"), "w") as f:
        f.write("namespace: monitoring\nresources:\n  - ../overlays/daemonset\n")
    objs = render(outer, "daemonset in namespace monitoring")
    if not objs:
        return
    subjects = find(objs, "ClusterRoleBinding")[0]["subjects"]
    c.eq([s.get("namespace") for s in subjects], ["monitoring"],
         "namespace monitoring: ClusterRoleBinding subject follows")
    c.eq(find(objs, "ServiceAccount")[0]["metadata"].get("namespace"), "monitoring",
         "namespace monitoring: ServiceAccount in it")
    c.eq(find(objs, "DaemonSet")[0]["metadata"].get("namespace"), "monitoring",
         "namespace monitoring: DaemonSet in it")


def check_conntrack_component():
    """The opt-in conntrack component, listed in the DaemonSet overlay, adds NET_ADMIN to the
    privileged component's securityContext and nothing else."""
    text = open(os.path.join(K8S, "overlays", "daemonset", "kustomization.yaml")).read()
    c.ok(CONNTRACK_LINE in text, "daemonset: conntrack is an opt-in line")
    root = os.path.join(tmp, "conntrack")
    shutil.copytree(K8S, root)
    path = os.path.join(root, "overlays", "daemonset")
    with open(os.path.join(path, "kustomization.yaml"), "w") as f:
        f.write(text.replace(CONNTRACK_LINE, CONNTRACK_LINE.replace("# ", "", 1)))
    objs = render(path, "daemonset + conntrack")
    if not objs:
        return
    _, spec, _, ctr = nstats_workload(objs)
    want = dict(component_doc(DEFAULT_COMPONENT["daemonset"])[2])
    want["capabilities"] = {"drop": ["ALL"], "add": ["NET_RAW", "NET_ADMIN"]}
    c.eq(ctr.get("securityContext"), want,
         "daemonset + conntrack: the privileged securityContext with NET_ADMIN added")
    got, why = pss_level(find(objs, "DaemonSet")[0]["spec"]["template"]["metadata"], spec)
    c.eq(got, "privileged", f"daemonset + conntrack: privileged ({why})")


def check_config_rolls():
    """Editing a setting renames the generated ConfigMap, and the pod template follows, so the
    pods roll."""
    root = os.path.join(tmp, "edited")
    shutil.copytree(K8S, root)
    before = render(os.path.join(root, "overlays", "sidecar"), "sidecar before the edit")
    env = os.path.join(root, "base", "nstats.env")
    text = open(env).read()
    open(env, "w").write(text.replace("NSTATS_INTERVAL=10s", "NSTATS_INTERVAL=20s"))
    after = render(os.path.join(root, "overlays", "sidecar"), "sidecar after the edit")
    if not before or not after:
        return
    names = [find(objs, "ConfigMap")[0]["metadata"]["name"] for objs in (before, after)]
    refs = [nstats_workload(objs)[3]["envFrom"][0]["configMapRef"]["name"]
            for objs in (before, after)]
    c.ok(names[0] != names[1] and refs == names,
         f"a changed setting renames the ConfigMap and the pod template follows ({names} {refs})")


def check_readme():
    """README.md's table states the same level and runtimes as the components."""
    text = open(os.path.join(ROOT, "README.md")).read()
    for comp in COMPONENTS:
        level, runtimes, _ = component_doc(comp)
        row = re.search(rf"^\| `{comp}` \|[^\n]*$", text, re.M)
        cells = [x.strip() for x in row.group(0).split("|")[1:-1]] if row else []
        c.ok(len(cells) == 4 and (cells[1], cells[3]) == (level, runtimes),
             f"README table row for {comp} states {level} on {runtimes} ({cells})")


def check_dry_run(paths):
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
    for tag, path, count in paths:
        r = run(["kubectl", "--kubeconfig", kubeconfig, "apply", "--dry-run=client",
                 "--validate=false", "-k", path])
        c.ok(r.returncode == 0 and r.stdout.count("(dry run)") == count,
             f"{tag}: kubectl apply --dry-run=client ({r.stdout.strip()} {r.stderr.strip()})")
    server.shutdown()


# ---------------------------------------------------------------------------------------------
# Capturing under each security context, as each container runtime would build it.

# The capabilities a runtime gives a container that neither adds nor drops any: containerd's
# defaultUnixCaps() (pkg/oci/spec.go) and Docker Engine's (moby) are the same list; CRI-O's
# (internal/config/capabilities, since 1.18) has no NET_RAW, MKNOD, SYS_CHROOT, AUDIT_WRITE or
# SETFCAP.
RUNTIME_DEFAULTS = {
    "containerd": ["CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID",
                   "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL",
                   "AUDIT_WRITE"],
    "cri-dockerd": ["CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID",
                    "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL",
                    "AUDIT_WRITE"],
    "cri-o": ["CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "SETGID", "SETUID", "SETPCAP",
              "NET_BIND_SERVICE", "KILL"],
}
# What a non-root process holds in its permitted set when the runtime execs it: containerd and
# CRI-O write the capability list into the OCI spec's permitted set whatever the user, and runc
# applies it before the exec; Docker Engine empties it for a non-root user (moby#36587). It
# matters with no_new_privs, under which the kernel lets an exec's file capability raise the
# permitted set no higher than it was before the exec.
NONROOT_KEEPS_PERMITTED = {"containerd": True, "cri-dockerd": False, "cri-o": True}
IMAGE_UID = IMAGE_GID = 65532  # deploy/Dockerfile: USER 65532:65532

# Security contexts no manifest ships, run to show what the README says about them.
UNSHIPPED = [
    ("restricted (the best restricted allows)", RESTRICTED_SC, "restricted", ""),
    ("baseline non-root with no_new_privs",
     {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
      "allowPrivilegeEscalation": False,
      "capabilities": {"drop": sorted(set(RUNTIME_DEFAULTS["containerd"]) - {"NET_RAW"})},
      "seccompProfile": {"type": "RuntimeDefault"}}, "baseline", "containerd"),
]


def runtime_caps(sc, runtime):
    """The capability list the runtime builds: its defaults, then drop ALL, add, drop."""
    caps = sc.get("capabilities") or {}
    add = [x.upper() for x in caps.get("add") or []]
    drop = [x.upper() for x in caps.get("drop") or []]
    assert "ALL" not in add, "add: [ALL] is not a choice nstats ships"
    start = set() if "ALL" in drop else set(RUNTIME_DEFAULTS[runtime])
    return (start | set(add)) - set(drop)


def setpriv_cmd(sc, runtime, binary):
    """setpriv doing what runc does with the runtime's OCI spec: the bounding set, the user, the
    permitted set a non-root process keeps (see NONROOT_KEEPS_PERMITTED), no_new_privs for
    allowPrivilegeEscalation: false, and no inheritable or ambient capabilities."""
    caps = runtime_caps(sc, runtime)
    uid, gid = sc.get("runAsUser", IMAGE_UID), sc.get("runAsGroup", IMAGE_GID)
    cmd = ["setpriv", "--inh-caps=-all",
           "--bounding-set=-all" + "".join(f",+{x.lower()}" for x in sorted(caps))]
    if uid != 0:
        cmd += [f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
    nnp = ["--no-new-privs"] if sc.get("allowPrivilegeEscalation") is False else []
    if uid != 0 and not NONROOT_KEEPS_PERMITTED[runtime]:
        # setpriv keeps its permitted set across the change of uid; exec'ing a second setpriv
        # (no file capability) as non-root empties it, as Docker Engine does before the exec.
        return cmd + ["--", "setpriv"] + nnp + ["--", binary]
    return cmd + nnp + ["--", binary]


CLEAR_FAILURES = ("Operation not permitted", "no permission to capture")


def capture(cmd, host, tag, should_capture):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NSTATS_")}
    p = subprocess.Popen(cmd + ["-i", host.host_if, "--interval", "1s", "--buffer-size", "64MiB"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    host.procs.append(p)
    watcher = LineWatcher(p.stderr)
    deadline = time.time() + 20
    while time.time() < deadline and p.poll() is None and not watcher.wait_for("capturing on", 0.2):
        pass
    started = watcher.wait_for("capturing on", 0)
    if not should_capture:
        if started:
            p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
        text = watcher.text().strip()
        c.ok(not started and p.returncode != 0 and any(m in text for m in CLEAR_FAILURES),
             f"{tag}: fails clearly (exit {p.returncode}: {text[-300:]})")
        print(f"  {tag}: refused, exit {p.returncode}: {text.splitlines()[-1] if text else ''}",
              flush=True)
        return text
    c.ok(started, f"{tag}: capturing ({watcher.text().strip()[-300:] if not started else ''})")
    if not started:
        p.kill()
        return ""
    before = host.counters()
    r = run(["iperf3", "-c", PEER4, "-t", "1", "-b", "10M"])
    c.eq(r.returncode, 0, f"{tag}: iperf3")
    time.sleep(0.5)
    after = host.counters()
    p.send_signal(signal.SIGTERM)
    out = p.stdout.read()
    p.wait(timeout=30)
    c.eq(p.returncode, 0, f"{tag}: exit status ({watcher.text().strip()[-200:]})")
    counted, veth = capture_totals(parse_output(out))[1], delta(before, after)[0]
    c.eq(counted, veth, f"{tag}: counted the veth's bytes")
    print(f"  {tag}: captured, {counted} bytes counted, {veth} on the veth", flush=True)
    return ""


def stage_image():
    """The image's root filesystem as deploy/rootfs.sh stages it: its binary holds
    cap_net_raw+p. The simulated containers run that binary in place (its libraries are the
    host's, copied), so that setpriv, which the image lacks, can set up the process."""
    rootfs = os.path.join(tmp, "rootfs")
    r = run([os.path.join(ROOT, "deploy", "rootfs.sh"), NSTATS, rootfs])
    c.eq(r.returncode, 0, f"rootfs.sh ({r.stderr.strip()})")
    binary = os.path.join(rootfs, "usr", "bin", "nstats")
    caps = run(["getcap", binary]).stdout
    c.ok("cap_net_raw=p" in caps, f"image binary's file capability: {caps.strip()}")
    plain = os.path.join(tmp, "nstats-no-file-capability")
    shutil.copy(NSTATS, plain)
    os.chmod(plain, 0o755)
    return binary, plain


def check_captures(shipped):
    """shipped: {component: (securityContext, stated runtimes)}."""
    binary, plain = stage_image()
    host = TestHost("pss")
    try:
        host.setup()
        host.start(host.in_ns("iperf3", "-s"))
        time.sleep(0.5)
        contexts = [(comp, sc, runtimes) for comp, (sc, runtimes) in shipped.items()]
        for what, sc, level, runtimes in UNSHIPPED:
            got, why = pss_level({}, pod_with(sc))
            c.eq(got, level, f"{what}: Pod Security level ({why})")
            contexts.append((what, sc, runtimes))
        print("Capture under each security context and runtime (setpriv as runc would):",
              flush=True)
        for what, sc, runtimes in contexts:
            stated = {r for r in runtimes.split(", ") if r}
            for runtime in RUNTIME_DEFAULTS:
                cmd = setpriv_cmd(sc, runtime, binary)
                print(f"  {what} on {runtime}: {' '.join(cmd[:-1])} nstats", flush=True)
                capture(cmd, host, f"{what} on {runtime}", runtime in stated)
        # Restricted fails for the binary itself, not for its file capability: without one,
        # nstats runs and cannot capture all the same.
        text = capture(setpriv_cmd(RESTRICTED_SC, "containerd", plain), host,
                       "restricted, binary without file capability", False)
        c.ok("no permission to capture" in text, f"restricted: nstats' own refusal ({text})")
    finally:
        host.teardown()


def main():
    check_evaluator()
    # kubefake serves discovery for the kinds nstats ships; the DaemonSet's namespace is one more.
    if ("namespaces", "Namespace") not in kubefake.GROUPS[""]["v1"]:
        kubefake.GROUPS[""]["v1"].append(("namespaces", "Namespace"))
    for overlay in OVERLAYS:
        text = open(os.path.join(K8S, "overlays", overlay, "kustomization.yaml")).read()
        c.eq(PSS_LINE.findall(text), [DEFAULT_COMPONENT[overlay]],
             f"{overlay}: one Pod Security line, {DEFAULT_COMPONENT[overlay]} by default")
        c.ok(ANNOTATIONS_LINE in text, f"{overlay}: prometheus-annotations is an opt-in line")
    dry_runs = []
    shipped = {}
    containers = {}
    for component in COMPONENTS:
        for overlay in OVERLAYS:
            for annotations in (False, True):
                if annotations and component != DEFAULT_COMPONENT[overlay]:
                    continue
                path = variant_tree(overlay, component, annotations)
                tag = f"{overlay} + {component}" + (" + annotations" if annotations else "")
                objs = render(path, tag)
                if not objs:
                    continue
                obj, ctr = check_render(overlay, component, objs, annotations)
                dry_runs.append((tag, path, len(objs)))
                containers[(overlay, component, annotations)] = ctr
                runtimes = obj["metadata"]["annotations"].get("nstats.io/captures-on", "")
                prev = shipped.setdefault(component, (ctr["securityContext"], runtimes))
                c.eq((ctr["securityContext"], runtimes), prev,
                     f"{tag}: same securityContext and runtimes in every overlay")
        check_same_container(containers[("sidecar", component, False)],
                             containers[("native-sidecar", component, False)])
    check_namespaced()
    check_conntrack_component()
    check_config_rolls()
    check_readme()
    check_dry_run(dry_runs)
    check_captures(shipped)


try:
    main()
finally:
    shutil.rmtree(tmp, ignore_errors=True)
c.finish()
