/* The Kubernetes address map. Entries are kept in a flat array (objects rarely exceed a few
 * thousand per sidecar scope; the DaemonSet mode is the place for whole clusters), searched
 * linearly on events and by address on lookups. JSON through jansson, every field checked:
 * a value of the wrong type, or a string holding a NUL byte, skips that value (or its object),
 * never the whole list. */
#include "k8smap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

struct entry {
    struct netaddr addr;
    uint8_t kind;
    bool stale; /* from the list before the one being read: dropped when it completes */
    char namespace_[K8S_STR_MAX];
    char name[K8S_STR_MAX];
    char owner_kind[32];
    char owner[K8S_STR_MAX];
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
    char workload[2 * K8S_STR_MAX];
};

static const char *const kind_names[K8S_KINDS] = {"pod", "service", "node", "replicaset"};
static const char *const kind_paths[K8S_KINDS] = {"pods", "services", "nodes", "replicasets"};

const char *k8s_kind_path(enum k8s_kind kind)
{
    return kind_paths[kind];
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
    m->rs = xcalloc(m->max_rs ? m->max_rs : 1, sizeof(*m->rs));
    return m;
}

void k8smap_free(struct k8smap *m)
{
    if (m == NULL)
        return;
    free(m->entries);
    free(m->index);
    free(m->rs);
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

/* Removes every entry of one object (kind, namespace, name). */
static void forget(struct k8smap *m, enum k8s_kind kind, const char *ns, const char *name)
{
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

/* fresh: part of a list, so no search is needed (a stale entry for the same address may stay
 * until the list completes). ip NULL (not valid text) adds nothing. */
static void add_address(struct k8smap *m, bool fresh, enum k8s_kind kind, const char *ns,
                        const char *name, const char *ip, const char *owner_kind, const char *owner)
{
    struct netaddr a;
    struct entry *e;

    if (ip == NULL || netaddr_parse(ip, &a) == -1)
        return;
    if (m->n == m->max && !reclaim_stale(m, kind)) {
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
    e->addr = a;
    e->kind = (uint8_t)kind;
    e->stale = false;
    copy(e->namespace_, sizeof(e->namespace_), ns);
    copy(e->name, sizeof(e->name), name);
    copy(e->owner_kind, sizeof(e->owner_kind), owner_kind);
    copy(e->owner, sizeof(e->owner), owner);
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
    const char *ns = field(meta, "namespace"), *name = field(meta, "name");
    const char *okind, *oname;
    json_t *list, *item;
    size_t i;

    /* Without a valid name and namespace the object cannot be told apart from others. */
    if (!json_is_object(meta) || ns == NULL || name == NULL || name[0] == '\0')
        return;
    if (!fresh)
        forget(m, kind, ns, name);
    switch (kind) {
    case K8S_POD:
        /* Host-network pods share the node's address; that address is the node's. */
        if (json_is_true(json_object_get(spec, "hostNetwork")))
            return;
        controller(meta, &okind, &oname);
        list = json_object_get(status, "podIPs");
        json_array_foreach(list, i, item)
        {
            add_address(m, fresh, kind, ns, name, field(item, "ip"), okind, oname);
        }
        if (json_array_size(list) == 0)
            add_address(m, fresh, kind, ns, name, field(status, "podIP"), okind, oname);
        break;
    case K8S_SERVICE:
        list = json_object_get(spec, "clusterIPs");
        json_array_foreach(list, i, item)
        {
            add_address(m, fresh, kind, ns, name, text(item), "", "");
        }
        if (json_array_size(list) == 0)
            add_address(m, fresh, kind, ns, name, field(spec, "clusterIP"), "", "");
        break;
    case K8S_NODE:
        list = json_object_get(status, "addresses");
        json_array_foreach(list, i, item)
        {
            const char *type = str(item, "type");

            if (strcmp(type, "InternalIP") == 0 || strcmp(type, "ExternalIP") == 0)
                add_address(m, fresh, kind, "", name, field(item, "address"), "", "");
        }
        break;
    case K8S_REPLICASET:
        controller(meta, &okind, &oname);
        if (strcmp(okind, "Deployment") == 0 && m->n_rs == m->max_rs) {
            for (size_t j = m->n_rs; j-- > 0;)
                if (m->rs[j].stale) {
                    m->rs[j] = m->rs[--m->n_rs];
                    break;
                }
        }
        if (strcmp(okind, "Deployment") == 0 && m->n_rs < m->max_rs) {
            struct replicaset *r = &m->rs[m->n_rs++];

            r->stale = false;
            copy(r->namespace_, sizeof(r->namespace_), ns);
            copy(r->name, sizeof(r->name), name);
            copy(r->deployment, sizeof(r->deployment), oname);
        }
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

static void reindex(struct k8smap *m)
{
    memset(m->index, 0, (m->index_mask + 1) * sizeof(*m->index));
    for (size_t i = 0; i < m->n; i++) {
        size_t s = slot_of(m, &m->entries[i].addr);

        while (m->index[s] != 0)
            s = (s + 1) & m->index_mask;
        m->index[s] = (uint32_t)i + 1;
    }
    m->dirty = false;
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

uint64_t k8smap_dropped(const struct k8smap *m)
{
    return m->dropped;
}
