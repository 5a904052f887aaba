/* HTTP routing: which page a path is, and what each page is made of. */
#include "routes.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/version.h"
#include "export/api.h"
#include "export/metrics.h"
#include "export/page.h"
#include "export/procstat.h"

void routes_set_problem(struct routes *r, const char *problem)
{
    (void)snprintf(r->problem, sizeof(r->problem), "%s", problem ? problem : "");
}

/* The interface's counters since capture started, if it is known. */
static bool iface_since_start(const struct routes *r, struct iface_counters *out)
{
    struct iface_counters now;

    if (r->ifname == NULL || iface_counters_read(r->ifname, &now) != 0)
        return false;
    out->rx_bytes = now.rx_bytes - r->iface0.rx_bytes;
    out->tx_bytes = now.tx_bytes - r->iface0.tx_bytes;
    out->rx_packets = now.rx_packets - r->iface0.rx_packets;
    out->tx_packets = now.tx_packets - r->iface0.tx_packets;
    return true;
}

int routes_render_metrics(const struct routes *r, struct series_writer *w, struct keycache *cache)
{
    struct metrics_sources src;
    struct rdns_stats rst;
    struct k8s_stats kst;
    struct httpd_stats hst;
    struct conntrack_stats cst;

    memset(&src, 0, sizeof(src));
    src.id = r->id;
    src.version = NSTATS_VERSION;
    src.meter = r->meter;
    src.max_flows = r->max_flows;
    if (r->capture != NULL && capture_fd(r->capture) != -1)
        src.have_capture = capture_get_stats(r->capture, &src.capture) == 0;
    src.have_iface = iface_since_start(r, &src.iface);
    for (size_t i = 0; i < r->n_sinks; i++) {
        src.sinks[i].id = push_sink_id(r->sinks[i]);
        push_sink_get_stats(r->sinks[i], &src.sinks[i].stats);
    }
    src.n_sinks = r->n_sinks;
    src.have_process = procstat_read(&src.process) == 0;
    src.names = r->names;
    src.prices = r->prices;
    src.listeners = r->listeners;
    src.keycache = cache;
    src.now_ms = loop_wall_ms();
    if (r->rdns != NULL) {
        rdns_get_stats(r->rdns, &rst);
        src.rdns = &rst;
    }
    if (r->k8s != NULL) {
        k8s_get_stats(r->k8s, &kst);
        src.k8s = &kst;
    }
    if (r->httpd != NULL) {
        httpd_get_stats(r->httpd, &hst);
        src.http = &hst;
    }
    if (r->conntrack != NULL) {
        conntrack_get_stats(r->conntrack, &cst);
        src.conntrack = &cst;
    }
    src.conntrack_wanted = r->conntrack != NULL || r->conntrack_problem[0] != '\0';
    if (r->meter == NULL)
        return -1;
    return metrics_render(w, &src);
}

static void render_metrics(const struct routes *r, struct httpd_reply *reply)
{
    struct series_text text;

    reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
    reply->cacheable = true;
    series_text_init(&text, &reply->body);
    if (routes_render_metrics(r, &text.w, r->keycache) == -1)
        reply->failed = true;
}

static void render_api(const struct routes *r, const char *path, struct httpd_reply *reply)
{
    struct api_sources src;
    struct api_query q;
    struct push_stats ist;
    struct procstat ps;
    char err[256];
    int rc;

    reply->content_type = "application/json";
    if (r->meter == NULL || r->rates == NULL) {
        reply->status = 503;
        buf_append_str(&reply->body, "{\"error\":\"not counting yet\"}\n");
        return;
    }
    memset(&src, 0, sizeof(src));
    src.source = r->source;
    src.host = r->id != NULL ? r->id->host : "";
    src.now_ms = loop_wall_ms();
    src.meter = r->meter;
    src.rates = r->rates;
    src.names = r->names;
    src.prices = r->prices;
    src.max_flows = r->max_flows;
    if (strcmp(path, "/api/v1/summary") == 0) {
        if (r->capture != NULL && capture_fd(r->capture) != -1)
            src.have_capture = capture_get_stats(r->capture, &src.capture) == 0;
        src.have_iface = iface_since_start(r, &src.iface);
        /* Every sink's queue and drops, summed: the page shows whether export keeps up. */
        memset(&ist, 0, sizeof(ist));
        for (size_t i = 0; i < r->n_sinks; i++) {
            struct push_stats one;

            push_sink_get_stats(r->sinks[i], &one);
            ist.queue_bytes += one.queue_bytes;
            ist.batches_dropped += one.batches_dropped;
            src.sinks = &ist;
        }
        if (procstat_read(&ps) == 0) {
            src.have_process = true;
            src.cpu_seconds = ps.cpu_seconds;
            src.rss_bytes = ps.resident_bytes;
        }
        rc = api_summary(&reply->body, &src);
    } else if (api_parse_query(reply->query, &q, err, sizeof(err)) == -1) {
        json_t *e = json_pack("{s:s}", "error", err);
        char *text = e != NULL ? json_dumps(e, JSON_COMPACT) : NULL;

        reply->status = 400;
        buf_append_str(&reply->body, text != NULL ? text : "{}");
        buf_append_char(&reply->body, '\n');
        free(text);
        json_decref(e);
        return;
    } else {
        rc = api_flows(&reply->body, &src, &q);
    }
    if (rc == -1)
        reply->failed = true;
}

/* 503 only when nstats cannot do its job, so a liveness probe restarts it only then; drops
 * are "degraded", 200, with the reason. */
static void render_health(const struct routes *r, struct httpd_reply *reply)
{
    struct capture_stats cs;
    char why[256];

    if (r->drops != NULL && r->capture != NULL && capture_fd(r->capture) != -1 &&
        capture_get_stats(r->capture, &cs) == 0)
        dropwatch_update(r->drops, &cs, loop_wall_ms());
    if (r->problem[0] != '\0') {
        reply->status = 503;
        buf_printf(&reply->body, "%s\n", r->problem);
    } else if (r->meter == NULL) {
        reply->status = 503;
        buf_append_str(&reply->body, "not capturing yet\n");
    } else if (r->drops != NULL && dropwatch_degraded(r->drops, loop_wall_ms(), why, sizeof(why))) {
        buf_printf(&reply->body, "degraded: capturing on %s, but %s\n", r->source, why);
    } else {
        buf_printf(&reply->body, "ok: capturing on %s\n", r->source);
    }
    if (reply->status == 200 && r->conntrack_problem[0] != '\0')
        buf_printf(&reply->body,
                   "conntrack unavailable (%s): NAT'd traffic is counted for the "
                   "addresses it carries here\n",
                   r->conntrack_problem);
}

void routes_handle(void *arg, const char *path, struct httpd_reply *reply)
{
    const struct routes *r = arg;

    if (strcmp(path, "/metrics") == 0) {
        if (r->meter == NULL) {
            reply->status = 503;
            buf_append_str(&reply->body, "not capturing yet\n");
            return;
        }
        render_metrics(r, reply);
    } else if (strcmp(path, "/api/v1/flows") == 0 || strcmp(path, "/api/v1/summary") == 0) {
        render_api(r, path, reply);
    } else if (strcmp(path, "/healthz") == 0) {
        render_health(r, reply);
    } else if (page_handle(path, reply)) {
        /* The live page at / and its assets under /assets/. */
    } else {
        reply->status = 404;
        buf_append_str(&reply->body, "not found: try /metrics, /healthz or /\n");
    }
}
