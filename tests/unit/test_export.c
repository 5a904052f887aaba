/* Export plumbing tests: retry policy, the bounded queue, the spool, gzip, the legacy schema. */
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include "base/xalloc.h"
#include "export/gzip.h"
#include "export/outqueue.h"
#include "export/retry.h"
#include "export/schema.h"
#include "export/spool.h"
#include "test.h"

static void test_retry_policy(void)
{
    CHECK_EQ(retry_classify(204), RETRY_DONE);
    CHECK_EQ(retry_classify(0), RETRY_AGAIN);
    CHECK_EQ(retry_classify(500), RETRY_AGAIN);
    CHECK_EQ(retry_classify(503), RETRY_AGAIN);
    CHECK_EQ(retry_classify(429), RETRY_AGAIN);
    CHECK_EQ(retry_classify(408), RETRY_AGAIN);
    CHECK_EQ(retry_classify(400), RETRY_DROP);
    CHECK_EQ(retry_classify(401), RETRY_DROP);
    CHECK_EQ(retry_classify(404), RETRY_DROP);
    CHECK_EQ(retry_classify(413), RETRY_DROP);
    /* Doubling, capped, jittered within [wait/2, wait). */
    CHECK_EQ(retry_backoff_ms(1, 500, 60000, 0.0, 0), 250);
    CHECK_EQ(retry_backoff_ms(2, 500, 60000, 0.0, 0), 500);
    CHECK_EQ(retry_backoff_ms(3, 500, 60000, 0.999, 0), 1000 + 999);
    CHECK_EQ(retry_backoff_ms(30, 500, 60000, 0.0, 0), 30000);
    CHECK(retry_backoff_ms(30, 500, 60000, 0.999, 0) < 60000);
    /* Retry-After wins when longer, within four caps. */
    CHECK_EQ(retry_backoff_ms(1, 500, 60000, 0.0, 7000), 7000);
    CHECK_EQ(retry_backoff_ms(1, 500, 1000, 0.0, 7000), 4000);
    CHECK_EQ(retry_parse_retry_after(" 12\r\n"), 12000);
    CHECK_EQ(retry_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), 0);
    CHECK_EQ(retry_parse_retry_after("-3"), 0);
    CHECK_EQ(retry_parse_retry_after("5x"), 0);
}

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

struct loaded {
    int n;
    uint64_t ts[4];
    char body[4][32];
    bool gz[4];
};

static void on_load(void *arg, char *path, char *body, size_t len, bool gzipped, uint64_t ts_ms)
{
    struct loaded *l = arg;

    if (l->n < 4) {
        l->ts[l->n] = ts_ms;
        snprintf(l->body[l->n], sizeof(l->body[0]), "%.*s", (int)len, body);
        l->gz[l->n] = gzipped;
    }
    l->n++;
    spool_remove(path);
    free(path);
    free(body);
}

static void test_spool_round_trip(void)
{
    char dir[] = "/tmp/nstats-spool-XXXXXX", err[256];
    struct loaded l = {0};
    char *p1, *p2, *p3;

    CHECK(mkdtemp(dir) != NULL);
    CHECK_EQ(spool_prepare(dir, err, sizeof(err)), 0);
    p2 = spool_write(dir, 2000, 1, false, "second\n", 7);
    p1 = spool_write(dir, 1000, 7, true, "first", 5);
    p3 = spool_write(dir, 2000, 2, false, "third\n", 6);
    CHECK(p1 != NULL && p2 != NULL && p3 != NULL);
    CHECK_EQ(spool_load(dir, 1 << 20, on_load, &l, err, sizeof(err)), 3);
    CHECK_EQ(l.n, 3);
    CHECK_EQ(l.ts[0], 1000);
    CHECK_STR(l.body[0], "first");
    CHECK(l.gz[0]);
    CHECK_STR(l.body[1], "second\n");
    CHECK_STR(l.body[2], "third\n");
    CHECK(!l.gz[2]);
    l.n = 0;
    CHECK_EQ(spool_load(dir, 1 << 20, on_load, &l, err, sizeof(err)), 0);
    free(p1);
    free(p2);
    free(p3);
    rmdir(dir);
    CHECK_EQ(spool_load("/nonexistent/nstats", 1 << 20, on_load, &l, err, sizeof(err)), -1);
    CHECK(strstr(err, "/nonexistent/nstats") != NULL);
}

static void test_gzip(void)
{
    struct buf z;
    char text[10000], back[10000];
    uLongf back_len = sizeof(back);
    z_stream s = {0};

    for (size_t i = 0; i < sizeof(text); i++)
        text[i] = (char)('a' + i % 7);
    buf_init(&z, 1 << 20);
    CHECK_EQ(gzip_compress(text, sizeof(text), &z), 0);
    CHECK(z.len < sizeof(text) / 10);
    CHECK_EQ((unsigned char)z.data[0], 0x1f); /* gzip magic */
    CHECK_EQ((unsigned char)z.data[1], 0x8b);
    inflateInit2(&s, 15 + 16);
    s.next_in = (unsigned char *)z.data;
    s.avail_in = (uInt)z.len;
    s.next_out = (unsigned char *)back;
    s.avail_out = (uInt)back_len;
    CHECK_EQ(inflate(&s, Z_FINISH), Z_STREAM_END);
    CHECK_EQ(s.total_out, sizeof(text));
    CHECK(memcmp(text, back, sizeof(text)) == 0);
    inflateEnd(&s);
    buf_free(&z);
}

static void test_legacy_schema(void)
{
    struct flow_row rows[4];
    struct meter_snapshot snap;
    struct export_identity id = {"pod-a", "eth0", NULL, NULL};
    struct export_capture_stats cs = {0, 0};
    struct buf b;

    memset(rows, 0, sizeof(rows));
    for (int i = 0; i < 3; i++) {
        netaddr_parse("198.18.0.1", &rows[i].key.local);
        netaddr_parse(i < 2 ? "198.19.0.2" : "198.19.0.3", &rows[i].key.remote);
        rows[i].key.proto = 6;
        rows[i].key.port = (uint16_t)(443 + i);
        rows[i].delta.bytes_in = 1000;
        rows[i].delta.bytes_out = 250;
    }
    rows[3].key.kind = FLOW_KIND_NON_IP;
    rows[3].delta.bytes_in = 60;
    memset(&snap, 0, sizeof(snap));
    snap.start_ms = 0;
    snap.end_ms = 10000;
    snap.rows = rows;
    snap.n_rows = 4;
    buf_init(&b, 1 << 20);
    CHECK_EQ(schema_write_legacy(&b, &id, &snap, &cs, NULL), 0);
    /* Two ports to .2 are summed: 2000 bytes in over 10 s = 1600 bit/s. */
    CHECK_STR(b.data, "nstat,hosts=pod-a,receiver=198.19.0.2,sender=198.18.0.1 sendRate=400,"
                      "receiveRate=1600 10000000000\n"
                      "nstat,hosts=pod-a,receiver=198.19.0.3,sender=198.18.0.1 sendRate=200,"
                      "receiveRate=800 10000000000\n"
                      "nstat,hosts=pod-a,receiver=non-ip,sender=none sendRate=0,"
                      "receiveRate=48 10000000000\n"
                      "nstats_capture,host=pod-a,interface=eth0 packets=0i,bytes=0i,"
                      "capture_drops=0i,interface_drops=0i,keys=0i,keys_created=0i,"
                      "keys_expired=0i,folded_packets=0i,folded_bytes=0i,interval_ms=10000i "
                      "10000000000\n");
    buf_free(&b);
}

int main(void)
{
    RUN(test_retry_policy);
    RUN(test_queue_bound);
    RUN(test_spool_round_trip);
    RUN(test_gzip);
    RUN(test_legacy_schema);
    return test_report();
}
