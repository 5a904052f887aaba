/* Naming the far end: the best name for an address from DNS answers seen on the wire, static
 * network labels, or the address itself. Lookups never block and never allocate. A label the
 * user gave one address (a /32 or /128 --label-net) names it before any DNS source; wider
 * labels are a network's class, and its name only when nothing better is known. */
#ifndef NSTATS_NAMES_H
#define NSTATS_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hash.h"
#include "base/netaddr.h"
#include "names/k8smap.h"
#include "names/namecache.h"
#include "names/netlabels.h"

struct names_stats {
    uint64_t dns_responses;   /* DNS responses parsed */
    uint64_t dns_rejected;    /* messages that were neither a well-formed response nor query */
    uint64_t dns_addresses;   /* addresses named from them */
    uint64_t dns_queries;     /* queries seen, whose answers are awaited */
    uint64_t dns_unsolicited; /* responses to no query seen: not used */
    struct namecache_stats cache;
};

/* The two ends of a DNS message as captured: who sent it (src, sport) to whom. */
struct dns_endpoints {
    struct netaddr src;
    struct netaddr dst;
    uint16_t sport;
    uint16_t dport;
};

/* One address's naming, valid until the next names call. */
struct name_info {
    const char *name;       /* best name; the address's text when nothing better is known */
    const char *source;     /* "k8s", "dns", "ptr", "net" or "addr" */
    const char *net;        /* the network label, or "" */
    const char *kind;       /* Kubernetes: "pod", "service", "node", or "" */
    const char *namespace_; /* Kubernetes namespace, or "" */
    const char *workload;   /* Kubernetes owner, e.g. "Deployment/web", or "" */
    /* The traffic class (names_class); never "". */
    const char *class_;
    const char *zone; /* Kubernetes: the zone it runs in, or "" */
    /* A Service's ready endpoints by class, as seen from here; NULL for anything else. */
    const struct endpoint_counts *endpoints;
};

struct names;

/* labels may be NULL and must outlive the names. min_keep_ms: a name from a DNS answer is
 * kept at least this long, past its TTL, so short TTLs do not make names flap back to
 * addresses while the traffic goes on. */
struct names *names_new(size_t cache_entries, uint64_t min_keep_ms, const struct netlabels *labels,
                        const struct hash_key *seed);
void names_free(struct names *n);

/* Feeds a DNS message seen on the wire (UDP payload, or a TCP payload with its 2-byte length
 * prefix when tcp is set), sent between the endpoints ends. A query is remembered for a few
 * seconds; a response names addresses only if it answers such a query: the same ID and
 * question, from the address the query went to, back to the address and port it came from.
 * Each query lets one response through. */
void names_dns_message(struct names *n, const uint8_t *msg, size_t len, bool tcp,
                       const struct dns_endpoints *ends, uint64_t now_ms);
/* The best name for a, valid until the next names call. addr_text, a's text if the caller has
 * it (else NULL), is the name when nothing better names a. */
void names_lookup(struct names *n, const struct netaddr *a, const char *addr_text, uint64_t now_ms,
                  struct name_info *out);
/* The naming of a far end without the names: addr_text as its name (or ""), no labels, and
 * the class of the address alone; "unknown" when a is NULL (a row with no far end: folded,
 * non-IP, malformed). */
void names_none(const struct netaddr *a, const char *addr_text, struct name_info *out);
/* The traffic class of a: Kubernetes' place for it as seen from the own place; else, for
 * an address that is neither loopback nor public, the --label-net label holding it, or
 * "private"; else "same-node" or "internet". */
const char *names_class(struct names *n, const struct netaddr *a);
/* Records a reverse-DNS result: a PTR name, or NULL for "none" (a negative entry). */
void names_put_ptr(struct names *n, const struct netaddr *a, const char *name, uint64_t expires_ms,
                   uint64_t now_ms);
/* True when a has no fresh name or answer from any source: worth a PTR query. */
bool names_wants_ptr(struct names *n, const struct netaddr *a, uint64_t now_ms);
void names_get_stats(const struct names *n, struct names_stats *out);
/* Grows whenever names_lookup may answer differently for some address (DNS, PTR and
 * Kubernetes changes); equal versions mean equal answers, so what was made from them may be
 * reused. */
uint64_t names_version(const struct names *n);
/* The own place classes are seen from: Kubernetes' word for it; all "" without. */
void names_here(struct names *n, struct place *out);
/* Kubernetes identities, consulted before every other source; map may be NULL. */
void names_set_k8s(struct names *n, struct k8smap *map);

#endif
