/* Prices: parsing, directions, and cost. */
#include "export/prices.h"
#include "test.h"

static void test_parse(void)
{
    struct price p;
    char err[256];

    CHECK_EQ(prices_parse_entry("cross-zone=0.01", &p, err, sizeof(err)), 0);
    CHECK_STR(p.class_, "cross-zone");
    CHECK_EQ(p.dir, PRICE_BOTH);
    CHECK(p.usd_per_gb == 0.01);
    CHECK_EQ(prices_parse_entry("internet:out=0.09", &p, err, sizeof(err)), 0);
    CHECK_STR(p.class_, "internet");
    CHECK_EQ(p.dir, PRICE_OUT);
    CHECK_EQ(prices_parse_entry("vpc:in=0", &p, err, sizeof(err)), 0);
    CHECK_EQ(p.dir, PRICE_IN);
    /* A colon that is not a direction is the class's own (a --label-net label). */
    CHECK_EQ(prices_parse_entry("dc:east=0.02", &p, err, sizeof(err)), 0);
    CHECK_STR(p.class_, "dc:east");
    CHECK_EQ(p.dir, PRICE_BOTH);
    CHECK_EQ(prices_parse_entry("dc:east:out=0.03", &p, err, sizeof(err)), 0);
    CHECK_STR(p.class_, "dc:east");
    CHECK_EQ(p.dir, PRICE_OUT);
    static const char *const bad[] = {"",      "x",     "=1",   "a=",    "a=-1",
                                      "a=nan", "a=inf", "a=1x", ":in=1", ":out=1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ(prices_parse_entry(bad[i], &p, err, sizeof(err)), -1);
}

static void test_cost(void)
{
    struct prices ps = {.n = 0};
    char err[256];

    CHECK_EQ(prices_add(&ps, "cross-zone=0.01", err, sizeof(err)), 0);
    CHECK_EQ(prices_add(&ps, "internet:out=0.09", err, sizeof(err)), 0);
    CHECK_EQ(prices_add(&ps, "internet=0.5", err, sizeof(err)), 0);
    CHECK_EQ(prices_add(&ps, "internet:in=0", err, sizeof(err)), 0);
    CHECK_EQ(prices_add(&ps, "cross-zone=0.02", err, sizeof(err)), 0); /* replaces */
    CHECK_EQ(ps.n, 4);
    CHECK(prices_get(&ps, "cross-zone", false) == 0.02);
    CHECK(prices_get(&ps, "cross-zone", true) == 0.02);
    CHECK(prices_get(&ps, "internet", true) == 0.09);
    CHECK(prices_get(&ps, "internet", false) == 0);
    CHECK(prices_get(&ps, "same-zone", true) == 0);
    CHECK(prices_get(NULL, "internet", true) == 0);
    /* 2 GB in and 3 GB out across zones; 10 GB out to the internet. */
    CHECK(prices_cost(&ps, "cross-zone", 2000000000u, 3000000000u) == 0.1);
    CHECK(prices_cost(&ps, "internet", 5000000000u, 10000000000u) == 0.9);
}

int main(void)
{
    RUN(test_parse);
    RUN(test_cost);
    return test_report();
}
