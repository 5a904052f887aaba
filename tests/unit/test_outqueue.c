/* Export queue tests: the byte bound drops the oldest batch not in flight. */
#include "base/xalloc.h"
#include "export/outqueue.h"
#include "test.h"

static int drops;

static void count_drop(struct outbatch *b, void *arg)
{
    (void)arg;
    drops++;
    outbatch_free(b);
}

static struct outbatch *batch(size_t len, uint64_t ts)
{
    return outbatch_new(xcalloc(1, len), len, false, ts, NULL);
}

static void test_queue_bound(void)
{
    struct outqueue q;
    struct outbatch *b;

    outqueue_init(&q, 1000);
    drops = 0;
    CHECK_EQ(outqueue_push(&q, batch(400, 1), count_drop, NULL), 0);
    CHECK_EQ(outqueue_push(&q, batch(400, 2), count_drop, NULL), 0);
    q.head->in_flight = true; /* the batch being sent is never dropped */
    CHECK_EQ(outqueue_push(&q, batch(400, 3), count_drop, NULL), 1);
    CHECK_EQ(drops, 1);
    CHECK_EQ(q.count, 2);
    CHECK_EQ(q.bytes, 800);
    CHECK_EQ(q.head->ts_ms, 1);
    CHECK_EQ(q.head->next->ts_ms, 3);
    /* A single batch larger than the cap still goes in. */
    q.head->in_flight = false;
    CHECK_EQ(outqueue_push(&q, batch(5000, 4), count_drop, NULL), 2);
    CHECK_EQ(q.count, 1);
    b = outqueue_pop(&q);
    CHECK_EQ(b->ts_ms, 4);
    outbatch_free(b);
    CHECK(outqueue_pop(&q) == NULL);
    CHECK_EQ(q.bytes, 0);
    outqueue_clear(&q);
}

int main(void)
{
    RUN(test_queue_bound);
    return test_report();
}
