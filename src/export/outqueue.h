/* The export queue: batches waiting for delivery, bounded in bytes, oldest dropped first. */
#ifndef NSTATS_OUTQUEUE_H
#define NSTATS_OUTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct outbatch {
    struct outbatch *next;
    char *body; /* owned; as sent (gzip-compressed when gzipped) */
    size_t len;
    bool gzipped;
    uint64_t ts_ms; /* the interval end its lines carry */
    unsigned attempts;
    uint64_t not_before_ms; /* monotonic time of the next attempt */
    bool in_flight;
    char *spool_path; /* owned; NULL when not spooled */
};

struct outqueue {
    struct outbatch *head;
    struct outbatch *tail;
    size_t bytes;
    size_t count;
    size_t max_bytes;
};

/* Takes ownership of body (malloc'd) and spool_path (may be NULL). */
struct outbatch *outbatch_new(char *body, size_t len, bool gzipped, uint64_t ts_ms,
                              char *spool_path);
void outbatch_free(struct outbatch *b);

void outqueue_init(struct outqueue *q, size_t max_bytes);
/* Frees every batch; spool files stay on disk for the next start. */
void outqueue_clear(struct outqueue *q);
/* Appends b. While the queue is over its cap, the oldest batches not in flight are removed and
 * handed to on_drop (which frees them). Returns the number dropped. */
size_t outqueue_push(struct outqueue *q, struct outbatch *b,
                     void (*on_drop)(struct outbatch *b, void *arg), void *arg);
/* Removes the head (the caller now owns it). */
struct outbatch *outqueue_pop(struct outqueue *q);

#endif
