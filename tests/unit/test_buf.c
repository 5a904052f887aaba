/* Buffer tests: growth, the cap, and printf into it. */
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

int main(void)
{
    RUN(test_growth_and_cap);
    return test_report();
}
