/* What happens to a closed interval: rows formatted in slices by the schema, handed to stdout
 * and InfluxDB; every /metrics series encoded for remote write and OTLP; names asked for; and,
 * at the end, the wait for pending deliveries. */
#ifndef NSTATS_EXPORTER_H
#define NSTATS_EXPORTER_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "export/influx.h"
#include "export/push.h"
#include "export/routes.h"
#include "export/schema.h"
#include "export/series.h"
#include "flow/meter.h"
#include "io/loop.h"
#include "names/names.h"
#include "names/rdns.h"

struct exporter_config {
    enum schema_kind schema;
    bool use_stdout;              /* write every interval to standard output */
    uint64_t shutdown_timeout_ms; /* how long exporter_finish and exporter_pace wait */
};

/* A push of every series /metrics shows, at each interval's end: an encoder (remote write,
 * OTLP) and the sink its request bodies go to. */
struct exporter_series_push {
    void *enc;
    /* start_ms: when counting began (the first interval's start); ts_ms: this one's end. */
    struct series_writer *(*begin)(void *enc, uint64_t start_ms, uint64_t ts_ms);
    int (*end)(void *enc, push_body_fn *fn, void *arg);
    uint64_t (*repeated)(const void *enc); /* series left out so far: written twice */
    bool encoded; /* bodies are compressed: the sink adds its encoding header */
    struct push_sink *sink;
};

/* The sinks and sources an exporter works with; each may be NULL but id and loop, and each
 * must outlive the exporter. */
struct exporter_links {
    const struct export_identity *id;
    struct loop *loop;                                      /* stopped when stdout breaks */
    struct influx_sink *influx;                             /* the InfluxDB sink, if any */
    struct exporter_series_push pushes[PUSH_MAX_SINKS - 1]; /* sink NULL: unused */
    /* What /metrics shows, for the series pushes; its sinks (InfluxDB's among them) are the
     * ones pacing and the last word wait for. */
    const struct routes *routes;
    struct names *names; /* names the rows' remotes */
    struct rdns *rdns;   /* asked to resolve each interval's remotes */
};

struct exporter;

struct exporter *exporter_new(const struct exporter_config *cfg,
                              const struct exporter_links *links);
void exporter_free(struct exporter *e);
/* Sets the capture whose drop counters are reported (it may be opened after the exporter). */
void exporter_set_capture(struct exporter *e, struct capture *capture);

/* The meter's interval callback (meter_emit_fn); arg is the exporter. */
void exporter_interval(const struct meter_snapshot *snap, void *arg);

/* Reading a file: runs the loop while a sink's queue is over half full, so a file is read
 * as fast as the sinks take it. Returns when it drains, when *stopping is set, or after
 * shutdown_timeout_ms without progress. */
void exporter_pace(struct exporter *e, const bool *stopping);
/* Ends every pushed series (stale markers, 1 ms after the last interval), then runs the loop
 * until every batch is delivered, shutdown_timeout_ms passes, or *abandon is set; says what
 * was not delivered. Returns 0, or -1 if anything was lost (dropped, or left
 * undelivered with no spool). */
int exporter_finish(struct exporter *e, const bool *abandon);
/* True once writing to standard output has failed (the other sinks went on). */
bool exporter_broken(const struct exporter *e);

#endif
