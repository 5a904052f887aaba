/* Buffer tests: growth, the cap, and printf into it. */
#include <stdlib.h>

#include "base/buf.h"
#include "test.h"

static void test_growth_and_cap(void)
{
    struct buf b;
    char big[1000];

    buf_init(&b, 2000);
    memset(big, 'x', sizeof(big));
    CHECK_EQ(buf_append(&b, big, sizeof(big)), 0);
    CHECK_EQ(buf_append(&b, big, sizeof(big)), 0);
    CHECK_EQ(buf_append_char(&b, 'y'), -1);
    CHECK_EQ(b.len, 2000);
    buf_reset(&b);
    CHECK_EQ(b.len, 0);
    CHECK_STR(b.data, "");
    CHECK_EQ(buf_printf(&b, "%s-%d", "a", 42), 0);
    CHECK_STR(b.data, "a-42");
    buf_reset(&b);
    CHECK_EQ(buf_printf(&b, "%600s%600s", "a", "b"), 0); /* longer than the stack buffer */
    CHECK_EQ(b.len, 1200);
    CHECK_EQ(buf_printf(&b, "%900s", "c"), -1);
    CHECK_EQ(b.len, 1200);
    buf_free(&b);
    CHECK(b.data == NULL);
}

/* Shortest text that reads back exactly: the doubles a scrape and a legacy row print. */
static void test_double(void)
{
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {0.04, "0.04"},
        {8629.6, "8629.6"},
        {1796089185.44, "1796089185.44"},
        {0.1 + 0.2, "0.30000000000000004"},
        {1.0 / 3.0, "0.3333333333333333"},
        {0, "0"},
        {-2.5, "-2.5"},
        {1e21, "1e+21"},
        {5e-324, "4.94065645841247e-324"}, /* reads back exactly, if not shortest */
    };
    struct buf b;

    buf_init(&b, 64);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_reset(&b);
        CHECK_EQ(buf_append_double(&b, cases[i].v), 0);
        CHECK_STR(b.data, cases[i].text);
        CHECK(strtod(b.data, NULL) == cases[i].v);
    }
    buf_free(&b);
}

int main(void)
{
    RUN(test_growth_and_cap);
    RUN(test_double);
    return test_report();
}
