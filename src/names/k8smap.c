/* The Kubernetes address map. Entries are kept in a flat array (objects rarely exceed a few
 * thousand per sidecar scope; the DaemonSet mode is the place for whole clusters), searched
 * linearly on events and by address on lookups. Places and classes are resolved once per
 * change, when the first lookup after it rebuilds the indexes, never per lookup. JSON through
 * jansson, every field checked: a value of the wrong type, or a string holding a NUL byte, skips
 * that value (or its object), never the whole list. */
#include "k8smap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* Zones whose region is learned from nodes; more are rare (a region has a handful). */
#define K8S_ZONES_MAX 256

struct entry {
    struct netaddr addr;
    uint8_t kind;
    bool stale;  /* from the list before the one being read: dropped when it completes */
    uint8_t cls; /* resolved by reindex */
    char namespace_[K8S_STR_MAX];
    char name[K8S_STR_MAX];
    char owner_kind[32];
    char owner[K8S_STR_MAX];
    char node[K8S_STR_MAX]; /* pods: spec.nodeName; nodes: their own name */
    char zone[K8S_LABEL_MAX];
    char region[K8S_LABEL_MAX];
    struct endpoint_counts endpoints; /* services, resolved by reindex */
    const char *where;                /* its zone, resolved by reindex; "" when not one */
};

/* One endpoint of an EndpointSlice, as kube-proxy chooses among them. */
struct slice_endpoint {
    bool ready;
    uint8_t n_hints; /* zones of hints.forZones kept; 0 when the endpoint has no hints */
    char node[K8S_STR_MAX];
    char zone[K8S_LABEL_MAX];
    char hints[K8S_HINTS_MAX][K8S_LABEL_MAX];
};

struct slice {
    bool stale;
    char namespace_[K8S_STR_MAX];
    char name[K8S_STR_MAX];
    char service[K8S_STR_MAX]; /* its kubernetes.io/service-name label */
    struct slice_endpoint *eps;
    size_t n_eps;
};

struct replicaset {
    bool stale;
    char namespace_[K8S_STR_MAX];
    char name[K8S_STR_MAX];
    char deployment[K8S_STR_MAX];
};

struct k8smap {
    struct entry *entries;
    size_t n, max;
    uint64_t dropped; /* addresses not kept: the map was full */
    uint32_t *index;  /* address hash → entry + 1, rebuilt after changes */
    size_t index_mask;
    bool dirty;
    struct replicaset *rs;
    size_t n_rs, max_rs;
    struct slice *slices;
    size_t n_slices, max_slices;
    size_t n_slice_eps;    /* endpoints held by all slices, at most max */
    uint32_t *names;       /* (kind, namespace, name) hash → node or service entry + 1 */
    uint32_t *slice_index; /* (namespace, service) hash → slice + 1 */
    size_t slice_mask;
    char self_ns[K8S_STR_MAX], self_pod[K8S_STR_MAX], self_node[K8S_STR_MAX];
    char self_zone[K8S_LABEL_MAX], self_region[K8S_LABEL_MAX];
    struct place here; /* the own place resolved by reindex */
    /* The region of each zone some node is in, for endpoints and pods whose node is not
     * known: resolved by reindex. */
    struct {
        const char *zone, *region;
    } zones[K8S_ZONES_MAX];
    size_t n_zones;
    char workload[2 * K8S_STR_MAX];
    uint64_t version; /* k8smap_version */
};

static const char *const kind_names[K8S_KINDS] = {"pod", "service", "node", "replicaset",
                                                  "endpointslice"};
static const char *const kind_paths[K8S_KINDS] = {"pods", "services", "nodes", "replicasets",
                                                  "endpointslices"};
static const char *const kind_groups[K8S_KINDS] = {"/api/v1", "/api/v1", "/api/v1", "/apis/apps/v1",
                                                   "/apis/discovery.k8s.io/v1"};

const char *k8s_kind_path(enum k8s_kind kind)
{
    return kind_paths[kind];
}

const char *k8s_kind_group(enum k8s_kind kind)
{
    return kind_groups[kind];
}

struct k8smap *k8smap_new(size_t max_addresses)
{
    struct k8smap *m = xcalloc(1, sizeof(*m));

    m->max = max_addresses;
    m->max_rs = max_addresses;
    m->entries = xcalloc(m->max ? m->max : 1, sizeof(*m->entries));
    m->index_mask = 15;
    while (m->index_mask + 1 < 2 * m->max)
        m->index_mask = m->index_mask * 2 + 1;
    m->index = xcalloc(m->index_mask + 1, sizeof(*m->index));
    m->names = xcalloc(m->index_mask + 1, sizeof(*m->names));
    m->rs = xcalloc(m->max_rs ? m->max_rs : 1, sizeof(*m->rs));
    m->max_slices = max_addresses;
    m->slices = xcalloc(m->max_slices ? m->max_slices : 1, sizeof(*m->slices));
    m->slice_mask = m->index_mask;
    m->slice_index = xcalloc(m->slice_mask + 1, sizeof(*m->slice_index));
    m->here.node = m->here.zone = m->here.region = "";
    return m;
}

void k8smap_free(struct k8smap *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_slices; i++)
        free(m->slices[i].eps);
    free(m->entries);
    free(m->index);
    free(m->names);
    free(m->rs);
    free(m->slices);
    free(m->slice_index);
    free(m);
}

static void copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

/* v's text, or NULL when v is not a string or holds a NUL byte (decoded with JSON_ALLOW_NUL,
 * so that such a string fails its own field, not the whole document). */
static const char *text(const json_t *v)
{
    const char *s = json_string_value(v);

    return s != NULL && strlen(s) == json_string_length(v) ? s : NULL;
}

/* obj[key]'s text: "" when absent or null, NULL when present but not valid text. */
static const char *field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return v == NULL || json_is_null(v) ? "" : text(v);
}

/* obj[key]'s text, or "" when it is absent or not valid text. */
static const char *str(json_t *obj, const char *key)
{
    const char *s = field(obj, key);

    return s ? s : "";
}

static void drop_slice(struct k8smap *m, size_t i)
{
    size_t last = --m->n_slices;

    m->n_slice_eps -= m->slices[i].n_eps;
    free(m->slices[i].eps);
    if (i != last)
        m->slices[i] = m->slices[last];
    memset(&m->slices[last], 0, sizeof(m->slices[last]));
    m->dirty = true;
}

/* Removes every entry of one object (kind, namespace, name). */
static void forget(struct k8smap *m, enum k8s_kind kind, const char *ns, const char *name)
{
    if (kind == K8S_ENDPOINTSLICE) {
        for (size_t i = 0; i < m->n_slices;) {
            if (strcmp(m->slices[i].namespace_, ns) == 0 && strcmp(m->slices[i].name, name) == 0)
                drop_slice(m, i);
            else
                i++;
        }
        return;
    }
    if (kind == K8S_REPLICASET) {
        for (size_t i = 0; i < m->n_rs;) {
            if (strcmp(m->rs[i].namespace_, ns) == 0 && strcmp(m->rs[i].name, name) == 0)
                m->rs[i] = m->rs[--m->n_rs];
            else
                i++;
        }
        return;
    }
    for (size_t i = 0; i < m->n;) {
        struct entry *e = &m->entries[i];

        if (e->kind == kind && strcmp(e->namespace_, ns) == 0 && strcmp(e->name, name) == 0) {
            *e = m->entries[--m->n];
            m->dirty = true;
        } else
            i++;
    }
}

/* A list of kind begins: what is known of it stays in use (stale) until the last page is in,
 * so a list that fails halfway leaves the names as they were. */
static void mark_stale(struct k8smap *m, enum k8s_kind kind)
{
    if (kind == K8S_ENDPOINTSLICE) {
        for (size_t i = 0; i < m->n_slices; i++)
            m->slices[i].stale = true;
        return;
    }
    if (kind == K8S_REPLICASET) {
        for (size_t i = 0; i < m->n_rs; i++)
            m->rs[i].stale = true;
        return;
    }
    for (size_t i = 0; i < m->n; i++)
        if (m->entries[i].kind == kind)
            m->entries[i].stale = true;
}

/* The list is complete: what it did not name again goes. */
static void drop_stale(struct k8smap *m, enum k8s_kind kind)
{
    if (kind == K8S_ENDPOINTSLICE) {
        for (size_t i = 0; i < m->n_slices;) {
            if (m->slices[i].stale)
                drop_slice(m, i);
            else
                i++;
        }
        return;
    }
    if (kind == K8S_REPLICASET) {
        for (size_t i = 0; i < m->n_rs;) {
            if (m->rs[i].stale)
                m->rs[i] = m->rs[--m->n_rs];
            else
                i++;
        }
        return;
    }
    for (size_t i = 0; i < m->n;) {
        if (m->entries[i].kind == kind && m->entries[i].stale) {
            m->entries[i] = m->entries[--m->n];
            m->dirty = true;
        } else
            i++;
    }
}

/* The map is full while a list is read: makes room by dropping one stale entry of kind, the
 * list's own leftovers. Returns false if there is none. */
static bool reclaim_stale(struct k8smap *m, enum k8s_kind kind)
{
    for (size_t i = m->n; i-- > 0;)
        if (m->entries[i].kind == kind && m->entries[i].stale) {
            m->entries[i] = m->entries[--m->n];
            m->dirty = true;
            return true;
        }
    return false;
}

/* What an object says of itself, copied into the entry of each of its addresses. */
struct object {
    enum k8s_kind kind;
    const char *ns, *name, *owner_kind, *owner, *node, *zone, *region;
};

/* fresh: part of a list, so no search is needed (a stale entry for the same address may stay
 * until the list completes). ip NULL (not valid text) adds nothing. */
static void add_address(struct k8smap *m, bool fresh, const struct object *o, const char *ip)
{
    struct netaddr a;
    struct entry *e;

    if (ip == NULL || netaddr_parse(ip, &a) == -1)
        return;
    if (m->n == m->max && !reclaim_stale(m, o->kind)) {
        m->dropped++;
        return;
    }
    /* One address, one identity: the newest wins. Lists skip the search (a list of n objects
     * must not cost n² comparisons); the entries they replace are dropped when they end. */
    if (!fresh) {
        for (size_t i = 0; i < m->n; i++)
            if (netaddr_equal(&m->entries[i].addr, &a)) {
                m->entries[i] = m->entries[--m->n];
                break;
            }
    }
    e = &m->entries[m->n++];
    m->dirty = true;
    memset(e, 0, sizeof(*e));
    e->addr = a;
    e->kind = (uint8_t)o->kind;
    copy(e->namespace_, sizeof(e->namespace_), o->ns);
    copy(e->name, sizeof(e->name), o->name);
    copy(e->owner_kind, sizeof(e->owner_kind), o->owner_kind);
    copy(e->owner, sizeof(e->owner), o->owner);
    copy(e->node, sizeof(e->node), o->node);
    copy(e->zone, sizeof(e->zone), o->zone);
    copy(e->region, sizeof(e->region), o->region);
}

/* The well-known topology labels of an object (nodes; pods where the cluster copies them),
 * with the deprecated beta labels as a fallback. */
static void topology_labels(json_t *meta, const char **zone, const char **region)
{
    json_t *labels = json_object_get(meta, "labels");

    *zone = str(labels, "topology.kubernetes.io/zone");
    if ((*zone)[0] == '\0')
        *zone = str(labels, "failure-domain.beta.kubernetes.io/zone");
    *region = str(labels, "topology.kubernetes.io/region");
    if ((*region)[0] == '\0')
        *region = str(labels, "failure-domain.beta.kubernetes.io/region");
}

/* The map is full while a slice list is read: drops one stale slice. */
static bool reclaim_stale_slice(struct k8smap *m)
{
    for (size_t i = m->n_slices; i-- > 0;)
        if (m->slices[i].stale) {
            drop_slice(m, i);
            return true;
        }
    return false;
}

/* An EndpointSlice of a Service: its endpoints' readiness, nodes, zones and topology hints.
 * Slices of no Service (no kubernetes.io/service-name label) route nothing and are skipped. */
static void add_slice(struct k8smap *m, const char *ns, const char *name, json_t *meta, json_t *obj)
{
    json_t *eps = json_object_get(obj, "endpoints"), *ep;
    const char *service = str(json_object_get(meta, "labels"), "kubernetes.io/service-name");
    size_t n = json_array_size(eps), i;
    struct slice *sl;

    if (service[0] == '\0')
        return;
    while ((m->n_slices == m->max_slices || m->n_slice_eps + n > m->max) && reclaim_stale_slice(m))
        ;
    if (m->n_slices == m->max_slices || m->n_slice_eps + n > m->max) {
        m->dropped += n ? n : 1;
        return;
    }
    sl = &m->slices[m->n_slices++];
    memset(sl, 0, sizeof(*sl));
    copy(sl->namespace_, sizeof(sl->namespace_), ns);
    copy(sl->name, sizeof(sl->name), name);
    copy(sl->service, sizeof(sl->service), service);
    sl->eps = xcalloc(n ? n : 1, sizeof(*sl->eps));
    json_array_foreach(eps, i, ep)
    {
        struct slice_endpoint *e = &sl->eps[sl->n_eps];
        json_t *ready = json_object_get(json_object_get(ep, "conditions"), "ready");
        json_t *hints = json_object_get(json_object_get(ep, "hints"), "forZones"), *h;
        size_t j;

        if (!json_is_object(ep))
            continue;
        /* An unknown readiness is ready, as the API tells consumers to read it. */
        e->ready = ready == NULL || json_is_null(ready) || json_is_true(ready);
        copy(e->node, sizeof(e->node), str(ep, "nodeName"));
        copy(e->zone, sizeof(e->zone), str(ep, "zone"));
        json_array_foreach(hints, j, h)
        {
            const char *zone = str(h, "name");

            if (e->n_hints < K8S_HINTS_MAX && zone[0] != '\0')
                copy(e->hints[e->n_hints++], sizeof(e->hints[0]), zone);
        }
        sl->n_eps++;
    }
    m->n_slice_eps += sl->n_eps;
    m->dirty = true;
}

/* The first controller owner reference of an object, if any; references whose kind or name
 * is not valid text are skipped. */
static void controller(json_t *meta, const char **kind, const char **name)
{
    json_t *refs = json_object_get(meta, "ownerReferences"), *ref;
    size_t i;

    *kind = *name = "";
    json_array_foreach(refs, i, ref)
    {
        const char *k = field(ref, "kind"), *n = field(ref, "name");

        if (json_is_object(ref) && k != NULL && n != NULL) {
            *kind = k;
            *name = n;
            if (json_is_true(json_object_get(ref, "controller")))
                return;
        }
    }
}

/* Adds an object's addresses (after forgetting its old ones). */
static void add_object(struct k8smap *m, bool fresh, enum k8s_kind kind, json_t *obj)
{
    json_t *meta = json_object_get(obj, "metadata");
    json_t *spec = json_object_get(obj, "spec");
    json_t *status = json_object_get(obj, "status");
    struct object o = {.kind = kind, .owner_kind = "", .owner = "", .node = ""};
    json_t *list, *item;
    size_t i;

    o.ns = field(meta, "namespace");
    o.name = field(meta, "name");
    /* Without a valid name and namespace the object cannot be told apart from others. */
    if (!json_is_object(meta) || o.ns == NULL || o.name == NULL || o.name[0] == '\0')
        return;
    if (!fresh)
        forget(m, kind, o.ns, o.name);
    topology_labels(meta, &o.zone, &o.region);
    switch (kind) {
    case K8S_POD:
        /* Host-network pods share the node's address; that address is the node's. */
        if (json_is_true(json_object_get(spec, "hostNetwork")))
            return;
        controller(meta, &o.owner_kind, &o.owner);
        o.node = str(spec, "nodeName");
        list = json_object_get(status, "podIPs");
        json_array_foreach(list, i, item)
        {
            add_address(m, fresh, &o, field(item, "ip"));
        }
        if (json_array_size(list) == 0)
            add_address(m, fresh, &o, field(status, "podIP"));
        break;
    case K8S_SERVICE:
        list = json_object_get(spec, "clusterIPs");
        json_array_foreach(list, i, item)
        {
            add_address(m, fresh, &o, text(item));
        }
        if (json_array_size(list) == 0)
            add_address(m, fresh, &o, field(spec, "clusterIP"));
        break;
    case K8S_NODE:
        o.ns = "";
        o.node = o.name;
        list = json_object_get(status, "addresses");
        json_array_foreach(list, i, item)
        {
            const char *type = str(item, "type");

            if (strcmp(type, "InternalIP") == 0 || strcmp(type, "ExternalIP") == 0)
                add_address(m, fresh, &o, field(item, "address"));
        }
        break;
    case K8S_REPLICASET:
        controller(meta, &o.owner_kind, &o.owner);
        if (strcmp(o.owner_kind, "Deployment") == 0 && m->n_rs == m->max_rs) {
            for (size_t j = m->n_rs; j-- > 0;)
                if (m->rs[j].stale) {
                    m->rs[j] = m->rs[--m->n_rs];
                    break;
                }
        }
        if (strcmp(o.owner_kind, "Deployment") == 0 && m->n_rs < m->max_rs) {
            struct replicaset *r = &m->rs[m->n_rs++];

            r->stale = false;
            copy(r->namespace_, sizeof(r->namespace_), o.ns);
            copy(r->name, sizeof(r->name), o.name);
            copy(r->deployment, sizeof(r->deployment), o.owner);
        }
        break;
    case K8S_ENDPOINTSLICE:
        add_slice(m, o.ns, o.name, meta, obj);
        break;
    case K8S_KINDS:
        break;
    }
}

static json_t *load(const char *json, size_t len)
{
    json_error_t err;

    /* JSON_ALLOW_NUL: a "\u0000" in one string is that value's problem (see text()), not a
     * reason to throw away, and fetch again, a whole list. */
    return json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
}

enum k8s_result k8smap_apply_list(struct k8smap *m, enum k8s_kind kind, const char *json,
                                  size_t len, bool first, char *rv, size_t rvlen, char *cont,
                                  size_t contlen)
{
    json_t *root = load(json, len), *items, *item;
    size_t i;

    m->version++;
    if (root == NULL || !json_is_array(items = json_object_get(root, "items"))) {
        json_decref(root);
        return K8S_BAD;
    }
    if (first)
        mark_stale(m, kind);
    json_array_foreach(items, i, item)
    {
        if (json_is_object(item))
            add_object(m, true, kind, item);
    }
    copy(rv, rvlen, str(json_object_get(root, "metadata"), "resourceVersion"));
    copy(cont, contlen, str(json_object_get(root, "metadata"), "continue"));
    if (cont[0] == '\0')
        drop_stale(m, kind);
    json_decref(root);
    return K8S_OK;
}

enum k8s_result k8smap_apply_event(struct k8smap *m, enum k8s_kind kind, const char *json,
                                   size_t len, char *rv, size_t rvlen)
{
    json_t *root = load(json, len), *obj;
    const char *type, *obj_rv;
    enum k8s_result result = K8S_OK;

    m->version++;
    if (root == NULL) {
        return K8S_BAD;
    }
    type = str(root, "type");
    obj = json_object_get(root, "object");
    if (!json_is_object(obj)) {
        json_decref(root);
        return K8S_BAD;
    }
    if (strcmp(type, "ERROR") == 0) {
        result = json_integer_value(json_object_get(obj, "code")) == 410 ? K8S_GONE : K8S_BAD;
        json_decref(root);
        return result;
    }
    if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
        add_object(m, false, kind, obj);
    } else if (strcmp(type, "DELETED") == 0) {
        json_t *meta = json_object_get(obj, "metadata");
        const char *ns = field(meta, "namespace"), *name = field(meta, "name");

        if (ns != NULL && name != NULL)
            forget(m, kind, ns, name);
    } else if (strcmp(type, "BOOKMARK") != 0) {
        result = K8S_BAD;
    }
    obj_rv = str(json_object_get(obj, "metadata"), "resourceVersion");
    if (result == K8S_OK && obj_rv[0] != '\0')
        copy(rv, rvlen, obj_rv);
    json_decref(root);
    return result;
}

static size_t slot_of(const struct k8smap *m, const struct netaddr *a)
{
    return (size_t)(netaddr_mix(a, 0) >> 32) & m->index_mask;
}

/* FNV-1a over the kind and two strings: an internal index over the API's names. */
static uint64_t name_hash(unsigned kind, const char *ns, const char *name)
{
    uint64_t h = 14695981039346656037u ^ kind;

    for (const char *p = ns; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211u;
    h = (h ^ 0xff) * 1099511628211u;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211u;
    return h;
}

static void index_names(struct k8smap *m)
{
    memset(m->names, 0, (m->index_mask + 1) * sizeof(*m->names));
    for (size_t i = 0; i < m->n; i++) {
        const struct entry *e = &m->entries[i];
        size_t s;

        if (e->kind != K8S_NODE && e->kind != K8S_SERVICE)
            continue;
        s = (size_t)name_hash(e->kind, e->namespace_, e->name) & m->index_mask;
        while (m->names[s] != 0)
            s = (s + 1) & m->index_mask;
        m->names[s] = (uint32_t)i + 1;
    }
    memset(m->slice_index, 0, (m->slice_mask + 1) * sizeof(*m->slice_index));
    for (size_t i = 0; i < m->n_slices; i++) {
        const struct slice *sl = &m->slices[i];
        size_t s =
            (size_t)name_hash(K8S_ENDPOINTSLICE, sl->namespace_, sl->service) & m->slice_mask;

        while (m->slice_index[s] != 0)
            s = (s + 1) & m->slice_mask;
        m->slice_index[s] = (uint32_t)i + 1;
    }
}

/* A node's entry (any of its addresses) by name, or NULL. */
static const struct entry *node_named(const struct k8smap *m, const char *name)
{
    if (name[0] == '\0')
        return NULL;
    for (size_t s = (size_t)name_hash(K8S_NODE, "", name) & m->index_mask; m->names[s] != 0;
         s = (s + 1) & m->index_mask) {
        const struct entry *e = &m->entries[m->names[s] - 1];

        if (e->kind == K8S_NODE && strcmp(e->name, name) == 0)
            return e;
    }
    return NULL;
}

/* The zones nodes are in, with their regions. */
static void index_zones(struct k8smap *m)
{
    m->n_zones = 0;
    for (size_t i = 0; i < m->n; i++) {
        const struct entry *e = &m->entries[i];
        size_t z;

        if (e->kind != K8S_NODE || e->zone[0] == '\0' || e->region[0] == '\0')
            continue;
        for (z = 0; z < m->n_zones && strcmp(m->zones[z].zone, e->zone) != 0; z++)
            ;
        if (z == m->n_zones && z < K8S_ZONES_MAX) {
            m->zones[z].zone = e->zone;
            m->zones[z].region = e->region;
            m->n_zones++;
        }
    }
}

/* The region of a zone some node is in, or "". */
static const char *region_of_zone(const struct k8smap *m, const char *zone)
{
    for (size_t z = 0; z < m->n_zones && zone[0] != '\0'; z++)
        if (strcmp(m->zones[z].zone, zone) == 0)
            return m->zones[z].region;
    return "";
}

/* A place from a node name and what its object says: the node's labels first; a region
 * left unknown is the one the zone's nodes are in. */
static struct place place_at(const struct k8smap *m, const char *node, const char *zone,
                             const char *region)
{
    const struct entry *n = node_named(m, node);
    struct place p = {.node = node, .zone = zone, .region = region};

    if (n != NULL && n->zone[0] != '\0')
        p.zone = n->zone;
    if (n != NULL && n->region[0] != '\0')
        p.region = n->region;
    if (p.region[0] == '\0')
        p.region = region_of_zone(m, p.zone);
    return p;
}

/* The own place: flags first, then the own node's labels, then the own pod's. */
static void resolve_here(struct k8smap *m)
{
    const struct entry *pod = NULL, *node;

    for (size_t i = 0; i < m->n && m->self_pod[0] != '\0'; i++)
        if (m->entries[i].kind == K8S_POD && strcmp(m->entries[i].name, m->self_pod) == 0 &&
            strcmp(m->entries[i].namespace_, m->self_ns) == 0) {
            pod = &m->entries[i];
            break;
        }
    m->here.node = m->self_node[0] != '\0' ? m->self_node : pod != NULL ? pod->node : "";
    node = node_named(m, m->here.node);
    m->here.zone = m->self_zone[0] != '\0'         ? m->self_zone
                   : node != NULL && node->zone[0] ? node->zone
                   : pod != NULL                   ? pod->zone
                                                   : "";
    m->here.region = m->self_region[0] != '\0'         ? m->self_region
                     : node != NULL && node->region[0] ? node->region
                     : pod != NULL                     ? pod->region
                                                       : "";
    if (m->here.region[0] == '\0')
        m->here.region = region_of_zone(m, m->here.zone);
}

static bool hinted_for(const struct slice_endpoint *e, const char *zone)
{
    for (unsigned i = 0; i < e->n_hints; i++)
        if (strcmp(e->hints[i], zone) == 0)
            return true;
    return false;
}

/* True if a slice of the Service at the chain from slot first, other than stale, is a fresh
 * copy of it: while a list is read, a slice it named again is there twice until it ends. */
static bool replaced(const struct k8smap *m, size_t first, const struct slice *stale)
{
    for (size_t s = first; m->slice_index[s] != 0; s = (s + 1) & m->slice_mask) {
        const struct slice *sl = &m->slices[m->slice_index[s] - 1];

        if (sl != stale && !sl->stale && strcmp(sl->name, stale->name) == 0 &&
            strcmp(sl->namespace_, stale->namespace_) == 0)
            return true;
    }
    return false;
}

/* The ready endpoints traffic to a Service can reach from here, by class. As kube-proxy
 * does: when every ready endpoint carries topology hints and some are meant for this zone,
 * only those. */
static void count_endpoints(const struct k8smap *m, struct entry *svc, struct endpoint_counts *out)
{
    bool one_zone = true;

    size_t first = (size_t)name_hash(K8S_ENDPOINTSLICE, svc->namespace_, svc->name) & m->slice_mask;
    bool all_hinted = true, some_here = false, use_hints;

    memset(out, 0, sizeof(*out));
    svc->where = NULL;
    for (int pass = 0; pass < 2; pass++) {
        use_hints = all_hinted && some_here && m->here.zone[0] != '\0';
        for (size_t s = first; m->slice_index[s] != 0; s = (s + 1) & m->slice_mask) {
            const struct slice *sl = &m->slices[m->slice_index[s] - 1];

            if (strcmp(sl->service, svc->name) != 0 ||
                strcmp(sl->namespace_, svc->namespace_) != 0 ||
                (sl->stale && replaced(m, first, sl)))
                continue;
            for (size_t i = 0; i < sl->n_eps; i++) {
                const struct slice_endpoint *e = &sl->eps[i];
                struct place p;

                if (!e->ready)
                    continue;
                if (pass == 0) {
                    all_hinted = all_hinted && e->n_hints > 0;
                    some_here = some_here || hinted_for(e, m->here.zone);
                    continue;
                }
                if (use_hints && !hinted_for(e, m->here.zone))
                    continue;
                /* The endpoint's own zone is the slice's word for it. */
                p = place_at(m, e->node, e->zone, "");
                if (e->zone[0] != '\0' && strcmp(p.zone, e->zone) != 0) {
                    p.zone = e->zone;
                    p.region = region_of_zone(m, e->zone);
                }
                out->n[place_class(&m->here, &p)]++;
                /* The Service's zone, when all it reaches is in one. */
                if (svc->where == NULL)
                    svc->where = p.zone;
                else if (strcmp(svc->where, p.zone) != 0)
                    one_zone = false;
            }
        }
    }
    if (!one_zone || svc->where == NULL)
        svc->where = "";
}

static void reindex(struct k8smap *m)
{
    memset(m->index, 0, (m->index_mask + 1) * sizeof(*m->index));
    for (size_t i = 0; i < m->n; i++) {
        size_t s = slot_of(m, &m->entries[i].addr);

        while (m->index[s] != 0)
            s = (s + 1) & m->index_mask;
        m->index[s] = (uint32_t)i + 1;
    }
    index_names(m);
    index_zones(m);
    resolve_here(m);
    for (size_t i = 0; i < m->n; i++) {
        struct entry *e = &m->entries[i];
        struct place p;

        if (e->kind == K8S_SERVICE) {
            count_endpoints(m, e, &e->endpoints);
            e->cls = (uint8_t)endpoints_class(&e->endpoints);
        } else {
            p = place_at(m, e->node, e->zone, e->region);
            e->cls = (uint8_t)place_class(&m->here, &p);
            e->where = p.zone;
        }
    }
    m->dirty = false;
}

void k8smap_set_self(struct k8smap *m, const struct k8s_self *self)
{
    m->version++;
    copy(m->self_ns, sizeof(m->self_ns), self->namespace_);
    copy(m->self_pod, sizeof(m->self_pod), self->pod);
    copy(m->self_node, sizeof(m->self_node), self->node);
    copy(m->self_zone, sizeof(m->self_zone), self->zone);
    copy(m->self_region, sizeof(m->self_region), self->region);
    m->dirty = true;
}

void k8smap_self_place(struct k8smap *m, struct place *out)
{
    if (m->dirty)
        reindex(m);
    *out = m->here;
}

bool k8smap_find(struct k8smap *m, const struct netaddr *a, struct k8s_meta *out)
{
    if (m->dirty)
        reindex(m);
    for (size_t s = slot_of(m, a); m->index[s] != 0; s = (s + 1) & m->index_mask) {
        const struct entry *e = &m->entries[m->index[s] - 1];

        if (!netaddr_equal(&e->addr, a))
            continue;
        out->kind = kind_names[e->kind];
        out->namespace_ = e->namespace_;
        out->name = e->name;
        out->workload = "";
        out->cls = (enum traffic_class)e->cls;
        out->zone = e->where != NULL ? e->where : "";
        out->endpoints = e->kind == K8S_SERVICE ? &e->endpoints : NULL;
        if (e->owner[0] != '\0') {
            const char *wkind = e->owner_kind, *wname = e->owner;

            if (strcmp(e->owner_kind, "ReplicaSet") == 0) {
                for (size_t r = 0; r < m->n_rs; r++) {
                    if (strcmp(m->rs[r].namespace_, e->namespace_) == 0 &&
                        strcmp(m->rs[r].name, e->owner) == 0) {
                        wkind = "Deployment";
                        wname = m->rs[r].deployment;
                        break;
                    }
                }
            }
            snprintf(m->workload, sizeof(m->workload), "%s/%s", wkind, wname);
            out->workload = m->workload;
        }
        return true;
    }
    return false;
}

size_t k8smap_size(const struct k8smap *m)
{
    return m->n;
}

uint64_t k8smap_version(const struct k8smap *m)
{
    return m->version;
}

uint64_t k8smap_dropped(const struct k8smap *m)
{
    return m->dropped;
}
