/* The exporter: one output buffer, cut into slices of rows, fanned out to stdout and InfluxDB;
 * the series pushes encode what /metrics shows; pacing and the last word cover every sink. */
#include "exporter.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fd.h"
#include "base/log.h"
#include "base/xalloc.h"

/* Output batches larger than this are cut (and the lost lines reported). */
#define OUT_MAX_BYTES (512u << 20)
/* Rows formatted and handed to the sinks at a time: about 1 MB of text. */
#define SLICE_ROWS 4096
/* How often exporter_pace and exporter_finish look again. */
#define WAIT_STEP_MS 100

struct exporter {
    struct exporter_config cfg;
    struct exporter_links links;
    struct capture *capture; /* whose drop counters go in the capture row, or NULL */
    struct buf out;
    struct keycache *push_labels; /* the pushes' labels: made again each push, in this memory */
    struct capture_stats last_capture; /* the capture's counters at the last interval */
    bool stdout_broken;
    uint64_t first_start_ms; /* the first interval's start, or 0 before it closed */
    uint64_t last_end_ms;    /* the last interval's end, or 0 */
    struct log_limit encode_log;
};

struct exporter *exporter_new(const struct exporter_config *cfg, const struct exporter_links *links)
{
    struct exporter *e = xcalloc(1, sizeof(*e));

    e->cfg = *cfg;
    e->links = *links;
    buf_init(&e->out, OUT_MAX_BYTES);
    e->push_labels = keycache_new(false);
    return e;
}

void exporter_free(struct exporter *e)
{
    if (e == NULL)
        return;
    buf_free(&e->out);
    keycache_free(e->push_labels);
    free(e);
}

void exporter_set_capture(struct exporter *e, struct capture *capture)
{
    e->capture = capture;
}

bool exporter_broken(const struct exporter *e)
{
    return e->stdout_broken;
}

/* Hands what the buffer holds to the sinks and empties it. */
static void deliver(struct exporter *e, uint64_t end_ms)
{
    if (e->links.influx != NULL && e->out.len > 0)
        influx_sink_enqueue(e->links.influx, e->out.data, e->out.len, end_ms);
    if (e->cfg.use_stdout && !e->stdout_broken &&
        fd_write_all(STDOUT_FILENO, e->out.data, e->out.len) == -1) {
        log_warn("stdout");
        e->stdout_broken = true;
        loop_stop(e->links.loop);
    }
    buf_reset(&e->out);
}

/* The capture's drops during the interval. */
static void capture_delta(struct exporter *e, struct export_capture_stats *cs)
{
    struct capture_stats now;

    cs->capture_drops = 0;
    cs->interface_drops = 0;
    if (e->capture == NULL || capture_get_stats(e->capture, &now) == -1)
        return;
    cs->capture_drops = now.drops - e->last_capture.drops;
    cs->interface_drops = now.ifdrops - e->last_capture.ifdrops;
    e->last_capture = now;
}

static void enqueue_body(void *arg, char *body, size_t len, uint64_t ts_ms)
{
    const struct exporter_series_push *p = arg;

    push_sink_enqueue(p->sink, body, len, p->encoded, ts_ms);
}

/* Every series /metrics shows, stamped with the interval's end, to each series push. An
 * interval that cannot be encoded is counted lost. */
static void push_series(struct exporter *e, uint64_t end_ms)
{
    for (size_t i = 0; i < PUSH_MAX_SINKS - 1; i++) {
        struct exporter_series_push *p = &e->links.pushes[i];
        struct series_writer *w;
        uint64_t repeated;

        if (p->sink == NULL)
            continue;
        repeated = p->repeated(p->enc);
        w = p->begin(p->enc, e->first_start_ms, end_ms);
        /* A failed render is not ended: the next begin drops it, and no series is marked
         * stale for having been left out. */
        if (routes_render_metrics(e->links.routes, w, e->push_labels) == -1 ||
            p->end(p->enc, enqueue_body, p) == -1) {
            log_warnx_limited(&e->encode_log, loop_now_ms(), 60000,
                              "%s: the interval ending %llu could not be encoded or "
                              "compressed: lost",
                              push_sink_what(p->sink), (unsigned long long)end_ms);
            push_sink_count_lost(p->sink, 1);
            continue;
        }
        push_sink_count_series_dropped(p->sink, p->repeated(p->enc) - repeated);
    }
}

void exporter_interval(const struct meter_snapshot *snap, void *arg)
{
    struct exporter *e = arg;
    const struct export_identity *id = e->links.id;
    struct export_capture_stats cs;
    size_t dropped = 0;

    if (e->first_start_ms == 0)
        e->first_start_ms = snap->start_ms;
    e->last_end_ms = snap->end_ms;
    capture_delta(e, &cs);
    /* Reverse DNS for this interval's remotes: answers name the next intervals' rows. */
    if (e->links.rdns != NULL)
        for (size_t i = 0; i < snap->n_rows; i++)
            if (schema_key_nameable(snap->rows[i].key))
                rdns_want(e->links.rdns, &snap->rows[i].key->remote, snap->end_ms);
    buf_reset(&e->out);
    if (e->cfg.schema == SCHEMA_LEGACY) {
        dropped += schema_write_legacy(&e->out, id, snap, &cs, e->links.names);
    } else {
        /* In slices, so the text of a large interval is never all in memory at once. */
        for (size_t from = 0; from < snap->n_rows; from += SLICE_ROWS) {
            dropped +=
                schema_write_rows(&e->out, id, snap, from, from + SLICE_ROWS, e->links.names);
            deliver(e, snap->end_ms);
        }
        dropped += schema_write_capture(&e->out, id, snap, &cs);
    }
    if (e->links.influx != NULL) {
        struct push_stats st;

        push_sink_get_stats(influx_sink_push(e->links.influx), &st);
        dropped += schema_write_export(&e->out, id, &st, snap->end_ms);
    }
    if (dropped > 0)
        log_warnx("interval output over %u bytes: %zu lines not written", OUT_MAX_BYTES, dropped);
    deliver(e, snap->end_ms);
    push_series(e, snap->end_ms);
}

/* Every push sink is on the pages' list. */
static size_t n_sinks(const struct exporter *e)
{
    return e->links.routes != NULL ? e->links.routes->n_sinks : 0;
}

/* True while a sink's queue is over half its cap. */
static bool backed_up(const struct exporter *e, uint64_t *done)
{
    bool full = false;

    *done = 0;
    for (size_t i = 0; i < n_sinks(e); i++) {
        struct push_stats st;

        push_sink_get_stats(e->links.routes->sinks[i], &st);
        full |= st.queue_bytes > st.queue_limit / 2;
        *done += st.batches_sent + st.batches_dropped;
    }
    return full;
}

void exporter_pace(struct exporter *e, const bool *stopping)
{
    uint64_t last_progress = loop_now_ms(), progress = 0, done;

    loop_run_once(e->links.loop, 0);
    while (backed_up(e, &done) && !*stopping) {
        if (done != progress) {
            progress = done;
            last_progress = loop_now_ms();
        }
        if (loop_now_ms() - last_progress > e->cfg.shutdown_timeout_ms)
            return;
        loop_run_once(e->links.loop, WAIT_STEP_MS);
    }
}

static bool all_idle(const struct exporter *e)
{
    for (size_t i = 0; i < n_sinks(e); i++)
        if (!push_sink_idle(e->links.routes->sinks[i]))
            return false;
    return true;
}

/* What one sink left undelivered or dropped. Returns true if anything was lost. */
static bool last_word(const struct push_sink *sink)
{
    const char *spool = push_sink_spool_dir(sink), *what = push_sink_what(sink);
    struct push_stats st;

    push_sink_get_stats(sink, &st);
    if (st.queue_batches > 0)
        log_warnx("%s: %llu batches (%llu bytes) not delivered (last error: %s)%s%s", what,
                  (unsigned long long)st.queue_batches, (unsigned long long)st.queue_bytes,
                  st.last_error[0] ? st.last_error : "none, delivery was still under way",
                  st.queue_unspooled == 0 ? "; kept in " : " and lost",
                  st.queue_unspooled == 0 ? spool : "");
    if (st.queue_batches > 0 && st.queue_unspooled > 0 && spool != NULL)
        log_warnx("%s: %llu of them could not be written to the spool in %s", what,
                  (unsigned long long)st.queue_unspooled, spool);
    /* Why the last batch was dropped, not the latest error: that one may be long over. */
    if (st.batches_dropped > 0)
        log_warnx("%s: %llu batches dropped during the run (the last: %s)%s", what,
                  (unsigned long long)st.batches_dropped, st.last_drop,
                  st.batches_sent > st.sent_at_last_drop ? "; later batches were delivered" : "");
    if (st.lines_dropped > 0)
        log_warnx("%s: %llu %s could not be batched (encoding or compression failed)", what,
                  (unsigned long long)st.lines_dropped,
                  strcmp(push_sink_id(sink), "influxdb") == 0 ? "lines" : "intervals");
    if (st.series_dropped > 0)
        log_warnx("%s: %llu series were written twice in an interval and sent once", what,
                  (unsigned long long)st.series_dropped);
    return st.batches_dropped > 0 || st.lines_dropped > 0 || st.queue_unspooled > 0;
}

/* Counting is over, so every pushed series ends: an interval with no series, 1 ms after the
 * last, gives each one its stale marker (remote write) or no-value point (OTLP), and
 * receivers stop showing it at once instead of five minutes later. */
static void end_series(struct exporter *e)
{
    for (size_t i = 0; i < PUSH_MAX_SINKS - 1 && e->last_end_ms != 0; i++) {
        struct exporter_series_push *p = &e->links.pushes[i];

        if (p->sink == NULL)
            continue;
        (void)p->begin(p->enc, e->first_start_ms, e->last_end_ms + 1);
        if (p->end(p->enc, enqueue_body, p) == -1)
            push_sink_count_lost(p->sink, 1);
    }
}

int exporter_finish(struct exporter *e, const bool *abandon)
{
    uint64_t deadline = loop_now_ms() + e->cfg.shutdown_timeout_ms;
    bool lost = false;

    end_series(e);
    for (size_t i = 0; i < n_sinks(e); i++)
        if (!push_sink_idle(e->links.routes->sinks[i]))
            log_info("delivering pending batches to %s (up to %llums)",
                     push_sink_endpoint(e->links.routes->sinks[i]),
                     (unsigned long long)e->cfg.shutdown_timeout_ms);
    while (!all_idle(e) && !*abandon && loop_now_ms() < deadline)
        loop_run_once(e->links.loop, WAIT_STEP_MS);
    for (size_t i = 0; i < n_sinks(e); i++)
        lost |= last_word(e->links.routes->sinks[i]);
    return lost ? -1 : 0;
}
