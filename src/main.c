/* nstats: reads the configuration, wires capture → meter → exporter, runs the loop, and is
 * the only file that exits. */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "base/log.h"
#include "base/version.h"
#include "capture/capture.h"
#include "capture/dropwatch.h"
#include "capture/iface.h"
#include "config/config.h"
#include "config/modules.h"
#include "export/exporter.h"
#include "export/influx.h"
#include "export/routes.h"
#include "flow/feed.h"
#include "flow/listeners.h"
#include "flow/localguess.h"
#include "flow/locality.h"
#include "flow/meter.h"
#include "flow/rates.h"
#include "io/httpd.h"
#include "io/loop.h"
#include "io/probe.h"
#include "io/signals.h"
#include "names/k8s.h"
#include "names/k8smap.h"
#include "names/names.h"
#include "names/netlabels.h"
#include "names/rdns.h"
#include "names/snoop.h"
#include "top/top.h"

/* Packets of a capture file read to guess its local host when --local-net is not given, and
 * how long a pipe may take to send them before the guess is made from fewer. */
#define GUESS_PACKETS 100000
#define GUESS_WAIT_MS 2000
/* Read-ahead of the capture thread: 256 bytes (four records) a key, enough that reading goes
 * on while an interval or a scrape is written out; files get at least enough for the guess. */
#define READAHEAD_PER_KEY 256u
#define READAHEAD_MAX ((size_t)16 << 20)
#define FILE_READAHEAD_MIN ((size_t)8 << 20)
/* How often a vanished interface is looked for again, and a capture that could not start is
 * tried again (with --listen). */
#define REOPEN_MS 1000
#define RETRY_OPEN_MS 10000u

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
    /* Names for the far ends. */
    struct names *names;
    struct snoop *snoop;
    struct rdns *rdns;
    struct k8smap *k8smap;
    struct k8s *k8s;
    /* Where the numbers go. */
    struct export_identity id;
    struct influx_sink *influx;
    struct exporter *exporter;
    struct httpd *httpd;
    struct routes routes;
    bool stopping; /* a signal asked to stop */
    bool abandon;  /* a second signal: stop without waiting for delivery */
    bool failed;   /* exit non-zero */
};

static void refresh_live_facts(struct app *app)
{
    struct netaddr addrs[LOCALITY_MAX_ADDRS];
    int n = iface_addresses(app->cfg.ifname, addrs, LOCALITY_MAX_ADDRS);
    uint64_t via_proc = app->listeners.reads_proc;

    if (n >= 0)
        locality_set_addrs(&app->loc, addrs, (size_t)n);
    else
        log_warn("reading the addresses of %s", app->cfg.ifname);
    if (listeners_read(&app->listeners, (uint16_t)app->cfg.ephemeral_min) == -1)
        log_warnx("cannot read listening sockets (sock_diag or /proc/net); using port ranges only");
    else if (via_proc == 0 && app->listeners.reads_proc == 1)
        log_info("sock_diag refused: reading listening sockets from /proc/net (every socket)");
}

/* The capture failed: nothing more to read; /healthz says why and nstats exits 1. */
static void capture_failed(struct app *app, const char *err)
{
    char problem[600];

    log_warnx("%s", err);
    snprintf(problem, sizeof(problem), "capture stopped: %s", err);
    routes_set_problem(&app->routes, problem);
    app->failed = true;
    loop_stop(app->loop);
}

static void on_capture(void *arg, int fd, uint32_t events);

/* The interface went away (a pod's veth is recreated with it): everything read before is
 * counted; /healthz says so, and the interface is looked for every REOPEN_MS. */
static void interface_gone(struct app *app, const char *err)
{
    char problem[700];

    log_warnx("%s; waiting for %s to come back", err, app->cfg.ifname);
    snprintf(problem, sizeof(problem), "interface %s is gone (%s); waiting for it to come back",
             app->cfg.ifname, err);
    routes_set_problem(&app->routes, problem);
    loop_unwatch(app->loop, app->cap_fd);
    app->cap_fd = -1;
    loop_timer_arm(app->reopen, REOPEN_MS);
}

static void on_reopen(void *arg)
{
    struct app *app = arg;
    char err[512];

    if (capture_reopen_live(app->cap, err, sizeof(err)) == -1) {
        loop_timer_arm(app->reopen, REOPEN_MS);
        return;
    }
    if (loop_watch(app->loop, capture_fd(app->cap), EPOLLIN, on_capture, app) == -1) {
        capture_failed(app, "cannot watch the capture again");
        return;
    }
    app->cap_fd = capture_fd(app->cap);
    feed_resume(app->feed);
    if (app->cfg.dns_snoop) {
        snoop_stop(app->snoop);
        if ((app->snoop = snoop_start(app->cfg.ifname, app->loop, app->names, err, sizeof(err))) ==
            NULL)
            log_warnx("DNS snooping disabled: %s", err);
    }
    if (!app->stopping)
        routes_set_problem(&app->routes, NULL);
    if (iface_counters_read(app->cfg.ifname, &app->routes.iface0) != 0)
        app->routes.ifname = NULL;
    refresh_live_facts(app);
    log_info("%s is back: capturing again", app->cfg.ifname);
}

static void drain_capture(struct app *app)
{
    char err[512];

    if (feed_broken(app->feed) || feed_drain(app->feed, err, sizeof(err)) == 0)
        return;
    if (capture_interface_gone(app->cap))
        interface_gone(app, err);
    else
        capture_failed(app, err);
}

static void on_capture(void *arg, int fd, uint32_t events)
{
    (void)fd;
    (void)events;
    drain_capture(arg);
}

static void arm_tick(struct app *app)
{
    uint64_t due = meter_ms_until_due(app->meter, loop_wall_ms());

    /* Past the ring's block timeout, so the kernel has handed over the interval's last
     * packets before the interval is closed. */
    loop_timer_arm(app->tick, due == UINT64_MAX ? app->cfg.interval_ms : due + CAPTURE_HANDOVER_MS);
}

static void on_tick(void *arg)
{
    struct app *app = arg;
    struct capture_stats cs;

    /* Answers first: the tick comes after the rings' block timeout, so every answer seen
     * before the interval ended is in, and names the interval's rows even when the timer
     * and the DNS ring become ready in the same loop turn. */
    snoop_drain(app->snoop);
    drain_capture(app);
    meter_tick(app->meter, loop_wall_ms());
    if (app->cap_fd != -1 && capture_get_stats(app->cap, &cs) == 0)
        dropwatch_update(&app->drops, &cs, loop_wall_ms());
    refresh_live_facts(app);
    arm_tick(app);
}

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

/* Builds the meter for the open capture, its feed, and points the exporter and pages at it. */
static void start_counting(struct app *app, struct meter_config *mc, const struct hash_key *seed,
                           const char *source, const struct listeners *listeners,
                           struct names *file_names)
{
    if (!decode_linktype_supported(capture_linktype(app->cap)))
        log_warnx("%s: link type %d is not decoded; every frame counts as malformed", source,
                  capture_linktype(app->cap));
    mc->linktype = capture_linktype(app->cap);
    app->meter = meter_new(mc, &app->loc, listeners, seed, exporter_interval, app->exporter);
    app->feed = feed_new(app->cap, app->meter, file_names);
    app->rates = rates_new(meter_capacity(app->meter));
    app->routes.rates = app->rates;
    exporter_set_capture(app->exporter, app->cap);
    app->routes.source = source;
    app->routes.capture = app->cap;
    app->routes.meter = app->meter;
}

static void on_rates_tick(void *arg)
{
    struct app *app = arg;

    rates_tick(app->rates, app->meter, loop_now_ms());
    loop_timer_arm(app->rates_tick, rates_ms_until_tick(app->rates, loop_now_ms()));
}

static size_t readahead(uint64_t max_flows)
{
    return max_flows < READAHEAD_MAX / READAHEAD_PER_KEY ? (size_t)max_flows * READAHEAD_PER_KEY
                                                         : READAHEAD_MAX;
}

/* Opens the live capture. With --listen nstats is a service someone watches (in a pod, a
 * sidecar whose exit would make the pod NotReady): a capture that cannot start is tried again
 * every RETRY_OPEN_MS while /healthz answers 503 with why, and the process stays up. Without,
 * the reason is the exit. NULL if there is no capture (err says why) or a signal came first. */
static struct capture *open_capture(struct app *app, char *err, size_t errlen)
{
    struct log_limit lim = {0, 0, false};
    char problem[700];

    for (;;) {
        struct capture *cap = capture_open_live(app->cfg.ifname, (unsigned)app->cfg.snaplen,
                                                (unsigned)app->cfg.buffer_bytes, err, errlen);
        uint64_t until = loop_now_ms() + RETRY_OPEN_MS;

        if (cap != NULL || app->httpd == NULL)
            return cap;
        log_warnx_limited(&lim, loop_now_ms(), 60000, "%s; trying again every %us", err,
                          RETRY_OPEN_MS / 1000);
        snprintf(problem, sizeof(problem), "cannot capture: %s; trying again every %us", err,
                 RETRY_OPEN_MS / 1000);
        routes_set_problem(&app->routes, problem);
        while (!app->stopping && loop_now_ms() < until)
            loop_run_once(app->loop, (int)(until - loop_now_ms()));
        if (app->stopping) {
            snprintf(err, errlen, "stopped before capturing");
            return NULL;
        }
    }
}

static int run_live(struct app *app, struct meter_config *mc, const struct hash_key *seed)
{
    const char *ifname = app->cfg.ifname;
    char err[512];

    if ((app->cap = open_capture(app, err, sizeof(err))) == NULL) {
        if (app->stopping) {
            log_info("%s", err);
            return 0;
        }
        log_warnx("%s", err);
        return 1;
    }
    routes_set_problem(&app->routes, NULL);
    if (capture_start_reader(app->cap, readahead(mc->max_flows), err, sizeof(err)) == -1) {
        log_warnx("%s", err);
        return 1;
    }
    start_counting(app, mc, seed, ifname, &app->listeners, NULL);
    dropwatch_init(&app->drops, (size_t)app->cfg.buffer_bytes);
    app->routes.drops = &app->drops;
    app->routes.listeners = &app->listeners;
    if (iface_counters_read(ifname, &app->routes.iface0) == 0)
        app->routes.ifname = ifname;
    refresh_live_facts(app);
    if (app->cfg.dns_snoop &&
        (app->snoop = snoop_start(ifname, app->loop, app->names, err, sizeof(err))) == NULL)
        log_warnx("DNS snooping disabled: %s", err);
    if (loop_watch(app->loop, capture_fd(app->cap), EPOLLIN, on_capture, app) == -1) {
        log_warn("event loop setup");
        return 1;
    }
    app->cap_fd = capture_fd(app->cap);
    app->reopen = loop_timer_new(app->loop, on_reopen, app);
    app->tick = loop_timer_new(app->loop, on_tick, app);
    /* Rates for people watching, on their own clock: independent of --interval. */
    app->rates_tick = loop_timer_new(app->loop, on_rates_tick, app);
    meter_start(app->meter, loop_wall_ms());
    on_rates_tick(app); /* the first bucket starts with counting */
    arm_tick(app);
    log_info("capturing on %s (snaplen %llu, interval %llums)", ifname,
             (unsigned long long)app->cfg.snaplen, (unsigned long long)app->cfg.interval_ms);
    while (!app->stopping && !app->failed && !exporter_broken(app->exporter)) {
        if (loop_run(app->loop) == -1) {
            log_warn("event loop");
            app->failed = true;
        }
    }
    if (!feed_broken(app->feed) && feed_drain_handed_over(app->feed, err, sizeof(err)) == -1)
        capture_failed(app, err);
    snoop_drain(app->snoop);
    if (app->cap_fd != -1)
        loop_unwatch(app->loop, app->cap_fd);
    loop_timer_disarm(app->tick);
    loop_timer_disarm(app->reopen);
    loop_timer_disarm(app->rates_tick);
    meter_finish(app->meter, loop_wall_ms(), true);
    return 0;
}

static int run_file(struct app *app, struct meter_config *mc, const struct hash_key *seed)
{
    char err[512];
    int more = 1;

    app->cap = capture_open_file(app->cfg.read_file, err, sizeof(err));
    if (app->cap == NULL) {
        log_warnx("%s", err);
        return 1;
    }
    if (capture_await_header(app->cap, app->loop, &app->stopping) == -1) {
        log_info("stopped before %s sent a capture file header", app->cfg.read_file);
        return 0;
    }
    if (capture_read_header(app->cap, err, sizeof(err)) == -1) {
        /* A stop signal ends a header that stopped halfway: it is taken here. */
        loop_run_once(app->loop, 0);
        if (app->stopping) {
            log_info("stopped before %s sent a whole capture file header", app->cfg.read_file);
            return 0;
        }
        log_warnx("%s", err);
        return 1;
    }
    capture_set_readahead(app->cap, readahead(mc->max_flows) > FILE_READAHEAD_MIN
                                        ? readahead(mc->max_flows)
                                        : FILE_READAHEAD_MIN);
    if (app->cfg.dns_snoop)
        capture_keep_dns(app->cap);
    if (app->cfg.n_local_nets == 0)
        localguess_apply(app->cap, app->loop, &app->stopping, GUESS_PACKETS, GUESS_WAIT_MS,
                         &app->loc);
    start_counting(app, mc, seed, app->cfg.read_file, NULL, app->cfg.dns_snoop ? app->names : NULL);
    while (more == 1 && !app->stopping && !exporter_broken(app->exporter)) {
        more = feed_file_batch(app->feed, err, sizeof(err));
        if (more == -1)
            log_warnx("%s (everything before it was counted)", err);
        else if (more == 1)
            /* Signals, HTTP and InfluxDB progress between batches. */
            exporter_pace(app->exporter, &app->stopping);
    }
    /* Stopped by a signal: what was already read is counted too. */
    if (app->stopping && !exporter_broken(app->exporter))
        feed_file_rest(app->feed);
    meter_finish(app->meter, meter_last_packet_ms(app->meter), false);
    return more == -1 ? 1 : 0;
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
        log_info("writing to InfluxDB at %s%s", influx_sink_endpoint(app->influx),
                 ic.gzip ? " (gzip)" : "");
    }
    app->routes.influx = app->influx;
    app->routes.names = app->names;
    app->routes.rdns = app->rdns;
    app->routes.k8s = app->k8s;
    if (app->cfg.listen != NULL) {
        app->httpd =
            httpd_start(app->cfg.listen, app->loop, routes_handle, &app->routes, errbuf, errlen);
        if (app->httpd == NULL)
            return 1;
        app->routes.httpd = app->httpd;
        log_info("serving /metrics and /healthz on %s (port %u)", app->cfg.listen,
                 httpd_port(app->httpd));
    }
    return 0;
}

/* Builds every module in dependency order and runs the capture. Returns the exit status. */
static int run(struct app *app)
{
    struct exporter_config ec;
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
    config_exporter(&app->cfg, &ec);
    app->exporter = exporter_new(&ec, &(struct exporter_links){.id = &app->id,
                                                               .loop = app->loop,
                                                               .influx = app->influx,
                                                               .names = app->names,
                                                               .rdns = app->rdns});

    config_meter(&app->cfg, &mc);
    rc = app->cfg.read_file != NULL ? run_file(app, &mc, &seed) : run_live(app, &mc, &seed);
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
    rdns_free(app->rdns);
    k8s_stop(app->k8s);
    k8smap_free(app->k8smap);
    snoop_stop(app->snoop);
    feed_free(app->feed);
    rates_free(app->rates);
    meter_free(app->meter);
    exporter_free(app->exporter);
    influx_sink_free(app->influx);
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
