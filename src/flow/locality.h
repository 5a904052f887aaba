/* Which addresses are ours: the capture interface's addresses plus configured local networks. */
#ifndef NSTATS_LOCALITY_H
#define NSTATS_LOCALITY_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "base/netaddr.h"

#define LOCALITY_MAX_ADDRS 64
#define LOCALITY_MAX_NETS 256

/* A prefix or an address as masked 64-bit words. */
struct locality_match {
    uint8_t family;
    uint64_t addr[2];
    uint64_t mask[2];
};

/* The same, as the packet path tests it: IPv4 in one masked 32-bit word. */
struct locality_v4 {
    uint32_t addr;
    uint32_t mask;
};
struct locality_v6 {
    uint64_t addr[2];
    uint64_t mask[2];
};

struct locality {
    struct locality_match addrs[LOCALITY_MAX_ADDRS]; /* interface addresses, replaced on refresh */
    size_t n_addrs;
    struct locality_match nets[LOCALITY_MAX_NETS]; /* --local-net, fixed for the process's life */
    size_t n_nets;
    /* Both lists by family, rebuilt whenever either changes: a packet's two addresses have
     * one family, so it is looked at once and only that family's entries are tested. */
    struct locality_v4 v4[LOCALITY_MAX_ADDRS + LOCALITY_MAX_NETS];
    size_t n_v4;
    struct locality_v6 v6[LOCALITY_MAX_ADDRS + LOCALITY_MAX_NETS];
    size_t n_v6;
};

void locality_init(struct locality *loc);
/* Replaces the interface addresses; extra ones past LOCALITY_MAX_ADDRS are ignored. */
void locality_set_addrs(struct locality *loc, const struct netaddr *addrs, size_t n);
/* Returns 0, or -1 when LOCALITY_MAX_NETS are already configured. */
int locality_add_net(struct locality *loc, const struct netprefix *net);

/* Inline: it runs for every packet. Every entry of the family is tested, without early exits
 * and with bitwise ors: which side of a packet is local is a coin toss to the branch predictor,
 * so a handful of compares beats a mispredicted branch. (Testing both families' entries to
 * spare the branch on the family cost more instructions than the branch costs.) a and b share
 * a family. */
static inline void locality_test_same_family(const struct locality *loc, const struct netaddr *a,
                                             const struct netaddr *b, bool *a_local, bool *b_local)
{
    bool hit_a = false, hit_b = false;

    if (a->family == 4) {
        uint32_t wa, wb;

        memcpy(&wa, a->bytes, 4);
        memcpy(&wb, b->bytes, 4);
        for (size_t i = 0; i < loc->n_v4; i++) {
            hit_a |= (wa & loc->v4[i].mask) == loc->v4[i].addr;
            hit_b |= (wb & loc->v4[i].mask) == loc->v4[i].addr;
        }
    } else if (a->family == 6) {
        uint64_t a0, a1, b0, b1;

        memcpy(&a0, a->bytes, 8);
        memcpy(&a1, a->bytes + 8, 8);
        memcpy(&b0, b->bytes, 8);
        memcpy(&b1, b->bytes + 8, 8);
        for (size_t i = 0; i < loc->n_v6; i++) {
            const struct locality_v6 *m = &loc->v6[i];

            hit_a |= ((a0 & m->mask[0]) == m->addr[0]) & ((a1 & m->mask[1]) == m->addr[1]);
            hit_b |= ((b0 & m->mask[0]) == m->addr[0]) & ((b1 & m->mask[1]) == m->addr[1]);
        }
    }
    *a_local = hit_a;
    *b_local = hit_b;
}

/* Sets whether a and b (a packet's source and destination) are local. */
static inline void locality_test_pair(const struct locality *loc, const struct netaddr *a,
                                      const struct netaddr *b, bool *a_local, bool *b_local)
{
    bool unused;

    if (__builtin_expect(a->family != b->family, 0)) {
        locality_test_same_family(loc, a, a, a_local, &unused);
        locality_test_same_family(loc, b, b, b_local, &unused);
        return;
    }
    locality_test_same_family(loc, a, b, a_local, b_local);
}

#endif
