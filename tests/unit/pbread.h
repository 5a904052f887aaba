/* A minimal protobuf reader for tests and fuzz targets, written apart from src/base/pb.c so the
 * two check each other. Strict: a varint must be in its shortest form and end within its
 * message, a field number must be positive. */
#ifndef NSTATS_PBREAD_H
#define NSTATS_PBREAD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pbread {
    const unsigned char *p, *end;
};

/* One field: its number and wire type, a varint's or fixed word's value in v, a
 * length-delimited field's bytes in data/len. */
struct pbfield {
    uint32_t num;
    int wire;
    uint64_t v;
    const char *data;
    size_t len;
};

/* Reads the len bytes at data; data may be NULL when len is 0 (a varint field's). */
static inline struct pbread pbread_of(const void *data, size_t len)
{
    const unsigned char *p = data != NULL ? (const unsigned char *)data : (const unsigned char *)"";
    struct pbread r = {p, p + len};

    return r;
}

/* Reads a shortest-form varint. Returns 0, or -1. */
static inline int pbread_varint(struct pbread *r, uint64_t *v)
{
    uint64_t x = 0;

    for (int i = 0; i < 10; i++) {
        unsigned char c;

        if (r->p == r->end)
            return -1;
        c = *r->p++;
        if (i == 9 && c > 1)
            return -1;
        x |= (uint64_t)(c & 0x7f) << (7 * i);
        if (c < 0x80) {
            if (i > 0 && c == 0)
                return -1; /* a longer form than needed */
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* The next field: returns 1, 0 at the end, -1 if malformed. */
static inline int pbread_next(struct pbread *r, struct pbfield *f)
{
    uint64_t key;

    if (r->p == r->end)
        return 0;
    if (pbread_varint(r, &key) == -1 || key >> 3 == 0 || key >> 3 > 0x1fffffff)
        return -1;
    f->num = (uint32_t)(key >> 3);
    f->wire = (int)(key & 7);
    f->data = NULL;
    f->len = 0;
    switch (f->wire) {
    case 0:
        return pbread_varint(r, &f->v) == -1 ? -1 : 1;
    case 1:
        if (r->end - r->p < 8)
            return -1;
        f->v = 0;
        for (int i = 0; i < 8; i++)
            f->v |= (uint64_t)r->p[i] << (8 * i);
        r->p += 8;
        return 1;
    case 2:
        if (pbread_varint(r, &f->v) == -1 || f->v > (uint64_t)(r->end - r->p))
            return -1;
        f->data = (const char *)r->p;
        f->len = (size_t)f->v;
        r->p += f->len;
        return 1;
    case 5:
        if (r->end - r->p < 4)
            return -1;
        f->v = (uint64_t)r->p[0] | (uint64_t)r->p[1] << 8 | (uint64_t)r->p[2] << 16 |
               (uint64_t)r->p[3] << 24;
        r->p += 4;
        return 1;
    default:
        return -1;
    }
}

/* True if the field's bytes equal the string s. */
static inline int pbfield_is(const struct pbfield *f, const char *s)
{
    return f->len == strlen(s) && memcmp(f->data, s, f->len) == 0;
}

#endif
