/* Traffic classes. The address ranges that are not the internet are IANA's special-purpose
 * registries (RFC 6890 and its updates) for IPv4 and IPv6. */
#include "topology.h"

#include <string.h>

static const char *const class_names[TC_CLASSES] = {
    "unknown",      "same-node", "same-zone", "cross-zone",
    "cross-region", "internet",  "private",   "mixed",
};

const char *traffic_class_name(enum traffic_class c)
{
    return c < TC_CLASSES ? class_names[c] : "unknown";
}

enum traffic_class traffic_class_parse(const char *s)
{
    for (int c = 0; c < TC_CLASSES; c++)
        if (strcmp(s, class_names[c]) == 0)
            return (enum traffic_class)c;
    return TC_CLASSES;
}

static bool known(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static bool same(const char *a, const char *b)
{
    return known(a) && known(b) && strcmp(a, b) == 0;
}

enum traffic_class place_class(const struct place *self, const struct place *peer)
{
    if (same(self->node, peer->node))
        return TC_SAME_NODE;
    if (known(self->region) && known(peer->region) && !same(self->region, peer->region))
        return TC_CROSS_REGION;
    if (!known(self->zone) || !known(peer->zone))
        return TC_UNKNOWN;
    if (same(self->zone, peer->zone))
        return TC_SAME_ZONE;
    if (same(self->region, peer->region) || (!known(self->region) && !known(peer->region)))
        return TC_CROSS_ZONE;
    return TC_UNKNOWN; /* other zone, and one end's region is not known */
}

enum traffic_class endpoints_class(const struct endpoint_counts *c)
{
    enum traffic_class found = TC_CLASSES;

    for (int i = 0; i < TC_CLASSES; i++) {
        if (c->n[i] == 0)
            continue;
        if (found != TC_CLASSES)
            return TC_MIXED;
        found = (enum traffic_class)i;
    }
    return found == TC_CLASSES ? TC_UNKNOWN : found;
}

struct range {
    uint8_t bytes[16];
    uint8_t bits;
};

/* Not globally routed: RFC 6890 and later special-purpose blocks, multicast included. */
static const struct range v4_special[] = {
    {{0}, 8},             /* "this network" */
    {{10}, 8},            /* RFC 1918 */
    {{100, 64}, 10},      /* shared address space (carrier-grade NAT) */
    {{127}, 8},           /* loopback */
    {{169, 254}, 16},     /* link local */
    {{172, 16}, 12},      /* RFC 1918 */
    {{192, 0, 0}, 24},    /* IETF protocol assignments */
    {{192, 0, 2}, 24},    /* TEST-NET-1 */
    {{192, 88, 99}, 24},  /* deprecated 6to4 relay anycast */
    {{192, 168}, 16},     /* RFC 1918 */
    {{198, 18}, 15},      /* benchmarking */
    {{198, 51, 100}, 24}, /* TEST-NET-2 */
    {{203, 0, 113}, 24},  /* TEST-NET-3 */
    {{224}, 4},           /* multicast */
    {{240}, 4},           /* reserved, and the limited broadcast address */
};

/* Inside 2000::/3, the only global unicast block allocated today. */
static const struct range v6_special[] = {
    {{0x20, 0x01, 0x0d, 0xb8}, 32}, /* documentation */
    {{0x20, 0x01, 0x00, 0x00}, 23}, /* IETF protocol assignments */
};

static bool in_range(const struct netaddr *a, const struct range *r)
{
    unsigned full = r->bits / 8, rest = r->bits % 8;

    if (memcmp(a->bytes, r->bytes, full) != 0)
        return false;
    return rest == 0 || ((a->bytes[full] ^ r->bytes[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static bool in_any(const struct netaddr *a, const struct range *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (in_range(a, &r[i]))
            return true;
    return false;
}

static enum traffic_class v4_class(const struct netaddr *a)
{
    if (a->bytes[0] == 127)
        return TC_SAME_NODE;
    return in_any(a, v4_special, sizeof(v4_special) / sizeof(v4_special[0])) ? TC_PRIVATE
                                                                             : TC_INTERNET;
}

enum traffic_class address_class(const struct netaddr *a)
{
    static const uint8_t v6_loopback[16] = {[15] = 1};
    static const uint8_t v4_mapped[12] = {[10] = 0xff, [11] = 0xff};
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};

    if (a->family == 4)
        return v4_class(a);
    if (a->family != 6)
        return TC_UNKNOWN;
    if (memcmp(a->bytes, v6_loopback, 16) == 0)
        return TC_SAME_NODE;
    /* IPv4-mapped (::ffff:0:0/96) and the well-known NAT64 prefix (64:ff9b::/96): the IPv4
     * address inside is where the bytes go. */
    if (memcmp(a->bytes, v4_mapped, 12) == 0 || memcmp(a->bytes, nat64, 12) == 0) {
        struct netaddr v4 = {.family = 4};

        memcpy(v4.bytes, a->bytes + 12, 4);
        return v4_class(&v4);
    }
    if ((a->bytes[0] & 0xe0) != 0x20)
        return TC_PRIVATE;
    return in_any(a, v6_special, sizeof(v6_special) / sizeof(v6_special[0])) ? TC_PRIVATE
                                                                             : TC_INTERNET;
}
