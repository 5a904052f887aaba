/* The bounded flow table: per-key counters for the current interval and since the key's start. */
#ifndef NSTATS_FLOWTABLE_H
#define NSTATS_FLOWTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "base/hash.h"
#include "flow/flowkey.h"

struct flow_counters {
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t packets_in;
    uint64_t packets_out;
};

/* a += b */
static inline void flow_counters_add(struct flow_counters *a, const struct flow_counters *b)
{
    a->bytes_in += b->bytes_in;
    a->bytes_out += b->bytes_out;
    a->packets_in += b->packets_in;
    a->packets_out += b->packets_out;
}

/* a -= b */
static inline void flow_counters_sub(struct flow_counters *a, const struct flow_counters *b)
{
    a->bytes_in -= b->bytes_in;
    a->bytes_out -= b->bytes_out;
    a->packets_in -= b->packets_in;
    a->packets_out -= b->packets_out;
}

/* One exported row: a key and what it counted in the interval (its counts since it entered
 * the table are flow_table_foreach's). The key is the table's own, valid until the table
 * counts again (a key expired by the snapshot is read there until a new one takes its place). */
struct flow_row {
    const struct flow_key *key;
    struct flow_counters delta;
};

/* Table-wide bookkeeping, cumulative for the table's life. */
struct flow_table_stats {
    uint64_t keys;                /* keys in the table now, special rows included */
    uint64_t keys_created;        /* keys ever inserted */
    uint64_t keys_expired;        /* keys removed for being idle */
    uint64_t folded_packets;      /* packets whose new key did not fit and went to an other row */
    uint64_t folded_bytes;        /* their bytes */
    struct flow_counters expired; /* totals of expired keys, so sums never go backwards */
};

struct flow_table;

/* max_flows bounds ordinary keys; other rows (one per local address and protocol) get a
 * reserve of their own. All memory is allocated here, none on the packet path. */
struct flow_table *flow_table_new(size_t max_flows, const struct hash_key *seed);
void flow_table_free(struct flow_table *t);

/* Counts one frame of frame_bytes (pcap len) for key in direction dir. Never fails: a key that
 * does not fit is folded. now_ms marks the key as active. */
void flow_table_add(struct flow_table *t, const struct flow_key *key, enum flow_dir dir,
                    uint32_t frame_bytes, uint64_t now_ms);

/* One packet to count, for flow_table_add_batch. */
struct flow_update {
    struct flow_key key;
    enum flow_dir dir;
    uint32_t frame_bytes;
    uint64_t now_ms;
    uint32_t hash; /* the table's scratch */
};

/* Counts n packets exactly as n calls of flow_table_add in order would, but overlaps the
 * table's memory latency: every key is hashed and its home slot prefetched, then each slot's
 * entry is prefetched, then all are counted. */
void flow_table_add_batch(struct flow_table *t, struct flow_update *u, size_t n);

/* Appends every row with a non-zero delta to rows (capacity flow_table_capacity()), zeroes the
 * deltas, then removes keys idle for idle_ms or more. Returns the number of rows. */
size_t flow_table_snapshot(struct flow_table *t, struct flow_row *rows, uint64_t now_ms,
                           uint64_t idle_ms);
/* Calls fn for every key in the table with its counts so far (totals plus the open
 * interval's delta). Read-only. */
typedef void flow_table_visit_fn(void *arg, const struct flow_key *key,
                                 const struct flow_counters *so_far);
void flow_table_foreach(const struct flow_table *t, flow_table_visit_fn *fn, void *arg);
/* flow_table_foreach with each key's place in the table (below flow_table_capacity(), reused
 * by a later key once this one expires) and its hash, which tells the two apart. */
typedef void flow_table_visit_indexed_fn(void *arg, uint32_t index, uint32_t hash,
                                         const struct flow_key *key,
                                         const struct flow_counters *so_far);
void flow_table_foreach_indexed(const struct flow_table *t, flow_table_visit_indexed_fn *fn,
                                void *arg);
/* Most rows a snapshot can hold. */
size_t flow_table_capacity(const struct flow_table *t);
void flow_table_get_stats(const struct flow_table *t, struct flow_table_stats *out);

#endif
