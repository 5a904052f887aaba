/* Builds DNS messages for tests, with optional compression pointers. */
#ifndef NSTATS_DNSBUILD_H
#define NSTATS_DNSBUILD_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

struct dnsmsg {
    uint8_t b[1024];
    size_t len;
};

static inline void dm_u8(struct dnsmsg *m, unsigned v)
{
    m->b[m->len++] = (uint8_t)v;
}

static inline void dm_u16(struct dnsmsg *m, unsigned v)
{
    dm_u8(m, v >> 8);
    dm_u8(m, v);
}

static inline void dm_u32(struct dnsmsg *m, uint32_t v)
{
    dm_u16(m, v >> 16);
    dm_u16(m, v & 0xffff);
}

/* Writes a name as labels; returns its offset, for pointers to it. */
static inline size_t dm_name(struct dnsmsg *m, const char *name)
{
    size_t at = m->len;

    while (*name) {
        const char *dot = strchr(name, '.');
        size_t n = dot ? (size_t)(dot - name) : strlen(name);

        dm_u8(m, (unsigned)n);
        memcpy(m->b + m->len, name, n);
        m->len += n;
        name += n + (dot ? 1 : 0);
    }
    dm_u8(m, 0);
    return at;
}

static inline void dm_ptr(struct dnsmsg *m, size_t at)
{
    dm_u16(m, 0xc000 | (unsigned)at);
}

/* Header of a response with one question and n answers; returns the question name's offset. */
static inline size_t dm_response(struct dnsmsg *m, const char *qname, unsigned qtype, unsigned an)
{
    size_t q;

    m->len = 0;
    dm_u16(m, 0x1234);
    dm_u16(m, 0x8180);
    dm_u16(m, 1);
    dm_u16(m, an);
    dm_u16(m, 0);
    dm_u16(m, 0);
    q = dm_name(m, qname);
    dm_u16(m, qtype);
    dm_u16(m, 1);
    return q;
}

/* The fixed part of a record after its owner name. */
static inline void dm_rr(struct dnsmsg *m, unsigned type, uint32_t ttl, unsigned rdlen)
{
    dm_u16(m, type);
    dm_u16(m, 1);
    dm_u32(m, ttl);
    dm_u16(m, rdlen);
}

static inline void dm_a(struct dnsmsg *m, const char *addr)
{
    struct in_addr a;

    inet_pton(AF_INET, addr, &a);
    memcpy(m->b + m->len, &a, 4);
    m->len += 4;
}

#endif
