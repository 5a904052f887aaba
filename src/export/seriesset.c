/* Two generations of series identities, each an open-addressing table over an array of entries
 * in the order they were recorded, with the encoders' data for each in one buffer. */
#include "seriesset.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/hash.h"
#include "base/xalloc.h"

struct entry {
    uint64_t id;
    uint64_t aux;
    size_t off; /* the data, in the generation's buffer */
    uint32_t len;
    bool went_on; /* previous interval: recorded again in the current one */
};

struct generation {
    struct entry *entries;
    size_t n, cap;
    uint32_t *slots; /* entry index + 1, or 0 for empty; a power of two of them */
    size_t n_slots;
    struct buf data;
};

struct seriesset {
    struct hash_key key;
    struct generation gen[2];
    int cur; /* gen[cur] is the current interval, gen[!cur] the previous one */
};

struct seriesset *seriesset_new(size_t max_bytes)
{
    struct seriesset *s = xcalloc(1, sizeof(*s));

    hash_key_random(&s->key);
    buf_init(&s->gen[0].data, max_bytes);
    buf_init(&s->gen[1].data, max_bytes);
    return s;
}

void seriesset_free(struct seriesset *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < 2; i++) {
        free(s->gen[i].entries);
        free(s->gen[i].slots);
        buf_free(&s->gen[i].data);
    }
    free(s);
}

uint64_t seriesset_hash(const struct seriesset *s, const void *a, size_t a_len, const void *b,
                        size_t b_len)
{
    uint64_t ha = hash_bytes(&s->key, a, a_len), hb = hash_bytes(&s->key, b, b_len);

    return hash_mix(ha ^ s->key.k1, hb ^ 0x9e3779b97f4a7c15ULL);
}

/* The entry with identity id, or NULL. */
static struct entry *find(const struct generation *g, uint64_t id)
{
    size_t mask = g->n_slots - 1;

    if (g->n_slots == 0)
        return NULL;
    for (size_t i = (size_t)id & mask;; i = (i + 1) & mask) {
        uint32_t slot = g->slots[i];

        if (slot == 0)
            return NULL;
        if (g->entries[slot - 1].id == id)
            return &g->entries[slot - 1];
    }
}

static void place(struct generation *g, size_t index)
{
    size_t mask = g->n_slots - 1, i = (size_t)g->entries[index].id & mask;

    while (g->slots[i] != 0)
        i = (i + 1) & mask;
    g->slots[i] = (uint32_t)(index + 1);
}

/* Keeps the table at most half full, so probes stay short. */
static void make_room(struct generation *g)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 256;
        g->entries = xreallocarray(g->entries, g->cap, sizeof(*g->entries));
    }
    if (2 * (g->n + 1) > g->n_slots) {
        g->n_slots = g->n_slots ? 2 * g->n_slots : 512;
        free(g->slots);
        g->slots = xcalloc(g->n_slots, sizeof(*g->slots));
        for (size_t i = 0; i < g->n; i++)
            place(g, i);
    }
}

int seriesset_add(struct seriesset *s, uint64_t id, const void *data, size_t len, uint64_t *aux)
{
    struct generation *cur = &s->gen[s->cur];
    struct entry *prev, *e;
    size_t off = cur->data.len;

    if (find(cur, id) != NULL)
        return SERIESSET_REPEATED;
    if (len > UINT32_MAX || cur->n >= UINT32_MAX - 1 || buf_append(&cur->data, data, len) == -1)
        return -1;
    prev = find(&s->gen[!s->cur], id);
    if (prev != NULL) {
        prev->went_on = true;
        *aux = prev->aux;
    }
    make_room(cur);
    e = &cur->entries[cur->n];
    *e = (struct entry){id, *aux, off, (uint32_t)len, false};
    place(cur, cur->n++);
    return prev != NULL ? SERIESSET_WENT_ON : SERIESSET_NEW;
}

int seriesset_previous(const struct seriesset *s, uint64_t id, const char **data, size_t *len)
{
    const struct generation *prev = &s->gen[!s->cur];
    const struct entry *e = find(prev, id);

    if (e == NULL)
        return 0;
    *data = prev->data.data + e->off;
    *len = e->len;
    return 1;
}

int seriesset_next_ended(struct seriesset *s, size_t *cursor, const char **data, size_t *len,
                         uint64_t *aux)
{
    const struct generation *prev = &s->gen[!s->cur];

    for (; *cursor < prev->n; (*cursor)++) {
        const struct entry *e = &prev->entries[*cursor];

        if (e->went_on)
            continue;
        *data = prev->data.data + e->off;
        *len = e->len;
        *aux = e->aux;
        (*cursor)++;
        return 1;
    }
    return 0;
}

static void clear(struct generation *g)
{
    if (g->n_slots > 0)
        memset(g->slots, 0, g->n_slots * sizeof(*g->slots));
    g->n = 0;
    buf_reset(&g->data);
}

void seriesset_next_interval(struct seriesset *s)
{
    s->cur = !s->cur;
    clear(&s->gen[s->cur]);
}

void seriesset_drop_current(struct seriesset *s)
{
    struct generation *prev = &s->gen[!s->cur];

    for (size_t i = 0; i < prev->n; i++)
        prev->entries[i].went_on = false;
    clear(&s->gen[s->cur]);
}
