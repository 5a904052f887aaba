/* Which addresses are ours: the capture interface's addresses plus configured local networks. */
#ifndef NSTATS_LOCALITY_H
#define NSTATS_LOCALITY_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "base/netaddr.h"

#define LOCALITY_MAX_ADDRS 64
#define LOCALITY_MAX_NETS 256

/* A prefix or an address as masked 64-bit words, tested with a few instructions per packet. */
struct locality_match {
    uint8_t family;
    uint64_t addr[2];
    uint64_t mask[2];
};

struct locality {
    struct locality_match addrs[LOCALITY_MAX_ADDRS]; /* interface addresses, replaced on refresh */
    size_t n_addrs;
    struct locality_match nets[LOCALITY_MAX_NETS]; /* --local-net, fixed for the process's life */
    size_t n_nets;
};

void locality_init(struct locality *loc);
/* Replaces the interface addresses; extra ones past LOCALITY_MAX_ADDRS are ignored. */
void locality_set_addrs(struct locality *loc, const struct netaddr *addrs, size_t n);
/* Returns 0, or -1 when LOCALITY_MAX_NETS are already configured. */
int locality_add_net(struct locality *loc, const struct netprefix *net);

static inline bool locality_matches(const struct locality_match *m, uint8_t family, uint64_t w0,
                                    uint64_t w1)
{
    /* Bitwise, not short-circuit: which side of a packet is local is a coin toss to the
     * branch predictor, so a handful of compares beats a mispredicted branch. */
    return (m->family == family) & ((w0 & m->mask[0]) == m->addr[0]) &
           ((w1 & m->mask[1]) == m->addr[1]);
}

/* Inline: it runs twice per packet. Every entry is tested, without early exits, for the same
 * reason; there are only a handful. */
static inline bool locality_is_local(const struct locality *loc, const struct netaddr *a)
{
    uint64_t w0, w1;
    bool hit = false;

    memcpy(&w0, a->bytes, 8);
    memcpy(&w1, a->bytes + 8, 8);
    for (size_t i = 0; i < loc->n_addrs; i++)
        hit |= locality_matches(&loc->addrs[i], a->family, w0, w1);
    for (size_t i = 0; i < loc->n_nets; i++)
        hit |= locality_matches(&loc->nets[i], a->family, w0, w1);
    return hit;
}

#endif
