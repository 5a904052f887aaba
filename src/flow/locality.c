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

void locality_set_addrs(struct locality *loc, const struct netaddr *addrs, size_t n)
{
    if (n > LOCALITY_MAX_ADDRS)
        n = LOCALITY_MAX_ADDRS;
    for (size_t i = 0; i < n; i++)
        compile(&loc->addrs[i], &addrs[i], addrs[i].family == 4 ? 32 : 128);
    loc->n_addrs = n;
}

int locality_add_net(struct locality *loc, const struct netprefix *net)
{
    if (loc->n_nets == LOCALITY_MAX_NETS)
        return -1;
    compile(&loc->nets[loc->n_nets++], &net->addr, net->bits);
    return 0;
}
