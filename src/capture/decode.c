/* Packet decoder. Every header read checks the captured length first; failure means MALFORMED. */
#include "decode.h"

#include <pcap/dlt.h>
#include <string.h>

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100

/* Deeper stacks than this are not seen in practice and are treated as malformed. */
#define MAX_VLAN_TAGS 8
#define MAX_IPV6_EXT_HEADERS 16

/* The decoder's cursor: a window on the captured bytes. */
struct cursor {
    const uint8_t *data;
    uint32_t len; /* captured bytes */
    uint32_t off; /* current position */
};

static bool have(const struct cursor *c, uint32_t n)
{
    return c->off <= c->len && c->len - c->off >= n;
}

static uint16_t get16(const struct cursor *c, uint32_t at)
{
    return (uint16_t)(c->data[c->off + at] << 8 | c->data[c->off + at + 1]);
}

static enum decode_status fail(struct pktsummary *out, enum decode_status status)
{
    out->status = status;
    return status;
}

/* Reads transport ports (and TCP flags) at the cursor, bounded by the IP payload length. */
static enum decode_status decode_l4(struct cursor *c, uint32_t payload_len, struct pktsummary *out)
{
    switch (out->proto) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
    case IPPROTO_DCCP:
    case IPPROTO_SCTP:
    case IPPROTO_UDPLITE:
        if (payload_len < 4 || !have(c, 4))
            return fail(out, DECODE_MALFORMED);
        out->sport = get16(c, 0);
        out->dport = get16(c, 2);
        out->has_ports = true;
        if (out->proto == IPPROTO_UDP) {
            out->payload_offset = c->off + 8;
        } else if (out->proto == IPPROTO_TCP && payload_len >= 14 && have(c, 14)) {
            uint32_t header_len = (uint32_t)(c->data[c->off + 12] >> 4) * 4;

            out->tcp_flags = c->data[c->off + 13];
            if (header_len >= 20)
                out->payload_offset = c->off + header_len;
        }
        out->dns_answer = out->sport == DECODE_DNS_PORT && out->payload_offset != 0;
        out->dns_query = out->dport == DECODE_DNS_PORT && out->payload_offset != 0;
        break;
    default:
        break;
    }
    out->status = DECODE_OK;
    return DECODE_OK;
}

static enum decode_status decode_ipv4(struct cursor *c, struct pktsummary *out)
{
    uint32_t ihl, total;
    uint16_t frag;

    if (!have(c, 20) || (c->data[c->off] >> 4) != 4)
        return fail(out, DECODE_MALFORMED);
    ihl = (uint32_t)(c->data[c->off] & 0x0f) * 4;
    total = get16(c, 2);
    /* A zero total length is what TSO-offloaded packets show on the sending host. */
    if (total == 0)
        total = c->len - c->off;
    if (ihl < 20 || total < ihl || !have(c, ihl))
        return fail(out, DECODE_MALFORMED);
    frag = get16(c, 6);
    out->proto = c->data[c->off + 9];
    out->src.family = out->dst.family = 4;
    memcpy(out->src.bytes, c->data + c->off + 12, 4);
    memcpy(out->dst.bytes, c->data + c->off + 16, 4);
    if ((frag & 0x1fff) != 0) {
        out->fragment = true;
        out->status = DECODE_OK;
        return DECODE_OK;
    }
    c->off += ihl;
    return decode_l4(c, total - ihl, out);
}

static enum decode_status decode_ipv6(struct cursor *c, struct pktsummary *out)
{
    uint32_t payload;
    uint8_t next;

    if (!have(c, 40) || (c->data[c->off] >> 4) != 6)
        return fail(out, DECODE_MALFORMED);
    payload = get16(c, 4);
    /* Jumbograms and TSO packets carry 0; the captured length is the best bound then. */
    if (payload == 0)
        payload = c->len - c->off - 40;
    next = c->data[c->off + 6];
    out->src.family = out->dst.family = 6;
    memcpy(out->src.bytes, c->data + c->off + 8, 16);
    memcpy(out->dst.bytes, c->data + c->off + 24, 16);
    c->off += 40;
    for (unsigned n = 0;; n++) {
        uint32_t hlen;

        if (n == MAX_IPV6_EXT_HEADERS)
            return fail(out, DECODE_MALFORMED);
        switch (next) {
        case 0:   /* hop-by-hop options */
        case 43:  /* routing */
        case 60:  /* destination options */
        case 135: /* mobility */
        case 139: /* HIP */
        case 140: /* shim6 */
            if (payload < 8 || !have(c, 8))
                return fail(out, DECODE_MALFORMED);
            hlen = ((uint32_t)c->data[c->off + 1] + 1) * 8;
            break;
        case 51: /* AH counts its length in 4-byte units, minus 2 */
            if (payload < 8 || !have(c, 8))
                return fail(out, DECODE_MALFORMED);
            hlen = ((uint32_t)c->data[c->off + 1] + 2) * 4;
            break;
        case 44: /* fragment */
            if (payload < 8 || !have(c, 8))
                return fail(out, DECODE_MALFORMED);
            hlen = 8;
            if ((get16(c, 2) & 0xfff8) != 0) {
                out->proto = c->data[c->off];
                out->fragment = true;
                out->status = DECODE_OK;
                return DECODE_OK;
            }
            break;
        default:
            out->proto = next;
            return decode_l4(c, payload, out);
        }
        if (hlen > payload || !have(c, hlen))
            return fail(out, DECODE_MALFORMED);
        next = c->data[c->off];
        payload -= hlen;
        c->off += hlen;
    }
}

/* Dispatches on an ethertype, first unwrapping any 802.1Q / 802.1ad tags. */
static enum decode_status decode_ethertype(struct cursor *c, uint16_t type, struct pktsummary *out)
{
    for (unsigned tags = 0;
         type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD; tags++) {
        if (tags == MAX_VLAN_TAGS || !have(c, 4))
            return fail(out, DECODE_MALFORMED);
        type = get16(c, 2);
        c->off += 4;
    }
    out->ethertype = type;
    if (type == ETHERTYPE_IPV4)
        return decode_ipv4(c, out);
    if (type == ETHERTYPE_IPV6)
        return decode_ipv6(c, out);
    return fail(out, DECODE_NON_IP);
}

static enum decode_status decode_ip_by_version(struct cursor *c, struct pktsummary *out)
{
    if (!have(c, 1))
        return fail(out, DECODE_MALFORMED);
    switch (c->data[c->off] >> 4) {
    case 4:
        return decode_ipv4(c, out);
    case 6:
        return decode_ipv6(c, out);
    default:
        return fail(out, DECODE_MALFORMED);
    }
}

/* BSD loopback: a 4-byte address family, host order for DLT_NULL, network order for LOOP. */
static enum decode_status decode_null(struct cursor *c, bool network_order, struct pktsummary *out)
{
    uint32_t family;

    if (!have(c, 4))
        return fail(out, DECODE_MALFORMED);
    memcpy(&family, c->data + c->off, 4);
    if (network_order)
        family = __builtin_bswap32(family);
    /* A capture may come from a host of the other byte order; families are small numbers. */
    if (family > 0xffff)
        family = __builtin_bswap32(family);
    c->off += 4;
    switch (family) {
    case 2: /* AF_INET everywhere */
        return decode_ipv4(c, out);
    case 10: /* AF_INET6: Linux */
    case 24: /* NetBSD, OpenBSD */
    case 28: /* FreeBSD */
    case 30: /* Darwin */
        return decode_ipv6(c, out);
    default:
        return fail(out, DECODE_NON_IP);
    }
}

bool decode_linktype_supported(int linktype)
{
    switch (linktype) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP:
        return true;
    default:
        return false;
    }
}

enum decode_status decode_packet(int linktype, const uint8_t *data, uint32_t caplen,
                                 struct pktsummary *out)
{
    struct cursor c = {data, caplen, 0};
    uint16_t type;

    memset(out, 0, sizeof(*out));
    switch (linktype) {
    case DLT_EN10MB:
        if (!have(&c, 14))
            return fail(out, DECODE_MALFORMED);
        type = get16(&c, 12);
        c.off = 14;
        return decode_ethertype(&c, type, out);
    case DLT_LINUX_SLL:
        if (!have(&c, 16))
            return fail(out, DECODE_MALFORMED);
        type = get16(&c, 14);
        c.off = 16;
        return decode_ethertype(&c, type, out);
    case DLT_LINUX_SLL2:
        if (!have(&c, 20))
            return fail(out, DECODE_MALFORMED);
        type = get16(&c, 0);
        c.off = 20;
        return decode_ethertype(&c, type, out);
    case DLT_RAW:
        return decode_ip_by_version(&c, out);
    case DLT_IPV4:
        return decode_ipv4(&c, out);
    case DLT_IPV6:
        return decode_ipv6(&c, out);
    case DLT_NULL:
        return decode_null(&c, false, out);
    case DLT_LOOP:
        return decode_null(&c, true, out);
    default:
        return fail(out, DECODE_MALFORMED);
    }
}
