/* Retry policy: capped exponential backoff with jitter, so many sidecars do not retry in step. */
#include "retry.h"

#include <stdlib.h>

enum retry_verdict retry_classify(long status)
{
    if (status >= 200 && status < 300)
        return RETRY_DONE;
    /* Only a refusal is final; a redirect that was not followed, or anything unexpected,
     * may be over by the next attempt, and a batch is never dropped on a guess. */
    if (status >= 400 && status < 500 && status != 408 && status != 429)
        return RETRY_DROP;
    return RETRY_AGAIN;
}

enum retry_verdict retry_classify_remote_write(long status)
{
    if (status >= 400 && status < 500 && status != 429)
        return RETRY_DROP;
    return retry_classify(status);
}

enum retry_verdict retry_classify_otlp(long status)
{
    if (status >= 400 && status < 600 && status != 429 && status != 502 && status != 503 &&
        status != 504)
        return RETRY_DROP;
    return retry_classify(status);
}

uint64_t retry_backoff_ms(unsigned attempts, uint64_t base_ms, uint64_t cap_ms, double rand01,
                          uint64_t retry_after_ms)
{
    uint64_t wait = base_ms, half;

    for (unsigned i = 1; i < attempts && wait < cap_ms; i++)
        wait *= 2;
    if (wait > cap_ms)
        wait = cap_ms;
    /* Half fixed, half random: never zero, never in lockstep. */
    half = wait / 2;
    wait = half + (uint64_t)((double)half * rand01);
    if (retry_after_ms > wait)
        wait = retry_after_ms < cap_ms * 4 ? retry_after_ms : cap_ms * 4;
    return wait;
}

void retry_rng_seed(struct retry_rng *r, uint64_t seed)
{
    /* Spread nearby seeds apart; xorshift must never hold 0. */
    r->state = seed * 0x9e3779b97f4a7c15ULL | 1;
}

double retry_rand01(struct retry_rng *r)
{
    /* xorshift64*: jitter needs no more than this. */
    r->state ^= r->state >> 12;
    r->state ^= r->state << 25;
    r->state ^= r->state >> 27;
    return (double)((r->state * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0;
}

uint64_t retry_parse_retry_after(const char *value)
{
    char *end;
    unsigned long long secs;

    while (*value == ' ' || *value == '\t')
        value++;
    if (*value < '0' || *value > '9')
        return 0;
    secs = strtoull(value, &end, 10);
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
        end++;
    if (*end != '\0' || secs > 86400)
        return 0;
    return (uint64_t)secs * 1000u;
}
