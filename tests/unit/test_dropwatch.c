/* Drops heard: one warning a minute with what was lost since the last, and "degraded" for
 * five minutes after the last drop. */
#include "capture/dropwatch.h"
#include "test.h"

#define T0 1796000000000ULL

static void test_warns_once_a_minute(void)
{
    struct dropwatch w;
    struct capture_stats s = {0, 0, 0};
    char why[256];

    dropwatch_init(&w, 4u << 20);
    CHECK(!dropwatch_update(&w, &s, T0));
    CHECK(!dropwatch_degraded(&w, T0, why, sizeof(why)));
    /* Interface drops are the NIC's: counted elsewhere, not a capture problem. */
    s.ifdrops = 50;
    CHECK(!dropwatch_update(&w, &s, T0 + 1000));
    CHECK(!dropwatch_degraded(&w, T0 + 1000, why, sizeof(why)));
    s.drops = 7;
    CHECK(dropwatch_update(&w, &s, T0 + 2000));
    CHECK(dropwatch_degraded(&w, T0 + 12000, why, sizeof(why)));
    CHECK_STR(why, "capture dropped 7 packets, the last 10 s ago: the 4096 KiB ring was full "
                   "(raise --buffer-size)");
    /* More within the minute: held back, and told with the next warning. */
    s.drops = 10;
    CHECK(!dropwatch_update(&w, &s, T0 + 30000));
    CHECK_EQ(w.unreported, 3);
    s.drops = 12;
    CHECK(dropwatch_update(&w, &s, T0 + 62000));
    CHECK_EQ(w.unreported, 0);
    /* Degraded until five minutes after the last drop. */
    CHECK(dropwatch_degraded(&w, T0 + 62000 + DROPWATCH_DEGRADED_MS - 1, why, sizeof(why)));
    CHECK(!dropwatch_degraded(&w, T0 + 62000 + DROPWATCH_DEGRADED_MS, why, sizeof(why)));
    /* A counter that started again (a reopened capture) counts from its new value. */
    s.drops = 2;
    CHECK(dropwatch_update(&w, &s, T0 + 200000));
    CHECK_EQ(w.seen, 2);
}

int main(void)
{
    RUN(test_warns_once_a_minute);
    return test_report();
}
