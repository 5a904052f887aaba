/* The naming facade over the cache, the DNS parser and the network labels. */
#include "names.h"

#include <stdlib.h>

#include "base/xalloc.h"
#include "names/dnsparse.h"

struct names {
    struct namecache *cache;
    const struct netlabels *labels;
    struct k8smap *k8s;
    uint64_t min_keep_ms;
    struct names_stats stats;
    char addr_text[NETADDR_STRLEN];
};

struct names *names_new(size_t cache_entries, uint64_t min_keep_ms, const struct netlabels *labels,
                        const struct hash_key *seed)
{
    struct names *n = xcalloc(1, sizeof(*n));

    n->cache = namecache_new(cache_entries, seed);
    n->labels = labels;
    n->min_keep_ms = min_keep_ms;
    return n;
}

void names_free(struct names *n)
{
    if (n == NULL)
        return;
    namecache_free(n->cache);
    free(n);
}

void names_dns_message(struct names *n, const uint8_t *msg, size_t len, bool tcp, uint64_t now_ms)
{
    struct dns_response r;

    if (tcp) {
        /* Only a whole message in one segment: the length prefix must match exactly. */
        if (len < 2 || (size_t)(msg[0] << 8 | msg[1]) != len - 2) {
            n->stats.dns_rejected++;
            return;
        }
        msg += 2;
        len -= 2;
    }
    if (dns_parse_response(msg, len, &r) == -1) {
        n->stats.dns_rejected++;
        return;
    }
    n->stats.dns_responses++;
    for (size_t i = 0; i < r.n_answers; i++) {
        uint64_t keep = (uint64_t)r.answers[i].ttl_s * 1000u;

        if (keep < n->min_keep_ms)
            keep = n->min_keep_ms;
        namecache_put(n->cache, &r.answers[i].addr, r.qname, NAME_SOURCE_DNS, now_ms + keep,
                      now_ms);
        n->stats.dns_addresses++;
    }
}

void names_lookup(struct names *n, const struct netaddr *a, const char *addr_text, uint64_t now_ms,
                  struct name_info *out)
{
    enum name_source source;
    bool expired;
    const char *name;
    const char *net = n->labels ? netlabels_find(n->labels, a) : NULL;
    struct k8s_meta meta;

    out->net = net ? net : "";
    out->kind = out->namespace_ = out->workload = "";
    if (n->k8s != NULL && k8smap_find(n->k8s, a, &meta)) {
        out->name = meta.name;
        out->source = "k8s";
        out->kind = meta.kind;
        out->namespace_ = meta.namespace_;
        out->workload = meta.workload;
        return;
    }
    name = namecache_get(n->cache, a, now_ms, &source, &expired);
    if (name != NULL) {
        out->name = name;
        out->source = name_source_str(source);
    } else if (net != NULL) {
        out->name = net;
        out->source = "net";
    } else {
        out->name =
            addr_text != NULL ? addr_text : netaddr_format(a, n->addr_text, sizeof(n->addr_text));
        out->source = "addr";
    }
}

void names_put_ptr(struct names *n, const struct netaddr *a, const char *name, uint64_t expires_ms,
                   uint64_t now_ms)
{
    namecache_put(n->cache, a, name, NAME_SOURCE_PTR, expires_ms, now_ms);
}

bool names_wants_ptr(struct names *n, const struct netaddr *a, uint64_t now_ms)
{
    struct k8s_meta meta;

    if (n->k8s != NULL && k8smap_find(n->k8s, a, &meta))
        return false; /* Kubernetes names it better than any PTR record */
    return !namecache_fresh(n->cache, a, now_ms);
}

void names_set_k8s(struct names *n, struct k8smap *map)
{
    n->k8s = map;
}

void names_get_stats(const struct names *n, struct names_stats *out)
{
    *out = n->stats;
    namecache_get_stats(n->cache, &out->cache);
}
