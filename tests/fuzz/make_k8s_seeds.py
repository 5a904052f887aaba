#!/usr/bin/env python3
"""Writes fuzz_k8s seeds: the first byte is the kind (0 pods, 1 services, 2 nodes,
3 ReplicaSets), with 0x80 for a list page instead of a watch event (0x40: the first page). The objects are the
integration fixture's (tests/integration/k8sfixture.py) dressed with the fields a real API
server adds (labels, managedFields, conditions, container statuses), plus the odd values a
server or proxy could send: dual-stack and headless Services, a NUL escape, wrong types."""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "integration"))
from k8sfixture import node, pod, replicaset, service  # noqa: E402

out = os.path.join(here, "corpus", "k8s")
POD, SERVICE, NODE, RS = range(4)
LIST = 0x80 | 0x40


def dressed(obj, uid):
    meta = obj["metadata"]
    meta.update({"uid": f"5f1c2d3e-0000-4000-8000-{uid:012d}", "creationTimestamp":
                 "2024-05-01T10:00:00Z", "labels": {"app": meta["name"].split("-")[0]},
                 "managedFields": [{"manager": "kube-controller-manager", "operation": "Update",
                                    "apiVersion": "v1", "time": "2024-05-01T10:00:00Z",
                                    "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {}}}]})
    if obj["kind"] == "Pod":
        obj["status"].update({"hostIP": "198.18.0.70", "hostIPs": [{"ip": "198.18.0.70"}],
                              "conditions": [{"type": "Ready", "status": "True"}],
                              "containerStatuses": [{"name": "app", "ready": True,
                                                     "restartCount": 0,
                                                     "image": "registry.test/app:1.2"}]})
    return obj


def lst(kind, items, rv="1000"):
    return {"kind": kind + "List", "apiVersion": "v1",
            "metadata": {"resourceVersion": rv, "continue": ""}, "items": items}


def event(kind, obj):
    return {"type": kind, "object": obj}


def write(fname, kind, doc):
    text = doc if isinstance(doc, str) else json.dumps(doc)
    with open(os.path.join(out, fname), "wb") as f:
        f.write(bytes([kind]) + text.encode())


pods = [dressed(pod("web-7d4b9c-x2k8p", "198.18.0.50", "ReplicaSet", "web-7d4b9c"), 1),
        dressed(pod("db-0", "2001:db8::51", "StatefulSet", "db"), 2),
        dressed(pod("kube-proxy-abcde", "198.18.0.70", "DaemonSet", "kube-proxy", ns="kube-system",
                    host_network=True), 3)]
dual = dressed(pod("api-6f5d-qq", "198.18.0.52", "ReplicaSet", "api-6f5d"), 4)
dual["status"]["podIPs"] = [{"ip": "198.18.0.52"}, {"ip": "2001:db8::52"}]
pods.append(dual)
svc = dressed(service("web", "198.18.0.60"), 5)
svc["spec"].update({"clusterIPs": ["198.18.0.60", "2001:db8::60"], "ipFamilies": ["IPv4", "IPv6"],
                    "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]})
headless = dressed(service("db", "None"), 6)
headless["spec"]["clusterIPs"] = ["None"]
nodes = [dressed(node("node-1", "198.18.0.70"), 7)]
nodes[0]["status"]["addresses"].insert(1, {"type": "ExternalIP", "address": "2001:db8::70"})
rsets = [dressed(replicaset("web-7d4b9c", "web"), 8), dressed(replicaset("api-6f5d", "api"), 9)]

write("real_podlist", LIST | POD, lst("Pod", pods))
write("real_svclist", LIST | SERVICE, lst("Service", [svc, headless]))
write("real_nodelist", LIST | NODE, lst("Node", nodes))
write("real_rslist", LIST | RS, lst("ReplicaSet", rsets))
write("real_modified", POD, event("MODIFIED", pods[0]))
write("real_deleted", POD, event("DELETED", pods[1]))
write("real_bookmark", POD, event("BOOKMARK", {"kind": "Pod", "apiVersion": "v1",
                                               "metadata": {"resourceVersion": "1200"}}))
write("real_gone", POD, event("ERROR", {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                        "message": "too old resource version: 1 (1100)",
                                        "reason": "Expired", "code": 410}))
write("real_svc_added", SERVICE, event("ADDED", svc))
odd = dressed(service("odd", "198.18.0.61"), 10)
odd["spec"]["clusterIPs"] = [False, None, 7, "198.18.0.61"]
write("odd_svc_types", LIST | SERVICE, lst("Service", [odd]))
write("odd_nul", LIST | POD,
      json.dumps(lst("Pod", [pod("p\u0000q", "198.18.0.80", "Job", "j\u0000")])))
