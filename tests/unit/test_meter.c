/* Meter tests: interval cutting in capture time, and that rows sum to what was captured. */
#include <pcap/dlt.h>

#include "flow/meter.h"
#include "pktbuild.h"
#include "test.h"

struct seen {
    int intervals;
    uint64_t start_ms[8], end_ms[8], packets[8], bytes[8], row_bytes[8];
    size_t rows[8];
};

static void on_emit(const struct meter_snapshot *snap, void *arg)
{
    struct seen *s = arg;
    int i = s->intervals++;
    uint64_t sum = 0;

    if (i >= 8)
        return;
    for (size_t r = 0; r < snap->n_rows; r++)
        sum += snap->rows[r].delta.bytes_in + snap->rows[r].delta.bytes_out;
    s->start_ms[i] = snap->start_ms;
    s->end_ms[i] = snap->end_ms;
    s->packets[i] = snap->packets;
    s->bytes[i] = snap->bytes;
    s->row_bytes[i] = sum;
    s->rows[i] = snap->n_rows;
}

static struct locality loc;

static struct meter *make(struct seen *s, uint64_t interval_ms)
{
    struct meter_config mc = {interval_ms, 60000, 100, 32768, FLOW_KEY_ALL, DLT_EN10MB};
    struct hash_key seed = {3, 4};
    struct netprefix net;

    memset(s, 0, sizeof(*s));
    locality_init(&loc);
    netprefix_parse("198.18.0.1", &net);
    locality_add_net(&loc, &net);
    return meter_new(&mc, &loc, NULL, &seed, on_emit, s);
}

static void test_file_intervals(void)
{
    struct seen s;
    struct meter *m = make(&s, 10000);
    struct pkt p = {.len = 0};

    eth(&p, 0x0800);
    ipv4(&p, "198.18.0.1", "198.19.0.2", 6, 20, 0, 5);
    tcp(&p, 40000, 443, 0x10);
    meter_packet(m, 1700000003000, p.b, p.len, 1514);
    meter_packet(m, 1700000009999, p.b, p.len, 100);
    meter_packet(m, 1700000010007, p.b, p.len, 60); /* the next interval's first packet */
    meter_packet(m, 1700000045000, p.b, 10, 70);    /* malformed, after two empty intervals */
    CHECK_EQ(s.intervals, 2);
    CHECK_EQ(s.end_ms[0], 1700000010000);
    CHECK_EQ(s.start_ms[0], 1700000003000);
    CHECK_EQ(s.bytes[0], 1614);
    CHECK_EQ(s.row_bytes[0], 1614);
    CHECK_EQ(s.end_ms[1], 1700000020000);
    /* Only the capture's first interval starts at a packet; the others at their boundary, so
     * a rate over one is per second of the whole interval. */
    CHECK_EQ(s.start_ms[1], 1700000010000);
    CHECK_EQ(s.bytes[1], 60);
    CHECK_EQ(meter_last_packet_ms(m), 1700000045000);
    meter_finish(m, meter_last_packet_ms(m), false);
    CHECK_EQ(s.intervals, 3);
    CHECK_EQ(s.end_ms[2], 1700000045000);
    CHECK_EQ(s.start_ms[2], 1700000040000);
    CHECK_EQ(s.row_bytes[2], 70);
    CHECK_EQ(s.rows[2], 1);
    /* Finishing twice emits nothing more. */
    meter_finish(m, 1700000046000, true);
    CHECK_EQ(s.intervals, 3);
    meter_free(m);
}

static void test_live_ticks(void)
{
    struct seen s;
    struct meter *m = make(&s, 1000);

    meter_start(m, 5500);
    CHECK_EQ(meter_ms_until_due(m, 5600), 400);
    meter_tick(m, 5999);
    CHECK_EQ(s.intervals, 0);
    meter_tick(m, 6003);
    CHECK_EQ(s.intervals, 1);
    CHECK_EQ(s.start_ms[0], 5500);
    CHECK_EQ(s.end_ms[0], 6000);
    CHECK_EQ(s.packets[0], 0);
    CHECK_EQ(meter_ms_until_due(m, 6003), 997);
    /* A long stall: the next interval starts now, not at the missed boundaries. */
    meter_tick(m, 9500);
    CHECK_EQ(s.intervals, 2);
    CHECK_EQ(s.end_ms[1], 7000);
    CHECK_EQ(meter_ms_until_due(m, 9500), 500);
    meter_finish(m, 9800, true);
    CHECK_EQ(s.intervals, 3);
    CHECK_EQ(s.start_ms[2], 9500);
    CHECK_EQ(s.end_ms[2], 9800);
    meter_free(m);
}

/* A file whose last packet falls exactly on a boundary: that packet opens an interval of its
 * own, and its stamp must not repeat the full interval's before it, or InfluxDB would keep
 * one point of the two (tags and timestamp are a point's identity). */
static void test_boundary_stamps_unique(void)
{
    struct seen s;
    struct meter *m = make(&s, 10000);
    struct pkt p = {.len = 0};

    eth(&p, 0x0800);
    ipv4(&p, "198.18.0.1", "198.19.0.2", 6, 20, 0, 5);
    tcp(&p, 40000, 443, 0x10);
    meter_packet(m, 1700000003000, p.b, p.len, 384);
    meter_packet(m, 1700000010000, p.b, p.len, 46); /* exactly on the boundary */
    meter_finish(m, meter_last_packet_ms(m), false);
    CHECK_EQ(s.intervals, 2);
    CHECK_EQ(s.end_ms[0], 1700000010000);
    CHECK_EQ(s.bytes[0], 384);
    CHECK(s.end_ms[1] > s.end_ms[0]);
    CHECK_EQ(s.end_ms[1], 1700000010001);
    CHECK_EQ(s.bytes[1], 46);
    meter_free(m);

    /* Live: a shutdown right at the boundary the timer just closed. */
    m = make(&s, 1000);
    meter_start(m, 5500);
    meter_tick(m, 6000);
    meter_packet(m, 6000, p.b, p.len, 60);
    meter_finish(m, 6000, true);
    CHECK_EQ(s.intervals, 2);
    CHECK_EQ(s.end_ms[0], 6000);
    CHECK_EQ(s.end_ms[1], 6001);
    meter_free(m);

    /* The wall clock stepped back before the shutdown: still after the last stamp. */
    m = make(&s, 1000);
    meter_start(m, 5500);
    meter_tick(m, 6000);
    meter_finish(m, 4000, true);
    CHECK_EQ(s.intervals, 2);
    CHECK_EQ(s.end_ms[1], 6001);
    meter_free(m);

    /* A late shutdown is stamped at the boundary, never past it. */
    m = make(&s, 1000);
    meter_start(m, 5500);
    meter_finish(m, 6400, true);
    CHECK_EQ(s.intervals, 1);
    CHECK_EQ(s.end_ms[0], 6000);
    meter_free(m);
}

/* A record with ts_sec 0xffffffff reads as -1 s, a huge unsigned time: no interval may end
 * past what line protocol holds. The packet counts as malformed at the clock's time. */
static void test_time_beyond_range(void)
{
    struct seen s;
    struct meter *m = make(&s, 10000);
    struct pkt p = {.len = 0};
    uint64_t minus_one_s = (uint64_t)(-1000000LL) / 1000u;

    eth(&p, 0x0800);
    ipv4(&p, "198.18.0.1", "198.19.0.2", 6, 20, 0, 5);
    tcp(&p, 40000, 443, 0x10);
    meter_packet(m, 1700000003000, p.b, p.len, 100);
    meter_packet(m, minus_one_s, p.b, p.len, 200);
    meter_packet(m, METER_MAX_MS, p.b, p.len, 300);
    meter_packet(m, 1700000004000, p.b, p.len, 400);
    meter_finish(m, meter_last_packet_ms(m), false);
    CHECK_EQ(s.intervals, 1);
    CHECK_EQ(s.end_ms[0], 1700000004000);
    CHECK_EQ(s.bytes[0], 1000);
    CHECK_EQ(s.row_bytes[0], 1000);
    CHECK_EQ(s.rows[0], 2); /* the flow, and the malformed row holding 500 bytes */
    meter_free(m);

    /* The latest time that fits is counted as such. */
    m = make(&s, 1000);
    meter_packet(m, METER_MAX_MS - 1000, p.b, p.len, 100);
    meter_finish(m, meter_last_packet_ms(m), false);
    CHECK_EQ(s.intervals, 1);
    CHECK(s.end_ms[0] <= METER_MAX_MS);
    meter_free(m);
}

int main(void)
{
    RUN(test_file_intervals);
    RUN(test_live_ticks);
    RUN(test_boundary_stamps_unique);
    RUN(test_time_beyond_range);
    return test_report();
}
