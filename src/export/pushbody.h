/* Request bodies a push encoder made during an interval, compressed as the protocol asks and
 * held until the interval ends, then handed over in order. */
#ifndef NSTATS_PUSHBODY_H
#define NSTATS_PUSHBODY_H

#include <stddef.h>
#include <stdint.h>

/* Takes a request body: body (malloc'd, the callee frees it) holds len bytes. */
typedef void push_body_fn(void *arg, char *body, size_t len, uint64_t ts_ms);

enum push_encoding { PUSH_IDENTITY, PUSH_SNAPPY, PUSH_GZIP };

struct push_body {
    char *data;
    size_t len;
};

struct push_bodies {
    struct push_body *v;
    size_t n, cap;
};

/* The len bytes at data as a body: as they are, snappy's block format (remote write), or gzip;
 * malloc'd, in an allocation of its own size (1 byte at least), its length in *out_len.
 * Returns NULL if compression failed. */
char *push_body_encode(const char *data, size_t len, enum push_encoding enc, size_t *out_len);

void push_bodies_init(struct push_bodies *q);
/* Frees the bodies not handed over. */
void push_bodies_free(struct push_bodies *q);
/* Appends a body made from the len bytes at data: as they are, snappy's block format (remote
 * write), or gzip. Returns 0, or -1 if compression failed. */
int push_bodies_add(struct push_bodies *q, const char *data, size_t len, enum push_encoding enc);
/* Passes every body to fn, in order, and empties q. Returns the bytes handed over. */
uint64_t push_bodies_hand_over(struct push_bodies *q, push_body_fn *fn, void *arg, uint64_t ts_ms);
/* Frees every body held and empties q. */
void push_bodies_drop(struct push_bodies *q);

#endif
