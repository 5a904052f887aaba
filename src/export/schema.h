/* The default nstats schema: how a snapshot's rows become line-protocol points. */
#ifndef NSTATS_SCHEMA_H
#define NSTATS_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/netaddr.h"
#include "export/influx.h"
#include "flow/meter.h"
#include "names/names.h"

/* Which rows an interval becomes (--schema). */
enum schema_kind {
    SCHEMA_DEFAULT, /* measurement nstats, one row per key */
    SCHEMA_LEGACY,  /* the prototype's measurement nstat */
};

/* Who is reporting: tags on every row. Empty strings are omitted. */
struct export_identity {
    const char *host;
    const char *interface;
    const char *namespace_; /* $POD_NAMESPACE */
    const char *node;       /* $NODE_NAME */
    const char *workload;   /* --workload: the Deployment, StatefulSet... nstats counts for */
};

/* Capture-level numbers for the interval that the meter cannot know. */
struct export_capture_stats {
    uint64_t capture_drops;   /* pcap ps_drop delta: dropped for lack of buffer space */
    uint64_t interface_drops; /* pcap ps_ifdrop delta: dropped by the interface/driver */
};

/* The tag values of a row's key, as exported. */
struct schema_key_tags {
    char local[NETADDR_STRLEN];
    char remote[NETADDR_STRLEN];
    char proto[16];
    char port[8];
};

void schema_key_tags(const struct flow_key *key, struct schema_key_tags *out);
/* True for rows whose remote is a real address that names can apply to. */
bool schema_key_nameable(const struct flow_key *key);

/* Appends measurement "nstats" rows for every row of snap, then one "nstats_capture" row.
 * names (may be NULL) adds remote_name, remote_source and net tags. Returns the number of
 * lines that did not fit in b's cap (0 normally). */
size_t schema_write_default(struct buf *b, const struct export_identity *id,
                            const struct meter_snapshot *snap,
                            const struct export_capture_stats *cs, struct names *names);

/* The same in parts, so a large interval can be written out in slices: the "nstats" rows for
 * rows [from, to) of snap, then the "nstats_capture" row. Each returns the lines that did
 * not fit. */
size_t schema_write_rows(struct buf *b, const struct export_identity *id,
                         const struct meter_snapshot *snap, size_t from, size_t to,
                         struct names *names);
size_t schema_write_capture(struct buf *b, const struct export_identity *id,
                            const struct meter_snapshot *snap,
                            const struct export_capture_stats *cs);

/* Appends the prototype's rows: measurement "nstat", tags hosts, receiver, sender, and float
 * fields sendRate and receiveRate in bits per second over the interval, one row per
 * (sender, receiver) name pair; then the same "nstats_capture" row as the default schema.
 * Returns lines that did not fit. */
size_t schema_write_legacy(struct buf *b, const struct export_identity *id,
                           const struct meter_snapshot *snap, const struct export_capture_stats *cs,
                           struct names *names);

/* Appends the "nstats_export" row: the InfluxDB sink's own health at end_ms. Returns the
 * lines that did not fit. */
size_t schema_write_export(struct buf *b, const struct export_identity *id,
                           const struct push_stats *st, uint64_t end_ms);

#endif
