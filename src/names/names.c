/* The naming facade over the cache, the DNS parser and the network labels. DNS answers count
 * only when they answer a query seen on the wire: one forged datagram from port 53 must not
 * rename an address for an hour. */
#include "names.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "names/dnsparse.h"

/* Queries awaiting their answer: an open-addressed table with a short probe window, like the
 * name cache. A resolver answers in milliseconds and stub resolvers give up after about five
 * seconds, so a query is remembered that long; a burst of more queries than the table holds
 * pushes the oldest out, and their answers are then ignored like forged ones. */
#define QUERIES 512 /* a power of two */
#define QUERY_WINDOW 8
#define QUERY_WAIT_MS 5000

/* Hashed whole, so no padding. */
struct query_key {
    struct netaddr client;
    struct netaddr server;
    uint16_t client_port;
    uint16_t id;
};
_Static_assert(sizeof(struct query_key) == 2 * sizeof(struct netaddr) + 4, "query_key has padding");

struct query {
    struct query_key key;
    uint16_t qtype;
    bool pending;
    uint64_t at_ms;
    char qname[DNS_NAME_MAX];
};

struct names {
    struct namecache *cache;
    const struct netlabels *labels;
    struct k8smap *k8s;
    uint64_t min_keep_ms;
    struct hash_key seed;
    struct query *queries; /* QUERIES of them */
    struct names_stats stats;
    char addr_text[NETADDR_STRLEN];
    uint64_t maps_set; /* names_set_k8s calls and the versions of maps replaced */
};

struct names *names_new(size_t cache_entries, uint64_t min_keep_ms, const struct netlabels *labels,
                        const struct hash_key *seed)
{
    struct names *n = xcalloc(1, sizeof(*n));

    n->cache = namecache_new(cache_entries, seed);
    n->labels = labels;
    n->min_keep_ms = min_keep_ms;
    n->seed = *seed;
    n->queries = xcalloc(QUERIES, sizeof(*n->queries));
    return n;
}

void names_free(struct names *n)
{
    if (n == NULL)
        return;
    namecache_free(n->cache);
    free(n->queries);
    free(n);
}

static bool query_live(const struct query *q, uint64_t now_ms)
{
    /* A file's packets may be a little out of order: a query "from the future" counts too. */
    uint64_t age = now_ms >= q->at_ms ? now_ms - q->at_ms : q->at_ms - now_ms;

    return q->pending && age <= QUERY_WAIT_MS;
}

/* Which slot a new query takes: a free or finished one first, else the oldest query. */
static bool query_better_victim(const struct query *s, const struct query *victim, uint64_t now_ms)
{
    bool s_free = !query_live(s, now_ms), victim_free = !query_live(victim, now_ms);

    if (s_free != victim_free)
        return s_free;
    return !s_free && s->at_ms < victim->at_ms;
}

static bool query_same(const struct query *q, const struct query_key *k, uint16_t qtype,
                       const char *qname)
{
    return memcmp(&q->key, k, sizeof(*k)) == 0 && q->qtype == qtype && strcmp(q->qname, qname) == 0;
}

static size_t query_home(const struct names *n, const struct query_key *k)
{
    return (size_t)hash_bytes(&n->seed, k, sizeof(*k)) & (QUERIES - 1);
}

/* Remembers a query; a repeated one (a retransmission) only restarts its wait. */
static void query_put(struct names *n, const struct query_key *k, const struct dns_question *q,
                      uint64_t now_ms)
{
    size_t i = query_home(n, k);
    struct query *victim = NULL;

    for (unsigned w = 0; w < QUERY_WINDOW; w++, i = (i + 1) & (QUERIES - 1)) {
        struct query *s = &n->queries[i];

        if (s->pending && query_same(s, k, q->qtype, q->qname)) {
            s->at_ms = now_ms;
            return;
        }
        if (victim == NULL || query_better_victim(s, victim, now_ms))
            victim = s;
    }
    victim->key = *k;
    victim->qtype = q->qtype;
    victim->pending = true;
    victim->at_ms = now_ms;
    memcpy(victim->qname, q->qname, strlen(q->qname) + 1); /* shorter than DNS_NAME_MAX */
}

/* True, once, if r answers a live query remembered for k. */
static bool query_take(struct names *n, const struct query_key *k, const struct dns_response *r,
                       uint64_t now_ms)
{
    size_t i = query_home(n, k);

    for (unsigned w = 0; w < QUERY_WINDOW; w++, i = (i + 1) & (QUERIES - 1)) {
        struct query *s = &n->queries[i];

        if (query_live(s, now_ms) && query_same(s, k, r->qtype, r->qname)) {
            s->pending = false;
            return true;
        }
    }
    return false;
}

/* The client and server of a message, and its ID: the query's sender is the client, the
 * response's receiver. */
static void query_key_of(struct query_key *k, const struct netaddr *client, uint16_t client_port,
                         const struct netaddr *server, uint16_t id)
{
    memset(k, 0, sizeof(*k));
    k->client = *client;
    k->server = *server;
    k->client_port = client_port;
    k->id = id;
}

void names_dns_message(struct names *n, const uint8_t *msg, size_t len, bool tcp,
                       const struct dns_endpoints *ends, uint64_t now_ms)
{
    struct dns_response r;
    struct dns_question q;
    struct query_key k;

    if (tcp) {
        /* Only a whole message in one segment: the length prefix must match exactly. */
        if (len < 2 || (size_t)(msg[0] << 8 | msg[1]) != len - 2) {
            n->stats.dns_rejected++;
            return;
        }
        msg += 2;
        len -= 2;
    }
    if (len >= 3 && !(msg[2] & 0x80)) {
        if (dns_parse_query(msg, len, &q) == -1) {
            n->stats.dns_rejected++;
            return;
        }
        n->stats.dns_queries++;
        query_key_of(&k, &ends->src, ends->sport, &ends->dst, q.id);
        query_put(n, &k, &q, now_ms);
        return;
    }
    if (dns_parse_response(msg, len, &r) == -1) {
        n->stats.dns_rejected++;
        return;
    }
    n->stats.dns_responses++;
    query_key_of(&k, &ends->dst, ends->dport, &ends->src, r.id);
    if (!query_take(n, &k, &r, now_ms)) {
        n->stats.dns_unsolicited++;
        return;
    }
    for (size_t i = 0; i < r.n_answers; i++) {
        uint64_t keep = (uint64_t)r.answers[i].ttl_s * 1000u;

        if (keep < n->min_keep_ms)
            keep = n->min_keep_ms;
        namecache_put(n->cache, &r.answers[i].addr, r.qname, NAME_SOURCE_DNS, now_ms + keep,
                      now_ms);
        n->stats.dns_addresses++;
    }
}

/* The label of the longest --label-net prefix holding a, or NULL; *host says whether that
 * prefix is a alone (a /32 or /128): the user naming this one address. */
static const char *label_of(const struct netlabels *l, const struct netaddr *a, bool *host)
{
    const char *best = NULL;
    int best_bits = -1;

    *host = false;
    if (l == NULL)
        return NULL;
    for (size_t i = 0; i < l->n; i++) {
        if (l->prefixes[i].bits > best_bits && netprefix_contains(&l->prefixes[i], a)) {
            best = l->labels[i];
            best_bits = l->prefixes[i].bits;
        }
    }
    *host = best != NULL && best_bits == (a->family == 4 ? 32 : 128);
    return best;
}

/* The class of an address Kubernetes does not know, with its --label-net label (or NULL). */
static const char *class_of_address(const struct netaddr *a, const char *net)
{
    enum traffic_class c = address_class(a);

    return c == TC_PRIVATE && net != NULL ? net : traffic_class_name(c);
}

void names_none(const struct netaddr *a, const char *addr_text, struct name_info *out)
{
    *out = (struct name_info){.name = addr_text ? addr_text : "",
                              .source = addr_text ? "addr" : "",
                              .net = "",
                              .kind = "",
                              .namespace_ = "",
                              .workload = "",
                              .zone = "",
                              .class_ = traffic_class_name(a ? address_class(a) : TC_UNKNOWN)};
}

const char *names_class(struct names *n, const struct netaddr *a)
{
    struct k8s_meta meta;
    bool host;

    if (n->k8s != NULL && k8smap_find(n->k8s, a, &meta))
        return traffic_class_name(meta.cls);
    return class_of_address(a, label_of(n->labels, a, &host));
}

void names_lookup(struct names *n, const struct netaddr *a, const char *addr_text, uint64_t now_ms,
                  struct name_info *out)
{
    enum name_source source;
    bool expired, host;
    const char *name;
    const char *net = label_of(n->labels, a, &host);
    struct k8s_meta meta;

    out->net = net ? net : "";
    out->kind = out->namespace_ = out->workload = out->zone = "";
    out->endpoints = NULL;
    if (n->k8s != NULL && k8smap_find(n->k8s, a, &meta)) {
        out->name = meta.name;
        out->source = "k8s";
        out->kind = meta.kind;
        out->namespace_ = meta.namespace_;
        out->workload = meta.workload;
        out->class_ = traffic_class_name(meta.cls);
        out->zone = meta.zone;
        out->endpoints = meta.endpoints;
        return;
    }
    out->class_ = class_of_address(a, net);
    /* The user's name for this one address beats whatever DNS says about it. */
    name = host ? NULL : namecache_get(n->cache, a, now_ms, &source, &expired);
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
    bool host;

    if (n->k8s != NULL && k8smap_find(n->k8s, a, &meta))
        return false; /* Kubernetes names it better than any PTR record */
    if (label_of(n->labels, a, &host) != NULL && host)
        return false; /* so does the user's label for it */
    return !namecache_fresh(n->cache, a, now_ms);
}

void names_here(struct names *n, struct place *out)
{
    if (n->k8s != NULL)
        k8smap_self_place(n->k8s, out);
    else
        *out = (struct place){"", "", ""};
}

void names_set_k8s(struct names *n, struct k8smap *map)
{
    /* names_version never goes back: what the old map counted stays counted. */
    n->maps_set += 1 + (n->k8s != NULL ? k8smap_version(n->k8s) : 0);
    n->k8s = map;
}

uint64_t names_version(const struct names *n)
{
    return n->maps_set + namecache_version(n->cache) + (n->k8s ? k8smap_version(n->k8s) : 0);
}

void names_get_stats(const struct names *n, struct names_stats *out)
{
    *out = n->stats;
    namecache_get_stats(n->cache, &out->cache);
}
