/* HTTP routing: which page a path is, and what each page is made of. */
#include "routes.h"

#include <stdio.h>
#include <string.h>

#include "base/version.h"
#include "export/metrics.h"
#include "export/procstat.h"

void routes_set_problem(struct routes *r, const char *problem)
{
    (void)snprintf(r->problem, sizeof(r->problem), "%s", problem ? problem : "");
}

static void render_metrics(const struct routes *r, struct httpd_reply *reply)
{
    struct metrics_sources src;
    struct influx_stats ist;
    struct rdns_stats rst;
    struct k8s_stats kst;
    struct httpd_stats hst;
    struct iface_counters now;

    memset(&src, 0, sizeof(src));
    src.id = r->id;
    src.version = NSTATS_VERSION;
    src.meter = r->meter;
    src.max_flows = r->max_flows;
    if (r->capture != NULL && capture_fd(r->capture) != -1)
        src.have_capture = capture_get_stats(r->capture, &src.capture) == 0;
    if (r->ifname != NULL && iface_counters_read(r->ifname, &now) == 0) {
        src.have_iface = true;
        src.iface.rx_bytes = now.rx_bytes - r->iface0.rx_bytes;
        src.iface.tx_bytes = now.tx_bytes - r->iface0.tx_bytes;
        src.iface.rx_packets = now.rx_packets - r->iface0.rx_packets;
        src.iface.tx_packets = now.tx_packets - r->iface0.tx_packets;
    }
    if (r->influx != NULL) {
        influx_sink_get_stats(r->influx, &ist);
        src.influx = &ist;
    }
    src.have_process = procstat_read(&src.process) == 0;
    src.names = r->names;
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
    reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
    reply->cacheable = true;
    if (metrics_render(&reply->body, &src) == -1)
        reply->failed = true;
}

static void render_health(const struct routes *r, struct httpd_reply *reply)
{
    if (r->problem[0] != '\0') {
        reply->status = 503;
        buf_printf(&reply->body, "%s\n", r->problem);
    } else if (r->meter == NULL) {
        reply->status = 503;
        buf_append_str(&reply->body, "not capturing yet\n");
    } else {
        buf_printf(&reply->body, "ok: capturing on %s\n", r->source);
    }
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
    } else if (strcmp(path, "/healthz") == 0) {
        render_health(r, reply);
    } else if (strcmp(path, "/") == 0) {
        buf_printf(&reply->body,
                   "nstats %s\n\n/metrics  Prometheus text exposition (gzip on request)\n"
                   "/healthz  200 while capturing, 503 with the reason otherwise\n",
                   NSTATS_VERSION);
    } else {
        reply->status = 404;
        buf_append_str(&reply->body, "not found: try /metrics, /healthz or /\n");
    }
}
