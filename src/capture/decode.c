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

/* Every read is checked against the captured length first: off (at most len) is where the
 * next header starts, and n more bytes are there if room(len, off) >= n. The cursor lives in
 * locals, not in memory, so writing the summary does not make the compiler read it again. */
static inline uint32_t room(uint32_t len, uint32_t off)
{
    return off <= len ? len - off : 0;
}

static inline uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static enum decode_status fail(struct pktsummary *out, enum decode_status status)
{
    out->status = status;
    return status;
}

/* Reads transport ports (and TCP flags) at off, bounded by the IP payload length. */
static inline enum decode_status decode_l4(const uint8_t *data, uint32_t len, uint32_t off,
                                           uint32_t payload_len, struct pktsummary *out)
{
    uint8_t proto = out->proto;

    switch (proto) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
    case IPPROTO_DCCP:
    case IPPROTO_SCTP:
    case IPPROTO_UDPLITE: {
        uint32_t payload = 0;

        if (payload_len < 4 || room(len, off) < 4)
            return fail(out, DECODE_MALFORMED);
        out->sport = rd16(data + off);
        out->dport = rd16(data + off + 2);
        out->has_ports = true;
        if (proto == IPPROTO_UDP) {
            payload = off + 8;
        } else if (proto == IPPROTO_TCP && payload_len >= 14 && room(len, off) >= 14) {
            uint32_t header_len = (uint32_t)(data[off + 12] >> 4) * 4;

            out->tcp_flags = data[off + 13];
            if (header_len >= 20)
                payload = off + header_len;
        }
        out->payload_offset = payload;
        out->dns_answer = out->sport == DECODE_DNS_PORT && payload != 0;
        out->dns_query = out->dport == DECODE_DNS_PORT && payload != 0;
        break;
    }
    default:
        break;
    }
    out->status = DECODE_OK;
    return DECODE_OK;
}

static inline enum decode_status decode_ipv4(const uint8_t *data, uint32_t len, uint32_t off,
                                             struct pktsummary *out)
{
    const uint8_t *ip = data + off;
    uint32_t ihl, total;

    if (room(len, off) < 20 || (ip[0] >> 4) != 4)
        return fail(out, DECODE_MALFORMED);
    ihl = (uint32_t)(ip[0] & 0x0f) * 4;
    total = rd16(ip + 2);
    /* A zero total length is what TSO-offloaded packets show on the sending host. */
    if (total == 0)
        total = len - off;
    if (ihl < 20 || total < ihl || room(len, off) < ihl)
        return fail(out, DECODE_MALFORMED);
    out->proto = ip[9];
    out->src.family = out->dst.family = 4;
    memcpy(out->src.bytes, ip + 12, 4);
    memcpy(out->dst.bytes, ip + 16, 4);
    if ((rd16(ip + 6) & 0x1fff) != 0) {
        out->fragment = true;
        out->status = DECODE_OK;
        return DECODE_OK;
    }
    return decode_l4(data, len, off + ihl, total - ihl, out);
}

static inline enum decode_status decode_ipv6(const uint8_t *data, uint32_t len, uint32_t off,
                                             struct pktsummary *out)
{
    uint32_t payload;
    uint8_t next;

    if (room(len, off) < 40 || (data[off] >> 4) != 6)
        return fail(out, DECODE_MALFORMED);
    payload = rd16(data + off + 4);
    /* Jumbograms and TSO packets carry 0; the captured length is the best bound then. */
    if (payload == 0)
        payload = len - off - 40;
    next = data[off + 6];
    out->src.family = out->dst.family = 6;
    memcpy(out->src.bytes, data + off + 8, 16);
    memcpy(out->dst.bytes, data + off + 24, 16);
    off += 40;
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
            if (payload < 8 || room(len, off) < 8)
                return fail(out, DECODE_MALFORMED);
            hlen = ((uint32_t)data[off + 1] + 1) * 8;
            break;
        case 51: /* AH counts its length in 4-byte units, minus 2 */
            if (payload < 8 || room(len, off) < 8)
                return fail(out, DECODE_MALFORMED);
            hlen = ((uint32_t)data[off + 1] + 2) * 4;
            break;
        case 44: /* fragment */
            if (payload < 8 || room(len, off) < 8)
                return fail(out, DECODE_MALFORMED);
            hlen = 8;
            if ((rd16(data + off + 2) & 0xfff8) != 0) {
                out->proto = data[off];
                out->fragment = true;
                out->status = DECODE_OK;
                return DECODE_OK;
            }
            break;
        default:
            out->proto = next;
            return decode_l4(data, len, off, payload, out);
        }
        if (hlen > payload || room(len, off) < hlen)
            return fail(out, DECODE_MALFORMED);
        next = data[off];
        payload -= hlen;
        off += hlen;
    }
}

/* What the link layer says comes next. */
enum network {
    NET_IPV4,
    NET_IPV6,
    NET_OTHER,     /* not IP: DECODE_NON_IP */
    NET_MALFORMED, /* a link header cut short, or no IP version where only IP can be */
};

/* The network layer of an ethertype, after unwrapping any 802.1Q / 802.1ad tags at *off. */
static inline enum network by_ethertype(const uint8_t *data, uint32_t len, uint32_t *off,
                                        uint16_t type, struct pktsummary *out)
{
    for (unsigned tags = 0;
         type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD; tags++) {
        if (tags == MAX_VLAN_TAGS || room(len, *off) < 4)
            return NET_MALFORMED;
        type = rd16(data + *off + 2);
        *off += 4;
    }
    out->ethertype = type;
    return type == ETHERTYPE_IPV4 ? NET_IPV4 : type == ETHERTYPE_IPV6 ? NET_IPV6 : NET_OTHER;
}

static inline enum network by_version(const uint8_t *data, uint32_t len, uint32_t off)
{
    if (room(len, off) < 1)
        return NET_MALFORMED;
    switch (data[off] >> 4) {
    case 4:
        return NET_IPV4;
    case 6:
        return NET_IPV6;
    default:
        return NET_MALFORMED;
    }
}

/* BSD loopback: a 4-byte address family, host order for DLT_NULL, network order for LOOP. */
static inline enum network by_family(const uint8_t *data, uint32_t len, bool network_order)
{
    uint32_t family;

    if (room(len, 0) < 4)
        return NET_MALFORMED;
    memcpy(&family, data, 4);
    if (network_order)
        family = __builtin_bswap32(family);
    /* A capture may come from a host of the other byte order; families are small numbers. */
    if (family > 0xffff)
        family = __builtin_bswap32(family);
    switch (family) {
    case 2: /* AF_INET everywhere */
        return NET_IPV4;
    case 10: /* AF_INET6: Linux */
    case 24: /* NetBSD, OpenBSD */
    case 28: /* FreeBSD */
    case 30: /* Darwin */
        return NET_IPV6;
    default:
        return NET_OTHER;
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
    uint32_t off = 0;
    enum network net;

    memset(out, 0, sizeof(*out));
    /* Each link type says where the network header starts and what it is; one copy of the IP
     * decoders follows, for all of them. */
    switch (linktype) {
    case DLT_EN10MB:
        off = 14;
        net = caplen < off ? NET_MALFORMED : by_ethertype(data, caplen, &off, rd16(data + 12), out);
        break;
    case DLT_LINUX_SLL:
        off = 16;
        net = caplen < off ? NET_MALFORMED : by_ethertype(data, caplen, &off, rd16(data + 14), out);
        break;
    case DLT_LINUX_SLL2:
        off = 20;
        net = caplen < off ? NET_MALFORMED : by_ethertype(data, caplen, &off, rd16(data), out);
        break;
    case DLT_RAW:
        net = by_version(data, caplen, 0);
        break;
    case DLT_IPV4:
        net = NET_IPV4;
        break;
    case DLT_IPV6:
        net = NET_IPV6;
        break;
    case DLT_NULL:
    case DLT_LOOP:
        off = 4;
        net = by_family(data, caplen, linktype == DLT_LOOP);
        break;
    default:
        net = NET_MALFORMED;
        break;
    }
    switch (net) {
    case NET_IPV4:
        return decode_ipv4(data, caplen, off, out);
    case NET_IPV6:
        return decode_ipv6(data, caplen, off, out);
    case NET_OTHER:
        return fail(out, DECODE_NON_IP);
    default:
        return fail(out, DECODE_MALFORMED);
    }
}
