/* Local-address set: a linear scan of masked compares, since there are only a handful. */
#include "locality.h"

#include <string.h>

void locality_init(struct locality *loc)
{
    memset(loc, 0, sizeof(*loc));
}

static void compile(struct locality_match *m, const struct netaddr *a, unsigned bits)
{
    uint8_t mask[16];

    memset(mask, 0, sizeof(mask));
    for (unsigned i = 0; i < 16 && bits > 0; i++) {
        unsigned take = bits >= 8 ? 8 : bits;

        mask[i] = (uint8_t)(0xff << (8 - take));
        bits -= take;
    }
    m->family = a->family;
    memcpy(m->addr, a->bytes, 16);
    memcpy(m->mask, mask, 16);
    m->addr[0] &= m->mask[0];
    m->addr[1] &= m->mask[1];
}

/* Rebuilds the per-family lists from addrs and nets. */
static void rebuild(struct locality *loc)
{
    const struct locality_match *lists[2] = {loc->addrs, loc->nets};
    size_t counts[2] = {loc->n_addrs, loc->n_nets};

    loc->n_v4 = 0;
    loc->n_v6 = 0;
    for (size_t l = 0; l < 2; l++) {
        for (size_t i = 0; i < counts[l]; i++) {
            const struct locality_match *m = &lists[l][i];

            if (m->family == 4) {
                struct locality_v4 *v = &loc->v4[loc->n_v4++];

                /* The first four bytes of the first word, as the packet path loads them. */
                memcpy(&v->addr, &m->addr[0], 4);
                memcpy(&v->mask, &m->mask[0], 4);
            } else if (m->family == 6) {
                struct locality_v6 *v = &loc->v6[loc->n_v6++];

                memcpy(v->addr, m->addr, sizeof(v->addr));
                memcpy(v->mask, m->mask, sizeof(v->mask));
            }
        }
    }
}

void locality_set_addrs(struct locality *loc, const struct netaddr *addrs, size_t n)
{
    if (n > LOCALITY_MAX_ADDRS)
        n = LOCALITY_MAX_ADDRS;
    for (size_t i = 0; i < n; i++)
        compile(&loc->addrs[i], &addrs[i], addrs[i].family == 4 ? 32 : 128);
    loc->n_addrs = n;
    rebuild(loc);
}

int locality_add_net(struct locality *loc, const struct netprefix *net)
{
    if (loc->n_nets == LOCALITY_MAX_NETS)
        return -1;
    compile(&loc->nets[loc->n_nets++], &net->addr, net->bits);
    rebuild(loc);
    return 0;
}
