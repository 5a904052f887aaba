/* The exporter: one output buffer, cut into slices of rows, fanned out to the sinks. */
#include "exporter.h"

#include <stdlib.h>
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
    struct capture_stats last_capture; /* the capture's counters at the last interval */
    bool stdout_broken;
};

struct exporter *exporter_new(const struct exporter_config *cfg, const struct exporter_links *links)
{
    struct exporter *e = xcalloc(1, sizeof(*e));

    e->cfg = *cfg;
    e->links = *links;
    buf_init(&e->out, OUT_MAX_BYTES);
    return e;
}

void exporter_free(struct exporter *e)
{
    if (e == NULL)
        return;
    buf_free(&e->out);
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

void exporter_interval(const struct meter_snapshot *snap, void *arg)
{
    struct exporter *e = arg;
    const struct export_identity *id = e->links.id;
    struct export_capture_stats cs;
    size_t dropped = 0;

    capture_delta(e, &cs);
    /* Reverse DNS for this interval's remotes: answers name the next intervals' rows. */
    if (e->links.rdns != NULL)
        for (size_t i = 0; i < snap->n_rows; i++)
            if (schema_key_nameable(&snap->rows[i].key))
                rdns_want(e->links.rdns, &snap->rows[i].key.remote, snap->end_ms);
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
        struct influx_stats st;

        influx_sink_get_stats(e->links.influx, &st);
        dropped += schema_write_export(&e->out, id, &st, snap->end_ms);
    }
    if (dropped > 0)
        log_warnx("interval output over %u bytes: %zu lines not written", OUT_MAX_BYTES, dropped);
    deliver(e, snap->end_ms);
}

void exporter_pace(struct exporter *e, const bool *stopping)
{
    struct influx_sink *influx = e->links.influx;
    uint64_t last_progress = loop_now_ms(), sent = 0;
    struct influx_stats st;

    loop_run_once(e->links.loop, 0);
    if (influx == NULL)
        return;
    for (;;) {
        influx_sink_get_stats(influx, &st);
        if (st.queue_bytes <= e->cfg.influx_queue_bytes / 2 || *stopping)
            return;
        if (st.batches_sent + st.batches_dropped != sent) {
            sent = st.batches_sent + st.batches_dropped;
            last_progress = loop_now_ms();
        }
        if (loop_now_ms() - last_progress > e->cfg.shutdown_timeout_ms)
            return;
        loop_run_once(e->links.loop, WAIT_STEP_MS);
    }
}

int exporter_finish(struct exporter *e, const bool *abandon)
{
    struct influx_sink *influx = e->links.influx;
    uint64_t deadline = loop_now_ms() + e->cfg.shutdown_timeout_ms;
    const char *spool = e->cfg.spool_dir;
    struct influx_stats st;

    if (influx == NULL)
        return 0;
    if (!influx_sink_idle(influx))
        log_info("delivering pending batches to %s (up to %llums)", influx_sink_endpoint(influx),
                 (unsigned long long)e->cfg.shutdown_timeout_ms);
    while (!influx_sink_idle(influx) && !*abandon && loop_now_ms() < deadline)
        loop_run_once(e->links.loop, WAIT_STEP_MS);
    influx_sink_get_stats(influx, &st);
    if (st.queue_batches > 0)
        log_warnx("InfluxDB: %llu batches (%llu bytes) not delivered (last error: %s)%s%s",
                  (unsigned long long)st.queue_batches, (unsigned long long)st.queue_bytes,
                  st.last_error[0] ? st.last_error : "none, delivery was still under way",
                  spool ? "; kept in " : " and lost", spool ? spool : "");
    /* Why the last batch was dropped, not the latest error: that one may be long over. */
    if (st.batches_dropped > 0)
        log_warnx("InfluxDB: %llu batches dropped during the run (the last: %s)%s",
                  (unsigned long long)st.batches_dropped, st.last_drop,
                  st.batches_sent > st.sent_at_last_drop ? "; later batches were delivered" : "");
    if (st.lines_dropped > 0)
        log_warnx("InfluxDB: %llu lines could not be batched (compression failed)",
                  (unsigned long long)st.lines_dropped);
    if (st.batches_dropped > 0 || st.lines_dropped > 0 || (st.queue_batches > 0 && spool == NULL))
        return -1;
    return 0;
}
