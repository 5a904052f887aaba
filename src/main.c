/* nstats: reads the configuration, builds every module in order, counts (run/live.c,
 * run/file.c), frees in order, and is the only file that exits. */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/version.h"
#include "config/modules.h"
#include "io/probe.h"
#include "run/app.h"
#include "top/top.h"

/* SIGINT or SIGTERM: write the last interval and exit; a second one skips the delivery wait. */
static void on_signal(void *arg, unsigned signo)
{
    struct app *app = arg;

    if (app->stopping) {
        log_info("signal %u again: exiting without waiting for delivery", signo);
        app->abandon = true;
    } else {
        log_info("signal %u: writing the last interval and exiting", signo);
        app->stopping = true;
        if (app->routes.problem[0] == '\0')
            routes_set_problem(&app->routes, "shutting down");
    }
    loop_stop(app->loop);
}

/* The names: the cache over the configured CIDR labels, and where names are learned besides
 * DNS answers (reverse DNS, Kubernetes). Returns 0, or -1 with the reason in errbuf. */
static int start_names(struct app *app, const struct hash_key *seed, char *errbuf, size_t errlen)
{
    struct rdns_config rc;
    struct k8s_config kc;

    app->names = names_new((size_t)app->cfg.name_cache_size, app->cfg.name_min_keep_ms,
                           app->cfg.labels, seed);
    config_rdns(&app->cfg, &rc);
    if (app->cfg.rdns && (app->rdns = rdns_new(&rc, app->loop, app->names, errbuf, errlen)) == NULL)
        return -1;
    if (!app->cfg.k8s)
        return 0;
    config_k8s(&app->cfg, &kc);
    app->k8smap = k8smap_new(K8S_DEFAULT_MAP_ENTRIES);
    k8smap_set_self(app->k8smap, &(struct k8s_self){.namespace_ = app->cfg.namespace_,
                                                    .pod = app->cfg.host,
                                                    .node = app->cfg.node,
                                                    .zone = app->cfg.zone,
                                                    .region = app->cfg.region});
    if ((app->k8s = k8s_start(&kc, app->k8smap, app->loop, errbuf, errlen)) == NULL)
        return -1;
    names_set_k8s(app->names, app->k8smap);
    log_info("watching Kubernetes at %s%s%s", kc.api_url, kc.namespace_ ? " in namespace " : "",
             kc.namespace_ ? kc.namespace_ : "");
    /* With -r the capture is read in moments: name it with a synced view. */
    if (app->cfg.read_file != NULL &&
        k8s_wait_synced(app->k8s, K8S_DEFAULT_SYNC_WAIT_MS, &app->stopping) == -1 && !app->stopping)
        log_warnx("Kubernetes API not listed within %llus; replaying without its names",
                  (unsigned long long)K8S_DEFAULT_SYNC_WAIT_MS / 1000);
    return 0;
}

/* Where the numbers go besides stdout: InfluxDB, and the pages (which answer 503 until
 * counting starts). Returns 0, or an exit status with the reason in errbuf. */
static int start_sinks(struct app *app, char *errbuf, size_t errlen)
{
    struct influx_config ic;

    config_influx(&app->cfg, &ic);
    if (app->cfg.influx_url != NULL) {
        if ((app->influx = influx_sink_new(&ic, app->loop, errbuf, errlen)) == NULL)
            return 2;
        log_info("writing to InfluxDB at %s%s", push_sink_endpoint(influx_sink_push(app->influx)),
                 ic.gzip ? " (gzip)" : "");
        app->routes.sinks[app->routes.n_sinks++] = influx_sink_push(app->influx);
    }
    app->routes.names = app->names;
    app->routes.prices = app->cfg.prices;
    app->routes.rdns = app->rdns;
    app->routes.k8s = app->k8s;
    if (app->cfg.listen != NULL) {
        app->httpd =
            httpd_start(app->cfg.listen, app->loop, routes_handle, &app->routes, errbuf, errlen);
        if (app->httpd == NULL)
            return 1;
        app->routes.httpd = app->httpd;
        app->routes.keycache = keycache_new(true);
        log_info("serving /metrics and /healthz on %s (port %u)", app->cfg.listen,
                 httpd_port(app->httpd));
    }
    return 0;
}

/* Builds every module in dependency order and runs the capture. Returns the exit status. */
static int run(struct app *app)
{
    struct exporter_config ec;
    struct exporter_links links;
    struct meter_config mc;
    struct hash_key seed;
    char err[512];
    int rc;

    locality_init(&app->loc);
    for (size_t i = 0; i < app->cfg.n_local_nets; i++)
        locality_add_net(&app->loc, &app->cfg.local_nets[i]);
    config_identity(&app->cfg, &app->id);
    hash_key_random(&seed);
    app->routes.id = &app->id;
    app->routes.max_flows = app->cfg.max_flows;
    app->loop = loop_new();
    if (app->loop == NULL) {
        log_warn("epoll");
        return 1;
    }
    if ((app->signals = signals_watch(app->loop, on_signal, app)) == NULL) {
        log_warn("signal handling setup");
        return 1;
    }
    if (start_names(app, &seed, err, sizeof(err)) == -1) {
        log_warnx("%s", err);
        return 2;
    }
    if ((rc = start_sinks(app, err, sizeof(err))) != 0) {
        log_warnx("%s", err);
        return rc;
    }
    links = (struct exporter_links){.id = &app->id,
                                    .loop = app->loop,
                                    .influx = app->influx,
                                    .names = app->names,
                                    .rdns = app->rdns,
                                    .routes = &app->routes};
    if (app_start_pushes(app, &links, err, sizeof(err)) == -1) {
        log_warnx("%s", err);
        return 2;
    }
    config_exporter(&app->cfg, &ec);
    app->exporter = exporter_new(&ec, &links);

    config_meter(&app->cfg, &mc);
    rc = app->cfg.read_file != NULL ? app_run_file(app, &mc, &seed) : app_run_live(app, &mc, &seed);
    /* Delivery waits only when something was counted (a failed open exits at once). */
    if (app->meter != NULL && exporter_finish(app->exporter, &app->abandon) == -1)
        app->failed = true;
    app->failed |= exporter_broken(app->exporter);
    return rc != 0 ? rc : app->failed ? 1 : 0;
}

/* Stops and frees: the HTTP server first (nothing is served from half-freed state), then each
 * module before what it points at, the loop last. Safe on a partly built app. */
static void teardown(struct app *app)
{
    loop_timer_free(app->tick);
    loop_timer_free(app->reopen);
    loop_timer_free(app->rates_tick);
    httpd_stop(app->httpd);
    keycache_free(app->routes.keycache);
    rdns_free(app->rdns);
    k8s_stop(app->k8s);
    k8smap_free(app->k8smap);
    snoop_stop(app->snoop);
    conntrack_stop(app->conntrack);
    feed_free(app->feed);
    nattable_free(app->nat);
    rates_free(app->rates);
    meter_free(app->meter);
    exporter_free(app->exporter);
    influx_sink_free(app->influx);
    app_stop_pushes(app);
    capture_close(app->cap);
    names_free(app->names);
    signals_stop(app->signals);
    loop_free(app->loop);
    config_free(&app->cfg);
}

int main(int argc, char **argv)
{
    struct app app;
    char err[512];
    int rc;

    if (argc > 1 && strcmp(argv[1], "top") == 0)
        return top_main(argc - 1, argv + 1);
    memset(&app, 0, sizeof(app));
    signal(SIGPIPE, SIG_IGN);
    if (config_parse(&app.cfg, argc, argv, err, sizeof(err)) == -1) {
        log_warnx("%s", err);
        config_free(&app.cfg);
        return 2;
    }
    if (app.cfg.help || app.cfg.version || app.cfg.check_config) {
        if (app.cfg.help)
            config_usage(stdout);
        else if (app.cfg.version)
            printf("nstats %s\n", NSTATS_VERSION);
        else
            config_print(&app.cfg, stdout);
        config_free(&app.cfg);
        return 0;
    }
    if (app.cfg.probe != NULL) {
        rc = probe_get(app.cfg.probe, err, sizeof(err)) == 0 ? 0 : 1;
        if (err[0] != '\0')
            log_warnx("%s", err);
        config_free(&app.cfg);
        return rc;
    }
    log_set_level(app.cfg.verbose ? LOG_LEVEL_DEBUG
                  : app.cfg.quiet ? LOG_LEVEL_WARN
                                  : LOG_LEVEL_INFO);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = run(&app);
    teardown(&app);
    curl_global_cleanup();
    return rc;
}
