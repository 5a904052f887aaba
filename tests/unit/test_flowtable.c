/* Flow table tests: counting, bounds and folding, expiry, and hash-table deletion. */
#include <stdlib.h>

#include "flow/flowtable.h"
#include "test.h"

static struct hash_key seed = {1, 2};

static struct flow_key key_for(unsigned remote, uint16_t port)
{
    struct flow_key k;

    memset(&k, 0, sizeof(k));
    k.local.family = 4;
    k.local.bytes[0] = 198;
    k.local.bytes[1] = 18;
    k.local.bytes[3] = 1;
    k.remote.family = 4;
    k.remote.bytes[0] = 198;
    k.remote.bytes[1] = 19;
    k.remote.bytes[2] = (uint8_t)(remote >> 8);
    k.remote.bytes[3] = (uint8_t)remote;
    k.proto = 6;
    k.port = port;
    return k;
}

struct so_far {
    struct flow_key key;
    struct flow_counters counts;
};

static void find_so_far(void *arg, const struct flow_key *key, const struct flow_counters *c)
{
    struct so_far *f = arg;

    if (memcmp(key, &f->key, sizeof(*key)) == 0)
        f->counts = *c;
}

/* key's counts since it entered the table. */
static struct flow_counters so_far_of(const struct flow_table *t, const struct flow_key *key)
{
    struct so_far f;

    memset(&f, 0, sizeof(f));
    f.key = *key;
    flow_table_foreach(t, find_so_far, &f);
    return f.counts;
}

static uint64_t sum_bytes(const struct flow_row *rows, size_t n)
{
    uint64_t total = 0;

    for (size_t i = 0; i < n; i++)
        total += rows[i].delta.bytes_in + rows[i].delta.bytes_out;
    return total;
}

static const struct flow_row *find_row(const struct flow_row *rows, size_t n,
                                       const struct flow_key *k)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(rows[i].key, k, sizeof(*k)) == 0)
            return &rows[i];
    return NULL;
}

static void test_counts_and_directions(void)
{
    struct flow_table *t = flow_table_new(16, &seed);
    struct flow_row *rows = calloc(flow_table_capacity(t), sizeof(*rows));
    struct flow_key a = key_for(1, 443), b = key_for(2, 80);
    const struct flow_row *r;
    size_t n;

    flow_table_add(t, &a, FLOW_DIR_OUT, 100, 1000);
    flow_table_add(t, &a, FLOW_DIR_IN, 1500, 1001);
    flow_table_add(t, &a, FLOW_DIR_IN, 60, 1002);
    flow_table_add(t, &b, FLOW_DIR_OUT, 70, 1003);
    n = flow_table_snapshot(t, rows, 2000, 60000);
    CHECK_EQ(n, 2);
    r = find_row(rows, n, &a);
    CHECK(r != NULL);
    if (r != NULL) {
        CHECK_EQ(r->delta.bytes_out, 100);
        CHECK_EQ(r->delta.bytes_in, 1560);
        CHECK_EQ(r->delta.packets_in, 2);
        CHECK_EQ(r->delta.packets_out, 1);
    }
    /* Deltas reset; totals carry on. */
    flow_table_add(t, &a, FLOW_DIR_OUT, 10, 3000);
    n = flow_table_snapshot(t, rows, 4000, 60000);
    CHECK_EQ(n, 1);
    CHECK_EQ(rows[0].delta.bytes_out, 10);
    CHECK_EQ(so_far_of(t, &a).bytes_out, 110);
    CHECK_EQ(so_far_of(t, &a).bytes_in, 1560);
    flow_table_free(t);
    free(rows);
}

static void test_bound_folds_into_other(void)
{
    struct flow_table *t = flow_table_new(100, &seed);
    struct flow_row *rows = calloc(flow_table_capacity(t), sizeof(*rows));
    struct flow_table_stats st;
    struct flow_key other;
    const struct flow_row *r;
    uint64_t want = 0;
    size_t n;

    for (unsigned i = 0; i < 1000; i++) {
        struct flow_key k = key_for(i, 443);

        flow_table_add(t, &k, i % 2 ? FLOW_DIR_IN : FLOW_DIR_OUT, 100 + i, 5);
        want += 100 + i;
    }
    n = flow_table_snapshot(t, rows, 10, 60000);
    CHECK_EQ(sum_bytes(rows, n), want);
    CHECK_EQ(n, 101); /* 100 keys and one other row for the local address */
    flow_table_get_stats(t, &st);
    CHECK_EQ(st.folded_packets, 900);
    memset(&other, 0, sizeof(other));
    other.kind = FLOW_KIND_OTHER;
    other.local = key_for(0, 0).local;
    other.proto = 6;
    r = find_row(rows, n, &other);
    CHECK(r != NULL);
    if (r != NULL)
        CHECK_EQ(r->delta.packets_in + r->delta.packets_out, 900);
    /* Existing keys still count normally once the table is full. */
    {
        struct flow_key k0 = key_for(0, 443);

        flow_table_add(t, &k0, FLOW_DIR_OUT, 1, 11);
        n = flow_table_snapshot(t, rows, 12, 60000);
        CHECK_EQ(n, 1);
        CHECK(memcmp(rows[0].key, &k0, sizeof(k0)) == 0);
    }
    flow_table_free(t);
    free(rows);
}

static void test_other_rows_are_bounded(void)
{
    /* Every packet from a new local address: other rows run out and the catch-all takes over. */
    struct flow_table *t = flow_table_new(10, &seed);
    struct flow_row *rows = calloc(flow_table_capacity(t), sizeof(*rows));
    struct flow_table_stats st;
    uint64_t want = 0;
    size_t n;

    for (unsigned i = 0; i < 5000; i++) {
        struct flow_key k = key_for(i, 443);

        k.local.bytes[2] = (uint8_t)(i >> 8);
        k.local.bytes[3] = (uint8_t)i;
        flow_table_add(t, &k, FLOW_DIR_OUT, 64, 1);
        want += 64;
    }
    flow_table_get_stats(t, &st);
    CHECK(st.keys <= flow_table_capacity(t));
    n = flow_table_snapshot(t, rows, 2, 60000);
    CHECK_EQ(sum_bytes(rows, n), want);
    CHECK(n <= flow_table_capacity(t));
    flow_table_free(t);
    free(rows);
}

static void test_expiry_frees_room(void)
{
    struct flow_table *t = flow_table_new(50, &seed);
    struct flow_row *rows = calloc(flow_table_capacity(t), sizeof(*rows));
    struct flow_table_stats st;
    size_t n;

    for (unsigned i = 0; i < 50; i++) {
        struct flow_key k = key_for(i, 22);

        flow_table_add(t, &k, FLOW_DIR_OUT, 1, 1000);
    }
    /* Keep every third key busy; the rest go idle and expire. */
    for (unsigned i = 0; i < 50; i += 3) {
        struct flow_key k = key_for(i, 22);

        flow_table_add(t, &k, FLOW_DIR_OUT, 1, 50000);
    }
    n = flow_table_snapshot(t, rows, 61000, 30000);
    CHECK_EQ(n, 50);
    flow_table_get_stats(t, &st);
    CHECK_EQ(st.keys_expired, 50 - 17);
    CHECK_EQ(st.expired.bytes_out, 50 - 17);
    /* The kept keys are still found (deletion kept probe chains intact). */
    for (unsigned i = 0; i < 50; i += 3) {
        struct flow_key k = key_for(i, 22);

        flow_table_add(t, &k, FLOW_DIR_IN, 7, 62000);
    }
    flow_table_get_stats(t, &st);
    CHECK_EQ(st.folded_packets, 0);
    CHECK_EQ(st.keys, 17 + 3);
    n = flow_table_snapshot(t, rows, 63000, 30000);
    CHECK_EQ(n, 17);
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ(rows[i].delta.bytes_in, 7);
        CHECK_EQ(so_far_of(t, rows[i].key).bytes_out, 2);
    }
    /* Freed room takes new keys without folding. */
    for (unsigned i = 100; i < 133; i++) {
        struct flow_key k = key_for(i, 22);

        flow_table_add(t, &k, FLOW_DIR_OUT, 1, 64000);
    }
    flow_table_get_stats(t, &st);
    CHECK_EQ(st.folded_packets, 0);
    flow_table_free(t);
    free(rows);
}

static void test_churn_many_rounds(void)
{
    /* Insert and expire repeatedly: the table must neither leak slots nor lose keys. */
    struct flow_table *t = flow_table_new(1000, &seed);
    struct flow_row *rows = calloc(flow_table_capacity(t), sizeof(*rows));
    struct flow_table_stats st;
    uint64_t now = 0;

    for (unsigned round = 0; round < 50; round++) {
        uint64_t want = 0;
        size_t n;

        for (unsigned i = 0; i < 1000; i++) {
            struct flow_key k = key_for(round * 1000 + i, 443);

            flow_table_add(t, &k, FLOW_DIR_OUT, 3, now);
            flow_table_add(t, &k, FLOW_DIR_IN, 5, now);
            want += 8;
        }
        now += 100000;
        n = flow_table_snapshot(t, rows, now, 1000);
        CHECK_EQ(sum_bytes(rows, n), want);
        CHECK_EQ(n, 1000);
    }
    flow_table_get_stats(t, &st);
    CHECK_EQ(st.folded_packets, 0);
    CHECK_EQ(st.keys, 3);
    CHECK_EQ(st.keys_expired, 50000);
    flow_table_free(t);
    free(rows);
}

static void add_so_far(void *arg, const struct flow_key *key, const struct flow_counters *c)
{
    (void)key;
    *(uint64_t *)arg += c->bytes_out;
}

static void test_counts_past_32_bits(void)
{
    /* An entry keeps 32-bit counts per interval and carries the rest: a heavy key's bytes
     * pass 4 GiB in one interval and stay exact, interval and total. */
    struct flow_table *t = flow_table_new(10, &seed);
    struct flow_row *rows = calloc(flow_table_capacity(t), sizeof(*rows));
    struct flow_key k = key_for(1, 443);
    uint64_t want = 0, so_far = 0;
    size_t n;

    for (unsigned i = 0; i < 140000; i++) {
        flow_table_add(t, &k, FLOW_DIR_OUT, 65535, 1000);
        want += 65535;
    }
    flow_table_foreach(t, add_so_far, &so_far);
    CHECK_EQ(so_far, want);
    n = flow_table_snapshot(t, rows, 2000, 60000);
    CHECK_EQ(n, 1);
    CHECK_EQ(rows[0].delta.bytes_out, want);
    CHECK_EQ(rows[0].delta.packets_out, 140000);
    CHECK_EQ(so_far_of(t, &k).bytes_out, want);
    /* The carry starts again with the next interval. */
    flow_table_add(t, &k, FLOW_DIR_OUT, 10, 2500);
    n = flow_table_snapshot(t, rows, 3000, 60000);
    CHECK_EQ(n, 1);
    CHECK_EQ(rows[0].delta.bytes_out, 10);
    CHECK_EQ(so_far_of(t, &k).bytes_out, want + 10);
    flow_table_free(t);
    free(rows);
}

int main(void)
{
    RUN(test_counts_and_directions);
    RUN(test_bound_folds_into_other);
    RUN(test_other_rows_are_bounded);
    RUN(test_expiry_frees_room);
    RUN(test_churn_many_rounds);
    RUN(test_counts_past_32_bits);
    return test_report();
}
