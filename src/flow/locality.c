/* Local-address set: a linear scan, since interfaces carry a handful of addresses. */
#include "locality.h"

#include <string.h>

void locality_init(struct locality *loc)
{
    memset(loc, 0, sizeof(*loc));
}

void locality_set_addrs(struct locality *loc, const struct netaddr *addrs, size_t n)
{
    if (n > LOCALITY_MAX_ADDRS)
        n = LOCALITY_MAX_ADDRS;
    memcpy(loc->addrs, addrs, n * sizeof(*addrs));
    loc->n_addrs = n;
}

int locality_add_net(struct locality *loc, const struct netprefix *net)
{
    if (loc->n_nets == LOCALITY_MAX_NETS)
        return -1;
    loc->nets[loc->n_nets++] = *net;
    return 0;
}

bool locality_is_local(const struct locality *loc, const struct netaddr *a)
{
    for (size_t i = 0; i < loc->n_addrs; i++)
        if (netaddr_equal(&loc->addrs[i], a))
            return true;
    for (size_t i = 0; i < loc->n_nets; i++)
        if (netprefix_contains(&loc->nets[i], a))
            return true;
    return false;
}
