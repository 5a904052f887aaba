/* Counting live: the capture opened (and, with --listen, tried again until it opens), the
 * interval and rates timers, drops heard, and an interface that goes away and comes back. */
#include <stdio.h>
#include <sys/epoll.h>

#include "app.h"
#include "base/log.h"
#include "capture/iface.h"

/* How often a vanished interface is looked for again, and a capture that could not start is
 * tried again (with --listen). */
#define REOPEN_MS 1000
#define RETRY_OPEN_MS 10000u

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

    /* Translations first: a packet in the ring was sent after its connection's NEW event. */
    conntrack_drain(app->conntrack);
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

static void on_rates_tick(void *arg)
{
    struct app *app = arg;

    rates_tick(app->rates, app->meter, loop_now_ms());
    loop_timer_arm(app->rates_tick, rates_ms_until_tick(app->rates, loop_now_ms()));
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
                                                (unsigned)app->cfg.buffer_bytes,
                                                CAPTURE_BLOCK_TIMEOUT_MS, err, errlen);
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

/* NAT-exact attribution where the namespace's conntrack table can be read; without it,
 * counting goes on with the addresses as captured, and the pages say why. */
static void start_conntrack(struct app *app, const struct meter_config *mc,
                            const struct hash_key *seed)
{
    char err[256];

    app->nat = nattable_new((size_t)mc->max_flows * 4, seed);
    app->conntrack = conntrack_start(app->loop, app->nat, err, sizeof(err));
    if (app->conntrack == NULL) {
        log_info("%s: NAT'd traffic is counted for the addresses it carries here", err);
        snprintf(app->routes.conntrack_problem, sizeof(app->routes.conntrack_problem), "%s", err);
        nattable_free(app->nat);
        app->nat = NULL;
        return;
    }
    feed_set_nat(app->feed, app->nat);
    app->routes.conntrack = app->conntrack;
    log_info("conntrack: NAT'd packets are counted for their true ends");
}

int app_run_live(struct app *app, struct meter_config *mc, const struct hash_key *seed)
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
    if (capture_start_reader(app->cap, app_readahead(mc->max_flows), err, sizeof(err)) == -1) {
        log_warnx("%s", err);
        return 1;
    }
    app_start_counting(app, mc, seed, ifname, &app->listeners, NULL);
    if (app->cfg.conntrack)
        start_conntrack(app, mc, seed);
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
