/* Line-protocol encoder tests: the exact bytes written, escaping and the size cap. */
#include "export/lineproto.h"
#include "test.h"

static void test_exact_line(void)
{
    struct buf b;
    struct lineproto_line l;

    buf_init(&b, 4096);
    lineproto_begin(&l, &b, "nstats");
    lineproto_tag(&l, "host", "pod-1");
    lineproto_tag(&l, "empty", "");
    lineproto_tag(&l, "local", "198.18.0.1");
    lineproto_field_uint(&l, "bytes_in", 1500);
    lineproto_field_int(&l, "neg", -3);
    lineproto_field_float(&l, "rate", 0.5);
    lineproto_field_string(&l, "msg", "say \"hi\" \\ now");
    CHECK_EQ(lineproto_end(&l, 1700000000000000000ULL), 0);
    CHECK_STR(b.data, "nstats,host=pod-1,local=198.18.0.1 bytes_in=1500i,neg=-3i,rate=0.5,"
                      "msg=\"say \\\"hi\\\" \\\\ now\" 1700000000000000000\n");
    buf_free(&b);
}

static void test_escaping(void)
{
    struct buf b;
    struct lineproto_line l;

    buf_init(&b, 4096);
    lineproto_begin(&l, &b, "my measure,x");
    lineproto_tag(&l, "tag key", "a,b=c d");
    lineproto_tag(&l, "ctl", "line1\nline2\\");
    lineproto_field_uint(&l, "f=1", 1);
    CHECK_EQ(lineproto_end(&l, 5), 0);
    CHECK_STR(b.data, "my\\ measure\\,x,tag\\ key=a\\,b\\=c\\ d,ctl=line1_line2_ f\\=1=1i 5\n");
    buf_free(&b);
}

static void test_cap_drops_whole_lines(void)
{
    struct buf b;
    struct lineproto_line l;
    int ok = 0, dropped = 0;

    buf_init(&b, 100);
    for (int i = 0; i < 10; i++) {
        lineproto_begin(&l, &b, "m");
        lineproto_tag(&l, "k", "some-longer-value");
        lineproto_field_uint(&l, "v", (uint64_t)i);
        if (lineproto_end(&l, 1) == 0)
            ok++;
        else
            dropped++;
    }
    CHECK_EQ(ok, 3);
    CHECK_EQ(dropped, 7);
    CHECK_EQ(b.len, strlen(b.data));
    CHECK(b.len > 0 && b.data[b.len - 1] == '\n');
    /* A line without fields is not valid line protocol and is refused. */
    buf_reset(&b);
    lineproto_begin(&l, &b, "m");
    CHECK_EQ(lineproto_end(&l, 1), -1);
    CHECK_EQ(b.len, 0);
    buf_free(&b);
}

static void test_large_values(void)
{
    struct buf b;
    struct lineproto_line l;

    buf_init(&b, 4096);
    lineproto_begin(&l, &b, "m");
    lineproto_field_uint(&l, "big", UINT64_MAX);
    lineproto_field_float(&l, "nan", 0.0 / 0.0);
    CHECK_EQ(lineproto_end(&l, 0), 0);
    CHECK_STR(b.data, "m big=9223372036854775807i,nan=0 0\n");
    buf_free(&b);
}

/* Line protocol timestamps are signed 64-bit nanoseconds, and InfluxDB stores up to
 * 2^63 - 2: nothing later, and nothing that reads as negative, is ever written. */
static void test_timestamp_range(void)
{
    struct lineproto_line l;
    struct buf b;

    buf_init(&b, 1 << 16);
    lineproto_begin(&l, &b, "m");
    lineproto_field_int(&l, "v", 1);
    CHECK_EQ(lineproto_end(&l, UINT64_MAX), 0);
    lineproto_begin(&l, &b, "m");
    lineproto_field_int(&l, "v", 2);
    CHECK_EQ(lineproto_end(&l, (uint64_t)INT64_MAX + 1), 0);
    lineproto_begin(&l, &b, "m");
    lineproto_field_int(&l, "v", 3);
    CHECK_EQ(lineproto_end(&l, lineproto_ts_ms(18446744073708551ULL)), 0);
    CHECK_STR(b.data, "m v=1i 9223372036854775806\n"
                      "m v=2i 9223372036854775806\n"
                      "m v=3i 9223372036854775806\n");
    CHECK_EQ(lineproto_ts_ms(1700000000000ULL), 1700000000000000000ULL);
    CHECK_EQ(lineproto_ts_ms(9223372036854ULL), 9223372036854000000ULL);
    CHECK_EQ(lineproto_ts_ms(9223372036855ULL), LINEPROTO_MAX_TS_NS);
    buf_free(&b);
}

int main(void)
{
    RUN(test_exact_line);
    RUN(test_escaping);
    RUN(test_cap_drops_whole_lines);
    RUN(test_large_values);
    RUN(test_timestamp_range);
    return test_report();
}
