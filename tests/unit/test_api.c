/* Rates and the live API: a real meter fed known frames at known times; 2/10/40 s windows,
 * the peak, a key young for its window, rows + others = all for every grouping, filters, and
 * the query parser's answers to good and bad input. */
#include <jansson.h>
#include <pcap/dlt.h>
#include <stdbool.h>
#include <stdlib.h>

#include "export/api.h"
#include "flow/rates.h"
#include "pktbuild.h"
#include "test.h"

#define T0_MS 1700000001000ULL

static struct locality loc;
static const struct hash_key seed = {5, 6};

static void on_emit(const struct meter_snapshot *snap, void *arg)
{
    (void)snap;
    (void)arg;
}

static struct meter *make_meter(void)
{
    struct meter_config mc = {10000, 600000, 100, 1024, FLOW_KEY_ALL, DLT_EN10MB};
    struct netprefix net;

    locality_init(&loc);
    netprefix_parse("198.18.0.1", &net);
    locality_add_net(&loc, &net);
    return meter_new(&mc, &loc, NULL, &seed, on_emit, NULL);
}

/* 198.18.0.1:40000 -> remote:443, TCP, out. */
static void tcp_out(struct pkt *p, const char *remote)
{
    p->len = 0;
    eth(p, 0x0800);
    ipv4(p, "198.18.0.1", remote, 6, 20, 0, 5);
    tcp(p, 40000, 443, 0x10);
}

struct found {
    const char *remote;
    struct rate_values in, out;
    bool seen;
};

static void find(void *arg, const struct flow_key *key, const struct rate_values *in,
                 const struct rate_values *out)
{
    struct found *f = arg;
    struct netaddr a;

    netaddr_parse(f->remote, &a);
    if (netaddr_equal(&key->remote, &a)) {
        f->in = *in;
        f->out = *out;
        f->seen = true;
    }
}

/* 1000 bytes out every 100 ms to .2 (10,000 B/s) for 60 s; .3 sends 40 s of 5000 B/s then
 * stops; ticks every 500 ms. */
static void test_windows(void)
{
    struct meter *m = make_meter();
    struct rates *r = rates_new(meter_capacity(m));
    struct pkt a, b;
    struct found f = {.remote = "198.19.0.2"}, g = {.remote = "198.19.0.3"};

    tcp_out(&a, "198.19.0.2");
    tcp_out(&b, "198.19.0.3");
    meter_start(m, T0_MS);
    for (uint64_t t = 0; t <= 60000; t += 100) {
        if (t % 500 == 0)
            rates_tick(r, m, T0_MS + t);
        if (t == 60000)
            break;
        meter_packet(m, T0_MS + t, a.b, a.len, 1000);
        if (t < 40000)
            meter_packet(m, T0_MS + t, b.b, b.len, 500);
    }
    rates_foreach(r, m, find, &f);
    rates_foreach(r, m, find, &g);
    CHECK(f.seen && g.seen);
    CHECK_EQ((uint64_t)f.out.r2, 10000);
    CHECK_EQ((uint64_t)f.out.r10, 10000);
    CHECK_EQ((uint64_t)f.out.r40, 10000);
    CHECK_EQ((uint64_t)f.out.peak, 10000);
    CHECK_EQ(f.out.total, 600000);
    CHECK_EQ((uint64_t)f.in.r10, 0);
    CHECK_EQ((uint64_t)g.out.r2, 0);
    CHECK_EQ((uint64_t)g.out.r10, 0);
    CHECK_EQ((uint64_t)g.out.r40, 2500); /* 20 s of the last 40 */
    CHECK_EQ((uint64_t)g.out.peak, 5000);
    CHECK_EQ(g.out.total, 200000);
    rates_free(r);
    meter_free(m);
}

/* A key 4 s old: its 10 s and 40 s rates count from its first bucket, not from zeros. */
static void test_young_key(void)
{
    struct meter *m = make_meter();
    struct rates *r = rates_new(meter_capacity(m));
    struct pkt a;
    struct found f = {.remote = "198.19.0.2"};

    tcp_out(&a, "198.19.0.2");
    meter_start(m, T0_MS);
    for (uint64_t t = 0; t <= 30000; t += 500)
        rates_tick(r, m, T0_MS + t);
    for (uint64_t t = 30000; t <= 34000; t += 100) {
        if (t % 500 == 0)
            rates_tick(r, m, T0_MS + t);
        if (t < 34000)
            meter_packet(m, T0_MS + t, a.b, a.len, 200);
    }
    rates_foreach(r, m, find, &f);
    CHECK_EQ((uint64_t)f.out.r2, 2000);
    CHECK_EQ((uint64_t)f.out.r10, 2000);
    CHECK_EQ((uint64_t)f.out.r40, 2000);
    rates_free(r);
    meter_free(m);
}

/* Buckets are 16-bit floats: exact below 2048 bytes, within 1/2048 above, monotonic, and
 * saturating rather than wrapping. */
static void test_bucket_encoding(void)
{
    uint64_t prev = 0;

    for (uint64_t v = 0; v < 2048; v++)
        CHECK_EQ(rates_decode(rates_encode(v)), v);
    for (uint64_t v = 2048; v < ((uint64_t)1 << 42); v = v * 3 / 2 + 7) {
        uint64_t d = rates_decode(rates_encode(v));
        uint64_t err = d > v ? d - v : v - d;

        CHECK(err * 2048 <= v);
        CHECK(d >= prev);
        prev = d;
    }
    CHECK_EQ(rates_decode(rates_encode(UINT64_MAX)), (uint64_t)2047 << 31);
    /* 10 Gb/s for 2 s fits with room to spare. */
    CHECK(rates_decode(rates_encode(2500000000ULL)) > 2499000000ULL);
}

/* A key that slept longer than the ring (and a loop that did not tick meanwhile) shows no
 * stale bucket: every window is 0, the peak is kept. */
static void test_long_sleep(void)
{
    struct meter *m = make_meter();
    struct rates *r = rates_new(meter_capacity(m));
    struct pkt a;
    struct found f = {.remote = "198.19.0.2"};

    tcp_out(&a, "198.19.0.2");
    meter_start(m, T0_MS);
    for (uint64_t t = 0; t <= 4000; t += 100) {
        if (t % 500 == 0)
            rates_tick(r, m, T0_MS + t);
        if (t < 4000)
            meter_packet(m, T0_MS + t, a.b, a.len, 3001);
    }
    for (uint64_t t = 44000; t <= 47000; t += 500) /* 40 s without a tick, then on again */
        rates_tick(r, m, T0_MS + t);
    rates_foreach(r, m, find, &f);
    CHECK(f.seen);
    CHECK_EQ((uint64_t)f.out.r2, 0);
    CHECK_EQ((uint64_t)f.out.r10, 0);
    CHECK_EQ((uint64_t)f.out.r40, 0);
    /* 30010 B/s, as a 16-bit bucket: 60020 bytes are held as 60032. */
    CHECK_EQ((uint64_t)f.out.peak, 30016);
    CHECK_EQ(f.out.total, 120040);
    rates_free(r);
    meter_free(m);
}

/* Ticks land on bucket ends, so every bucket holds exactly 2 s. */
static void test_tick_alignment(void)
{
    struct meter *m = make_meter();
    struct rates *r = rates_new(meter_capacity(m));

    CHECK_EQ(rates_ms_until_tick(r, T0_MS), 0); /* not started: tick now */
    rates_tick(r, m, T0_MS);
    CHECK_EQ(rates_ms_until_tick(r, T0_MS), 500);
    CHECK_EQ(rates_ms_until_tick(r, T0_MS + 1700), 300);
    CHECK_EQ(rates_ms_until_tick(r, T0_MS + 2000), 0);
    rates_tick(r, m, T0_MS + 2000);
    CHECK_EQ(rates_ms_until_tick(r, T0_MS + 2100), 500);
    CHECK_EQ(rates_ms_until_tick(r, T0_MS + 3800), 200);
    rates_free(r);
    meter_free(m);
}

static json_t *flows(struct meter *m, struct rates *r, const char *query)
{
    struct api_sources src;
    struct api_query q;
    struct buf b;
    char err[128];
    json_t *j;

    memset(&src, 0, sizeof(src));
    src.source = "eth0";
    src.meter = m;
    src.rates = r;
    src.now_ms = T0_MS;
    CHECK_EQ(api_parse_query(query, &q, err, sizeof(err)), 0);
    buf_init(&b, 1 << 24);
    CHECK_EQ(api_flows(&b, &src, &q), 0);
    j = json_loads(b.data, 0, NULL);
    CHECK(j != NULL);
    buf_free(&b);
    return j;
}

static double sum_field(json_t *rows, const char *dir, const char *field)
{
    size_t i;
    json_t *row;
    double s = 0;

    json_array_foreach(rows, i, row)
    {
        s += json_number_value(json_object_get(json_object_get(row, dir), field));
    }
    return s;
}

/* 50 remotes, ten of them on port 53/udp; every grouping's rows + others equal all, and
 * all equals what was counted. */
static void test_rows_add_up(void)
{
    static const char *const groups[] = {"pair",     "remote",    "name", "port",
                                         "workload", "namespace", "net"};
    struct meter *m = make_meter();
    struct rates *r = rates_new(meter_capacity(m));
    struct pkt p;
    char remote[32], query[96];
    uint64_t counted = 0;

    meter_start(m, T0_MS);
    for (int i = 0; i < 50; i++) {
        snprintf(remote, sizeof(remote), "198.19.1.%d", i + 1);
        tcp_out(&p, remote);
        meter_packet(m, T0_MS + 10, p.b, p.len, 100u + (unsigned)i);
        counted += 100u + (unsigned)i;
    }
    rates_tick(r, m, T0_MS + 500);
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        json_t *j;
        double rows, others, all;

        snprintf(query, sizeof(query), "group=%s&limit=7&sort=total", groups[g]);
        j = flows(m, r, query);
        rows = sum_field(json_object_get(j, "rows"), "out", "total");
        others = json_number_value(
            json_object_get(json_object_get(json_object_get(j, "others"), "out"), "total"));
        all = json_number_value(
            json_object_get(json_object_get(json_object_get(j, "all"), "out"), "total"));
        CHECK_EQ((uint64_t)(rows + others), (uint64_t)all);
        CHECK_EQ((uint64_t)all, counted);
        json_decref(j);
    }
    {
        json_t *j = flows(m, r, "filter=198.19.1.0%2F29&limit=100");

        /* .1 to .7 (the /29 holds .0 to .7) */
        CHECK_EQ(json_array_size(json_object_get(j, "rows")), 7);
        json_decref(j);
        j = flows(m, r, "filter=port:443&sort=total&order=asc&limit=1");
        CHECK_EQ(json_array_size(json_object_get(j, "rows")), 1);
        CHECK_STR(json_string_value(
                      json_object_get(json_array_get(json_object_get(j, "rows"), 0), "remote")),
                  "198.19.1.1");
        json_decref(j);
        j = flows(m, r, "filter=1.50");
        CHECK_EQ(json_array_size(json_object_get(j, "rows")), 1);
        json_decref(j);
    }
    rates_free(r);
    meter_free(m);
}

static void test_parse_query(void)
{
    struct api_query q;
    char err[128];

    CHECK_EQ(api_parse_query("", &q, err, sizeof(err)), 0);
    CHECK_EQ(q.group, API_GROUP_PAIR);
    CHECK_EQ(q.sort, API_SORT_R10);
    CHECK(!q.ascending);
    CHECK_EQ(q.limit, 100);
    CHECK_EQ(
        api_parse_query("group=remote&sort=name&limit=5&filter=web%20a+b", &q, err, sizeof(err)),
        0);
    CHECK_EQ(q.group, API_GROUP_REMOTE);
    CHECK(q.ascending); /* names sort A to Z unless asked */
    CHECK_EQ(q.limit, 5);
    CHECK_STR(q.filter, "web a b");
    CHECK_EQ(api_parse_query("unknown=1&&sort=r2&order=asc", &q, err, sizeof(err)), 0);
    CHECK_EQ(q.sort, API_SORT_R2);
    CHECK(q.ascending);
    CHECK_EQ(api_parse_query("group=host", &q, err, sizeof(err)), -1);
    CHECK_EQ(api_parse_query("limit=0", &q, err, sizeof(err)), -1);
    CHECK_EQ(api_parse_query("limit=10001", &q, err, sizeof(err)), -1);
    CHECK_EQ(api_parse_query("order=up", &q, err, sizeof(err)), -1);
    CHECK_EQ(api_parse_query("filter=%zz", &q, err, sizeof(err)), -1);
    CHECK_EQ(api_parse_query("filter=%4", &q, err, sizeof(err)), -1);
    CHECK_EQ(api_parse_query("filter=a%00b", &q, err, sizeof(err)), -1);
}

int main(void)
{
    RUN(test_windows);
    RUN(test_young_key);
    RUN(test_bucket_encoding);
    RUN(test_long_sleep);
    RUN(test_tick_alignment);
    RUN(test_rows_add_up);
    RUN(test_parse_query);
    return test_report();
}
