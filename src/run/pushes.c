/* The series pushes: Prometheus remote write and OTLP, each an encoder of every /metrics
 * series and a push sink, built from the configuration and handed to the exporter. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/retry.h"
#include "base/url.h"
#include "base/version.h"
#include "base/xalloc.h"
#include "export/otlp.h"
#include "export/promwrite.h"
#include "run/app.h"

/* Headers of a request: fixed ones, the user's, and an optional one (Authorization). */
struct headers {
    const char *list[CONFIG_MAX_LIST + 4];
    size_t n;
};

static void headers_add(struct headers *h, const char *value)
{
    if (value != NULL && h->n + 1 < sizeof(h->list) / sizeof(h->list[0]))
        h->list[h->n++] = value;
    h->list[h->n] = NULL;
}

/* In a pod, the host name is the pod's: the Downward API gives its namespace. */
static bool in_kubernetes(const struct app *app)
{
    return app->id.namespace_ != NULL && app->id.namespace_[0] != '\0';
}

static void push_defaults(const struct config *cfg, const char *spool_sub, char *spool,
                          size_t spool_len, struct push_config *pc)
{
    pc->queue_bytes = (size_t)cfg->push_queue_bytes;
    pc->timeout_ms = cfg->push_timeout_ms;
    pc->retry_max_ms = cfg->push_retry_max_ms;
    if (cfg->spool_dir != NULL) {
        /* The sink makes its own directory, inside this one. */
        if (mkdir(cfg->spool_dir, 0700) == -1 && errno != EEXIST)
            log_warn("spool directory %s", cfg->spool_dir);
        snprintf(spool, spool_len, "%s/%s", cfg->spool_dir, spool_sub);
        pc->spool_dir = spool;
    }
}

static struct series_writer *promwrite_begin_fn(void *enc, uint64_t start_ms, uint64_t ts_ms)
{
    (void)start_ms;
    return promwrite_begin(enc, ts_ms);
}

static int promwrite_end_fn(void *enc, push_body_fn *fn, void *arg)
{
    return promwrite_end(enc, fn, arg);
}

static uint64_t promwrite_repeated_fn(const void *enc)
{
    struct promwrite_stats st;

    promwrite_get_stats(enc, &st);
    return st.repeated;
}

static struct series_writer *otlp_begin_fn(void *enc, uint64_t start_ms, uint64_t ts_ms)
{
    otlp_set_start(enc, start_ms);
    return otlp_begin(enc, ts_ms);
}

static int otlp_end_fn(void *enc, push_body_fn *fn, void *arg)
{
    return otlp_end(enc, fn, arg);
}

static uint64_t otlp_repeated_fn(const void *enc)
{
    struct otlp_stats st;

    otlp_get_stats(enc, &st);
    return st.repeated;
}

static int start_remote_write(struct app *app, char *errbuf, size_t errlen)
{
    const struct config *cfg = &app->cfg;
    struct push_config pc = {.what = "remote write",
                             .id = "remote_write",
                             .url_flag = "--remote-write-url",
                             .url = cfg->remote_write_url,
                             .encoded_header = "Content-Encoding: snappy",
                             .user = cfg->remote_write_user,
                             .password = cfg->remote_write_password,
                             .ca_file = cfg->remote_write_ca_file,
                             .insecure = cfg->remote_write_insecure,
                             .spool_suffixes = {".pb", ".pb.snappy"},
                             .classify = retry_classify_remote_write};
    struct headers h = {.n = 0};
    char bearer[4200] = "", spool[4096];

    headers_add(&h, "Content-Type: application/x-protobuf");
    headers_add(&h, "X-Prometheus-Remote-Write-Version: 0.1.0");
    for (size_t i = 0; i < cfg->remote_write_headers.n; i++)
        headers_add(&h, cfg->remote_write_headers.items[i]);
    if (cfg->remote_write_token != NULL) {
        snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", cfg->remote_write_token);
        headers_add(&h, bearer);
    }
    pc.headers = h.list;
    push_defaults(cfg, "remote-write", spool, sizeof(spool), &pc);
    app->remote_write = push_sink_new(&pc, app->loop, errbuf, errlen);
    explicit_bzero(bearer, sizeof(bearer));
    if (app->remote_write == NULL)
        return -1;
    app->promwrite = promwrite_new(0);
    /* Who sends, as a scrape of a PodMonitor's target would say it. */
    promwrite_set_target(
        app->promwrite,
        (const struct prom_label[]){{"instance", app->id.host, false},
                                    {"job", "nstats", false},
                                    {"namespace", app->id.namespace_, false},
                                    {"pod", in_kubernetes(app) ? app->id.host : NULL, false}},
        4);
    log_info("pushing by remote write to %s", push_sink_endpoint(app->remote_write));
    return 0;
}

/* The OTLP/HTTP path when the URL gives none, as OpenTelemetry's exporters add it. */
static char *otlp_endpoint(const char *url)
{
    struct url_parts u;

    if (url_split(url, &u) == 0 && (u.path.len == 0 || (u.path.len == 1 && u.path.p[0] == '/')))
        return url_endpoint(url, "/v1/metrics", "");
    return xstrdup(url);
}

static int start_otlp(struct app *app, char *errbuf, size_t errlen)
{
    const struct config *cfg = &app->cfg;
    const struct export_identity *id = &app->id;
    struct push_config pc = {.what = "OTLP",
                             .id = "otlp",
                             .url_flag = "--otlp-url",
                             .encoded_header = "Content-Encoding: gzip",
                             .ca_file = cfg->otlp_ca_file,
                             .insecure = cfg->otlp_insecure,
                             .spool_suffixes = {".pb", ".pb.gz"},
                             .classify = retry_classify_otlp};
    struct headers h = {.n = 0};
    char spool[4096];
    char *url = otlp_endpoint(cfg->otlp_url);

    headers_add(&h, "Content-Type: application/x-protobuf");
    for (size_t i = 0; i < cfg->otlp_headers.n; i++)
        headers_add(&h, cfg->otlp_headers.items[i]);
    pc.url = url;
    pc.userinfo_url = cfg->otlp_url;
    pc.headers = h.list;
    push_defaults(cfg, "otlp", spool, sizeof(spool), &pc);
    app->otlp = push_sink_new(&pc, app->loop, errbuf, errlen);
    free(url);
    if (app->otlp == NULL)
        return -1;
    const struct otlp_attribute resource[] = {
        {"host.name", id->host},
        {"k8s.namespace.name", id->namespace_},
        {"k8s.node.name", id->node},
        {"k8s.pod.name", in_kubernetes(app) ? id->host : NULL},
        /* No semantic convention says "the app a sidecar counts for" or "the interface":
         * nstats' own namespace, as nstats_info's workload and device labels. */
        {"nstats.device", id->interface},
        {"nstats.workload", id->workload},
        {"service.instance.id", id->host},
        {"service.name", "nstats"},
        {"service.version", NSTATS_VERSION},
    };
    app->otlp_enc = otlp_new(&(struct otlp_config){
        .resource = resource,
        .n_resource = sizeof(resource) / sizeof(resource[0]),
        .scope_version = NSTATS_VERSION,
        .gzip = true,
    });
    log_info("pushing by OTLP to %s", push_sink_endpoint(app->otlp));
    return 0;
}

int app_start_pushes(struct app *app, struct exporter_links *links, char *errbuf, size_t errlen)
{
    size_t n = 0;

    if (app->cfg.remote_write_url != NULL) {
        if (start_remote_write(app, errbuf, errlen) == -1)
            return -1;
        links->pushes[n++] = (struct exporter_series_push){.enc = app->promwrite,
                                                           .begin = promwrite_begin_fn,
                                                           .end = promwrite_end_fn,
                                                           .repeated = promwrite_repeated_fn,
                                                           .encoded = true,
                                                           .sink = app->remote_write};
        app->routes.sinks[app->routes.n_sinks++] = app->remote_write;
    }
    if (app->cfg.otlp_url != NULL) {
        if (start_otlp(app, errbuf, errlen) == -1)
            return -1;
        links->pushes[n++] = (struct exporter_series_push){.enc = app->otlp_enc,
                                                           .begin = otlp_begin_fn,
                                                           .end = otlp_end_fn,
                                                           .repeated = otlp_repeated_fn,
                                                           .encoded = true,
                                                           .sink = app->otlp};
        app->routes.sinks[app->routes.n_sinks++] = app->otlp;
    }
    return 0;
}

void app_stop_pushes(struct app *app)
{
    push_sink_free(app->remote_write);
    push_sink_free(app->otlp);
    promwrite_free(app->promwrite);
    otlp_free(app->otlp_enc);
}
