/* When to try again: HTTP verdicts, capped exponential backoff with jitter, Retry-After. Pure
 * policy, no I/O; shared by the push sinks and the Kubernetes client. */
#ifndef NSTATS_RETRY_H
#define NSTATS_RETRY_H

#include <stdint.h>

enum retry_verdict {
    RETRY_DONE,  /* delivered */
    RETRY_AGAIN, /* a transient failure: try again after a backoff */
    RETRY_DROP,  /* the server refused it and would again: drop and count */
};

/* The verdict for an HTTP status; status 0 means the request failed below HTTP (connection
 * refused, timeout, TLS). 2xx is done; 4xx but 408 and 429 are final; everything else (5xx,
 * 408, 429, a 3xx that was not followed, 1xx) is transient. */
enum retry_verdict retry_classify(long status);
/* Prometheus remote write 1.0: every 4xx but 429 is final (408 too). */
enum retry_verdict retry_classify_remote_write(long status);
/* OTLP/HTTP: only 429, 502, 503 and 504 are retryable; other 4xx and 5xx are final. */
enum retry_verdict retry_classify_otlp(long status);

/* Milliseconds to wait before attempt number attempts+1 (attempts >= 1): base_ms doubled per
 * attempt, capped at cap_ms, with "equal jitter" from rand01 in [0, 1). A server's Retry-After
 * (retry_after_ms > 0) wins when it asks for longer, but never past cap_ms * 4. */
uint64_t retry_backoff_ms(unsigned attempts, uint64_t base_ms, uint64_t cap_ms, double rand01,
                          uint64_t retry_after_ms);

/* A small jitter source (xorshift64*), one per client. Not for anything but spreading retries. */
struct retry_rng {
    uint64_t state;
};

/* Seeds r; any seed works, 0 included (e.g. the time, so sidecars differ). */
void retry_rng_seed(struct retry_rng *r, uint64_t seed);
/* The next number in [0, 1), for retry_backoff_ms. */
double retry_rand01(struct retry_rng *r);

/* Parses a Retry-After header value: delta-seconds only (an HTTP date is ignored, 0).
 * Returns milliseconds. */
uint64_t retry_parse_retry_after(const char *value);

#endif
