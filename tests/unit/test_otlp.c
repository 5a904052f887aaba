/* OTLP encoder tests: a request's exact bytes, the resource and scope in every request,
 * counters as cumulative monotonic sums with start times, gauges without, a no-value point
 * for a series that ended and a new start time when it returns, cutting, gzip. */
#include <stdbool.h>
#include <stdlib.h>
#include <zlib.h>

#include "export/otlp.h"
#include "pbread.h"
#include "test.h"

#define MS 1000000ULL /* nanoseconds */

struct bodies {
    int n;
    char *text[16]; /* each request as text */
    char *raw;      /* the first request */
    size_t raw_len;
    bool gzip;
};

/* KeyValues with string values as k="v",...; anything else as "?". */
static void attributes(struct buf *out, const char *data, size_t len, uint32_t field)
{
    struct pbread r = pbread_of(data, len);
    struct pbfield f;
    bool first = true;

    while (pbread_next(&r, &f) == 1) {
        struct pbread kv = pbread_of(f.data, f.len);
        struct pbfield g, s;
        const char *key = "?";
        int key_len = 1;

        if (f.num != field)
            continue;
        buf_append_str(out, first ? "" : ",");
        first = false;
        while (pbread_next(&kv, &g) == 1) {
            if (g.num == 1) {
                key = g.data;
                key_len = (int)g.len;
            } else if (g.num == 2) {
                struct pbread any = pbread_of(g.data, g.len);

                if (pbread_next(&any, &s) == 1 && s.num == 1)
                    buf_printf(out, "%.*s=\"%.*s\"", key_len, key, (int)s.len, s.data);
            }
        }
    }
}

static void point(struct buf *out, const char *data, size_t len)
{
    struct pbread r = pbread_of(data, len);
    struct pbfield f;

    buf_append_str(out, "  point ");
    attributes(out, data, len, 7);
    while (pbread_next(&r, &f) == 1) {
        if (f.num == 2)
            buf_printf(out, " start=%llu", (unsigned long long)(f.v / MS));
        else if (f.num == 3)
            buf_printf(out, " time=%llu", (unsigned long long)(f.v / MS));
        else if (f.num == 6)
            buf_printf(out, " int=%lld", (long long)f.v);
        else if (f.num == 4)
            buf_printf(out, " double=%016llx", (unsigned long long)f.v);
        else if (f.num == 8)
            buf_printf(out, " flags=%llu", (unsigned long long)f.v);
    }
    buf_append_char(out, '\n');
}

static void metric(struct buf *out, const char *data, size_t len)
{
    struct pbread r = pbread_of(data, len);
    struct pbfield f;

    buf_append_str(out, "metric");
    while (pbread_next(&r, &f) == 1) {
        if (f.num == 1 || f.num == 2) {
            buf_printf(out, " %.*s", (int)f.len, f.data);
        } else if (f.num == 5 || f.num == 7) {
            struct pbread d = pbread_of(f.data, f.len);
            struct pbfield g;
            struct buf points;

            buf_init(&points, 1 << 20);
            buf_append_str(&points, "");
            buf_append_str(out, f.num == 5 ? " gauge" : " sum");
            while (pbread_next(&d, &g) == 1) {
                if (g.num == 1)
                    point(&points, g.data, g.len);
                else
                    buf_printf(out, " %u=%llu", g.num, (unsigned long long)g.v);
            }
            buf_append_char(out, '\n');
            buf_append_str(out, points.data);
            buf_free(&points);
        }
    }
}

static void request_text(struct buf *out, const char *data, size_t len)
{
    struct pbread r = pbread_of(data, len), rm, sm;
    struct pbfield f, g, h;

    while (pbread_next(&r, &f) == 1) {
        rm = pbread_of(f.data, f.len);
        while (pbread_next(&rm, &g) == 1) {
            if (g.num == 1) {
                buf_append_str(out, "resource ");
                attributes(out, g.data, g.len, 1);
                buf_append_char(out, '\n');
                continue;
            }
            sm = pbread_of(g.data, g.len);
            while (pbread_next(&sm, &h) == 1) {
                if (h.num == 1) {
                    struct pbread s = pbread_of(h.data, h.len);
                    struct pbfield k;

                    buf_append_str(out, "scope");
                    while (pbread_next(&s, &k) == 1)
                        buf_printf(out, " %.*s", (int)k.len, k.data);
                    buf_append_char(out, '\n');
                } else if (h.num == 2) {
                    metric(out, h.data, h.len);
                }
            }
        }
    }
}

static void collect(void *arg, char *body, size_t len, uint64_t ts_ms)
{
    struct bodies *c = arg;
    struct buf text;
    char *raw = body;
    size_t raw_len = len;

    (void)ts_ms;
    if (c->gzip) {
        z_stream z = {0};

        CHECK(len > 2 && (unsigned char)body[0] == 0x1f && (unsigned char)body[1] == 0x8b);
        raw = malloc(1 << 20);
        inflateInit2(&z, 15 + 16);
        z.next_in = (unsigned char *)body;
        z.avail_in = (uInt)len;
        z.next_out = (unsigned char *)raw;
        z.avail_out = 1 << 20;
        CHECK_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
        raw_len = z.total_out;
        inflateEnd(&z);
        free(body);
    }
    buf_init(&text, 1 << 20);
    buf_append_str(&text, "");
    request_text(&text, raw, raw_len);
    if (c->n < 16)
        c->text[c->n++] = text.data;
    else
        buf_free(&text);
    if (c->raw == NULL) {
        c->raw = raw;
        c->raw_len = raw_len;
    } else {
        free(raw);
    }
}

static void bodies_free(struct bodies *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->text[i]);
    free(c->raw);
    c->n = 0;
    c->raw = NULL;
}

static const struct otlp_attribute resource[] = {
    {"service.name", "nstats"}, {"k8s.pod.name", ""}, {"host.name", "h1"}};

static struct otlp *make(size_t max, bool gzip)
{
    struct otlp_config cfg = {resource, 3, "1.2.3", 500, max, gzip};

    return otlp_new(&cfg);
}

static void test_exact_bytes(void)
{
    struct otlp_config cfg = {NULL, 0, NULL, 0, 0, false};
    struct otlp *e = otlp_new(&cfg);
    struct series_writer *w = otlp_begin(e, 2);
    struct prom_label l = {"a", "b", false};
    static const unsigned char want[] = {
        0x0a, 0x3a,                                                /* ResourceMetrics */
        0x0a, 0x00,                                                /* Resource, no attributes */
        0x12, 0x36,                                                /* ScopeMetrics */
        0x0a, 0x08, 0x0a, 0x06, 'n',  's',  't',  'a',  't',  's', /* scope name */
        0x12, 0x2a,                                                /* Metric */
        0x0a, 0x01, 'c',  0x12, 0x01, 'h',                         /* name, description */
        0x3a, 0x22,                                                /* Sum */
        0x0a, 0x1c,                                                /* NumberDataPoint */
        0x3a, 0x08, 0x0a, 0x01, 'a',  0x12, 0x03, 0x0a, 0x01, 'b', /* a="b" */
        0x19, 0x80, 0x84, 0x1e, 0,    0,    0,    0,    0,         /* time: 2 ms */
        0x31, 7,    0,    0,    0,    0,    0,    0,    0,         /* as_int 7 */
        0x10, 0x02, 0x18, 0x01,                                    /* cumulative, monotonic */
    };
    struct bodies c = {0};

    CHECK_EQ(w->ops->family(w, "c", SERIES_COUNTER, "h"), 0);
    CHECK_EQ(w->ops->sample_u64(w, &l, 1, 7), 0);
    CHECK_EQ(otlp_end(e, collect, &c), 0);
    CHECK_EQ(c.n, 1);
    CHECK_EQ(c.raw_len, sizeof(want));
    CHECK(c.raw != NULL && c.raw_len == sizeof(want) && memcmp(c.raw, want, sizeof(want)) == 0);
    bodies_free(&c);
    otlp_free(e);
}

static void write_some(struct series_writer *w, bool with_b, const char *name)
{
    struct prom_label a[2] = {{"remote", "203.0.113.9", true}, {"remote_name", name, false}};
    struct prom_label b = {"x", "b", false};

    w->ops->family(w, "c_total", SERIES_COUNTER, "Counts.");
    w->ops->sample_u64(w, a, 2, 5);
    if (with_b)
        w->ops->sample_u64(w, &b, 1, UINT64_MAX);
    w->ops->family(w, "g", SERIES_GAUGE, "");
    w->ops->sample_double(w, NULL, 0, 0.5);
}

/* Start times: start_ms in the first push, the previous push's time for a series that is new
 * since; a series that ended gets one point with flags = 1, then starts anew if it returns. */
static void test_lifecycle(void)
{
    struct otlp *e = make(0, false);
    struct otlp_stats st;
    struct bodies c = {0};

    write_some(otlp_begin(e, 1000), false, "");
    CHECK_EQ(otlp_end(e, collect, &c), 0);
    write_some(otlp_begin(e, 2000), true, "");
    CHECK_EQ(otlp_end(e, collect, &c), 0);
    write_some(otlp_begin(e, 3000), false, "n.example");
    CHECK_EQ(otlp_end(e, collect, &c), 0);
    write_some(otlp_begin(e, 4000), true, "n.example");
    CHECK_EQ(otlp_end(e, collect, &c), 0);
    otlp_begin(e, 5000);
    CHECK_EQ(otlp_end(e, collect, &c), 0);
    CHECK_EQ(c.n, 5);
    CHECK_STR(c.text[0], "resource host.name=\"h1\",service.name=\"nstats\"\n"
                         "scope nstats 1.2.3\n"
                         "metric c_total Counts. sum 2=2 3=1\n"
                         "  point remote=\"203.0.113.9\" start=500 time=1000 int=5\n"
                         "metric g gauge\n"
                         "  point  time=1000 double=3fe0000000000000\n");
    CHECK_STR(c.text[1], "resource host.name=\"h1\",service.name=\"nstats\"\n"
                         "scope nstats 1.2.3\n"
                         "metric c_total Counts. sum 2=2 3=1\n"
                         "  point remote=\"203.0.113.9\" start=500 time=2000 int=5\n"
                         "  point x=\"b\" start=1000 time=2000 double=43f0000000000000\n"
                         "metric g gauge\n"
                         "  point  time=2000 double=3fe0000000000000\n");
    CHECK_STR(c.text[2], "resource host.name=\"h1\",service.name=\"nstats\"\n"
                         "scope nstats 1.2.3\n"
                         "metric c_total Counts. sum 2=2 3=1\n"
                         "  point remote=\"203.0.113.9\",remote_name=\"n.example\" start=2000 "
                         "time=3000 int=5\n"
                         "metric g gauge\n"
                         "  point  time=3000 double=3fe0000000000000\n"
                         "metric c_total Counts. sum 2=2 3=1\n"
                         "  point remote=\"203.0.113.9\" start=500 time=3000 flags=1\n"
                         "  point x=\"b\" start=1000 time=3000 flags=1\n");
    /* x="b" returns: a new start, the previous push's time. */
    CHECK(strstr(c.text[3], "  point x=\"b\" start=3000 time=4000 double=43f0000000000000\n") !=
          NULL);
    CHECK_STR(c.text[4], "resource host.name=\"h1\",service.name=\"nstats\"\n"
                         "scope nstats 1.2.3\n"
                         "metric c_total Counts. sum 2=2 3=1\n"
                         "  point remote=\"203.0.113.9\",remote_name=\"n.example\" start=2000 "
                         "time=5000 flags=1\n"
                         "  point x=\"b\" start=3000 time=5000 flags=1\n"
                         "metric g gauge\n"
                         "  point  time=5000 flags=1\n");
    otlp_get_stats(e, &st);
    CHECK_EQ(st.points, 2 + 3 + 2 + 3);
    CHECK_EQ(st.ended, 2 + 3);
    CHECK_EQ(st.requests, 5);
    bodies_free(&c);
    otlp_free(e);
}

/* Keys: direction merged in key order; every request complete with resource and scope; a
 * family split across requests opens its Metric again. */
static void test_keys_and_cutting(void)
{
    struct otlp *e = make(3, true);
    struct series_writer *w = otlp_begin(e, 1000);
    struct prom_label key[3] = {{"remote", "r", true}, {"app", "web", false}, {"port", "", true}};
    struct buf arena;
    struct bodies c = {0};

    c.gzip = true;
    buf_init(&arena, 1 << 20);
    w->ops->family(w, "b_total", SERIES_COUNTER, "");
    CHECK_EQ(w->ops->key_prepare(w, &arena, "k", 1, key, 3), 0);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(w->ops->key_sample(w, "in", arena.data, arena.len, 1), 0);
        CHECK_EQ(w->ops->key_sample(w, "out", arena.data, arena.len, 2), 0);
        w->ops->family(w, "p_total", SERIES_COUNTER, "");
    }
    CHECK_EQ(otlp_end(e, collect, &c), 0);
    CHECK_EQ(c.n, 2);
    CHECK_STR(c.text[0], "resource host.name=\"h1\",service.name=\"nstats\"\n"
                         "scope nstats 1.2.3\n"
                         "metric b_total sum 2=2 3=1\n"
                         "  point app=\"web\",direction=\"in\",remote=\"r\" start=500 time=1000 "
                         "int=1\n"
                         "  point app=\"web\",direction=\"out\",remote=\"r\" start=500 time=1000 "
                         "int=2\n"
                         "metric p_total sum 2=2 3=1\n"
                         "  point app=\"web\",direction=\"in\",remote=\"r\" start=500 time=1000 "
                         "int=1\n");
    CHECK_STR(c.text[1], "resource host.name=\"h1\",service.name=\"nstats\"\n"
                         "scope nstats 1.2.3\n"
                         "metric p_total sum 2=2 3=1\n"
                         "  point app=\"web\",direction=\"out\",remote=\"r\" start=500 time=1000 "
                         "int=2\n");
    bodies_free(&c);
    buf_free(&arena);
    otlp_free(e);
}

/* One interval of one key's bytes in one direction, under its labels. */
static void key_interval(struct otlp *e, uint64_t ts, const char *name, uint64_t total,
                         struct bodies *c)
{
    struct series_writer *w = otlp_begin(e, ts);
    struct prom_label key[2] = {{"remote", "r", true}, {"remote_name", name, false}};
    struct buf arena;

    buf_init(&arena, 1 << 16);
    w->ops->family(w, "b_total", SERIES_COUNTER, "");
    if (total > 0) {
        CHECK_EQ(w->ops->key_prepare(w, &arena, "key-1", 5, key, 2), 0);
        CHECK_EQ(w->ops->key_sample(w, "in", arena.data, arena.len, total), 0);
    }
    CHECK_EQ(otlp_end(e, collect, c), 0);
    buf_free(&arena);
}

/* A key whose labels change (a name learned) goes on in a new series that starts at the last
 * push from the key's count then: the two series add up to the key's count, nothing twice. A
 * key that expired and came back counts from zero again. */
static void test_relabelled_key(void)
{
    struct otlp *e = make(100, false);
    struct bodies c = {0};

    key_interval(e, 1000, "", 100, &c);
    key_interval(e, 2000, "db", 150, &c);
    key_interval(e, 3000, "db", 170, &c);
    key_interval(e, 4000, "db", 0, &c); /* expired */
    key_interval(e, 5000, "db", 5, &c); /* back, counting from zero */
    key_interval(e, 6000, "db", 12, &c);
    CHECK_EQ(c.n, 6);
    CHECK(strstr(c.text[0], "  point direction=\"in\",remote=\"r\" start=500 time=1000 "
                            "int=100\n") != NULL);
    CHECK(strstr(c.text[1], "  point direction=\"in\",remote=\"r\",remote_name=\"db\" "
                            "start=1000 time=2000 int=50\n") != NULL);
    CHECK(strstr(c.text[1], "  point direction=\"in\",remote=\"r\" start=500 time=2000 "
                            "flags=1\n") != NULL);
    CHECK(strstr(c.text[2], "remote_name=\"db\" start=1000 time=3000 int=70\n") != NULL);
    CHECK(strstr(c.text[3], "remote_name=\"db\" start=1000 time=4000 flags=1\n") != NULL);
    CHECK(strstr(c.text[4], "remote_name=\"db\" start=4000 time=5000 int=5\n") != NULL);
    CHECK(strstr(c.text[5], "remote_name=\"db\" start=4000 time=6000 int=12\n") != NULL);
    bodies_free(&c);
    otlp_free(e);
}

int main(void)
{
    RUN(test_exact_bytes);
    RUN(test_lifecycle);
    RUN(test_keys_and_cutting);
    RUN(test_relabelled_key);
    return test_report();
}
