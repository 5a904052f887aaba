/* Address values: parsing goes through inet_pton; formatting is done here, without printf,
 * since export formats one or two addresses per row, and matches inet_ntop exactly. */
#include "netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int netaddr_parse(const char *s, struct netaddr *out)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, s, out->bytes) == 1) {
        out->family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out->bytes) == 1) {
        out->family = 6;
        return 0;
    }
    memset(out, 0, sizeof(*out));
    return -1;
}

/* The dotted quad of b[0..3] at p, without the NUL. Returns the end. */
static char *put_ipv4(char *p, const uint8_t *b)
{
    for (int i = 0; i < 4; i++) {
        unsigned v = b[i];

        if (v >= 100)
            *p++ = (char)('0' + v / 100);
        if (v >= 10)
            *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        if (i < 3)
            *p++ = '.';
    }
    return p;
}

/* RFC 5952 text as glibc's inet_ntop writes it: lowercase hex without leading zeros, the
 * first longest run of two or more zero groups as "::", and the last 32 bits as a dotted quad
 * for IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses. */
static char *put_ipv6(char *p, const uint8_t *b)
{
    static const char hex[] = "0123456789abcdef";
    unsigned words[8];
    int best = -1, best_len = 0, cur = 0, cur_len = 0;

    for (int i = 0; i < 8; i++) {
        words[i] = (unsigned)b[2 * (size_t)i] << 8 | b[2 * (size_t)i + 1];
        if (words[i] != 0) {
            cur_len = 0;
            continue;
        }
        if (cur_len++ == 0)
            cur = i;
        if (cur_len > best_len) {
            best = cur;
            best_len = cur_len;
        }
    }
    if (best_len < 2)
        best = -1;
    for (int i = 0; i < 8; i++) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best)
                *p++ = ':';
            continue;
        }
        if (i != 0)
            *p++ = ':';
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)))
            return put_ipv4(p, b + 12);
        for (int shift = 12; shift >= 0; shift -= 4)
            if (words[i] >> shift != 0 || shift == 0)
                *p++ = hex[words[i] >> shift & 0xf];
    }
    if (best >= 0 && best + best_len == 8)
        *p++ = ':';
    return p;
}

char *netaddr_format(const struct netaddr *a, char *buf, size_t len)
{
    char tmp[NETADDR_STRLEN], *end;

    if (a->family == 4)
        end = put_ipv4(tmp, a->bytes);
    else if (a->family == 6)
        end = put_ipv6(tmp, a->bytes);
    else
        end = tmp + strlen(strcpy(tmp, "none"));
    *end = '\0';
    if ((size_t)(end - tmp) >= len) {
        if (len > 0)
            buf[0] = '\0';
        return buf;
    }
    memcpy(buf, tmp, (size_t)(end - tmp) + 1);
    return buf;
}

bool netaddr_equal(const struct netaddr *a, const struct netaddr *b)
{
    return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

uint64_t netaddr_mix(const struct netaddr *a, uint64_t salt)
{
    uint64_t h = salt ^ a->family;

    for (unsigned i = 0; i < 16; i += 4) {
        uint32_t w;

        memcpy(&w, a->bytes + i, 4);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    }
    return h;
}

int netaddr_compare(const struct netaddr *a, const struct netaddr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->bytes, b->bytes, sizeof(a->bytes));
}

static unsigned family_bits(uint8_t family)
{
    return family == 4 ? 32 : 128;
}

int netprefix_parse(const char *s, struct netprefix *out)
{
    char text[NETADDR_STRLEN + 8];
    const char *slash = strchr(s, '/');
    size_t addr_len = slash ? (size_t)(slash - s) : strlen(s);
    unsigned long bits;

    memset(out, 0, sizeof(*out));
    if (addr_len == 0 || addr_len >= NETADDR_STRLEN)
        return -1;
    memcpy(text, s, addr_len);
    text[addr_len] = '\0';
    if (netaddr_parse(text, &out->addr) == -1)
        return -1;
    bits = family_bits(out->addr.family);
    if (slash != NULL) {
        char *end;
        const char *digits = slash + 1;

        if (*digits < '0' || *digits > '9' || strlen(digits) > 3)
            return -1;
        bits = strtoul(digits, &end, 10);
        if (*end != '\0' || bits > family_bits(out->addr.family))
            return -1;
    }
    out->bits = (uint8_t)bits;
    for (unsigned i = 0; i < 16; i++) {
        unsigned first_bit = i * 8;
        uint8_t mask;

        if (first_bit >= bits)
            mask = 0;
        else if (first_bit + 8 <= bits)
            mask = 0xff;
        else
            mask = (uint8_t)(0xff << (8 - (bits - first_bit)));
        if (out->addr.bytes[i] & (uint8_t)~mask)
            return -1;
    }
    return 0;
}

bool netprefix_contains(const struct netprefix *p, const struct netaddr *a)
{
    unsigned full = p->bits / 8;
    unsigned rest = p->bits % 8;

    if (p->addr.family != a->family)
        return false;
    if (memcmp(p->addr.bytes, a->bytes, full) != 0)
        return false;
    if (rest == 0)
        return true;
    return ((p->addr.bytes[full] ^ a->bytes[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

char *netprefix_format(const struct netprefix *p, char *buf, size_t len)
{
    char addr[NETADDR_STRLEN];

    snprintf(buf, len, "%s/%u", netaddr_format(&p->addr, addr, sizeof(addr)), p->bits);
    return buf;
}
