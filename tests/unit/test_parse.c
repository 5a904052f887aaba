/* Strict value parser tests. */
#include "base/parse.h"
#include "test.h"

static char err[256];

static void test_numbers(void)
{
    uint64_t v;

    CHECK_EQ(parse_u64("42", 0, 100, &v, err, sizeof(err)), 0);
    CHECK_EQ(v, 42);
    CHECK_EQ(parse_u64("101", 0, 100, &v, err, sizeof(err)), -1);
    CHECK(strstr(err, "out of range") != NULL);
    CHECK_EQ(parse_u64("-1", 0, 100, &v, err, sizeof(err)), -1);
    CHECK_EQ(parse_u64("1x", 0, 100, &v, err, sizeof(err)), -1);
    CHECK_EQ(parse_u64("", 0, 100, &v, err, sizeof(err)), -1);
    CHECK_EQ(parse_u64("99999999999999999999999", 0, UINT64_MAX, &v, err, sizeof(err)), -1);
}

static void test_durations_and_sizes(void)
{
    uint64_t v;

    CHECK_EQ(parse_duration_ms("10s", &v, err, sizeof(err)), 0);
    CHECK_EQ(v, 10000);
    CHECK_EQ(parse_duration_ms("250ms", &v, err, sizeof(err)), 0);
    CHECK_EQ(v, 250);
    CHECK_EQ(parse_duration_ms("5m", &v, err, sizeof(err)), 0);
    CHECK_EQ(v, 300000);
    CHECK_EQ(parse_duration_ms("7", &v, err, sizeof(err)), 0);
    CHECK_EQ(v, 7000);
    CHECK_EQ(parse_duration_ms("1w", &v, err, sizeof(err)), -1);
    CHECK_EQ(parse_duration_ms("s", &v, err, sizeof(err)), -1);
    CHECK_EQ(parse_size_bytes("4MiB", &v, err, sizeof(err)), 0);
    CHECK_EQ(v, 4u << 20);
    CHECK_EQ(parse_size_bytes("64k", &v, err, sizeof(err)), 0);
    CHECK_EQ(v, 65536);
    CHECK_EQ(parse_size_bytes("12", &v, err, sizeof(err)), 0);
    CHECK_EQ(parse_size_bytes("1T", &v, err, sizeof(err)), -1);
    CHECK_EQ(parse_size_bytes("99999999999999999999G", &v, err, sizeof(err)), -1);
}

static void test_bools(void)
{
    bool b = false;

    CHECK_EQ(parse_bool("TRUE", &b, err, sizeof(err)), 0);
    CHECK(b);
    CHECK_EQ(parse_bool("off", &b, err, sizeof(err)), 0);
    CHECK(!b);
    CHECK_EQ(parse_bool("maybe", &b, err, sizeof(err)), -1);
}

int main(void)
{
    RUN(test_numbers);
    RUN(test_durations_and_sizes);
    RUN(test_bools);
    return test_report();
}
