/* Key cache tests: a record is kept only for the same key at the same place under the same
 * writer, names version and table; a new key at a place, a names change, another writer or a
 * resized table makes records again; compaction keeps every live record intact. */
#include <stdlib.h>

#include "export/keycache.h"
#include "test.h"

static struct flow_key key_n(unsigned n)
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
    k.remote.bytes[2] = (uint8_t)(n >> 8);
    k.remote.bytes[3] = (uint8_t)n;
    k.proto = 6;
    k.port = 443;
    return k;
}

/* Makes the record of key n at place index, its labels "labels-<n>" and pad bytes of 'x'. */
static void make(struct keycache *c, uint32_t index, unsigned n, size_t pad, uint32_t flags)
{
    struct flow_key k = key_n(n);
    struct buf *a = keycache_open(c, index, &k, flags);
    char text[32];

    CHECK(a != NULL);
    if (a == NULL)
        return;
    snprintf(text, sizeof(text), "labels-%u", n);
    CHECK_EQ(buf_append_str(a, text), 0);
    memset(buf_space(a, pad), 'x', pad);
    CHECK_EQ(buf_commit(a, pad), 0);
    CHECK_EQ(keycache_seal(c), 0);
}

/* The labels of the record at index, as a string (they are not terminated in the arena). */
static const char *labels_at(const struct keycache *c, uint32_t index)
{
    static char text[4096];
    const struct keycache_record *r = keycache_get(c, index);

    if (r == NULL)
        return "(none)";
    snprintf(text, sizeof(text), "%.*s", (int)r->len, (const char *)(r + 1));
    return text;
}

static const int writer_a = 1, writer_b = 2;

static void test_kept_and_made(void)
{
    struct keycache *c = keycache_new(true);
    struct flow_key k1 = key_n(1), k2 = key_n(2), k3 = key_n(3);

    keycache_begin(c, &writer_a, 8, 7);
    CHECK(!keycache_keep(c, 0, &k1));
    make(c, 0, 1, 0, 0);
    CHECK(!keycache_keep(c, 5, &k2));
    make(c, 5, 2, 3, KEYCACHE_MIXED);
    CHECK_STR(labels_at(c, 0), "labels-1");
    CHECK_STR(labels_at(c, 5), "labels-2xxx");
    CHECK_EQ(keycache_get(c, 5)->flags, KEYCACHE_MIXED);
    CHECK(keycache_get(c, 3) == NULL);
    CHECK(keycache_get(c, 8) == NULL); /* past the table */
    keycache_end(c);

    /* The same keys at the same places: kept, flags and all. At place 5 a new key now. */
    keycache_begin(c, &writer_a, 8, 7);
    CHECK(keycache_keep(c, 0, &k1));
    CHECK_STR(labels_at(c, 0), "labels-1");
    CHECK(!keycache_keep(c, 5, &k3));
    CHECK(keycache_get(c, 5) == NULL);
    make(c, 5, 3, 0, 0);
    CHECK_STR(labels_at(c, 5), "labels-3");
    CHECK(!keycache_keep(c, 1, &k1)); /* a key is found at its own place only */
    keycache_end(c);

    /* Not visited last time: gone. */
    keycache_begin(c, &writer_a, 8, 7);
    CHECK(keycache_keep(c, 5, &k3));
    keycache_end(c);
    keycache_begin(c, &writer_a, 8, 7);
    CHECK(!keycache_keep(c, 0, &k1));
    CHECK(keycache_keep(c, 5, &k3));
    keycache_end(c);

    /* A names change, another writer, another table: nothing is kept. */
    keycache_begin(c, &writer_a, 8, 8);
    CHECK(!keycache_keep(c, 5, &k3));
    make(c, 5, 3, 0, 0);
    keycache_end(c);
    keycache_begin(c, &writer_b, 8, 8);
    CHECK(!keycache_keep(c, 5, &k3));
    make(c, 5, 3, 0, 0);
    keycache_end(c);
    keycache_begin(c, &writer_b, 16, 8);
    CHECK(!keycache_keep(c, 5, &k3));
    CHECK(keycache_open(c, 16, &k3, 0) == NULL); /* past the table */
    keycache_end(c);
    keycache_free(c);
}

/* Renders that each make half the records again leave garbage; past 1 MiB of it, and more
 * than what is live, the arena is compacted, and every record still reads the same. */
static void test_compaction(void)
{
    enum { PLACES = 2000, PAD = 1000 };
    struct keycache *c = keycache_new(true);
    size_t peak = 0;
    unsigned gen = 0;

    for (int round = 0; round < 12; round++, gen++) {
        keycache_begin(c, &writer_a, PLACES, 1);
        for (uint32_t i = 0; i < PLACES; i++) {
            struct flow_key k = key_n(i + (i % 2 ? 0 : gen * PLACES));

            if (!keycache_keep(c, i, &k))
                make(c, i, i + (i % 2 ? 0 : gen * PLACES), PAD, 0);
        }
        keycache_end(c);
        if (keycache_bytes(c) > peak)
            peak = keycache_bytes(c);
    }
    /* Live: 2,000 records of about 1 KB; with as much garbage at most, in an allocation that
     * doubles: under 8 MiB and the tables. Without compaction, 12 renders of 1,000 new ones. */
    CHECK(peak <= ((size_t)8 << 20) + 2 * PLACES * sizeof(uint32_t));
    keycache_begin(c, &writer_a, PLACES, 1);
    for (uint32_t i = 0; i < PLACES; i++) {
        unsigned n = i + (i % 2 ? 0 : (gen - 1) * PLACES);
        struct flow_key k = key_n(n);
        char want[32];

        CHECK(keycache_keep(c, i, &k));
        snprintf(want, sizeof(want), "labels-%u", n);
        if (strncmp(labels_at(c, i), want, strlen(want)) != 0 ||
            strlen(labels_at(c, i)) != strlen(want) + PAD) {
            CHECK_STR(labels_at(c, i), want);
            break;
        }
    }
    keycache_end(c);
    keycache_free(c);
}

/* A seal pads its record to the alignment, and that append may move the arena: labels that
 * fill it to the last byte before the padding (the arena past 128 KiB, where a moved allocation
 * is unmapped) still read back whole, and so do the records before them. The seal once read
 * its record after the move (a crash in a scrape of 12,000 keys). */
static void test_seal_moves_arena(void)
{
    struct keycache *c = keycache_new(true);
    struct flow_key k = key_n(1);
    struct buf *a;
    size_t fill;

    keycache_begin(c, &writer_a, 4, 1);
    make(c, 0, 0, 300000, 0);
    a = keycache_open(c, 1, &k, KEYCACHE_MIXED);
    CHECK(a != NULL);
    if (a == NULL) {
        keycache_free(c);
        return;
    }
    fill = a->cap - a->len - 1; /* the NUL's byte stays free */
    if (((a->len + fill) % sizeof(struct keycache_record)) == 0)
        fill--; /* so the seal pads */
    memset(buf_space(a, fill), 'y', fill);
    CHECK_EQ(buf_commit(a, fill), 0);
    CHECK_EQ(keycache_seal(c), 0);
    CHECK(keycache_get(c, 1) != NULL && keycache_get(c, 1)->len == fill &&
          keycache_get(c, 1)->flags == KEYCACHE_MIXED);
    CHECK(keycache_get(c, 0) != NULL && keycache_get(c, 0)->len == strlen("labels-0") + 300000);
    CHECK_EQ(strncmp(labels_at(c, 0), "labels-0xx", 10), 0);
    keycache_end(c);
    keycache_free(c);
}

/* A cache made not to keep finds nothing from the last render, whatever stays the same. */
static void test_not_kept(void)
{
    struct keycache *c = keycache_new(false);
    struct flow_key k = key_n(3);

    for (int round = 0; round < 3; round++) {
        keycache_begin(c, &writer_a, 8, 1);
        CHECK(!keycache_keep(c, 2, &k));
        make(c, 2, 3, 10, 0);
        CHECK_STR(labels_at(c, 2), "labels-3xxxxxxxxxx");
        keycache_end(c);
    }
    keycache_free(c);
}

int main(void)
{
    RUN(test_not_kept);
    RUN(test_kept_and_made);
    RUN(test_seal_moves_arena);
    RUN(test_compaction);
    return test_report();
}
