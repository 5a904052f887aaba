/* Growable byte buffer with a cap: every buffer fed from outside has a limit. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void buf_init(struct buf *b, size_t max_bytes)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max_bytes = max_bytes;
    b->drain = NULL;
    b->drain_arg = NULL;
    b->drain_at = 0;
}

void buf_free(struct buf *b)
{
    free(b->data);
    buf_init(b, b->max_bytes);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

/* Makes room for extra more bytes and the NUL, cap or not. */
static void grow(struct buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;

    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;

        while (cap < need)
            cap *= 2;
        b->data = xreallocarray(b->data, cap, 1);
        b->cap = cap;
    }
}

static int buf_reserve(struct buf *b, size_t extra)
{
    if (extra > b->max_bytes || b->len > b->max_bytes - extra)
        return -1;
    grow(b, extra);
    return 0;
}

char *buf_space(struct buf *b, size_t extra)
{
    grow(b, extra);
    return b->data + b->len;
}

void buf_set_drain(struct buf *b, size_t at, buf_drain_fn *fn, void *arg)
{
    b->drain = fn;
    b->drain_arg = arg;
    b->drain_at = at;
}

int buf_flush(struct buf *b)
{
    int rc;

    if (b->drain == NULL || b->len == 0)
        return 0;
    rc = b->drain(b->drain_arg, b->data, b->len);
    b->len = 0;
    b->data[0] = '\0';
    return rc;
}

static int drained(struct buf *b)
{
    return b->drain != NULL && b->len >= b->drain_at ? buf_flush(b) : 0;
}

int buf_commit(struct buf *b, size_t n)
{
    if (n > b->max_bytes || b->len > b->max_bytes - n) {
        b->data[b->len] = '\0';
        return -1;
    }
    b->len += n;
    b->data[b->len] = '\0';
    return drained(b);
}

int buf_append(struct buf *b, const void *data, size_t len)
{
    if (buf_reserve(b, len) == -1)
        return -1;
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return drained(b);
}

int buf_append_str(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_append_char_slow(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof(small))
        return buf_append(b, small, (size_t)n);
    if (buf_reserve(b, (size_t)n) == -1)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return drained(b);
}

int buf_append_double(struct buf *b, double v)
{
    char text[32];

    /* %g drops trailing zeros, so 15 digits is already the shortest form of any double that
     * has one of 15 digits or fewer; 17 always reads back exactly. */
    for (int digits = 15; digits <= 17; digits++) {
        (void)snprintf(text, sizeof(text), "%.*g", digits, v);
        if (digits == 17 || strtod(text, NULL) == v)
            break;
    }
    return buf_append_str(b, text);
}
