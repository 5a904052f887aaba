/* Prometheus remote write 1.0 request bodies (prompb WriteRequest, snappy block format) from
 * the series metrics_render writes, with stale markers for series that ended. */
#ifndef NSTATS_PROMWRITE_H
#define NSTATS_PROMWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "export/pushbody.h"
#include "export/series.h"

/* Prometheus' StaleNaN: the sample value that ends a series. */
#define PROMWRITE_STALE_NAN 0x7ff0000000000002ULL
/* Prometheus' NormalNaN: what a NaN sample is sent as, so it never reads as a stale marker. */
#define PROMWRITE_NORMAL_NAN 0x7ff8000000000001ULL

struct promwrite;

struct promwrite_stats {
    uint64_t series;     /* samples sent */
    uint64_t stale;      /* stale markers sent */
    uint64_t repeated;   /* samples dropped because their series was already written */
    uint64_t requests;   /* request bodies handed over */
    uint64_t body_bytes; /* their bytes, compressed */
    uint64_t failed;     /* intervals dropped: a buffer's cap, or compression, failed */
};

/* At most max_series_per_request series a request (0: 2000, Prometheus' max_samples_per_send).
 * Never NULL. */
struct promwrite *promwrite_new(size_t max_series_per_request);
void promwrite_free(struct promwrite *e);
/* Labels every series carries, as a scrape's target labels would (job, instance, namespace,
 * pod): a pushed series has no scrape target to say who sent it. Copied; empty values, and
 * more than 8, are left out. A series' own label of the same name gives way. Call before the
 * first interval: the labels are part of every series' identity. */
void promwrite_set_target(struct promwrite *e, const struct prom_label *labels, size_t n);

/* Starts an interval's push stamped ts_ms (every sample gets it) and returns the writer for
 * metrics_render; valid until promwrite_end. An interval begun and not ended is dropped. */
struct series_writer *promwrite_begin(struct promwrite *e, uint64_t ts_ms);

/* Ends the interval: every series written in the previous interval but not in this one gets a
 * stale marker (PROMWRITE_STALE_NAN) stamped ts_ms, after this interval's series. Hands each
 * request body (a snappy-compressed WriteRequest of at most the maximum series) to fn, in
 * order. Returns 0, or -1 if writing failed (counted): nothing is handed over, and the next
 * interval is compared with the last one that was. */
int promwrite_end(struct promwrite *e, push_body_fn *fn, void *arg);

void promwrite_get_stats(const struct promwrite *e, struct promwrite_stats *out);

#endif
