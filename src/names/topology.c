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

/* Not globally routed: RFC 6890 and later special-purpose blocks, multicast included. As
 * host-order numbers and masks, so a test is a mask and a compare (the render classes every
 * key of a scrape). */
#define V4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
#define V4_MASK(bits) ((uint32_t)(0xffffffffu << (32 - (bits))))

static const struct {
    uint32_t net, mask;
} v4_special[] = {
    {V4(0, 0, 0, 0), V4_MASK(8)},       /* "this network" */
    {V4(10, 0, 0, 0), V4_MASK(8)},      /* RFC 1918 */
    {V4(100, 64, 0, 0), V4_MASK(10)},   /* shared address space (carrier-grade NAT) */
    {V4(127, 0, 0, 0), V4_MASK(8)},     /* loopback */
    {V4(169, 254, 0, 0), V4_MASK(16)},  /* link local */
    {V4(172, 16, 0, 0), V4_MASK(12)},   /* RFC 1918 */
    {V4(192, 0, 0, 0), V4_MASK(24)},    /* IETF protocol assignments */
    {V4(192, 0, 2, 0), V4_MASK(24)},    /* TEST-NET-1 */
    {V4(192, 88, 99, 0), V4_MASK(24)},  /* deprecated 6to4 relay anycast */
    {V4(192, 168, 0, 0), V4_MASK(16)},  /* RFC 1918 */
    {V4(198, 18, 0, 0), V4_MASK(15)},   /* benchmarking */
    {V4(198, 51, 100, 0), V4_MASK(24)}, /* TEST-NET-2 */
    {V4(203, 0, 113, 0), V4_MASK(24)},  /* TEST-NET-3 */
    {V4(224, 0, 0, 0), V4_MASK(4)},     /* multicast */
    {V4(240, 0, 0, 0), V4_MASK(4)},     /* reserved, and the limited broadcast address */
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

static enum traffic_class v4_class(const uint8_t b[4])
{
    uint32_t v = V4(b[0], b[1], b[2], b[3]);

    if (b[0] == 127)
        return TC_SAME_NODE;
    for (size_t i = 0; i < sizeof(v4_special) / sizeof(v4_special[0]); i++)
        if ((v & v4_special[i].mask) == v4_special[i].net)
            return TC_PRIVATE;
    return TC_INTERNET;
}

enum traffic_class address_class(const struct netaddr *a)
{
    static const uint8_t v6_loopback[16] = {[15] = 1};
    static const uint8_t v4_mapped[12] = {[10] = 0xff, [11] = 0xff};
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};

    if (a->family == 4)
        return v4_class(a->bytes);
    if (a->family != 6)
        return TC_UNKNOWN;
    if (memcmp(a->bytes, v6_loopback, 16) == 0)
        return TC_SAME_NODE;
    /* IPv4-mapped (::ffff:0:0/96) and the well-known NAT64 prefix (64:ff9b::/96): the IPv4
     * address inside is where the bytes go. */
    if (memcmp(a->bytes, v4_mapped, 12) == 0 || memcmp(a->bytes, nat64, 12) == 0)
        return v4_class(a->bytes + 12);
    if ((a->bytes[0] & 0xe0) != 0x20)
        return TC_PRIVATE;
    return in_any(a, v6_special, sizeof(v6_special) / sizeof(v6_special[0])) ? TC_PRIVATE
                                                                             : TC_INTERNET;
}
