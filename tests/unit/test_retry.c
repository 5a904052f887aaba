/* Retry policy tests: HTTP verdicts, capped and jittered backoff, Retry-After parsing. */
#include "base/retry.h"
#include "test.h"

static void test_retry_policy(void)
{
    CHECK_EQ(retry_classify(204), RETRY_DONE);
    CHECK_EQ(retry_classify(0), RETRY_AGAIN);
    CHECK_EQ(retry_classify(500), RETRY_AGAIN);
    CHECK_EQ(retry_classify(503), RETRY_AGAIN);
    CHECK_EQ(retry_classify(429), RETRY_AGAIN);
    CHECK_EQ(retry_classify(408), RETRY_AGAIN);
    CHECK_EQ(retry_classify(400), RETRY_DROP);
    CHECK_EQ(retry_classify(401), RETRY_DROP);
    CHECK_EQ(retry_classify(404), RETRY_DROP);
    CHECK_EQ(retry_classify(413), RETRY_DROP);
    /* A redirect that reached the sink was not followed (307 and 308 are, by libcurl): the
     * batch waits for the next attempt, never dropped. */
    CHECK_EQ(retry_classify(301), RETRY_AGAIN);
    CHECK_EQ(retry_classify(302), RETRY_AGAIN);
    CHECK_EQ(retry_classify(307), RETRY_AGAIN);
    CHECK_EQ(retry_classify(308), RETRY_AGAIN);
    CHECK_EQ(retry_classify(100), RETRY_AGAIN);
    CHECK_EQ(retry_classify(499), RETRY_DROP);
    /* Doubling, capped, jittered within [wait/2, wait). */
    CHECK_EQ(retry_backoff_ms(1, 500, 60000, 0.0, 0), 250);
    CHECK_EQ(retry_backoff_ms(2, 500, 60000, 0.0, 0), 500);
    CHECK_EQ(retry_backoff_ms(3, 500, 60000, 0.999, 0), 1000 + 999);
    CHECK_EQ(retry_backoff_ms(30, 500, 60000, 0.0, 0), 30000);
    CHECK(retry_backoff_ms(30, 500, 60000, 0.999, 0) < 60000);
    /* Retry-After wins when longer, within four caps. */
    CHECK_EQ(retry_backoff_ms(1, 500, 60000, 0.0, 7000), 7000);
    CHECK_EQ(retry_backoff_ms(1, 500, 1000, 0.0, 7000), 4000);
    CHECK_EQ(retry_parse_retry_after(" 12\r\n"), 12000);
    CHECK_EQ(retry_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), 0);
    CHECK_EQ(retry_parse_retry_after("-3"), 0);
    CHECK_EQ(retry_parse_retry_after("5x"), 0);
}

/* Each push protocol's own rule on what a retry cannot fix. */
static void test_protocols(void)
{
    static const long statuses[] = {0,   200, 204, 307, 400, 401, 404, 408,
                                    413, 429, 500, 501, 502, 503, 504, 505};
    /* A = again, D = drop, . = done, in statuses' order. */
    static const char remote_write[] = "A..ADDDDDAAAAAAA";
    static const char otlp[] = "A..ADDDDDADDAAAD";

    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        enum retry_verdict rw = retry_classify_remote_write(statuses[i]);
        enum retry_verdict ot = retry_classify_otlp(statuses[i]);

        CHECK_EQ(rw == RETRY_AGAIN ? 'A' : rw == RETRY_DROP ? 'D' : '.', remote_write[i]);
        CHECK_EQ(ot == RETRY_AGAIN ? 'A' : ot == RETRY_DROP ? 'D' : '.', otlp[i]);
    }
}

int main(void)
{
    RUN(test_retry_policy);
    RUN(test_protocols);
    return test_report();
}
