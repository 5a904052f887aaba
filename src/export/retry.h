/* What to do with a write's outcome, and when to try again. Pure policy, no I/O. */
#ifndef NSTATS_RETRY_H
#define NSTATS_RETRY_H

#include <stdint.h>

enum retry_verdict {
    RETRY_DONE,  /* delivered */
    RETRY_AGAIN, /* a transient failure: try again after a backoff */
    RETRY_DROP,  /* the server refused it and would again: drop and count */
};

/* The verdict for an HTTP status; status 0 means the request failed below HTTP (connection
 * refused, timeout, TLS). 2xx is done; 5xx, 408 and 429 are transient; other 4xx are final. */
enum retry_verdict retry_classify(long status);

/* Milliseconds to wait before attempt number attempts+1 (attempts >= 1): base_ms doubled per
 * attempt, capped at cap_ms, with "equal jitter" from rand01 in [0, 1). A server's Retry-After
 * (retry_after_ms > 0) wins when it asks for longer, but never past cap_ms * 4. */
uint64_t retry_backoff_ms(unsigned attempts, uint64_t base_ms, uint64_t cap_ms, double rand01,
                          uint64_t retry_after_ms);

/* Parses a Retry-After header value: delta-seconds only (an HTTP date is ignored, 0).
 * Returns milliseconds. */
uint64_t retry_parse_retry_after(const char *value);

#endif
