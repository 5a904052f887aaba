/* OTLP metrics request bodies (opentelemetry-proto v1 ExportMetricsServiceRequest, protobuf,
 * gzip if asked) from the series metrics_render writes: counters as cumulative monotonic Sums
 * with start times, gauges as Gauges, and a no-value point for each series that ended. */
#ifndef NSTATS_OTLP_H
#define NSTATS_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export/pushbody.h"
#include "export/series.h"

struct otlp;

struct otlp_attribute {
    const char *key;
    const char *value; /* empty or NULL: left out */
};

struct otlp_config {
    /* The Resource's string attributes (k8s.pod.name, host.name, service.name, ...), copied;
     * sent in key order. */
    const struct otlp_attribute *resource;
    size_t n_resource;
    const char *scope_version;     /* the InstrumentationScope's (named "nstats"); may be NULL */
    uint64_t start_ms;             /* when counting began: the start of the first push's counters */
    size_t max_points_per_request; /* 0: 2000 */
    bool gzip;                     /* compress bodies (Content-Encoding: gzip) */
};

struct otlp_stats {
    uint64_t points;     /* data points with a value sent */
    uint64_t ended;      /* no-value points sent for series that ended */
    uint64_t repeated;   /* samples dropped because their series was already written */
    uint64_t requests;   /* request bodies handed over */
    uint64_t body_bytes; /* their bytes, as sent */
    uint64_t failed;     /* intervals dropped: a buffer's cap, or compression, failed */
};

/* Never NULL. */
struct otlp *otlp_new(const struct otlp_config *cfg);
void otlp_free(struct otlp *e);

/* Starts an interval's push stamped ts_ms (every point's time) and returns the writer for
 * metrics_render; valid until otlp_end. An interval begun and not ended is dropped. */
struct series_writer *otlp_begin(struct otlp *e, uint64_t ts_ms);
/* Ends the interval: a series written in the previous interval but not this one gets a point
 * with flags = 1 (no recorded value) and is forgotten, so if it returns it starts anew. A
 * counter's start time is the previous push's time for a series new since then, or start_ms
 * in the first push. Hands each body (an ExportMetricsServiceRequest of at most the maximum
 * points) to fn, in order. Returns 0, or -1 if writing failed (counted): nothing is handed
 * over, and the next interval is compared with the last one that was. */
int otlp_end(struct otlp *e, push_body_fn *fn, void *arg);

void otlp_get_stats(const struct otlp *e, struct otlp_stats *out);
/* Sets start_ms (before the first push): when counting began, known only once it has. */
void otlp_set_start(struct otlp *e, uint64_t start_ms);

#endif
