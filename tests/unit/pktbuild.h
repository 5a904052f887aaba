/* Builders for test frames: a few helpers that write headers byte by byte. */
#ifndef NSTATS_PKTBUILD_H
#define NSTATS_PKTBUILD_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

struct pkt {
    uint8_t b[2048];
    unsigned len;
};

static inline void put8(struct pkt *p, uint8_t v)
{
    p->b[p->len++] = v;
}

static inline void put16(struct pkt *p, uint16_t v)
{
    put8(p, (uint8_t)(v >> 8));
    put8(p, (uint8_t)v);
}

static inline void put32(struct pkt *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p, (uint16_t)v);
}

static inline void putn(struct pkt *p, const void *d, unsigned n)
{
    memcpy(p->b + p->len, d, n);
    p->len += n;
}

static inline void zeros(struct pkt *p, unsigned n)
{
    memset(p->b + p->len, 0, n);
    p->len += n;
}

static inline void eth(struct pkt *p, uint16_t type)
{
    static const uint8_t mac[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};

    putn(p, mac, 12);
    put16(p, type);
}

static inline void vlan(struct pkt *p, uint16_t tpid_next)
{
    put16(p, 100);       /* TCI */
    put16(p, tpid_next); /* the next ethertype */
}

/* IPv4 header without options; ihl_words > 5 adds NOP options. */
static inline void ipv4(struct pkt *p, const char *src, const char *dst, uint8_t proto,
                        uint16_t payload, uint16_t frag, unsigned ihl_words)
{
    uint8_t a[4];

    put8(p, (uint8_t)(0x40 | ihl_words));
    put8(p, 0);
    put16(p, (uint16_t)(ihl_words * 4 + payload));
    put16(p, 1);
    put16(p, frag);
    put8(p, 64);
    put8(p, proto);
    put16(p, 0);
    inet_pton(AF_INET, src, a);
    putn(p, a, 4);
    inet_pton(AF_INET, dst, a);
    putn(p, a, 4);
    for (unsigned i = 5; i < ihl_words; i++)
        put32(p, 0x01010101);
}

static inline void ipv6(struct pkt *p, const char *src, const char *dst, uint8_t next,
                        uint16_t payload)
{
    uint8_t a[16];

    put32(p, 0x60000000);
    put16(p, payload);
    put8(p, next);
    put8(p, 64);
    inet_pton(AF_INET6, src, a);
    putn(p, a, 16);
    inet_pton(AF_INET6, dst, a);
    putn(p, a, 16);
}

static inline void tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint8_t flags)
{
    put16(p, sport);
    put16(p, dport);
    put32(p, 1);
    put32(p, 0);
    put8(p, 0x50);
    put8(p, flags);
    put16(p, 65535);
    put32(p, 0);
}

static inline void udp(struct pkt *p, uint16_t sport, uint16_t dport, uint16_t payload)
{
    put16(p, sport);
    put16(p, dport);
    put16(p, (uint16_t)(8 + payload));
    put16(p, 0);
}

#endif
