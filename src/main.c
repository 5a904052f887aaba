/* nstats: wires capture → meter → line protocol on stdout. The only file that exits. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/loop.h"
#include "capture/capture.h"
#include "capture/decode.h"
#include "capture/iface.h"
#include "config/config.h"
#include "export/schema.h"
#include "export/stdout_sink.h"
#include "flow/listeners.h"
#include "flow/localguess.h"
#include "flow/locality.h"
#include "flow/meter.h"

#ifndef NSTATS_VERSION
#define NSTATS_VERSION "0.0.0"
#endif

/* Packets of a capture file read to guess its local host when --local-net is not given. */
#define GUESS_PACKETS 100000
/* Output batches larger than this are cut (and the lost lines reported). */
#define OUT_MAX_BYTES (512u << 20)
/* Packets per dispatch from a file, so a signal is noticed promptly. */
#define FILE_BATCH 65536

struct app {
    struct config cfg;
    struct locality loc;
    struct listeners listeners;
    struct meter *meter;
    struct capture *cap;
    struct loop *loop;
    struct loop_timer *tick;
    int sigfd;
    struct buf out;
    struct export_identity id;
    char host[256];
    char ifname[64];
    struct capture_stats last_stats;
    bool failed; /* stdout or the capture broke: exit non-zero */
};

static volatile sig_atomic_t file_stop;

static uint64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void emit(const struct meter_snapshot *snap, void *arg)
{
    struct app *app = arg;
    struct export_capture_stats cs = {0, 0};
    struct capture_stats now;
    size_t dropped;

    if (app->cap != NULL && capture_get_stats(app->cap, &now) == 0) {
        cs.capture_drops = now.drops - app->last_stats.drops;
        cs.interface_drops = now.ifdrops - app->last_stats.ifdrops;
        app->last_stats = now;
    }
    if (app->failed)
        return;
    buf_reset(&app->out);
    dropped = schema_write_default(&app->out, &app->id, snap, &cs);
    if (dropped > 0)
        log_warnx("interval output over %u bytes: %zu lines not written", OUT_MAX_BYTES, dropped);
    if (stdout_sink_write(STDOUT_FILENO, app->out.data, app->out.len) == -1) {
        log_warn("stdout");
        app->failed = true;
        if (app->loop != NULL)
            loop_stop(app->loop);
        file_stop = 1;
    }
}

static void on_packet(void *arg, uint64_t ts_us, const uint8_t *data, uint32_t caplen, uint32_t len)
{
    struct app *app = arg;

    meter_packet(app->meter, ts_us / 1000u, data, caplen, len);
}

static void set_identity(struct app *app)
{
    const char *pod = getenv("POD_NAME");

    if (app->cfg.host != NULL)
        snprintf(app->host, sizeof(app->host), "%s", app->cfg.host);
    else if (pod != NULL && pod[0] != '\0')
        snprintf(app->host, sizeof(app->host), "%s", pod);
    else if (gethostname(app->host, sizeof(app->host)) == -1)
        snprintf(app->host, sizeof(app->host), "unknown");
    app->host[sizeof(app->host) - 1] = '\0';
    app->id.host = app->host;
    app->id.interface = app->ifname;
}

struct guess_ctx {
    struct localguess *g;
    int linktype;
    unsigned seen;
};

static void guess_packet(void *arg, uint64_t ts_us, const uint8_t *data, uint32_t caplen,
                         uint32_t len)
{
    struct guess_ctx *ctx = arg;
    struct pktsummary p;

    (void)ts_us;
    (void)len;
    decode_packet(ctx->linktype, data, caplen, &p);
    localguess_add(ctx->g, &p);
    ctx->seen++;
}

/* Reads the first packets of a file to find its busiest address, which then counts as local. */
static void guess_local(struct app *app)
{
    char err[512], text[NETADDR_STRLEN];
    struct guess_ctx ctx;
    struct capture *c;
    struct netaddr best;
    struct netprefix host;
    uint64_t packets;

    if (strcmp(app->cfg.read_file, "-") == 0) {
        log_warnx("reading stdin without --local-net: no address is local, rows are oriented "
                  "by address order");
        return;
    }
    c = capture_open_file(app->cfg.read_file, err, sizeof(err));
    if (c == NULL)
        return; /* the real open reports the error */
    ctx.g = localguess_new();
    ctx.linktype = capture_linktype(c);
    ctx.seen = 0;
    while (ctx.seen < GUESS_PACKETS) {
        unsigned left = GUESS_PACKETS - ctx.seen;

        if (capture_dispatch(c, left < 4096 ? (int)left : 4096, guess_packet, &ctx, err,
                             sizeof(err)) <= 0)
            break;
    }
    capture_close(c);
    if (localguess_best(ctx.g, &best, &packets) == 0) {
        memset(&host, 0, sizeof(host));
        host.addr = best;
        host.bits = best.family == 4 ? 32 : 128;
        locality_add_net(&app->loc, &host);
        log_info("no --local-net given: taking %s (in %llu of the first %u packets) as the "
                 "local host",
                 netaddr_format(&best, text, sizeof(text)), (unsigned long long)packets, ctx.seen);
    }
    localguess_free(ctx.g);
}

static void refresh_live_facts(struct app *app)
{
    struct netaddr addrs[LOCALITY_MAX_ADDRS];
    int n = iface_addresses(app->ifname, addrs, LOCALITY_MAX_ADDRS);

    if (n >= 0)
        locality_set_addrs(&app->loc, addrs, (size_t)n);
    else
        log_warn("reading the addresses of %s", app->ifname);
    if (listeners_read(&app->listeners, (uint16_t)app->cfg.ephemeral_min) == -1)
        log_warnx("cannot read /proc/net listening sockets; using port ranges only");
}

/* Hands every packet the kernel has ready to the meter. */
static void drain_capture(struct app *app)
{
    char err[512];

    for (int i = 0; i < 1000; i++) {
        int n = capture_dispatch(app->cap, 0, on_packet, app, err, sizeof(err));

        if (n == -1) {
            log_warnx("%s", err);
            app->failed = true;
            loop_stop(app->loop);
            return;
        }
        if (n == 0)
            return;
    }
}

static void on_capture(void *arg, int fd, uint32_t events)
{
    (void)fd;
    (void)events;
    drain_capture(arg);
}

static void arm_tick(struct app *app)
{
    uint64_t due = meter_ms_until_due(app->meter, wall_ms());

    /* A few milliseconds late, so the kernel has handed over the interval's last packets. */
    loop_timer_arm(app->tick, due == UINT64_MAX ? app->cfg.interval_ms : due + 5);
}

static void on_tick(void *arg)
{
    struct app *app = arg;

    drain_capture(app);
    meter_tick(app->meter, wall_ms());
    refresh_live_facts(app);
    arm_tick(app);
}

static void on_signal(void *arg, int fd, uint32_t events)
{
    struct app *app = arg;
    struct signalfd_siginfo si;

    (void)events;
    if (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        log_info("signal %u: writing the last interval and exiting", si.ssi_signo);
    loop_stop(app->loop);
}

static int run_live(struct app *app, struct meter_config *mc, const struct hash_key *seed)
{
    char err[512];
    sigset_t mask;

    if (app->cfg.interface != NULL)
        snprintf(app->ifname, sizeof(app->ifname), "%s", app->cfg.interface);
    else if (iface_default_route(app->ifname, sizeof(app->ifname), err, sizeof(err)) == -1) {
        log_warnx("%s", err);
        return 1;
    }
    app->cap = capture_open_live(app->ifname, (unsigned)app->cfg.snaplen,
                                 (unsigned)app->cfg.buffer_bytes, err, sizeof(err));
    if (app->cap == NULL) {
        log_warnx("%s", err);
        return 1;
    }
    if (!decode_linktype_supported(capture_linktype(app->cap)))
        log_warnx("%s: link type %d is not decoded; every frame counts as malformed", app->ifname,
                  capture_linktype(app->cap));
    mc->linktype = capture_linktype(app->cap);
    app->meter = meter_new(mc, &app->loc, &app->listeners, seed, emit, app);
    refresh_live_facts(app);
    app->loop = loop_new();
    if (app->loop == NULL) {
        log_warn("epoll");
        return 1;
    }
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    app->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (app->sigfd == -1 || loop_watch(app->loop, app->sigfd, EPOLLIN, on_signal, app) == -1 ||
        loop_watch(app->loop, capture_fd(app->cap), EPOLLIN, on_capture, app) == -1) {
        log_warn("event loop setup");
        return 1;
    }
    app->tick = loop_timer_new(app->loop, on_tick, app);
    meter_start(app->meter, wall_ms());
    arm_tick(app);
    log_info("capturing on %s (snaplen %llu, interval %llums)", app->ifname,
             (unsigned long long)app->cfg.snaplen, (unsigned long long)app->cfg.interval_ms);
    if (loop_run(app->loop) == -1) {
        log_warn("event loop");
        app->failed = true;
    }
    if (!app->failed)
        drain_capture(app);
    meter_finish(app->meter, wall_ms(), true);
    return app->failed ? 1 : 0;
}

static void on_file_signal(int sig)
{
    (void)sig;
    file_stop = 1;
}

static int run_file(struct app *app, struct meter_config *mc, const struct hash_key *seed)
{
    char err[512];
    int rc = 0;

    app->cap = capture_open_file(app->cfg.read_file, err, sizeof(err));
    if (app->cap == NULL) {
        log_warnx("%s", err);
        return 1;
    }
    if (!decode_linktype_supported(capture_linktype(app->cap)))
        log_warnx("%s: link type %d is not decoded; every frame counts as malformed",
                  app->cfg.read_file, capture_linktype(app->cap));
    mc->linktype = capture_linktype(app->cap);
    app->meter = meter_new(mc, &app->loc, NULL, seed, emit, app);
    signal(SIGINT, on_file_signal);
    signal(SIGTERM, on_file_signal);
    while (!file_stop) {
        int n = capture_dispatch(app->cap, FILE_BATCH, on_packet, app, err, sizeof(err));

        if (n == -1) {
            log_warnx("%s (everything before it was counted)", err);
            rc = 1;
            break;
        }
        if (capture_at_eof(app->cap))
            break;
    }
    meter_finish(app->meter, meter_last_packet_ms(app->meter), false);
    return app->failed ? 1 : rc;
}

int main(int argc, char **argv)
{
    struct app app;
    char err[512];
    struct hash_key seed;
    struct meter_config mc;
    int rc;

    memset(&app, 0, sizeof(app));
    app.sigfd = -1;
    signal(SIGPIPE, SIG_IGN);
    if (config_parse(&app.cfg, argc, argv, err, sizeof(err)) == -1) {
        fprintf(stderr, "nstats: %s\n", err);
        config_free(&app.cfg);
        return 2;
    }
    if (app.cfg.help || app.cfg.version) {
        if (app.cfg.help)
            config_usage(stdout);
        else
            printf("nstats %s\n", NSTATS_VERSION);
        config_free(&app.cfg);
        return 0;
    }
    if (app.cfg.check_config) {
        config_print(&app.cfg, stdout);
        config_free(&app.cfg);
        return 0;
    }
    log_set_level(app.cfg.verbose ? LOG_LEVEL_DEBUG
                  : app.cfg.quiet ? LOG_LEVEL_WARN
                                  : LOG_LEVEL_INFO);
    if (app.cfg.influx_url != NULL || app.cfg.influx_db != NULL)
        log_warnx("InfluxDB settings are set, but this release has no InfluxDB sink yet; "
                  "writing line protocol to stdout");

    locality_init(&app.loc);
    for (size_t i = 0; i < app.cfg.n_local_nets; i++)
        locality_add_net(&app.loc, &app.cfg.local_nets[i]);
    if (app.cfg.read_file != NULL && app.cfg.n_local_nets == 0)
        guess_local(&app);
    set_identity(&app);
    buf_init(&app.out, OUT_MAX_BYTES);
    hash_key_random(&seed);

    memset(&mc, 0, sizeof(mc));
    mc.interval_ms = app.cfg.interval_ms;
    mc.idle_ms = app.cfg.flow_timeout_ms;
    mc.max_flows = app.cfg.max_flows;
    mc.ephemeral_min = (uint16_t)app.cfg.ephemeral_min;
    mc.key_fields = app.cfg.key_fields;

    if (app.cfg.read_file != NULL)
        rc = run_file(&app, &mc, &seed);
    else
        rc = run_live(&app, &mc, &seed);

    meter_free(app.meter);
    capture_close(app.cap);
    if (app.sigfd != -1)
        close(app.sigfd);
    loop_free(app.loop);
    buf_free(&app.out);
    config_free(&app.cfg);
    return rc;
}
