/* Connection tracking's address translations, so that a captured packet is counted for the
 * ends that really talk: the pod behind a masquerade, the backend behind a Service's virtual
 * IP. Filled from the kernel's conntrack entries (io/conntrack), one entry per translated
 * connection; read for each captured TCP or UDP packet while it holds any. Not thread-safe:
 * the loop thread fills and reads it. */
#ifndef NSTATS_NATTABLE_H
#define NSTATS_NATTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hash.h"
#include "base/netaddr.h"
#include "capture/decode.h"

/* One direction of a connection as conntrack reports it. */
struct nat_tuple {
    struct netaddr src, dst;
    uint16_t sport, dport; /* host byte order */
    uint8_t proto;         /* IPPROTO_TCP, IPPROTO_UDP, ... */
};

/* A connection: what its first packet carried (orig) and what its answers carry (reply).
 * Without translation, reply is orig turned around. */
struct nat_conn {
    struct nat_tuple orig, reply;
};

struct nattable_stats {
    uint64_t added;      /* translated connections taken in */
    uint64_t removed;    /* ended (conntrack DESTROY), after their grace */
    uint64_t full;       /* not taken in: the table was full */
    uint64_t translated; /* packets rewritten */
    size_t size;         /* translated connections held now */
};

/* After conntrack says a connection ended, its packets still in the capture ring are
 * translated for this long. */
#define NATTABLE_GRACE_MS 5000

struct nattable;

struct nattable *nattable_new(size_t max_conns, const struct hash_key *seed);
void nattable_free(struct nattable *t);
/* Takes in a connection (a NEW event or a dump's entry); one without translation, or without
 * ports, is ignored. Returns true if the table holds it now. */
bool nattable_add(struct nattable *t, const struct nat_conn *c);
/* The connection ended at now_ms: it goes after NATTABLE_GRACE_MS (nattable_expire). */
void nattable_end(struct nattable *t, const struct nat_conn *c, uint64_t now_ms);
/* Drops connections whose grace ended before now_ms. */
void nattable_expire(struct nattable *t, uint64_t now_ms);
/* Forgets everything (before a fresh dump). */
void nattable_clear(struct nattable *t);
bool nattable_empty(const struct nattable *t);
/* When p belongs to a translated connection, in either direction and on either side of the
 * translation, rewrites its addresses and ports to the connection's true ends (the
 * original source, the translated destination) and returns true. */
bool nattable_translate(struct nattable *t, struct pktsummary *p);
void nattable_get_stats(const struct nattable *t, struct nattable_stats *out);

#endif
