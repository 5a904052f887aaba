"""Just enough of a Kubernetes API server for `kubectl apply --dry-run=client`: discovery for
the kinds nstats ships, and 404 for every object (so kubectl reports "created (dry run)")."""
import http.server
import threading

from servers import send_json

GROUPS = {
    "": {"v1": [("configmaps", "ConfigMap"), ("secrets", "Secret"), ("services", "Service"),
                ("serviceaccounts", "ServiceAccount"), ("pods", "Pod")]},
    "apps": {"v1": [("deployments", "Deployment"), ("daemonsets", "DaemonSet")]},
    "monitoring.coreos.com": {"v1": [("podmonitors", "PodMonitor")]},
    "rbac.authorization.k8s.io": {"v1": [("clusterroles", "ClusterRole"),
                                         ("clusterrolebindings", "ClusterRoleBinding"),
                                         ("roles", "Role"), ("rolebindings", "RoleBinding")]},
}


def resource_list(group_version, kinds):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": [{"name": plural, "singularName": kind.lower(), "namespaced": True,
                           "kind": kind, "verbs": ["create", "get", "list", "patch", "update",
                                                   "delete", "watch"]}
                          for plural, kind in kinds]}


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        send_json(self, status, obj)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/api":
            return self.reply(200, {"kind": "APIVersions", "versions": ["v1"]})
        if path == "/api/v1":
            return self.reply(200, resource_list("v1", GROUPS[""]["v1"]))
        if path == "/apis":
            groups = [{"name": g, "versions": [{"groupVersion": f"{g}/v1", "version": "v1"}],
                       "preferredVersion": {"groupVersion": f"{g}/v1", "version": "v1"}}
                      for g in GROUPS if g]
            return self.reply(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
        for g, versions in GROUPS.items():
            if g and path == f"/apis/{g}/v1":
                return self.reply(200, resource_list(f"{g}/v1", versions["v1"]))
        return self.reply(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                "reason": "NotFound", "code": 404, "message": "not found"})


def start():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
