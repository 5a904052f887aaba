/* A FIFO of batches with a byte cap. */
#include "outqueue.h"

#include <stdlib.h>

#include "base/xalloc.h"

struct outbatch *outbatch_new(char *body, size_t len, bool gzipped, uint64_t ts_ms,
                              char *spool_path)
{
    struct outbatch *b = xcalloc(1, sizeof(*b));

    b->body = body;
    b->len = len;
    b->gzipped = gzipped;
    b->ts_ms = ts_ms;
    b->spool_path = spool_path;
    return b;
}

void outbatch_free(struct outbatch *b)
{
    if (b == NULL)
        return;
    free(b->body);
    free(b->spool_path);
    free(b);
}

void outqueue_init(struct outqueue *q, size_t max_bytes)
{
    q->head = q->tail = NULL;
    q->bytes = 0;
    q->count = 0;
    q->max_bytes = max_bytes;
}

void outqueue_clear(struct outqueue *q)
{
    while (q->head != NULL)
        outbatch_free(outqueue_pop(q));
}

static void unlink_batch(struct outqueue *q, struct outbatch *prev, struct outbatch *b)
{
    if (prev == NULL)
        q->head = b->next;
    else
        prev->next = b->next;
    if (q->tail == b)
        q->tail = prev;
    b->next = NULL;
    q->bytes -= b->len;
    q->count--;
}

size_t outqueue_push(struct outqueue *q, struct outbatch *b,
                     void (*on_drop)(struct outbatch *b, void *arg), void *arg)
{
    size_t dropped = 0;

    b->next = NULL;
    if (q->tail != NULL)
        q->tail->next = b;
    else
        q->head = b;
    q->tail = b;
    q->bytes += b->len;
    q->count++;
    while (q->bytes > q->max_bytes) {
        struct outbatch *prev = NULL, *victim = q->head;

        while (victim != NULL && victim->in_flight) {
            prev = victim;
            victim = victim->next;
        }
        /* Never drop the batch just pushed: a single batch over the cap still goes out. */
        if (victim == NULL || victim == b)
            break;
        unlink_batch(q, prev, victim);
        on_drop(victim, arg);
        dropped++;
    }
    return dropped;
}

struct outbatch *outqueue_pop(struct outqueue *q)
{
    struct outbatch *b = q->head;

    if (b != NULL)
        unlink_batch(q, NULL, b);
    return b;
}
