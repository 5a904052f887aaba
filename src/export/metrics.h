/* The /metrics page: flow series as cumulative counters plus nstats' own health. */
#ifndef NSTATS_METRICS_H
#define NSTATS_METRICS_H

#include <stdbool.h>

#include "base/buf.h"
#include "capture/capture.h"
#include "capture/iface.h"
#include "export/keycache.h"
#include "export/prices.h"
#include "export/procstat.h"
#include "export/push.h"
#include "export/schema.h"
#include "export/series.h"
#include "flow/conntrack.h"
#include "flow/listeners.h"
#include "flow/meter.h"
#include "io/httpd.h"
#include "names/k8s.h"
#include "names/names.h"
#include "names/rdns.h"

/* Everything the page shows; optional parts have a have_ flag or may be NULL. */
struct metrics_sources {
    const struct export_identity *id;
    const char *version;
    struct meter *meter;
    uint64_t max_flows;
    bool have_capture;
    struct capture_stats capture; /* cumulative pcap counters */
    bool have_iface;
    struct iface_counters iface; /* the interface's counters since nstats started */
    struct {
        const char *id; /* the sink label: "influxdb", "remote_write", "otlp" */
        struct push_stats stats;
    } sinks[PUSH_MAX_SINKS];
    size_t n_sinks;
    bool have_process;
    struct procstat process;
    const struct listeners *listeners; /* live: how listening sockets are read; may be NULL */
    struct names *names;               /* may be NULL */
    const struct rdns_stats *rdns;     /* may be NULL */
    const struct k8s_stats
        *k8s; /* may be NULL; also adds the remote_kind/namespace/workload labels */
    const struct prices *prices; /* may be NULL */
    /* Live with --conntrack: its counters, or NULL where the table could not be read. */
    bool conntrack_wanted;
    const struct conntrack_stats *conntrack;
    uint64_t now_ms;                /* wall clock, for name expiry */
    const struct httpd_stats *http; /* may be NULL */
    /* The flow keys' labels from the last render by the same writer, reused where nothing they
     * were made from changed; may be NULL (each render formats every key). */
    struct keycache *keycache;
};

/* Writes every series to w (series_text for the exposition). Returns 0, or -1 if the writer
 * failed (its buffer's cap was reached). */
int metrics_render(struct series_writer *w, const struct metrics_sources *src);

#endif
