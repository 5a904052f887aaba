/* The kernel's connection tracking, read over netlink (libnetfilter_conntrack): a dump of the
 * table at the start, then its NEW and DESTROY events, into a nattable. Netlink is read per
 * conntrack event, never per packet; the loop drains it before each capture drain, so a
 * connection's translation is known before its packets are counted. Where the namespace's
 * table cannot be read (no CAP_NET_ADMIN, no conntrack in the kernel), conntrack_start fails
 * with the reason and capture goes on without it. */
#ifndef NSTATS_CONNTRACK_H
#define NSTATS_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/nattable.h"
#include "io/loop.h"

struct conntrack_stats {
    uint64_t events;   /* NEW and DESTROY events read */
    uint64_t dumps;    /* full dumps: the first, and one after every overrun */
    uint64_t overruns; /* times the kernel dropped events (ENOBUFS): a dump follows */
    uint64_t errors;   /* failed reads and dumps */
    bool stale;        /* events were lost and the dump since has not succeeded */
    struct nattable_stats table;
};

struct conntrack;

/* Opens the event socket and dumps the table into t. loop and t must outlive it. Returns
 * NULL with the reason in errbuf. */
struct conntrack *conntrack_start(struct loop *loop, struct nattable *t, char *errbuf,
                                  size_t errlen);
void conntrack_stop(struct conntrack *c);
/* Applies every event waiting, and ends the grace of ended connections. */
void conntrack_drain(struct conntrack *c);
void conntrack_get_stats(const struct conntrack *c, struct conntrack_stats *out);

#endif
