/* Kubernetes map tests: lists, watch events, 410 Gone, workloads through ReplicaSets. */
#include "names/k8smap.h"
#include "test.h"

static char rv[64], cont[256];

static enum k8s_result list(struct k8smap *m, enum k8s_kind k, const char *json)
{
    return k8smap_apply_list(m, k, json, strlen(json), true, rv, sizeof(rv), cont, sizeof(cont));
}

static enum k8s_result next_page(struct k8smap *m, enum k8s_kind k, const char *json)
{
    return k8smap_apply_list(m, k, json, strlen(json), false, rv, sizeof(rv), cont, sizeof(cont));
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

/* Values of the wrong type, and strings holding a NUL byte, skip that value or its object;
 * the rest of the list still counts, and nothing crashes. */
static void test_odd_values(void)
{
    struct k8smap *m = k8smap_new(100);

    /* A non-string in clusterIPs once reached netaddr_parse as NULL. */
    CHECK_EQ(list(m, K8S_SERVICE,
                  "{\"metadata\":{\"resourceVersion\":\"5\"},\"items\":[{\"metadata\":{\"name\":"
                  "\"odd\",\"namespace\":\"shop\"},\"spec\":{\"clusterIPs\":[false,null,7,{},"
                  "[\"198.18.0.61\"],\"198.18.0.62\"]}}]}"),
             K8S_OK);
    check(m, "198.18.0.62", "service", "shop", "odd", "");
    CHECK_EQ(k8smap_size(m), 1);
    CHECK_EQ(event(m, K8S_SERVICE,
                   "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"odd2\",\"namespace\":"
                   "\"shop\"},\"spec\":{\"clusterIPs\":[true],\"clusterIP\":false}}}"),
             K8S_OK);
    CHECK_EQ(k8smap_size(m), 1);
    /* One pod with a NUL in its name, one with a NUL in its namespace, one with a NUL in its
     * address, one with a NUL in its owner's name, one whose name is a number: the list is
     * still good, and the good values count. */
    CHECK_EQ(list(m, K8S_POD,
                  "{\"metadata\":{\"resourceVersion\":\"6\"},\"items\":["
                  "{\"metadata\":{\"name\":\"bad\\u0000pod\",\"namespace\":\"shop\"},"
                  "\"status\":{\"podIP\":\"198.18.0.80\"}},"
                  "{\"metadata\":{\"name\":\"nsbad\",\"namespace\":\"sh\\u0000op\"},"
                  "\"status\":{\"podIP\":\"198.18.0.81\"}},"
                  "{\"metadata\":{\"name\":\"ipbad\",\"namespace\":\"shop\"},"
                  "\"status\":{\"podIPs\":[{\"ip\":\"198.18.0.82\\u0000\"},{\"ip\":false},5,"
                  "{\"ip\":\"198.18.0.83\"}]}},"
                  "{\"metadata\":{\"name\":\"ownerbad\",\"namespace\":\"shop\","
                  "\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"x\\u0000\","
                  "\"controller\":true},{\"kind\":7,\"name\":\"y\"}]},"
                  "\"status\":{\"podIP\":\"198.18.0.84\"}},"
                  "{\"metadata\":{\"name\":42,\"namespace\":\"shop\"},"
                  "\"status\":{\"podIP\":\"198.18.0.85\"}}," POD("good", "198.18.0.86",
                                                                 "StatefulSet", "db") "]}"),
             K8S_OK);
    CHECK_STR(rv, "6");
    check(m, "198.18.0.80", NULL, NULL, NULL, NULL);
    check(m, "198.18.0.81", NULL, NULL, NULL, NULL);
    check(m, "198.18.0.82", NULL, NULL, NULL, NULL);
    check(m, "198.18.0.83", "pod", "shop", "ipbad", "");
    check(m, "198.18.0.84", "pod", "shop", "ownerbad", "");
    check(m, "198.18.0.85", NULL, NULL, NULL, NULL);
    check(m, "198.18.0.86", "pod", "shop", "good", "StatefulSet/db");
    /* A NUL in the resourceVersion is no version; in an event's type, a bad event. */
    CHECK_EQ(list(m, K8S_NODE,
                  "{\"metadata\":{\"resourceVersion\":\"1\\u00002\"},\"items\":[{\"metadata\":"
                  "{\"name\":\"n\"},\"status\":{\"addresses\":[{\"type\":\"InternalIP\","
                  "\"address\":[]},{\"type\":[],\"address\":\"198.18.0.90\"}]}}]}"),
             K8S_OK);
    CHECK_STR(rv, "");
    check(m, "198.18.0.90", NULL, NULL, NULL, NULL);
    CHECK_EQ(
        event(m, K8S_POD,
              "{\"type\":\"ADD\\u0000ED\",\"object\":" POD("p", "198.18.0.87", "Job", "j") "}"),
        K8S_BAD);
    check(m, "198.18.0.87", NULL, NULL, NULL, NULL);
    /* DELETED with a bad name deletes nothing. */
    CHECK_EQ(event(m, K8S_POD,
                   "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"good\\u0000\","
                   "\"namespace\":\"shop\"}}}"),
             K8S_OK);
    check(m, "198.18.0.86", "pod", "shop", "good", "StatefulSet/db");
    k8smap_free(m);
}

/* A list in pages: the old list answers until the last page (no continue token) is in, then
 * is replaced; a full map makes room from the old list's entries; past that, addresses are
 * counted, not kept. */
static void test_pages_and_cap(void)
{
    struct k8smap *m = k8smap_new(3);
    struct netaddr a;
    struct k8s_meta meta;

    CHECK_EQ(list(m, K8S_POD,
                  "{\"metadata\":{\"resourceVersion\":\"5\"},\"items\":[{\"metadata\":{\"name\":"
                  "\"old\",\"namespace\":\"a\"},\"status\":{\"podIP\":\"198.18.0.9\"}}]}"),
             K8S_OK);
    CHECK_STR(cont, "");
    CHECK_EQ(list(m, K8S_POD,
                  "{\"metadata\":{\"resourceVersion\":\"7\",\"continue\":\"tok-1\"},\"items\":"
                  "[{\"metadata\":{\"name\":\"p1\",\"namespace\":\"a\"},\"status\":{\"podIP\":"
                  "\"198.18.0.1\"}},{\"metadata\":{\"name\":\"p2\",\"namespace\":\"a\"},"
                  "\"status\":{\"podIP\":\"198.18.0.2\"}}]}"),
             K8S_OK);
    CHECK_STR(cont, "tok-1");
    CHECK_STR(rv, "7");
    netaddr_parse("198.18.0.9", &a);
    CHECK(k8smap_find(m, &a, &meta)); /* the old list answers until the new one is complete */
    CHECK_EQ(next_page(m, K8S_POD,
                       "{\"metadata\":{\"resourceVersion\":\"7\"},\"items\":[{\"metadata\":{"
                       "\"name\":\"p3\",\"namespace\":\"a\"},\"status\":{\"podIP\":\"198.18.0.3\"}"
                       "},{\"metadata\":{\"name\":\"p4\",\"namespace\":\"a\"},\"status\":{"
                       "\"podIP\":\"198.18.0.4\"}}]}"),
             K8S_OK);
    CHECK_STR(cont, "");
    netaddr_parse("198.18.0.1", &a);
    CHECK(k8smap_find(m, &a, &meta)); /* the second page added to the first */
    netaddr_parse("198.18.0.3", &a);
    CHECK(k8smap_find(m, &a, &meta)); /* took the room of the old entry, full map */
    netaddr_parse("198.18.0.9", &a);
    CHECK(!k8smap_find(m, &a, &meta)); /* the complete list replaced the old one */
    CHECK_EQ(k8smap_size(m), 3);
    CHECK_EQ(k8smap_dropped(m), 1); /* p4: the map holds 3 */
    k8smap_free(m);
}

/* JSON with ' for ", so the fixtures below stay readable. */
static const char *js(const char *text)
{
    static char out[8192];
    size_t i;

    for (i = 0; text[i] != '\0' && i + 1 < sizeof(out); i++)
        out[i] = text[i] == '\'' ? '"' : text[i];
    out[i] = '\0';
    return out;
}

#define NODE(name, ip, zone, region)                                                               \
    "{'metadata':{'name':'" name "','labels':{'topology.kubernetes.io/zone':'" zone "',"           \
    "'topology.kubernetes.io/region':'" region "'}},"                                              \
    "'status':{'addresses':[{'type':'InternalIP','address':'" ip "'}]}}"
#define ZPOD(name, ip, node)                                                                       \
    "{'metadata':{'name':'" name "','namespace':'shop'},'spec':{'nodeName':'" node "'},"           \
    "'status':{'podIP':'" ip "'}}"
#define SVC(name, ip)                                                                              \
    "{'metadata':{'name':'" name "','namespace':'shop'},'spec':{'clusterIP':'" ip "'}}"
#define SLICE(name, svc, eps)                                                                      \
    "{'metadata':{'name':'" name                                                                   \
    "','namespace':'shop','labels':{'kubernetes.io/service-name':'" svc                            \
    "'}},'addressType':'IPv4','endpoints':[" eps "]}"
#define EP(ip, node, zone, ready)                                                                  \
    "{'addresses':['" ip "'],'conditions':{'ready':" ready "},'nodeName':'" node "','zone':'" zone \
    "'}"
#define HINTED(ip, zone, hint)                                                                     \
    "{'addresses':['" ip "'],'zone':'" zone "','hints':{'forZones':[{'name':'" hint "'}]}}"

static const char *class_of(struct k8smap *m, const char *ip)
{
    struct netaddr a;
    struct k8s_meta meta;

    netaddr_parse(ip, &a);
    return k8smap_find(m, &a, &meta) ? traffic_class_name(meta.cls) : "(none)";
}

static struct k8smap *zoned_map(void)
{
    struct k8smap *m = k8smap_new(100);

    list(m, K8S_NODE,
         js("{'items':[" NODE("node-1", "198.18.1.1", "a", "r1") "," NODE(
             "node-2", "198.18.1.2", "b", "r1") "," NODE("node-3", "198.18.1.3", "c",
                                                         "r2") "," NODE("node-5", "198.18.1.5", "a",
                                                                        "r1") "]}"));
    list(m, K8S_POD,
         js("{'items':[" ZPOD("web-1", "198.18.2.1", "node-1") "," ZPOD(
             "db-1", "198.18.2.2",
             "node-1") "," ZPOD("db-2", "198.18.2.3",
                                "node-2") "," ZPOD("db-3", "198.18.2.4",
                                                   "node-3") "," ZPOD("db-4", "198.18.2.5",
                                                                      "node-4") "," ZPOD("db-5",
                                                                                         "198."
                                                                                         "18.2."
                                                                                         "6",
                                                                                         "node-"
                                                                                         "5") "]"
                                                                                              "}"));
    list(m, K8S_SERVICE,
         js("{'items':[" SVC("one", "198.18.3.1") "," SVC("two", "198.18.3.2") "," SVC(
             "hinted", "198.18.3.3") "," SVC("none", "198.18.3.4") "]}"));
    list(
        m, K8S_ENDPOINTSLICE,
        js("{'items':[" SLICE("one-x", "one", EP("198.18.2.6", "node-5", "a", "true") "," EP("198.18.2.3", "node-2", "b", "false")) "," SLICE(
            "two-x", "two",
            EP("198.18.2.6", "node-5", "a",
               "true")) "," SLICE("two-y", "two",
                                  EP("198.18.2.3", "node-2", "b",
                                     "null")) "," SLICE("hinted-x", "hinted",
                                                        HINTED("198.18.2.6", "a", "a") "," HINTED(
                                                            "198.18.2.3", "b",
                                                            "b")) "," SLICE("none-x", "none",
                                                                            EP("198.18.2.3",
                                                                               "node-2", "b",
                                                                               "false")) "]}"));
    return m;
}

static void test_zones(void)
{
    struct k8smap *m = zoned_map();
    struct k8s_self self = {"shop", "web-1", NULL, NULL, NULL};
    struct netaddr a;
    struct k8s_meta meta;
    struct place here;

    /* The own node from the own pod's nodeName; zone and region from that node. */
    k8smap_set_self(m, &self);
    k8smap_self_place(m, &here);
    CHECK_STR(here.node, "node-1");
    CHECK_STR(here.zone, "a");
    CHECK_STR(here.region, "r1");
    CHECK_STR(class_of(m, "198.18.2.2"), "same-node");
    CHECK_STR(class_of(m, "198.18.1.1"), "same-node");
    CHECK_STR(class_of(m, "198.18.2.6"), "same-zone");
    CHECK_STR(class_of(m, "198.18.1.5"), "same-zone");
    CHECK_STR(class_of(m, "198.18.2.3"), "cross-zone");
    CHECK_STR(class_of(m, "198.18.2.4"), "cross-region");
    CHECK_STR(class_of(m, "198.18.2.5"), "unknown"); /* its node is not known */
    /* Services: unready endpoints do not count; null readiness is ready. */
    CHECK_STR(class_of(m, "198.18.3.1"), "same-zone");
    CHECK_STR(class_of(m, "198.18.3.2"), "mixed");
    netaddr_parse("198.18.3.2", &a);
    CHECK(k8smap_find(m, &a, &meta) && meta.endpoints != NULL);
    CHECK_EQ(meta.endpoints->n[TC_SAME_ZONE], 1);
    CHECK_EQ(meta.endpoints->n[TC_CROSS_ZONE], 1);
    /* Topology hints: this zone's endpoints only. */
    CHECK_STR(class_of(m, "198.18.3.3"), "same-zone");
    CHECK_STR(class_of(m, "198.18.3.4"), "unknown");

    /* A zone given by flag wins over the node's label. */
    self.zone = "b";
    k8smap_set_self(m, &self);
    CHECK_STR(class_of(m, "198.18.2.3"), "same-zone");
    CHECK_STR(class_of(m, "198.18.2.6"), "cross-zone");
    CHECK_STR(class_of(m, "198.18.3.3"), "same-zone"); /* now the zone-b endpoint */

    /* A node's labels change: its pods' classes follow. */
    self.zone = NULL;
    k8smap_set_self(m, &self);
    CHECK_EQ(event(m, K8S_NODE,
                   js("{'type':'MODIFIED','object':" NODE("node-2", "198.18.1.2", "a", "r1") "}")),
             K8S_OK);
    CHECK_STR(class_of(m, "198.18.2.3"), "same-zone");
    /* An endpoint's own zone field is the slice's word until the slice changes. */
    CHECK_STR(class_of(m, "198.18.3.2"), "mixed");
    /* A list of slices in pages: a slice named again is counted once meanwhile. */
    CHECK_EQ(list(m, K8S_ENDPOINTSLICE,
                  js("{'metadata':{'continue':'p2'},'items':[" SLICE(
                      "two-x", "two", EP("198.18.2.6", "node-5", "a", "true")) "]}")),
             K8S_OK);
    netaddr_parse("198.18.3.2", &a);
    CHECK(k8smap_find(m, &a, &meta) && meta.endpoints != NULL);
    CHECK_EQ(meta.endpoints->n[TC_SAME_ZONE], 1);
    CHECK_EQ(next_page(m, K8S_ENDPOINTSLICE,
                       js("{'items':[" SLICE(
                           "one-x", "one",
                           EP("198.18.2.6", "node-5", "a",
                              "true")) "," SLICE("two-y", "two",
                                                 EP("198.18.2.3", "node-2", "b", "null")) "]}")),
             K8S_OK);
    CHECK(k8smap_find(m, &a, &meta) && meta.endpoints != NULL);
    CHECK_EQ(meta.endpoints->n[TC_SAME_ZONE], 1);
    /* Zone b's region: no node is in zone b any more, so not known. */
    CHECK_EQ(meta.endpoints->n[TC_UNKNOWN], 1);
    /* A slice deleted: its endpoints go. */
    CHECK_EQ(event(m, K8S_ENDPOINTSLICE,
                   js("{'type':'DELETED','object':{'metadata':{'name':'one-x','namespace':"
                      "'shop'}}}")),
             K8S_OK);
    CHECK_STR(class_of(m, "198.18.3.1"), "unknown");
    k8smap_free(m);
}

int main(void)
{
    RUN(test_pages_and_cap);
    RUN(test_lists_and_workloads);
    RUN(test_events);
    RUN(test_odd_values);
    RUN(test_zones);
    return test_report();
}
