/* The counting pipeline for one capture: decode, key, count, and cut the stream into intervals. */
#ifndef NSTATS_METER_H
#define NSTATS_METER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hash.h"
#include "capture/decode.h"
#include "flow/flowtable.h"

struct meter_config {
    uint64_t interval_ms;
    uint64_t idle_ms; /* keys without traffic this long expire */
    size_t max_flows;
    uint16_t ephemeral_min;
    unsigned key_fields; /* FLOW_KEY_* */
    int linktype;        /* pcap DLT_* of the capture */
};

/* The latest time an interval may end: InfluxDB's last nanosecond (2262-04-11, just under
 * 2^63 ns) in whole milliseconds. Packets stamped later count as malformed, at the time of
 * the packet before them. */
#define METER_MAX_MS 9223372036854ULL

/* One closed interval, valid until the next meter call. */
struct meter_snapshot {
    uint64_t start_ms;
    uint64_t end_ms; /* the rows' timestamp: always past the previous interval's */
    const struct flow_row *rows;
    size_t n_rows;
    uint64_t packets; /* captured in this interval; equals the sum over rows */
    uint64_t bytes;
    struct flow_table_stats table;       /* cumulative since start */
    struct flow_table_stats table_delta; /* the counters' growth in this interval; keys as is */
};

typedef void meter_emit_fn(const struct meter_snapshot *snap, void *arg);

struct meter;

/* loc and listeners (may be NULL) must outlive the meter. emit is called for every closed
 * interval, from inside meter_packet, meter_tick or meter_finish. */
struct meter *meter_new(const struct meter_config *cfg, const struct locality *loc,
                        const struct listeners *listeners, const struct hash_key *seed,
                        meter_emit_fn *emit, void *arg);
void meter_free(struct meter *m);

/* Opens the first interval at now_ms even before a packet arrives (live capture). */
void meter_start(struct meter *m, uint64_t now_ms);
/* Counts one frame of len bytes on the wire, decoded as p. A timestamp at or past the open
 * interval's end closes it first. */
void meter_decoded(struct meter *m, uint64_t ts_ms, const struct pktsummary *p, uint32_t len);
/* meter_decoded for a frame still to be decoded. */
void meter_packet(struct meter *m, uint64_t ts_ms, const uint8_t *data, uint32_t caplen,
                  uint32_t len);
/* Closes the open interval if now_ms has reached its end; opens the next one. */
void meter_tick(struct meter *m, uint64_t now_ms);
/* Milliseconds from now_ms to the open interval's end (0 if due), or UINT64_MAX if none. */
uint64_t meter_ms_until_due(const struct meter *m, uint64_t now_ms);
/* Everything counted since start, for cumulative metrics. */
struct meter_totals {
    uint64_t packets;
    uint64_t bytes;
    struct flow_table_stats table;
};

/* Counts any batched packets, then reports the totals and visits every key with its counts
 * so far (see flow_table_foreach). fn may be NULL. */
void meter_read(struct meter *m, struct meter_totals *totals, flow_table_visit_fn *fn, void *arg);
/* meter_read's visit with each key's place in the table (flow_table_foreach_indexed). */
void meter_visit_indexed(struct meter *m, flow_table_visit_indexed_fn *fn, void *arg);
/* Places a key can have in the table (flow_table_capacity). */
size_t meter_capacity(const struct meter *m);
/* The latest packet timestamp seen, or 0. */
uint64_t meter_last_packet_ms(const struct meter *m);
/* Closes the open interval early at end_ms (end of file, shutdown), if it counted anything
 * or always_emit is set. Its stamp is end_ms held within the interval, and at least 1 ms
 * past the previous interval's, so the two never share a timestamp. */
void meter_finish(struct meter *m, uint64_t end_ms, bool always_emit);

#endif
