/* Which addresses are ours: the capture interface's addresses plus configured local networks. */
#ifndef NSTATS_LOCALITY_H
#define NSTATS_LOCALITY_H

#include <stdbool.h>
#include <stddef.h>

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
bool locality_is_local(const struct locality *loc, const struct netaddr *a);

#endif
