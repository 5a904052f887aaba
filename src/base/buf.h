/* A growable byte buffer with a hard cap, in the spirit of curl's dynbuf. */
#ifndef NSTATS_BUF_H
#define NSTATS_BUF_H

#include <stddef.h>

/* Takes len bytes the buffer passes on. Returns 0, or -1 to fail the append that passed them. */
typedef int buf_drain_fn(void *arg, const char *data, size_t len);

struct buf {
    char *data; /* owned; always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max_bytes; /* appends that would pass this fail */
    /* With a drain, the contents are passed on and dropped once they reach drain_at bytes,
     * so a long text is written in slices without being held whole. */
    buf_drain_fn *drain;
    void *drain_arg;
    size_t drain_at;
};

void buf_init(struct buf *b, size_t max_bytes);
void buf_free(struct buf *b);
/* Keeps the allocation, drops the contents. */
void buf_reset(struct buf *b);
/* Return 0, or -1 (contents unchanged) if the cap would be exceeded. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_append_str(struct buf *b, const char *s);
int buf_append_char_slow(struct buf *b, char c);

static inline int buf_append_char(struct buf *b, char c)
{
    if (b->len + 1 < b->cap && b->len < b->max_bytes) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return 0;
    }
    return buf_append_char_slow(b, c);
}
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A finite double in the fewest digits that read back as the same double ("0.04", not
 * "0.040000000000000001"), in %g form. */
int buf_append_double(struct buf *b, double v);

/* From now on, passes the contents to fn whenever they reach at bytes (appends of single
 * characters are passed with the next longer append or buf_flush). Callers must not keep
 * pointers into the contents across appends. */
void buf_set_drain(struct buf *b, size_t at, buf_drain_fn *fn, void *arg);
/* Passes whatever is buffered to the drain and drops it. Returns 0, or -1 if the drain failed
 * (appends that pass contents on return -1 then too, their contents dropped all the same). */
int buf_flush(struct buf *b);

/* For writers that know an upper bound: returns where up to extra bytes may be written. The
 * cap is not checked here but by buf_commit, against what was actually written, so room is
 * made for extra bytes even past the cap. */
char *buf_space(struct buf *b, size_t extra);
/* Appends the n bytes written at buf_space's pointer. Returns 0, or -1 (contents unchanged)
 * if they would pass the cap. */
int buf_commit(struct buf *b, size_t n);

#endif
