/* Meter: the per-packet path (no allocation, no system calls) and interval bookkeeping. */
#include "meter.h"

#include <stdlib.h>

#include "base/xalloc.h"
#include "capture/decode.h"

/* Packets are keyed on arrival, then hashed, looked up and counted in batches: the hash reads
 * keys whose stores have long landed, and the table's cache misses for one packet overlap
 * with the others' (see flow_table_add_batch). */
#define BATCH 32

struct meter {
    struct meter_config cfg;
    struct flow_keyer *keyer;
    struct flow_table *table;
    struct flow_row *rows;
    bool open;
    uint64_t start_ms;
    uint64_t end_ms;
    uint64_t packets;
    uint64_t bytes;
    uint64_t last_packet_ms;
    uint64_t last_end_ms; /* the last emitted interval's stamp, or 0 */
    uint64_t limit_ms;    /* packets from here on have times no store can hold */
    uint64_t total_packets;
    uint64_t total_bytes;
    struct flow_table_stats prev_stats;
    struct flow_update batch[BATCH];
    unsigned n_batch;
    meter_emit_fn *emit;
    void *arg;
};

struct meter *meter_new(const struct meter_config *cfg, const struct locality *loc,
                        const struct listeners *listeners, const struct hash_key *seed,
                        meter_emit_fn *emit, void *arg)
{
    struct meter *m = xcalloc(1, sizeof(*m));

    m->cfg = *cfg;
    if (m->cfg.interval_ms == 0)
        m->cfg.interval_ms = 1;
    m->keyer = flow_keyer_new(loc, listeners, cfg->ephemeral_min, cfg->key_fields);
    m->table = flow_table_new(cfg->max_flows, seed);
    m->rows = xcalloc(flow_table_capacity(m->table), sizeof(*m->rows));
    m->emit = emit;
    m->arg = arg;
    /* The last interval that ends within METER_MAX_MS; later times are not counted as such. */
    m->limit_ms = METER_MAX_MS / m->cfg.interval_ms * m->cfg.interval_ms;
    return m;
}

void meter_free(struct meter *m)
{
    if (m == NULL)
        return;
    flow_keyer_free(m->keyer);
    flow_table_free(m->table);
    free(m->rows);
    free(m);
}

/* Intervals end on multiples of the interval, so rows from many pods line up in time. */
static void open_interval(struct meter *m, uint64_t at_ms)
{
    m->open = true;
    m->start_ms = at_ms;
    m->end_ms = (at_ms / m->cfg.interval_ms + 1) * m->cfg.interval_ms;
    m->packets = 0;
    m->bytes = 0;
}

static void flush_batch(struct meter *m)
{
    flow_table_add_batch(m->table, m->batch, m->n_batch);
    m->n_batch = 0;
}

static void close_interval(struct meter *m, uint64_t end_ms)
{
    struct meter_snapshot snap;

    flush_batch(m);
    /* One stamp per interval: a later point with the same tags and timestamp would replace
     * this one in InfluxDB. Boundaries only grow; an early close (finish) is moved past the
     * last stamp if it would meet it. */
    if (m->last_end_ms != 0 && end_ms <= m->last_end_ms)
        end_ms = m->last_end_ms + 1;
    m->last_end_ms = end_ms;

    snap.start_ms = m->start_ms;
    snap.end_ms = end_ms;
    snap.rows = m->rows;
    snap.n_rows = flow_table_snapshot(m->table, m->rows, end_ms, m->cfg.idle_ms);
    snap.packets = m->packets;
    snap.bytes = m->bytes;
    flow_table_get_stats(m->table, &snap.table);
    snap.table_delta = snap.table;
    snap.table_delta.keys_created -= m->prev_stats.keys_created;
    snap.table_delta.keys_expired -= m->prev_stats.keys_expired;
    snap.table_delta.folded_packets -= m->prev_stats.folded_packets;
    snap.table_delta.folded_bytes -= m->prev_stats.folded_bytes;
    flow_counters_sub(&snap.table_delta.expired, &m->prev_stats.expired);
    m->prev_stats = snap.table;
    m->open = false;
    m->emit(&snap, m->arg);
}

void meter_start(struct meter *m, uint64_t now_ms)
{
    if (!m->open)
        open_interval(m, now_ms);
}

void meter_packet(struct meter *m, uint64_t ts_ms, const uint8_t *data, uint32_t caplen,
                  uint32_t len)
{
    struct pktsummary p;

    decode_packet(m->cfg.linktype, data, caplen, &p);
    meter_decoded(m, ts_ms, &p, len);
}

void meter_decoded(struct meter *m, uint64_t ts_ms, const struct pktsummary *p, uint32_t len)
{
    struct pktsummary beyond;
    struct flow_update *q;

    if (__builtin_expect(ts_ms >= m->limit_ms, 0)) {
        /* A time past what line protocol can carry (a corrupt record, a negative ts_sec read
         * as unsigned): counted as malformed where the clock already is, moving no interval. */
        beyond = *p;
        beyond.status = DECODE_MALFORMED;
        p = &beyond;
        ts_ms = m->open ? (m->last_packet_ms > m->start_ms ? m->last_packet_ms : m->start_ms)
                        : m->last_packet_ms;
    }
    if (m->open && ts_ms >= m->end_ms) {
        close_interval(m, m->end_ms);
        /* The next interval is the one holding this packet, from its boundary: only the
         * first interval of a capture starts at a packet, so every other one is as long as
         * the interval and its rates are per second of it. */
        open_interval(m, ts_ms / m->cfg.interval_ms * m->cfg.interval_ms);
    }
    if (!m->open)
        open_interval(m, ts_ms);
    q = &m->batch[m->n_batch++];
    flow_keyer_classify(m->keyer, p, ts_ms, &q->key, &q->dir);
    q->frame_bytes = len;
    q->now_ms = ts_ms;
    if (m->n_batch == BATCH)
        flush_batch(m);
    m->packets++;
    m->bytes += len;
    m->total_packets++;
    m->total_bytes += len;
    if (ts_ms > m->last_packet_ms)
        m->last_packet_ms = ts_ms;
}

void meter_read(struct meter *m, struct meter_totals *totals, flow_table_visit_fn *fn, void *arg)
{
    flush_batch(m);
    totals->packets = m->total_packets;
    totals->bytes = m->total_bytes;
    flow_table_get_stats(m->table, &totals->table);
    if (fn != NULL)
        flow_table_foreach(m->table, fn, arg);
}

void meter_visit_indexed(struct meter *m, flow_table_visit_indexed_fn *fn, void *arg)
{
    flush_batch(m);
    flow_table_foreach_indexed(m->table, fn, arg);
}

size_t meter_capacity(const struct meter *m)
{
    return flow_table_capacity(m->table);
}

uint64_t meter_last_packet_ms(const struct meter *m)
{
    return m->last_packet_ms;
}

void meter_tick(struct meter *m, uint64_t now_ms)
{
    if (m->open && now_ms >= m->end_ms) {
        uint64_t end = m->end_ms;

        close_interval(m, end);
        /* Live capture: the next interval starts where this one ended, even if empty. */
        open_interval(m, now_ms - end >= m->cfg.interval_ms ? now_ms : end);
    }
}

uint64_t meter_ms_until_due(const struct meter *m, uint64_t now_ms)
{
    if (!m->open)
        return UINT64_MAX;
    return now_ms >= m->end_ms ? 0 : m->end_ms - now_ms;
}

void meter_finish(struct meter *m, uint64_t end_ms, bool always_emit)
{
    if (!m->open)
        return;
    /* Within the interval: at least its start (close_interval keeps it past the previous
     * stamp), at most its boundary. */
    if (end_ms < m->start_ms)
        end_ms = m->start_ms;
    if (end_ms > m->end_ms)
        end_ms = m->end_ms;
    if (m->packets > 0 || always_emit)
        close_interval(m, end_ms);
    m->open = false;
}
