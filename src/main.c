/* nstats: wires capture → meter → line protocol on stdout. The only file that exits. */
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
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
#include "io/loop.h"
#include "capture/capture.h"
#include "capture/decode.h"
#include "capture/iface.h"
#include "config/config.h"
#include "io/httpd.h"
#include "export/influx.h"
#include "export/lineproto.h"
#include "export/metrics.h"
#include "export/schema.h"
#include "export/stdout_sink.h"
#include "flow/listeners.h"
#include "flow/localguess.h"
#include "flow/locality.h"
#include "flow/meter.h"
#include "names/k8s.h"
#include "names/k8smap.h"
#include "names/names.h"
#include "names/netlabels.h"
#include "names/rdns.h"

#ifndef NSTATS_VERSION
#define NSTATS_VERSION "0.0.0"
#endif

/* Packets of a capture file read to guess its local host when --local-net is not given. */
#define GUESS_PACKETS 100000
/* Output batches larger than this are cut (and the lost lines reported). */
#define OUT_MAX_BYTES (512u << 20)
/* Rows formatted and handed to the sinks at a time: about 1 MB of text. */
#define EMIT_SLICE_ROWS 4096
/* Longer than the capture ring's block timeout (capture.c): by then the kernel has handed
 * over every frame captured before. */
#define CAPTURE_HANDOVER_MS 150
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
    struct influx_sink *influx;
    struct httpd *httpd;
    struct netlabels labels;
    struct names *names;
    struct rdns *rdns;
    struct k8smap *k8smap;
    struct k8s *k8s;
    struct capture *dns_cap; /* live: full-length DNS responses for naming */
    char namespace_[256];
    char node[256];
    bool have_iface_base;
    struct iface_counters iface_base; /* the interface's counters when capture started */
    char capture_error[512];          /* why capture stopped, for /healthz */
    bool use_stdout;
    bool stopping; /* a signal asked to stop; a second one abandons delivery */
    bool abandon;
    bool stdout_broken;  /* the stdout reader went away: other sinks go on */
    bool capture_broken; /* the capture failed: nothing more to read */
    bool dns_broken;     /* the DNS capture failed: names from answers stop */
    bool failed;         /* exit non-zero */
};

static uint64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* nstats' own export health, as a row next to the interval's data. */
static size_t write_export_stats(struct app *app, uint64_t end_ms)
{
    struct influx_stats st;
    struct lineproto_line l;

    influx_sink_get_stats(app->influx, &st);
    lineproto_begin(&l, &app->out, "nstats_export");
    lineproto_tag(&l, "host", app->id.host);
    lineproto_tag(&l, "interface", app->id.interface);
    lineproto_field_uint(&l, "batches_sent", st.batches_sent);
    lineproto_field_uint(&l, "batches_retried", st.batches_retried);
    lineproto_field_uint(&l, "batches_dropped", st.batches_dropped);
    lineproto_field_uint(&l, "queue_bytes", st.queue_bytes);
    lineproto_field_uint(&l, "queue_batches", st.queue_batches);
    return lineproto_end(&l, end_ms * 1000000ULL) == -1;
}

/* Hands what app->out holds to the sinks and empties it. */
static void deliver_out(struct app *app, uint64_t end_ms)
{
    if (app->influx != NULL && app->out.len > 0)
        influx_sink_enqueue(app->influx, app->out.data, app->out.len, end_ms);
    if (app->use_stdout && !app->stdout_broken &&
        stdout_sink_write(STDOUT_FILENO, app->out.data, app->out.len) == -1) {
        log_warn("stdout");
        app->stdout_broken = true;
        app->failed = true;
        if (app->loop != NULL)
            loop_stop(app->loop);
    }
    buf_reset(&app->out);
}

static void emit(const struct meter_snapshot *snap, void *arg)
{
    struct app *app = arg;
    struct export_capture_stats cs = {0, 0};
    struct capture_stats now;
    size_t dropped = 0;

    if (app->cap != NULL && capture_get_stats(app->cap, &now) == 0) {
        cs.capture_drops = now.drops - app->last_stats.drops;
        cs.interface_drops = now.ifdrops - app->last_stats.ifdrops;
        app->last_stats = now;
    }
    /* Reverse DNS for this interval's remotes: answers name the next intervals' rows. */
    if (app->rdns != NULL)
        for (size_t i = 0; i < snap->n_rows; i++)
            if (schema_key_nameable(&snap->rows[i].key))
                rdns_want(app->rdns, &snap->rows[i].key.remote, snap->end_ms);
    buf_reset(&app->out);
    if (strcmp(app->cfg.schema, "legacy") == 0) {
        dropped += schema_write_legacy(&app->out, &app->id, snap, &cs, app->names);
    } else {
        /* In slices, so the text of a large interval is never all in memory at once. */
        for (size_t from = 0; from < snap->n_rows; from += EMIT_SLICE_ROWS) {
            dropped += schema_write_rows(&app->out, &app->id, snap, from, from + EMIT_SLICE_ROWS,
                                         app->names);
            deliver_out(app, snap->end_ms);
        }
        dropped += schema_write_capture(&app->out, &app->id, snap, &cs);
    }
    if (app->influx != NULL)
        dropped += write_export_stats(app, snap->end_ms);
    if (dropped > 0)
        log_warnx("interval output over %u bytes: %zu lines not written", OUT_MAX_BYTES, dropped);
    deliver_out(app, snap->end_ms);
}

static void on_packet(void *arg, const struct capture_packet *pkt)
{
    struct app *app = arg;

    meter_decoded(app->meter, pkt->ts_us / 1000u, pkt->sum, pkt->data, pkt->caplen, pkt->len);
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
    snprintf(app->namespace_, sizeof(app->namespace_), "%s",
             getenv("POD_NAMESPACE") ? getenv("POD_NAMESPACE") : "");
    snprintf(app->node, sizeof(app->node), "%s", getenv("NODE_NAME") ? getenv("NODE_NAME") : "");
    app->id.namespace_ = app->namespace_;
    app->id.node = app->node;
}

/* Hands the DNS message in a decoded packet to the name cache. */
static void dns_from_packet(struct app *app, const struct pktsummary *p, const uint8_t *data,
                            uint32_t caplen, uint64_t ts_ms)
{
    uint32_t off = p->l4_offset;

    if (p->proto == 17) {
        off += 8;
    } else if (p->proto == 6 && caplen >= off + 13) {
        off += (uint32_t)(data[off + 12] >> 4) * 4;
    } else {
        return;
    }
    if (off < caplen)
        names_dns_message(app->names, data + off, caplen - off, p->proto == 6, ts_ms);
}

static void on_dns_tap(void *arg, const struct pktsummary *p, const uint8_t *data, uint32_t caplen,
                       uint64_t ts_ms)
{
    dns_from_packet(arg, p, data, caplen, ts_ms);
}

static void on_dns_packet(void *arg, const struct capture_packet *pkt)
{
    const struct pktsummary *p = pkt->sum;

    if (p->status == DECODE_OK && p->has_ports && p->sport == 53)
        dns_from_packet(arg, p, pkt->data, pkt->caplen, pkt->ts_us / 1000u);
}

/* Feeds the DNS answers captured so far to the names. */
static void drain_dns(struct app *app)
{
    char err[512];

    if (app->dns_cap == NULL || app->dns_broken)
        return;
    if (capture_dispatch(app->dns_cap, 0, on_dns_packet, app, err, sizeof(err)) == -1) {
        log_warnx("DNS capture stopped: %s", err);
        loop_unwatch(app->loop, capture_fd(app->dns_cap));
        app->dns_broken = true;
    }
}

static void on_dns_capture(void *arg, int fd, uint32_t events)
{
    (void)fd;
    (void)events;
    drain_dns(arg);
}

/* A second, full-length capture of DNS responses only: the accounting capture keeps its
 * small snap length. Failure here costs names, not counts. */
static void start_dns_snoop(struct app *app)
{
    char err[512] = "";

    app->dns_cap = capture_open_live(app->ifname, 65535, 1u << 20, err, sizeof(err));
    if (app->dns_cap == NULL ||
        capture_set_filter(app->dns_cap, "udp src port 53 or tcp src port 53", err, sizeof(err)) ==
            -1 ||
        loop_watch(app->loop, capture_fd(app->dns_cap), EPOLLIN, on_dns_capture, app) == -1) {
        if (err[0] == '\0')
            snprintf(err, sizeof(err), "%s", strerror(errno));
        log_warnx("DNS snooping disabled: %s", err);
        capture_close(app->dns_cap);
        app->dns_cap = NULL;
    }
}

struct guess_ctx {
    struct localguess *g;
    unsigned seen;
};

static void guess_packet(void *arg, const struct capture_packet *pkt)
{
    struct guess_ctx *ctx = arg;

    localguess_add(ctx->g, pkt->sum);
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
    ctx.seen = 0;
    while (ctx.seen < GUESS_PACKETS) {
        unsigned left = GUESS_PACKETS - ctx.seen;

        if (capture_dispatch(c, left < 4096 ? (int)left : 4096, guess_packet, &ctx, err,
                             sizeof(err)) == -1 ||
            capture_at_eof(c))
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

    for (int i = 0; i < 1000 && !app->capture_broken; i++) {
        int n = capture_dispatch(app->cap, 0, on_packet, app, err, sizeof(err));

        if (n == -1) {
            log_warnx("%s", err);
            snprintf(app->capture_error, sizeof(app->capture_error), "%s", err);
            app->capture_broken = true;
            app->failed = true;
            loop_stop(app->loop);
            return;
        }
        if (n == 0)
            return;
    }
}

/* At shutdown: frames captured before now may still sit in a ring block the kernel has not
 * handed over; wait out the block timeout, reading as they come. */
static void drain_until_handed_over(struct app *app)
{
    uint64_t until = loop_now_ms() + CAPTURE_HANDOVER_MS;
    struct pollfd p = {.fd = capture_fd(app->cap), .events = POLLIN};

    while (!app->capture_broken && loop_now_ms() < until) {
        drain_capture(app);
        poll(&p, 1, 20);
    }
    drain_capture(app);
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

    /* Past the ring's 100 ms block timeout, so the kernel has handed over the interval's last
     * packets before the interval is closed. */
    loop_timer_arm(app->tick, due == UINT64_MAX ? app->cfg.interval_ms : due + CAPTURE_HANDOVER_MS);
}

static void on_tick(void *arg)
{
    struct app *app = arg;

    /* Answers first: the tick comes after the rings' block timeout, so every answer seen
     * before the interval ended is in, and names the interval's rows even when the timer
     * and the DNS ring become ready in the same loop turn. */
    drain_dns(app);
    drain_capture(app);
    meter_tick(app->meter, wall_ms());
    refresh_live_facts(app);
    arm_tick(app);
}

static void on_signal(void *arg, int fd, uint32_t events)
{
    struct app *app = arg;
    struct signalfd_siginfo si;
    unsigned signo;

    (void)events;
    if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
        return;
    signo = si.ssi_signo;
    if (app->stopping) {
        log_info("signal %u again: exiting without waiting for delivery", signo);
        app->abandon = true;
    } else {
        log_info("signal %u: writing the last interval and exiting", signo);
        app->stopping = true;
    }
    loop_stop(app->loop);
}

/* SIGINT and SIGTERM arrive through a signalfd on the loop, in live and file mode alike. */
static int watch_signals(struct app *app)
{
    sigset_t mask;

    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    app->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (app->sigfd == -1 || loop_watch(app->loop, app->sigfd, EPOLLIN, on_signal, app) == -1) {
        log_warn("signal handling setup");
        return -1;
    }
    return 0;
}

/* Keeps the loop running until every batch is delivered or the shutdown timeout passes. */
static void deliver_pending(struct app *app)
{
    uint64_t deadline = loop_now_ms() + app->cfg.shutdown_timeout_ms;
    struct influx_stats st;

    if (app->influx == NULL)
        return;
    if (!influx_sink_idle(app->influx))
        log_info("delivering pending batches to %s (up to %llums)",
                 influx_sink_endpoint(app->influx),
                 (unsigned long long)app->cfg.shutdown_timeout_ms);
    while (!influx_sink_idle(app->influx) && !app->abandon && loop_now_ms() < deadline)
        loop_run_once(app->loop, 100);
    influx_sink_get_stats(app->influx, &st);
    if (st.queue_batches > 0)
        log_warnx("InfluxDB: %llu batches (%llu bytes) not delivered%s%s",
                  (unsigned long long)st.queue_batches, (unsigned long long)st.queue_bytes,
                  app->cfg.spool_dir ? "; kept in " : " and lost",
                  app->cfg.spool_dir ? app->cfg.spool_dir : "");
    if (st.batches_dropped > 0 || st.lines_dropped > 0)
        log_warnx("InfluxDB: %llu batches dropped during the run (last error: %s)",
                  (unsigned long long)st.batches_dropped,
                  st.last_error[0] ? st.last_error : "queue full");
    if (st.batches_dropped > 0 || st.lines_dropped > 0 ||
        (st.queue_batches > 0 && app->cfg.spool_dir == NULL))
        app->failed = true;
}

static void render_metrics(struct app *app, struct httpd_reply *reply)
{
    struct metrics_sources src;
    struct influx_stats ist;
    struct rdns_stats rst;
    struct k8s_stats kst;
    struct iface_counters now;

    memset(&src, 0, sizeof(src));
    src.id = &app->id;
    src.version = NSTATS_VERSION;
    src.meter = app->meter;
    src.max_flows = app->cfg.max_flows;
    /* Count what the kernel has handed over, so the page is as fresh as the counters. */
    if (app->cap != NULL && capture_fd(app->cap) != -1 && !app->stopping)
        drain_capture(app);
    if (app->cap != NULL && capture_fd(app->cap) != -1)
        src.have_capture = capture_get_stats(app->cap, &src.capture) == 0;
    if (app->have_iface_base && iface_counters_read(app->ifname, &now) == 0) {
        src.have_iface = true;
        src.iface.rx_bytes = now.rx_bytes - app->iface_base.rx_bytes;
        src.iface.tx_bytes = now.tx_bytes - app->iface_base.tx_bytes;
        src.iface.rx_packets = now.rx_packets - app->iface_base.rx_packets;
        src.iface.tx_packets = now.tx_packets - app->iface_base.tx_packets;
    }
    if (app->influx != NULL) {
        influx_sink_get_stats(app->influx, &ist);
        src.influx = &ist;
    }
    src.have_process = procstat_read(&src.process) == 0;
    src.names = app->names;
    src.now_ms = wall_ms();
    if (app->rdns != NULL) {
        rdns_get_stats(app->rdns, &rst);
        src.rdns = &rst;
    }
    if (app->k8s != NULL) {
        k8s_get_stats(app->k8s, &kst);
        src.k8s = &kst;
    }
    reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
    reply->cacheable = true;
    if (metrics_render(&reply->body, &src) == -1) {
        buf_reset(&reply->body);
        buf_append_str(&reply->body, "metrics page over its size cap\n");
        reply->status = 500;
    }
}

static void on_http(void *arg, const char *path, struct httpd_reply *reply)
{
    struct app *app = arg;

    if (strcmp(path, "/metrics") == 0) {
        if (app->meter == NULL) {
            reply->status = 503;
            buf_append_str(&reply->body, "not capturing yet\n");
            return;
        }
        render_metrics(app, reply);
    } else if (strcmp(path, "/healthz") == 0) {
        if (app->capture_error[0] != '\0') {
            reply->status = 503;
            buf_printf(&reply->body, "capture stopped: %s\n", app->capture_error);
        } else if (app->stopping) {
            reply->status = 503;
            buf_printf(&reply->body, "shutting down\n");
        } else if (app->meter == NULL) {
            reply->status = 503;
            buf_printf(&reply->body, "not capturing yet\n");
        } else {
            buf_printf(&reply->body, "ok: capturing on %s\n",
                       app->cfg.read_file ? app->cfg.read_file : app->ifname);
        }
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

static int run_live(struct app *app, struct meter_config *mc, const struct hash_key *seed)
{
    char err[512];

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
    app->have_iface_base = iface_counters_read(app->ifname, &app->iface_base) == 0;
    refresh_live_facts(app);
    if (app->cfg.dns_snoop)
        start_dns_snoop(app);
    if (loop_watch(app->loop, capture_fd(app->cap), EPOLLIN, on_capture, app) == -1) {
        log_warn("event loop setup");
        return 1;
    }
    app->tick = loop_timer_new(app->loop, on_tick, app);
    meter_start(app->meter, wall_ms());
    arm_tick(app);
    log_info("capturing on %s (snaplen %llu, interval %llums)", app->ifname,
             (unsigned long long)app->cfg.snaplen, (unsigned long long)app->cfg.interval_ms);
    while (!app->stopping && !app->failed) {
        if (loop_run(app->loop) == -1) {
            log_warn("event loop");
            app->failed = true;
        }
    }
    drain_until_handed_over(app);
    drain_dns(app);
    loop_unwatch(app->loop, capture_fd(app->cap));
    loop_timer_disarm(app->tick);
    meter_finish(app->meter, wall_ms(), true);
    deliver_pending(app);
    return app->failed ? 1 : 0;
}

/* With -r the file is read as fast as the sink takes it: past half the queue's cap, reading
 * waits for delivery, for at most --shutdown-timeout without progress. */
static void pace_file(struct app *app)
{
    struct influx_stats st;
    uint64_t last_progress = loop_now_ms(), sent = 0;

    if (app->influx == NULL)
        return;
    loop_run_once(app->loop, 0);
    for (;;) {
        influx_sink_get_stats(app->influx, &st);
        if (st.queue_bytes <= app->cfg.influx_queue_bytes / 2 || app->stopping)
            return;
        if (st.batches_sent + st.batches_dropped != sent) {
            sent = st.batches_sent + st.batches_dropped;
            last_progress = loop_now_ms();
        }
        if (loop_now_ms() - last_progress > app->cfg.shutdown_timeout_ms)
            return;
        loop_run_once(app->loop, 100);
    }
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
    if (app->cfg.dns_snoop) {
        meter_set_dns_tap(app->meter, on_dns_tap, app);
        capture_keep_bytes(app->cap, METER_DNS_PORT);
    }
    /* Enough read-ahead that reading goes on while an interval is written out (the reader
     * decodes about four 64-byte records in the time a row takes), up to 16 MiB. */
    capture_set_readahead(app->cap, mc->max_flows < 65536 ? mc->max_flows * 256u : 16u << 20);
    while (!app->stopping && !app->failed) {
        int n = capture_dispatch(app->cap, FILE_BATCH, on_packet, app, err, sizeof(err));

        if (n == -1) {
            log_warnx("%s (everything before it was counted)", err);
            rc = 1;
            break;
        }
        if (capture_at_eof(app->cap))
            break;
        /* Signals and HTTP progress are handled between batches. */
        if (app->influx != NULL)
            pace_file(app);
        else
            loop_run_once(app->loop, 0);
    }
    /* Stopped by a signal: what was already read (from a pipe, it cannot be read again) is
     * counted too. */
    if (app->stopping && !app->failed && !capture_at_eof(app->cap)) {
        capture_stop_reading(app->cap);
        while (!capture_at_eof(app->cap) &&
               capture_dispatch(app->cap, FILE_BATCH, on_packet, app, err, sizeof(err)) != -1) {
        }
    }
    meter_finish(app->meter, meter_last_packet_ms(app->meter), false);
    deliver_pending(app);
    return app->failed ? 1 : rc;
}

static int start_rdns(struct app *app)
{
    struct rdns_config rc;
    char err[512];

    memset(&rc, 0, sizeof(rc));
    rc.server = app->cfg.dns_server;
    rc.max_in_flight = (unsigned)app->cfg.rdns_max_in_flight;
    rc.per_second = (unsigned)app->cfg.rdns_rate;
    rc.negative_ttl_ms = 300000;
    rc.failure_ttl_ms = 60000;
    rc.timeout_ms = 2000;
    app->rdns = rdns_new(&rc, app->loop, app->names, err, sizeof(err));
    if (app->rdns == NULL) {
        log_warnx("%s", err);
        return -1;
    }
    return 0;
}

static int start_k8s(struct app *app)
{
    struct k8s_config kc;
    char url[512], err[512];

    memset(&kc, 0, sizeof(kc));
    if (app->cfg.k8s_api != NULL) {
        snprintf(url, sizeof(url), "%s", app->cfg.k8s_api);
    } else if (k8s_incluster_url(url, sizeof(url)) == -1) {
        log_warnx("--k8s: no --k8s-api and no KUBERNETES_SERVICE_HOST/PORT in the environment");
        return -1;
    }
    kc.api_url = url;
    kc.token_file = app->cfg.k8s_token_file;
    kc.ca_file = app->cfg.k8s_ca_file;
    kc.namespace_ = app->cfg.k8s_namespace;
    kc.label_selector = app->cfg.k8s_label_selector;
    kc.field_selector = app->cfg.k8s_field_selector;
    app->k8smap = k8smap_new(65536);
    app->k8s = k8s_start(&kc, app->k8smap, app->loop, err, sizeof(err));
    if (app->k8s == NULL) {
        log_warnx("%s", err);
        return -1;
    }
    names_set_k8s(app->names, app->k8smap);
    log_info("watching Kubernetes at %s%s%s", url, kc.namespace_ ? " in namespace " : "",
             kc.namespace_ ? kc.namespace_ : "");
    /* With -r the capture is read in moments: name it with a synced view. */
    if (app->cfg.read_file != NULL) {
        uint64_t deadline = loop_now_ms() + 10000;

        while (!k8s_synced(app->k8s) && loop_now_ms() < deadline && !app->stopping)
            loop_run_once(app->loop, 100);
        if (!k8s_synced(app->k8s))
            log_warnx("Kubernetes API not listed within 10s; replaying without its names");
    }
    return 0;
}

static int start_influx(struct app *app)
{
    const struct config *c = &app->cfg;
    struct influx_config ic;
    char err[512] = "";

    memset(&ic, 0, sizeof(ic));
    ic.url = c->influx_url;
    ic.db = c->influx_db;
    ic.rp = c->influx_rp;
    ic.user = c->influx_user;
    ic.password = c->influx_password;
    ic.org = c->influx_org;
    ic.bucket = c->influx_bucket;
    ic.token = c->influx_token;
    ic.ca_file = c->influx_ca_file;
    ic.insecure = c->influx_insecure;
    ic.gzip = c->influx_gzip;
    ic.batch_bytes = (size_t)c->influx_batch_bytes;
    ic.queue_bytes = (size_t)c->influx_queue_bytes;
    ic.timeout_ms = c->influx_timeout_ms;
    ic.retry_base_ms = 500;
    ic.retry_max_ms = c->influx_retry_max_ms;
    ic.spool_dir = c->spool_dir;
    app->influx = influx_sink_new(&ic, app->loop, err, sizeof(err));
    if (app->influx == NULL) {
        log_warnx("%s", err);
        return -1;
    }
    log_info("writing to InfluxDB at %s%s", influx_sink_endpoint(app->influx),
             c->influx_gzip ? " (gzip)" : "");
    return 0;
}

/* A health check that needs no shell or curl binary in the image: one GET, status as exit code. */
static int run_probe(const char *url)
{
    CURL *easy;
    long status = 0;
    CURLcode rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    easy = curl_easy_init();
    if (easy == NULL) {
        curl_global_cleanup();
        return 1;
    }
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    rc = curl_easy_perform(easy);
    if (rc == CURLE_OK)
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    else
        fprintf(stderr, "nstats: probe %s: %s\n", url, curl_easy_strerror(rc));
    curl_easy_cleanup(easy);
    curl_global_cleanup();
    return status >= 200 && status < 300 ? 0 : 1;
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
    if (app.cfg.probe != NULL) {
        rc = run_probe(app.cfg.probe);
        config_free(&app.cfg);
        return rc;
    }
    if (app.cfg.check_config) {
        config_print(&app.cfg, stdout);
        config_free(&app.cfg);
        return 0;
    }
    log_set_level(app.cfg.verbose ? LOG_LEVEL_DEBUG
                  : app.cfg.quiet ? LOG_LEVEL_WARN
                                  : LOG_LEVEL_INFO);
    if (app.cfg.influx_url == NULL &&
        (app.cfg.influx_db != NULL || app.cfg.influx_bucket != NULL)) {
        fprintf(stderr, "nstats: an InfluxDB database or bucket needs --influx-url\n");
        config_free(&app.cfg);
        return 2;
    }

    locality_init(&app.loc);
    for (size_t i = 0; i < app.cfg.n_local_nets; i++)
        locality_add_net(&app.loc, &app.cfg.local_nets[i]);
    if (app.cfg.read_file != NULL && app.cfg.n_local_nets == 0)
        guess_local(&app);
    set_identity(&app);
    buf_init(&app.out, OUT_MAX_BYTES);
    hash_key_random(&seed);
    netlabels_init(&app.labels);
    for (size_t i = 0; i < app.cfg.label_nets.n; i++) {
        if (netlabels_add(&app.labels, app.cfg.label_nets.items[i], err, sizeof(err)) == -1) {
            fprintf(stderr, "nstats: bad value for --label-net: %s\n", err);
            buf_free(&app.out);
            config_free(&app.cfg);
            return 2;
        }
    }
    if (app.cfg.label_file != NULL &&
        netlabels_load_file(&app.labels, app.cfg.label_file, err, sizeof(err)) == -1) {
        fprintf(stderr, "nstats: --label-file: %s\n", err);
        buf_free(&app.out);
        config_free(&app.cfg);
        return 2;
    }
    app.names =
        names_new((size_t)app.cfg.name_cache_size, app.cfg.name_min_keep_ms, &app.labels, &seed);

    memset(&mc, 0, sizeof(mc));
    mc.interval_ms = app.cfg.interval_ms;
    mc.idle_ms = app.cfg.flow_timeout_ms;
    mc.max_flows = app.cfg.max_flows;
    mc.ephemeral_min = (uint16_t)app.cfg.ephemeral_min;
    mc.key_fields = app.cfg.key_fields;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    app.loop = loop_new();
    if (app.loop == NULL) {
        log_warn("epoll");
        rc = 1;
    } else if (watch_signals(&app) == -1) {
        rc = 1;
    } else if (app.cfg.influx_url != NULL && start_influx(&app) == -1) {
        rc = 2;
    } else if (app.cfg.rdns && start_rdns(&app) == -1) {
        rc = 2;
    } else if (app.cfg.k8s && start_k8s(&app) == -1) {
        rc = 2;
    } else if (app.cfg.listen != NULL &&
               (app.httpd = httpd_start(app.cfg.listen, app.loop, on_http, &app, err,
                                        sizeof(err))) == NULL) {
        log_warnx("%s", err);
        rc = 1;
    } else {
        if (app.httpd != NULL)
            log_info("serving /metrics and /healthz on %s (port %u)", app.cfg.listen,
                     httpd_port(app.httpd));
        app.use_stdout = (app.influx == NULL && app.httpd == NULL) || app.cfg.also_stdout;
        if (app.cfg.read_file != NULL)
            rc = run_file(&app, &mc, &seed);
        else
            rc = run_live(&app, &mc, &seed);
    }
    httpd_stop(app.httpd);
    rdns_free(app.rdns);
    k8s_stop(app.k8s);
    k8smap_free(app.k8smap);
    influx_sink_free(app.influx);

    meter_free(app.meter);
    capture_close(app.dns_cap);
    capture_close(app.cap);
    names_free(app.names);
    if (app.sigfd != -1)
        close(app.sigfd);
    loop_free(app.loop);
    buf_free(&app.out);
    config_free(&app.cfg);
    curl_global_cleanup();
    return rc;
}
