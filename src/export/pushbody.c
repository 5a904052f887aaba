/* Held request bodies: each compressed once, into an allocation of its own size that passes to
 * the sink. */
#include "pushbody.h"

#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "io/gzip.h"

void push_bodies_init(struct push_bodies *q)
{
    q->v = NULL;
    q->n = 0;
    q->cap = 0;
}

void push_bodies_drop(struct push_bodies *q)
{
    for (size_t i = 0; i < q->n; i++)
        free(q->v[i].data);
    q->n = 0;
}

void push_bodies_free(struct push_bodies *q)
{
    push_bodies_drop(q);
    free(q->v);
    push_bodies_init(q);
}

char *push_body_encode(const char *data, size_t len, enum push_encoding enc, size_t *out_len)
{
    char *out;

    if (enc == PUSH_SNAPPY) {
        *out_len = snappy_max_compressed_length(len);
        out = xreallocarray(NULL, *out_len, 1);
        if (snappy_compress(data, len, out, out_len) != SNAPPY_OK) {
            free(out);
            return NULL;
        }
    } else if (enc == PUSH_GZIP) {
        struct buf z;

        buf_init(&z, (size_t)-1);
        if (gzip_compress(data, len, &z) == -1) {
            buf_free(&z);
            return NULL;
        }
        out = z.data;
        *out_len = z.len;
    } else {
        out = xreallocarray(NULL, len > 0 ? len : 1, 1);
        memcpy(out, data, len);
        *out_len = len;
    }
    /* Bodies wait for the interval's end: give back what compression did not need. */
    return xreallocarray(out, *out_len > 0 ? *out_len : 1, 1);
}

int push_bodies_add(struct push_bodies *q, const char *data, size_t len, enum push_encoding enc)
{
    size_t out_len;
    char *out = push_body_encode(data, len, enc, &out_len);

    if (out == NULL)
        return -1;
    if (q->n == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 8;
        q->v = xreallocarray(q->v, q->cap, sizeof(*q->v));
    }
    q->v[q->n++] = (struct push_body){out, out_len};
    return 0;
}

uint64_t push_bodies_hand_over(struct push_bodies *q, push_body_fn *fn, void *arg, uint64_t ts_ms)
{
    uint64_t bytes = 0;

    for (size_t i = 0; i < q->n; i++) {
        bytes += q->v[i].len;
        fn(arg, q->v[i].data, q->v[i].len, ts_ms);
    }
    q->n = 0;
    return bytes;
}
