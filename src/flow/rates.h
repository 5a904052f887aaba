/* Live rates per key, for people watching (the API, nstats top, the page): bytes in and out
 * over the last 2, 10 and 40 seconds (iftop's windows), the peak, and totals. A ring of 2 s
 * buckets per key, filled on a tick from the table's running counts: nothing on the packet
 * path. */
#ifndef NSTATS_RATES_H
#define NSTATS_RATES_H

#include <stddef.h>
#include <stdint.h>

#include "flow/flowkey.h"
#include "flow/flowtable.h"
#include "flow/meter.h"

#define RATES_BUCKET_MS 2000
#define RATES_TICK_MS 500
/* Complete buckets kept: 40 s. */
#define RATES_BUCKETS 20

/* One direction of one key (or of a sum of keys): bytes per second. */
struct rate_values {
    double r2, r10, r40;
    double peak;    /* the highest 2 s rate seen */
    uint64_t total; /* bytes since the key entered the table */
};

struct rates;

/* For a meter of capacity places (meter_capacity). 120 bytes a place, touched only as keys
 * use them. */
struct rates *rates_new(size_t capacity);
void rates_free(struct rates *r);

/* Takes what every key counted since the last tick; every RATES_BUCKET_MS starts a new bucket.
 * The first call starts the first bucket (call it when counting starts); then call again after
 * rates_ms_until_tick, with a clock that does not go back. */
void rates_tick(struct rates *r, struct meter *m, uint64_t now_ms);

/* When to tick next: at most RATES_TICK_MS from now, and exactly when the filling bucket is
 * complete, so every bucket holds 2 s of counts. 0 if a tick is due. */
uint64_t rates_ms_until_tick(const struct rates *r, uint64_t now_ms);

/* Visits every key with its totals and rates (in: remote → local). */
typedef void rates_visit_fn(void *arg, const struct flow_key *key, const struct rate_values *in,
                            const struct rate_values *out);
void rates_foreach(struct rates *r, struct meter *m, rates_visit_fn *fn, void *arg);

/* A bucket's bytes as 16 bits (a 5-bit exponent, an 11-bit mantissa, rounded to nearest:
 * exact below 2048, within 1/2048 above) and back. */
uint16_t rates_encode(uint64_t v);
uint64_t rates_decode(uint16_t code);

/* a += b, rate by rate (the peak of a sum is bounded by the sum of peaks: it is summed). */
void rate_values_add(struct rate_values *a, const struct rate_values *b);

#endif
