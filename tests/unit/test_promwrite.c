/* Remote write encoder tests: a request's exact bytes, labels in name order with __name__ and
 * direction merged in, stale markers for series that ended or changed labels, requests cut at
 * the maximum, NaN kept apart from StaleNaN, repeats dropped. */
#include <math.h>
#include <snappy-c.h>
#include <stdbool.h>
#include <stdlib.h>

#include "export/promwrite.h"
#include "pbread.h"
#include "test.h"

#define TS 1700000000000ULL

struct bodies {
    int n;
    char *text[16]; /* each request as text, one series a line */
    uint64_t ts[16];
    char *raw; /* the first request, uncompressed */
    size_t raw_len;
};

/* One TimeSeries as 'name="value",...@value_bits@ts'. */
static void series_text(const char *data, size_t len, struct buf *out)
{
    struct pbread r = pbread_of(data, len);
    struct pbfield f;
    int first = 1, samples = 0;

    while (pbread_next(&r, &f) == 1) {
        struct pbread in = pbread_of(f.data, f.len);
        struct pbfield g;
        uint64_t bits = 0, ts = 0;

        if (f.num == 1) {
            const char *name = "", *value = "";
            size_t name_len = 0, value_len = 0;

            while (pbread_next(&in, &g) == 1) {
                if (g.num == 1)
                    name = g.data, name_len = g.len;
                else if (g.num == 2)
                    value = g.data, value_len = g.len;
            }
            buf_printf(out, "%s%.*s=\"%.*s\"", first ? "" : ",", (int)name_len, name,
                       (int)value_len, value);
            first = 0;
        } else if (f.num == 2) {
            while (pbread_next(&in, &g) == 1) {
                if (g.num == 1 && g.wire == 1)
                    bits = g.v;
                else if (g.num == 2 && g.wire == 0)
                    ts = g.v;
            }
            buf_printf(out, "@%016llx@%llu", (unsigned long long)bits, (unsigned long long)ts);
            samples++;
        }
    }
    if (samples != 1)
        buf_append_str(out, "@samples!=1");
}

static void collect(void *arg, char *body, size_t len, uint64_t ts_ms)
{
    struct bodies *c = arg;
    size_t raw_len = 0;
    char *raw;
    struct buf text;
    struct pbread r;
    struct pbfield f;

    CHECK_EQ(snappy_uncompressed_length(body, len, &raw_len), SNAPPY_OK);
    raw = malloc(raw_len + 1);
    CHECK_EQ(snappy_uncompress(body, len, raw, &raw_len), SNAPPY_OK);
    free(body);
    buf_init(&text, 1 << 20);
    buf_append_str(&text, "");
    r = pbread_of(raw, raw_len);
    for (int rc; (rc = pbread_next(&r, &f)) != 0;) {
        CHECK(rc == 1 && f.num == 1 && f.wire == 2);
        if (rc != 1)
            break;
        series_text(f.data, f.len, &text);
        buf_append_char(&text, '\n');
    }
    if (c->n < 16) {
        c->text[c->n] = text.data;
        c->ts[c->n] = ts_ms;
        c->n++;
    } else {
        buf_free(&text);
    }
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
    memset(c, 0, sizeof(*c));
}

static void test_exact_bytes(void)
{
    struct promwrite *e = promwrite_new(0);
    struct series_writer *w = promwrite_begin(e, 1000);
    struct prom_label l[2] = {{"b", "2", false}, {"a", "1", false}};
    static const unsigned char want[] =
        {
            0x0a, 0x2d, /* TimeSeries, 45 bytes */
            0x0a, 0x0d, 0x0a, 0x08, '_',  '_',  'n',  'a',
            'm',  'e',  '_',  '_',  0x12, 0x01, 'm',       /* */
            0x0a, 0x06, 0x0a, 0x01, 'a',  0x12, 0x01, '1', /* a="1" */
            0x0a, 0x06, 0x0a, 0x01, 'b',  0x12, 0x01, '2', /* b="2" */
            0x12, 0x0c, 0x09, 0,    0,    0,    0,    0,
            0,    0x14, 0x40, 0x10, 0xe8, 0x07, /* 5.0 @ 1000 */
        };
    struct bodies c = {0};

    CHECK_EQ(w->ops->family(w, "m", SERIES_COUNTER, "help"), 0);
    CHECK_EQ(w->ops->sample_u64(w, l, 2, 5), 0);
    CHECK_EQ(promwrite_end(e, collect, &c), 0);
    CHECK_EQ(c.n, 1);
    CHECK_EQ(c.ts[0], 1000);
    CHECK_EQ(c.raw_len, sizeof(want));
    CHECK(c.raw != NULL && c.raw_len == sizeof(want) && memcmp(c.raw, want, sizeof(want)) == 0);
    bodies_free(&c);
    promwrite_free(e);
}

/* Labels in name order whatever the caller's order; empty values left out; zero values and
 * timestamps left out as proto3 does. */
static void test_sorting(void)
{
    struct promwrite *e = promwrite_new(0);
    struct series_writer *w = promwrite_begin(e, TS);
    struct prom_label l[5] = {{"zeta", "z", false},
                              {"alpha", "", false},
                              {"Upper", "u", false},
                              {"mid", "m\"\n\\", false},
                              {"__name__", "spoof", false}};
    struct bodies c = {0};

    CHECK_EQ(w->ops->family(w, "fam", SERIES_GAUGE, ""), 0);
    CHECK_EQ(w->ops->sample_u64(w, l, 5, 0), 0);
    CHECK_EQ(w->ops->sample_double(w, NULL, 0, 1.5), 0);
    CHECK_EQ(promwrite_end(e, collect, &c), 0);
    CHECK_EQ(c.n, 1);
    CHECK_STR(c.text[0], "Upper=\"u\",__name__=\"fam\",mid=\"m\"\n\\\",zeta=\"z\"@0000000000000000@"
                         "1700000000000\n"
                         "__name__=\"fam\"@3ff8000000000000@1700000000000\n");
    bodies_free(&c);
    promwrite_free(e);
}

/* Flow keys: prepared once, written under two directions, direction merged at its place. */
static void test_keys(void)
{
    struct promwrite *e = promwrite_new(0);
    struct series_writer *w = promwrite_begin(e, TS);
    struct prom_label key[4] = {{"remote", "198.51.100.7", true},
                                {"local", "10.0.0.1", true},
                                {"app", "web", false},
                                {"direction", "spoof", false}};
    struct buf arena;
    struct bodies c = {0};

    buf_init(&arena, 1 << 20);
    CHECK_EQ(w->ops->family(w, "nstats_bytes_total", SERIES_COUNTER, "h"), 0);
    CHECK_EQ(w->ops->key_prepare(w, &arena, "k", 1, key, 4), 0);
    CHECK_EQ(w->ops->key_sample(w, "in", arena.data, arena.len, 10), 0);
    CHECK_EQ(w->ops->key_sample(w, "out", arena.data, arena.len, 20), 0);
    CHECK_EQ(w->ops->key_sample(w, "in", "\x0a\x05", 2, 1), -1); /* not a prepared key */
    CHECK_EQ(promwrite_end(e, collect, &c), -1);                 /* the interval failed */
    CHECK_EQ(c.n, 0);

    w = promwrite_begin(e, TS);
    CHECK_EQ(w->ops->family(w, "nstats_bytes_total", SERIES_COUNTER, "h"), 0);
    CHECK_EQ(w->ops->key_sample(w, "in", arena.data, arena.len, 10), 0);
    CHECK_EQ(w->ops->key_sample(w, "out", arena.data, arena.len, 20), 0);
    CHECK_EQ(promwrite_end(e, collect, &c), 0);
    CHECK_EQ(c.n, 1);
    CHECK_STR(c.text[0],
              "__name__=\"nstats_bytes_total\",app=\"web\",direction=\"in\",local=\"10.0.0.1\","
              "remote=\"198.51.100.7\"@4024000000000000@1700000000000\n"
              "__name__=\"nstats_bytes_total\",app=\"web\",direction=\"out\",local=\"10.0.0.1\","
              "remote=\"198.51.100.7\"@4034000000000000@1700000000000\n");
    bodies_free(&c);
    buf_free(&arena);
    promwrite_free(e);
}

/* Target labels join every series in name order, keys' too; a series' own label of the same
 * name gives way; empty target values and reserved names are left out. */
static void test_target(void)
{
    struct promwrite *e = promwrite_new(0);
    struct prom_label target[5] = {{"pod", "web-1", false},
                                   {"job", "nstats", false},
                                   {"namespace", "", false},
                                   {"__name__", "spoof", false},
                                   {"instance", "web-1", false}};
    struct prom_label key[2] = {{"remote", "198.51.100.7", true}, {"job", "other", false}};
    struct prom_label own = {"instance", "mine", false};
    struct series_writer *w;
    struct buf arena;
    struct bodies c = {0};

    promwrite_set_target(e, target, 5);
    w = promwrite_begin(e, TS);
    buf_init(&arena, 1 << 20);
    CHECK_EQ(w->ops->family(w, "up", SERIES_GAUGE, ""), 0);
    CHECK_EQ(w->ops->sample_u64(w, &own, 1, 1), 0);
    CHECK_EQ(w->ops->family(w, "nstats_bytes_total", SERIES_COUNTER, "h"), 0);
    CHECK_EQ(w->ops->key_prepare(w, &arena, "k", 1, key, 2), 0);
    CHECK_EQ(w->ops->key_sample(w, "in", arena.data, arena.len, 10), 0);
    CHECK_EQ(promwrite_end(e, collect, &c), 0);
    CHECK_EQ(c.n, 1);
    CHECK_STR(c.text[0],
              "__name__=\"up\",instance=\"web-1\",job=\"nstats\",pod=\"web-1\""
              "@3ff0000000000000@1700000000000\n"
              "__name__=\"nstats_bytes_total\",direction=\"in\",instance=\"web-1\",job=\"nstats\","
              "pod=\"web-1\",remote=\"198.51.100.7\"@4024000000000000@1700000000000\n");
    bodies_free(&c);
    buf_free(&arena);
    promwrite_free(e);
}

static void write_series(struct series_writer *w, const char *remote_name, bool with_b)
{
    struct prom_label a[2] = {{"remote", "203.0.113.9", true}, {"remote_name", remote_name, false}};
    struct prom_label b = {"x", "b", false};

    w->ops->family(w, "up", SERIES_GAUGE, "");
    w->ops->sample_u64(w, a, 2, 1);
    if (with_b)
        w->ops->sample_u64(w, &b, 1, 2);
}

/* A series that is not written again gets StaleNaN once; one whose labels change (a remote's
 * name learned) is a new series and the old one goes stale. */
static void test_staleness(void)
{
    struct promwrite *e = promwrite_new(0);
    struct promwrite_stats st;
    struct bodies c = {0};

    write_series(promwrite_begin(e, 1000), "", true);
    CHECK_EQ(promwrite_end(e, collect, &c), 0);
    write_series(promwrite_begin(e, 2000), "", false);
    CHECK_EQ(promwrite_end(e, collect, &c), 0);
    write_series(promwrite_begin(e, 3000), "host.example", false);
    CHECK_EQ(promwrite_end(e, collect, &c), 0);
    promwrite_begin(e, 4000);
    CHECK_EQ(promwrite_end(e, collect, &c), 0);
    promwrite_begin(e, 5000); /* nothing left to mark */
    CHECK_EQ(promwrite_end(e, collect, &c), 0);
    CHECK_EQ(c.n, 4);
    CHECK_STR(c.text[0], "__name__=\"up\",remote=\"203.0.113.9\"@3ff0000000000000@1000\n"
                         "__name__=\"up\",x=\"b\"@4000000000000000@1000\n");
    CHECK_STR(c.text[1], "__name__=\"up\",remote=\"203.0.113.9\"@3ff0000000000000@2000\n"
                         "__name__=\"up\",x=\"b\"@7ff0000000000002@2000\n");
    CHECK_STR(c.text[2], "__name__=\"up\",remote=\"203.0.113.9\",remote_name=\"host.example\"@"
                         "3ff0000000000000@3000\n"
                         "__name__=\"up\",remote=\"203.0.113.9\"@7ff0000000000002@3000\n");
    CHECK_STR(c.text[3], "__name__=\"up\",remote=\"203.0.113.9\",remote_name=\"host.example\"@"
                         "7ff0000000000002@4000\n");
    promwrite_get_stats(e, &st);
    CHECK_EQ(st.series, 4);
    CHECK_EQ(st.stale, 3);
    CHECK_EQ(st.requests, 4);
    CHECK_EQ(st.failed, 0);
    bodies_free(&c);
    promwrite_free(e);
}

/* A failed or abandoned interval is forgotten: the next compares with the last handed over. */
static void test_failed_interval(void)
{
    struct promwrite *e = promwrite_new(0);
    struct series_writer *w;
    struct bodies c = {0};
    struct prom_label a = {"s", "a", false}, b = {"s", "b", false};

    w = promwrite_begin(e, 1000);
    w->ops->family(w, "m", SERIES_GAUGE, "");
    w->ops->sample_u64(w, &a, 1, 1);
    CHECK_EQ(promwrite_end(e, collect, &c), 0);
    w = promwrite_begin(e, 2000); /* abandoned: begun again */
    w->ops->family(w, "m", SERIES_GAUGE, "");
    w->ops->sample_u64(w, &b, 1, 1);
    w = promwrite_begin(e, 3000);
    CHECK_EQ(w->ops->sample_u64(w, &b, 1, 1), -1); /* no family yet */
    CHECK_EQ(promwrite_end(e, collect, &c), -1);
    CHECK_EQ(promwrite_end(e, collect, &c), -1); /* not begun */
    w = promwrite_begin(e, 4000);
    w->ops->family(w, "m", SERIES_GAUGE, "");
    w->ops->sample_u64(w, &b, 1, 1);
    CHECK_EQ(promwrite_end(e, collect, &c), 0);
    CHECK_EQ(c.n, 2);
    CHECK_STR(c.text[1], "__name__=\"m\",s=\"b\"@3ff0000000000000@4000\n"
                         "__name__=\"m\",s=\"a\"@7ff0000000000002@4000\n");
    bodies_free(&c);
    promwrite_free(e);
}

/* Seven series and two stale markers at three a request: three bodies in order. */
static void test_cutting(void)
{
    struct promwrite *e = promwrite_new(3);
    struct series_writer *w = promwrite_begin(e, 1000);
    struct bodies c = {0};
    char v[8];

    w->ops->family(w, "m", SERIES_COUNTER, "");
    for (int i = 0; i < 7; i++) {
        struct prom_label l = {"i", v, true};

        snprintf(v, sizeof(v), "%d", i);
        w->ops->sample_u64(w, &l, 1, (uint64_t)i);
    }
    CHECK_EQ(promwrite_end(e, collect, &c), 0);
    CHECK_EQ(c.n, 3);
    w = promwrite_begin(e, 2000);
    w->ops->family(w, "m", SERIES_COUNTER, "");
    for (int i = 2; i < 7; i++) {
        struct prom_label l = {"i", v, true};

        snprintf(v, sizeof(v), "%d", i);
        w->ops->sample_u64(w, &l, 1, (uint64_t)i);
    }
    CHECK_EQ(promwrite_end(e, collect, &c), 0);
    CHECK_EQ(c.n, 6);
    CHECK_STR(c.text[2], "__name__=\"m\",i=\"6\"@4018000000000000@1000\n");
    CHECK_STR(c.text[4], "__name__=\"m\",i=\"5\"@4014000000000000@2000\n"
                         "__name__=\"m\",i=\"6\"@4018000000000000@2000\n"
                         "__name__=\"m\",i=\"0\"@7ff0000000000002@2000\n");
    CHECK_STR(c.text[5], "__name__=\"m\",i=\"1\"@7ff0000000000002@2000\n");
    bodies_free(&c);
    promwrite_free(e);
}

/* A NaN sample is sent as NormalNaN, never as StaleNaN; a series written twice is sent once. */
static void test_nan_and_repeats(void)
{
    struct promwrite *e = promwrite_new(0);
    struct series_writer *w = promwrite_begin(e, 1000);
    struct prom_label a = {"s", "a", false}, b = {"s", "b", false};
    struct promwrite_stats st;
    struct bodies c = {0};
    uint64_t stale_bits = PROMWRITE_STALE_NAN;
    double stale;

    memcpy(&stale, &stale_bits, sizeof(stale));
    w->ops->family(w, "m", SERIES_GAUGE, "");
    CHECK_EQ(w->ops->sample_double(w, &a, 1, stale), 0);
    CHECK_EQ(w->ops->sample_double(w, &b, 1, -NAN), 0);
    CHECK_EQ(w->ops->sample_double(w, &a, 1, 3.0), 0);
    CHECK_EQ(promwrite_end(e, collect, &c), 0);
    CHECK_EQ(c.n, 1);
    CHECK_STR(c.text[0], "__name__=\"m\",s=\"a\"@7ff8000000000001@1000\n"
                         "__name__=\"m\",s=\"b\"@7ff8000000000001@1000\n");
    promwrite_get_stats(e, &st);
    CHECK_EQ(st.repeated, 1);
    CHECK_EQ(st.series, 2);
    bodies_free(&c);
    promwrite_free(e);
}

int main(void)
{
    RUN(test_exact_bytes);
    RUN(test_sorting);
    RUN(test_keys);
    RUN(test_target);
    RUN(test_staleness);
    RUN(test_failed_interval);
    RUN(test_cutting);
    RUN(test_nan_and_repeats);
    return test_report();
}
