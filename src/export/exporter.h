/* What happens to a closed interval: rows formatted in slices by the schema, handed to stdout
 * and InfluxDB, names asked for; and, at the end, the wait for pending deliveries. */
#ifndef NSTATS_EXPORTER_H
#define NSTATS_EXPORTER_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "export/influx.h"
#include "export/schema.h"
#include "flow/meter.h"
#include "io/loop.h"
#include "names/names.h"
#include "names/rdns.h"

struct exporter_config {
    enum schema_kind schema;
    bool use_stdout;              /* write every interval to standard output */
    uint64_t shutdown_timeout_ms; /* how long exporter_finish and exporter_pace wait */
    uint64_t influx_queue_bytes;  /* the InfluxDB queue's cap: pacing keeps it half empty */
    const char *spool_dir;        /* where undelivered batches stay, for the last word; or NULL */
};

/* The sinks and sources an exporter works with; each may be NULL but id and loop, and each
 * must outlive the exporter. */
struct exporter_links {
    const struct export_identity *id;
    struct loop *loop;          /* stopped when stdout breaks */
    struct influx_sink *influx; /* the InfluxDB sink, if any */
    struct names *names;        /* names the rows' remotes */
    struct rdns *rdns;          /* asked to resolve each interval's remotes */
};

struct exporter;

struct exporter *exporter_new(const struct exporter_config *cfg,
                              const struct exporter_links *links);
void exporter_free(struct exporter *e);
/* Sets the capture whose drop counters are reported (it may be opened after the exporter). */
void exporter_set_capture(struct exporter *e, struct capture *capture);

/* The meter's interval callback (meter_emit_fn); arg is the exporter. */
void exporter_interval(const struct meter_snapshot *snap, void *arg);

/* Reading a file: runs the loop while InfluxDB's queue is over half full, so a file is read
 * as fast as the sink takes it. Returns when it drains, when *stopping is set, or after
 * shutdown_timeout_ms without progress. */
void exporter_pace(struct exporter *e, const bool *stopping);
/* Runs the loop until every batch is delivered, shutdown_timeout_ms passes, or *abandon is
 * set; says what was not delivered. Returns 0, or -1 if anything was lost (dropped, or left
 * undelivered with no spool). */
int exporter_finish(struct exporter *e, const bool *abandon);
/* True once writing to standard output has failed (the other sinks went on). */
bool exporter_broken(const struct exporter *e);

#endif
