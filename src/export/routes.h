/* The HTTP pages: /metrics, /healthz and an index at /. Reads what the wiring points it at;
 * a request only reads, it never advances capture or counting. */
#ifndef NSTATS_ROUTES_H
#define NSTATS_ROUTES_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "capture/dropwatch.h"
#include "capture/iface.h"
#include "export/keycache.h"
#include "export/push.h"
#include "export/schema.h"
#include "export/series.h"
#include "flow/conntrack.h"
#include "flow/meter.h"
#include "flow/rates.h"
#include "io/httpd.h"
#include "names/k8s.h"
#include "names/names.h"
#include "names/rdns.h"

/* What the pages show. The wiring fills it as modules start; NULL parts are left out, and
 * /metrics and /healthz answer 503 until meter is set. */
struct routes {
    const struct export_identity *id;
    const char *source; /* the interface or file captured, for /healthz */
    uint64_t max_flows;
    struct meter *meter;
    struct capture *capture;
    const char *ifname;                      /* whose counters /metrics compares against, or NULL */
    struct iface_counters iface0;            /* ifname's counters when capture started */
    struct push_sink *sinks[PUSH_MAX_SINKS]; /* InfluxDB, remote write, OTLP: those in use */
    size_t n_sinks;
    struct names *names;
    const struct prices *prices; /* may be NULL */
    struct rdns *rdns;
    struct k8s *k8s;
    const struct httpd *httpd;
    struct rates *rates;               /* the live API's; NULL: /api/v1 answers 503 */
    const struct listeners *listeners; /* live: read every interval */
    struct dropwatch *drops;           /* live: capture drops make /healthz say "degraded" */
    const struct conntrack *conntrack; /* live, where its table can be read; else NULL */
    char conntrack_problem[256];       /* why it cannot be, when it was asked for */
    char problem[512]; /* why /healthz fails (empty while healthy), via routes_set_problem */
    struct keycache *keycache; /* /metrics' flow labels between scrapes; may be NULL */
};

/* Marks nstats unhealthy with a reason for /healthz ("" or NULL: healthy again). */
void routes_set_problem(struct routes *r, const char *problem);

/* Writes every series /metrics shows to w. cache (may be NULL) keeps the flow keys' labels
 * for the next render by the same kind of writer. Returns 0, or -1 (503 until meter is set). */
int routes_render_metrics(const struct routes *r, struct series_writer *w, struct keycache *cache);

/* The httpd handler (httpd_handler_fn); arg is a struct routes. */
void routes_handle(void *arg, const char *path, struct httpd_reply *reply);

#endif
