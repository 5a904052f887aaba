/* Kubernetes map tests: lists, watch events, 410 Gone, workloads through ReplicaSets. */
#include "names/k8smap.h"
#include "test.h"

static char rv[64];

static enum k8s_result list(struct k8smap *m, enum k8s_kind k, const char *json)
{
    return k8smap_apply_list(m, k, json, strlen(json), rv, sizeof(rv));
}

static enum k8s_result event(struct k8smap *m, enum k8s_kind k, const char *json)
{
    return k8smap_apply_event(m, k, json, strlen(json), rv, sizeof(rv));
}

static void check(struct k8smap *m, const char *ip, const char *kind, const char *ns,
                  const char *name, const char *workload)
{
    struct netaddr a;
    struct k8s_meta meta;

    netaddr_parse(ip, &a);
    if (kind == NULL) {
        CHECK(!k8smap_find(m, &a, &meta));
        return;
    }
    CHECK(k8smap_find(m, &a, &meta));
    CHECK_STR(meta.kind, kind);
    CHECK_STR(meta.namespace_, ns);
    CHECK_STR(meta.name, name);
    CHECK_STR(meta.workload, workload);
}

#define POD(name, ip, okind, oname)                                                                \
    "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"shop\",\"resourceVersion\":\"7\","       \
    "\"ownerReferences\":[{\"kind\":\"" okind "\",\"name\":\"" oname "\",\"controller\":true}]},"  \
    "\"status\":{\"podIP\":\"" ip "\",\"podIPs\":[{\"ip\":\"" ip "\"}]}}"

static void test_lists_and_workloads(void)
{
    struct k8smap *m = k8smap_new(100);

    CHECK_EQ(list(m, K8S_POD,
                  "{\"metadata\":{\"resourceVersion\":\"100\"},\"items\":[" POD(
                      "web-1", "198.18.0.50", "ReplicaSet",
                      "web-7d4b9c") ",{\"metadata\":{\"name\":\"h\",\"namespace\":\"kube\"},"
                                    "\"spec\":{\"hostNetwork\":true},\"status\":{\"podIP\":"
                                    "\"198.18.0.70\"}}]}"),
             K8S_OK);
    CHECK_STR(rv, "100");
    check(m, "198.18.0.50", "pod", "shop", "web-1", "ReplicaSet/web-7d4b9c");
    CHECK_EQ(list(m, K8S_REPLICASET,
                  "{\"metadata\":{\"resourceVersion\":\"3\"},\"items\":[{\"metadata\":{\"name\":"
                  "\"web-7d4b9c\",\"namespace\":\"shop\",\"ownerReferences\":[{\"kind\":"
                  "\"Deployment\",\"name\":\"web\",\"controller\":true}]}}]}"),
             K8S_OK);
    check(m, "198.18.0.50", "pod", "shop", "web-1", "Deployment/web");
    CHECK_EQ(list(m, K8S_SERVICE,
                  "{\"metadata\":{\"resourceVersion\":\"9\"},\"items\":[{\"metadata\":{\"name\":"
                  "\"db\",\"namespace\":\"shop\"},\"spec\":{\"clusterIPs\":[\"198.18.0.60\","
                  "\"2001:db8::60\"]}}]}"),
             K8S_OK);
    check(m, "2001:db8::60", "service", "shop", "db", "");
    CHECK_EQ(list(m, K8S_NODE,
                  "{\"metadata\":{\"resourceVersion\":\"11\"},\"items\":[{\"metadata\":{\"name\":"
                  "\"node-1\"},\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":"
                  "\"198.18.0.70\"},{\"type\":\"Hostname\",\"address\":\"node-1\"}]}}]}"),
             K8S_OK);
    /* The host-network pod shares the node's address, which stays the node's. */
    check(m, "198.18.0.70", "node", "", "node-1", "");
    CHECK_EQ(k8smap_size(m), 4);
    /* A new list replaces everything of its kind. */
    CHECK_EQ(list(m, K8S_SERVICE, "{\"metadata\":{\"resourceVersion\":\"12\"},\"items\":[]}"),
             K8S_OK);
    check(m, "2001:db8::60", NULL, NULL, NULL, NULL);
    CHECK_EQ(list(m, K8S_POD, "{\"items\":5}"), K8S_BAD);
    CHECK_EQ(list(m, K8S_POD, "not json"), K8S_BAD);
    k8smap_free(m);
}

static void test_events(void)
{
    struct k8smap *m = k8smap_new(3);

    CHECK_EQ(event(m, K8S_POD,
                   "{\"type\":\"ADDED\",\"object\":" POD("api-1", "198.18.0.51", "StatefulSet",
                                                         "api") "}"),
             K8S_OK);
    CHECK_STR(rv, "7");
    check(m, "198.18.0.51", "pod", "shop", "api-1", "StatefulSet/api");
    /* MODIFIED with a new IP moves the pod. */
    CHECK_EQ(event(m, K8S_POD,
                   "{\"type\":\"MODIFIED\",\"object\":" POD("api-1", "198.18.0.52", "StatefulSet",
                                                            "api") "}"),
             K8S_OK);
    check(m, "198.18.0.51", NULL, NULL, NULL, NULL);
    check(m, "198.18.0.52", "pod", "shop", "api-1", "StatefulSet/api");
    CHECK_EQ(event(m, K8S_POD,
                   "{\"type\":\"DELETED\",\"object\":" POD("api-1", "198.18.0.52", "StatefulSet",
                                                           "api") "}"),
             K8S_OK);
    check(m, "198.18.0.52", NULL, NULL, NULL, NULL);
    CHECK_EQ(
        event(m, K8S_POD, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410}}"),
        K8S_GONE);
    CHECK_EQ(event(m, K8S_POD, "{\"type\":\"ERROR\",\"object\":{\"code\":500}}"), K8S_BAD);
    CHECK_EQ(event(m, K8S_POD,
                   "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":"
                   "{\"resourceVersion\":\"99\"}}}"),
             K8S_OK);
    CHECK_STR(rv, "99");
    CHECK_EQ(event(m, K8S_POD, "{\"type\":\"EXPLODED\",\"object\":{}}"), K8S_BAD);
    CHECK_EQ(event(m, K8S_POD, "{\"type\":\"ADDED\"}"), K8S_BAD);
    /* The map's bound holds. */
    for (int i = 0; i < 10; i++) {
        char json[512];

        snprintf(json, sizeof(json),
                 "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"p%d\",\"namespace\":"
                 "\"x\"},\"status\":{\"podIP\":\"198.18.1.%d\"}}}",
                 i, i);
        event(m, K8S_POD, json);
    }
    CHECK_EQ(k8smap_size(m), 3);
    k8smap_free(m);
}

int main(void)
{
    RUN(test_lists_and_workloads);
    RUN(test_events);
    return test_report();
}
