/* The running process: every module main.c builds, and the two ways of counting with them,
 * live from an interface (run/live.c) and from a capture file (run/file.c). main.c builds and
 * frees; these only count. */
#ifndef NSTATS_RUN_APP_H
#define NSTATS_RUN_APP_H

#include <stdbool.h>

#include "base/hash.h"
#include "capture/capture.h"
#include "capture/dropwatch.h"
#include "config/config.h"
#include "export/exporter.h"
#include "export/influx.h"
#include "export/routes.h"
#include "flow/conntrack.h"
#include "flow/feed.h"
#include "flow/listeners.h"
#include "flow/locality.h"
#include "flow/meter.h"
#include "flow/rates.h"
#include "io/httpd.h"
#include "io/loop.h"
#include "io/signals.h"
#include "names/k8s.h"
#include "names/k8smap.h"
#include "names/names.h"
#include "names/rdns.h"
#include "names/snoop.h"

struct app {
    struct config cfg;
    struct loop *loop;
    struct signals *signals;
    /* What is counted, and how it is split into keys. */
    struct locality loc;
    struct listeners listeners;
    struct capture *cap;
    struct dropwatch drops; /* live: drops warned about and shown on /healthz */
    struct meter *meter;
    struct feed *feed;
    int cap_fd; /* the capture's descriptor on the loop, or -1 while the interface is gone */
    struct loop_timer *tick;
    struct loop_timer *reopen;
    struct rates *rates; /* live rates for the API */
    struct loop_timer *rates_tick;
    /* Live: NAT'd connections, from the kernel's conntrack, for their true ends. */
    struct nattable *nat;
    struct conntrack *conntrack;
    /* Names for the far ends. */
    struct names *names;
    struct snoop *snoop;
    struct rdns *rdns;
    struct k8smap *k8smap;
    struct k8s *k8s;
    /* Where the numbers go. */
    struct export_identity id;
    struct influx_sink *influx;
    struct push_sink *remote_write;
    struct promwrite *promwrite;
    struct push_sink *otlp;
    struct otlp *otlp_enc;
    struct exporter *exporter;
    struct httpd *httpd;
    struct routes routes;
    bool stopping; /* a signal asked to stop */
    bool abandon;  /* a second signal: stop without waiting for delivery */
    bool failed;   /* exit non-zero */
};

/* Builds the meter for the open capture, its feed, and points the exporter and pages at it. */
void app_start_counting(struct app *app, struct meter_config *mc, const struct hash_key *seed,
                        const char *source, const struct listeners *listeners,
                        struct names *file_names);
/* Starts the remote write and OTLP sinks the configuration asks for, adds them to the pages
 * and to links. Returns 0, or -1 with the reason in errbuf. */
int app_start_pushes(struct app *app, struct exporter_links *links, char *errbuf, size_t errlen);
void app_stop_pushes(struct app *app);

/* The capture thread's read-ahead for a table of max_flows keys. */
size_t app_readahead(uint64_t max_flows);

/* Counts live on cfg.ifname until a signal or a failure; then the last interval. Returns the
 * exit status of what happened before counting (0 once counting started). */
int app_run_live(struct app *app, struct meter_config *mc, const struct hash_key *seed);
/* Counts cfg.read_file to its end or a signal. Returns the exit status. */
int app_run_file(struct app *app, struct meter_config *mc, const struct hash_key *seed);

#endif
