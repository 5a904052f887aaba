/* Flow table: open addressing with linear probing over a preallocated entry pool. */
#include "flowtable.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

#define EMPTY UINT32_MAX

/* What a packet touches, in one cache line: the key, when it was last seen and the
 * interval's counts. The counts are 32-bit; what wraps past that is carried in the entry's
 * cold half, which packets otherwise never touch. */
struct entry {
    _Alignas(64) struct flow_key key;
    uint64_t last_seen_ms;
    uint32_t bytes[2];   /* by enum flow_dir */
    uint32_t packets[2]; /* by enum flow_dir */
};
_Static_assert(sizeof(struct entry) == 64, "an entry is one cache line");
_Static_assert(FLOW_DIR_IN == 0 && FLOW_DIR_OUT == 1, "counts are indexed by direction");

/* The rest of an entry, at the same index of t->cold. */
struct cold {
    uint32_t hash;
    uint32_t live_pos;       /* index in t->live */
    uint32_t wraps_bytes[2]; /* times this interval's 32-bit counts wrapped, by enum flow_dir */
    uint32_t wraps_packets[2];
    struct flow_counters total; /* since the key entered the table */
};

struct slot {
    uint32_t index; /* into t->pool, or EMPTY */
    uint32_t hash;
};

struct flow_table {
    struct hash_key seed;
    size_t max_normal; /* ordinary and fragment keys */
    size_t max_other;  /* per-local other rows */
    size_t n_normal;
    size_t n_other;
    size_t pool_size;
    struct entry *pool; /* 64-byte aligned */
    struct cold *cold;
    uint32_t *free_list; /* stack of free pool indices */
    size_t n_free;
    uint32_t *live; /* dense list of used pool indices, for snapshots */
    size_t n_live;
    struct slot *slots;
    size_t slot_mask;
    uint32_t catch_all; /* the other row of last resort, always present */
    struct flow_table_stats stats;
};

static size_t other_reserve(size_t max_flows)
{
    return 64 + max_flows / 64;
}

static uint32_t key_hash(const struct flow_table *t, const struct flow_key *key)
{
    return (uint32_t)hash_small(&t->seed, key, sizeof(*key));
}

/* Keys are 38 bytes compared on every packet: five word loads beat a memcmp call. */
static bool key_equal(const struct flow_key *a, const struct flow_key *b)
{
    const uint8_t *pa = (const uint8_t *)a, *pb = (const uint8_t *)b;
    uint64_t diff = 0;

    _Static_assert(sizeof(struct flow_key) == 38, "key_equal assumes a 38-byte key");
    for (size_t off = 0; off < 32; off += 8) {
        uint64_t x, y;

        memcpy(&x, pa + off, 8);
        memcpy(&y, pb + off, 8);
        diff |= x ^ y;
    }
    {
        uint64_t x, y;

        memcpy(&x, pa + 30, 8);
        memcpy(&y, pb + 30, 8);
        diff |= x ^ y;
    }
    return diff == 0;
}

/* Finds the slot holding key, or the empty slot where it would go. */
static inline size_t find_slot(const struct flow_table *t, const struct flow_key *key, uint32_t h)
{
    size_t i = h & t->slot_mask;

    for (;;) {
        const struct slot *s = &t->slots[i];

        if (s->index == EMPTY)
            return i;
        if (s->hash == h && key_equal(&t->pool[s->index].key, key))
            return i;
        i = (i + 1) & t->slot_mask;
    }
}

static uint32_t insert(struct flow_table *t, const struct flow_key *key, uint32_t h, size_t slot,
                       uint64_t now_ms)
{
    uint32_t idx = t->free_list[--t->n_free];
    struct entry *e = &t->pool[idx];
    struct cold *c = &t->cold[idx];

    memset(e, 0, sizeof(*e));
    memset(c, 0, sizeof(*c));
    e->key = *key;
    e->last_seen_ms = now_ms;
    c->hash = h;
    c->live_pos = (uint32_t)t->n_live;
    t->live[t->n_live++] = idx;
    t->slots[slot].index = idx;
    t->slots[slot].hash = h;
    t->stats.keys_created++;
    if (key->kind == FLOW_KIND_OTHER)
        t->n_other++;
    else if (key->kind == FLOW_KIND_NORMAL || key->kind == FLOW_KIND_FRAGMENT)
        t->n_normal++;
    return idx;
}

/* Inserts a key that must not be present; used for the fixed rows at creation. */
static uint32_t insert_fixed(struct flow_table *t, const struct flow_key *key)
{
    uint32_t h = key_hash(t, key);

    return insert(t, key, h, find_slot(t, key, h), 0);
}

struct flow_table *flow_table_new(size_t max_flows, const struct hash_key *seed)
{
    struct flow_table *t = xcalloc(1, sizeof(*t));
    struct flow_key fixed;
    size_t nslots = 16;

    t->seed = *seed;
    t->max_normal = max_flows;
    t->max_other = other_reserve(max_flows);
    /* Three fixed rows: catch-all other, non-IP and malformed. */
    t->pool_size = t->max_normal + t->max_other + 3;
    while (nslots < t->pool_size * 2)
        nslots *= 2;
    t->pool = xcalloc_aligned(64, t->pool_size, sizeof(*t->pool));
    t->cold = xcalloc(t->pool_size, sizeof(*t->cold));
    t->free_list = xcalloc(t->pool_size, sizeof(*t->free_list));
    t->live = xcalloc(t->pool_size, sizeof(*t->live));
    t->slots = xcalloc(nslots, sizeof(*t->slots));
    t->slot_mask = nslots - 1;
    for (size_t i = 0; i < nslots; i++)
        t->slots[i].index = EMPTY;
    for (size_t i = 0; i < t->pool_size; i++)
        t->free_list[i] = (uint32_t)(t->pool_size - 1 - i);
    t->n_free = t->pool_size;

    memset(&fixed, 0, sizeof(fixed));
    fixed.kind = FLOW_KIND_OTHER;
    t->catch_all = insert_fixed(t, &fixed);
    t->n_other--; /* the catch-all does not use the reserve */
    fixed.kind = FLOW_KIND_NON_IP;
    insert_fixed(t, &fixed);
    fixed.kind = FLOW_KIND_MALFORMED;
    insert_fixed(t, &fixed);
    t->stats.keys_created = 0;
    return t;
}

void flow_table_free(struct flow_table *t)
{
    if (t == NULL)
        return;
    free(t->pool);
    free(t->cold);
    free(t->free_list);
    free(t->live);
    free(t->slots);
    free(t);
}

/* Adds n to a 32-bit count, counting its wraps in *wraps (the count's upper 32 bits). */
static inline void add32(uint32_t *count, uint32_t n, uint32_t *wraps)
{
    uint32_t before = *count;

    *count = before + n;
    if (__builtin_expect(*count < before, 0))
        (*wraps)++;
}

static inline uint64_t count64(uint32_t wraps, uint32_t count)
{
    return (uint64_t)wraps << 32 | count;
}

static void count(struct flow_table *t, uint32_t idx, enum flow_dir dir, uint32_t bytes,
                  uint64_t now_ms)
{
    struct entry *e = &t->pool[idx];
    struct cold *c = &t->cold[idx];
    size_t out = dir == FLOW_DIR_OUT;

    /* Indexed by direction, not branched on it: in or out is a coin toss packet to packet. */
    add32(&e->bytes[out], bytes, &c->wraps_bytes[out]);
    add32(&e->packets[out], 1, &c->wraps_packets[out]);
    e->last_seen_ms = now_ms;
}

/* The interval's counts so far. */
static struct flow_counters delta_of(const struct flow_table *t, uint32_t idx)
{
    const struct entry *e = &t->pool[idx];
    const struct cold *c = &t->cold[idx];
    struct flow_counters d = {
        count64(c->wraps_bytes[FLOW_DIR_IN], e->bytes[FLOW_DIR_IN]),
        count64(c->wraps_bytes[FLOW_DIR_OUT], e->bytes[FLOW_DIR_OUT]),
        count64(c->wraps_packets[FLOW_DIR_IN], e->packets[FLOW_DIR_IN]),
        count64(c->wraps_packets[FLOW_DIR_OUT], e->packets[FLOW_DIR_OUT]),
    };

    return d;
}

/* Finds or creates the other row for a key that did not fit. */
static uint32_t other_row(struct flow_table *t, const struct flow_key *key, uint64_t now_ms)
{
    struct flow_key other;
    uint32_t h;
    size_t slot;

    memset(&other, 0, sizeof(other));
    other.kind = FLOW_KIND_OTHER;
    other.local = key->local;
    other.proto = key->proto;
    h = key_hash(t, &other);
    slot = find_slot(t, &other, h);
    if (t->slots[slot].index != EMPTY)
        return t->slots[slot].index;
    if (t->n_other >= t->max_other)
        return t->catch_all;
    return insert(t, &other, h, slot, now_ms);
}

/* Counts a packet whose key's hash is h. */
static inline void add_hashed(struct flow_table *t, const struct flow_key *key, uint32_t h,
                              enum flow_dir dir, uint32_t frame_bytes, uint64_t now_ms)
{
    size_t slot = find_slot(t, key, h);
    uint32_t idx = t->slots[slot].index;

    if (idx == EMPTY) {
        if (t->n_normal < t->max_normal) {
            idx = insert(t, key, h, slot, now_ms);
        } else {
            idx = other_row(t, key, now_ms);
            t->stats.folded_packets++;
            t->stats.folded_bytes += frame_bytes;
        }
    }
    count(t, idx, dir, frame_bytes, now_ms);
}

void flow_table_add_batch(struct flow_table *t, struct flow_update *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        u[i].hash = key_hash(t, &u[i].key);
        __builtin_prefetch(&t->slots[u[i].hash & t->slot_mask]);
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t idx = t->slots[u[i].hash & t->slot_mask].index;

        /* Only a hint: the home slot's entry is usually the key's own. */
        if (idx != EMPTY)
            __builtin_prefetch(&t->pool[idx]);
    }
    for (size_t i = 0; i < n; i++)
        add_hashed(t, &u[i].key, u[i].hash, u[i].dir, u[i].frame_bytes, u[i].now_ms);
}

void flow_table_add(struct flow_table *t, const struct flow_key *key, enum flow_dir dir,
                    uint32_t frame_bytes, uint64_t now_ms)
{
    struct flow_update u = {*key, dir, frame_bytes, now_ms, 0};

    flow_table_add_batch(t, &u, 1);
}

/* Backward-shift deletion keeps probe sequences intact without tombstones. */
static void remove_slot(struct flow_table *t, size_t hole)
{
    size_t i = hole;

    t->slots[hole].index = EMPTY;
    for (;;) {
        size_t home;

        i = (i + 1) & t->slot_mask;
        if (t->slots[i].index == EMPTY)
            return;
        home = t->slots[i].hash & t->slot_mask;
        /* Move slot i into the hole if its home is not in (hole, i] cyclically. */
        if (((i - home) & t->slot_mask) >= ((i - hole) & t->slot_mask)) {
            t->slots[hole] = t->slots[i];
            t->slots[i].index = EMPTY;
            hole = i;
        }
    }
}

static void expire(struct flow_table *t, uint32_t idx)
{
    struct entry *e = &t->pool[idx];
    struct cold *c = &t->cold[idx];
    uint32_t moved;

    remove_slot(t, find_slot(t, &e->key, c->hash));
    flow_counters_add(&t->stats.expired, &c->total);
    t->stats.keys_expired++;
    if (e->key.kind == FLOW_KIND_OTHER)
        t->n_other--;
    else
        t->n_normal--;
    moved = t->live[--t->n_live];
    t->live[c->live_pos] = moved;
    t->cold[moved].live_pos = c->live_pos;
    t->free_list[t->n_free++] = idx;
}

static bool is_fixed(const struct flow_table *t, const struct entry *e)
{
    return &t->pool[t->catch_all] == e || e->key.kind == FLOW_KIND_NON_IP ||
           e->key.kind == FLOW_KIND_MALFORMED;
}

size_t flow_table_snapshot(struct flow_table *t, struct flow_row *rows, uint64_t now_ms,
                           uint64_t idle_ms)
{
    size_t n = 0;

    for (size_t i = 0; i < t->n_live; i++) {
        uint32_t idx = t->live[i];
        struct entry *e = &t->pool[idx];
        struct cold *c = &t->cold[idx];
        struct flow_counters d = delta_of(t, idx);

        if (d.packets_in == 0 && d.packets_out == 0)
            continue;
        flow_counters_add(&c->total, &d);
        rows[n].key = &e->key;
        rows[n].delta = d;
        n++;
        memset(e->bytes, 0, sizeof(e->bytes));
        memset(e->packets, 0, sizeof(e->packets));
        memset(c->wraps_bytes, 0, sizeof(c->wraps_bytes));
        memset(c->wraps_packets, 0, sizeof(c->wraps_packets));
    }
    /* Walk backwards: expire() moves the last live entry into the freed position. */
    for (size_t i = t->n_live; i-- > 0;) {
        struct entry *e = &t->pool[t->live[i]];

        if (!is_fixed(t, e) && now_ms >= e->last_seen_ms && now_ms - e->last_seen_ms >= idle_ms)
            expire(t, t->live[i]);
    }
    return n;
}

void flow_table_foreach(const struct flow_table *t, flow_table_visit_fn *fn, void *arg)
{
    for (size_t i = 0; i < t->n_live; i++) {
        uint32_t idx = t->live[i];
        const struct entry *e = &t->pool[idx];
        struct flow_counters c = delta_of(t, idx);

        flow_counters_add(&c, &t->cold[idx].total);
        fn(arg, &e->key, &c);
    }
}

void flow_table_foreach_indexed(const struct flow_table *t, flow_table_visit_indexed_fn *fn,
                                void *arg)
{
    for (size_t i = 0; i < t->n_live; i++) {
        uint32_t idx = t->live[i];
        struct flow_counters c = delta_of(t, idx);

        flow_counters_add(&c, &t->cold[idx].total);
        fn(arg, idx, t->cold[idx].hash, &t->pool[idx].key, &c);
    }
}

size_t flow_table_capacity(const struct flow_table *t)
{
    return t->pool_size;
}

void flow_table_get_stats(const struct flow_table *t, struct flow_table_stats *out)
{
    *out = t->stats;
    out->keys = t->n_live;
}
