/* One arena of records and two tables of offsets by place: the last render's and this one's.
 * Nothing here knows the labels' form: the writer made them. */
#include "keycache.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

#define ARENA_MAX ((size_t)1 << 30)
#define NONE UINT32_MAX
#define ALIGN alignof(struct keycache_record)
#define COMPACT_MIN ((size_t)1 << 20) /* garbage below this is left alone */

struct keycache {
    struct buf arena;
    uint32_t *last, *cur; /* by place: the offset of its record in arena, or NONE */
    size_t capacity;      /* of both tables */
    const void *writer;
    uint64_t version;
    bool keep;
    size_t live;      /* bytes of the records cur holds */
    size_t open_at;   /* the record keycache_open began */
    uint32_t open_ix; /* and its place */
};

static size_t record_size(uint32_t len)
{
    return (sizeof(struct keycache_record) + len + ALIGN - 1) & ~(ALIGN - 1);
}

static struct keycache_record *record_at(const struct keycache *c, uint32_t at)
{
    return (struct keycache_record *)(void *)(c->arena.data + at);
}

static void fill_none(uint32_t *t, size_t n)
{
    memset(t, 0xff, n * sizeof(*t));
}

struct keycache *keycache_new(bool keep)
{
    struct keycache *c = xcalloc(1, sizeof(*c));

    c->keep = keep;
    buf_init(&c->arena, ARENA_MAX);
    return c;
}

void keycache_free(struct keycache *c)
{
    if (c == NULL)
        return;
    buf_free(&c->arena);
    free(c->last);
    free(c->cur);
    free(c);
}

void keycache_begin(struct keycache *c, const void *writer, size_t capacity, uint64_t names_version)
{
    uint32_t *t;

    if (capacity != c->capacity) {
        free(c->last);
        free(c->cur);
        c->last = xreallocarray(NULL, capacity ? capacity : 1, sizeof(uint32_t));
        c->cur = xreallocarray(NULL, capacity ? capacity : 1, sizeof(uint32_t));
        c->capacity = capacity;
        c->writer = NULL; /* nothing from before is found */
    }
    if (!c->keep || writer != c->writer || names_version != c->version) {
        /* Everything is made again: the allocation stays, the records go. */
        buf_reset(&c->arena);
        fill_none(c->cur, c->capacity);
    }
    c->writer = writer;
    c->version = names_version;
    t = c->last;
    c->last = c->cur;
    c->cur = t;
    fill_none(c->cur, c->capacity);
    c->live = 0;
}

bool keycache_keep(struct keycache *c, uint32_t index, const struct flow_key *key)
{
    uint32_t at;

    if (index >= c->capacity || (at = c->last[index]) == NONE ||
        memcmp(&record_at(c, at)->key, key, sizeof(*key)) != 0)
        return false;
    c->cur[index] = at;
    c->live += record_size(record_at(c, at)->len);
    return true;
}

struct buf *keycache_open(struct keycache *c, uint32_t index, const struct flow_key *key,
                          uint32_t flags)
{
    struct keycache_record r;

    memset(&r, 0, sizeof(r));
    r.key = *key;
    r.flags = flags;
    if (index >= c->capacity || c->arena.len >= NONE - sizeof(r) ||
        buf_append(&c->arena, &r, sizeof(r)) == -1)
        return NULL;
    c->open_at = c->arena.len - sizeof(r);
    c->open_ix = index;
    return &c->arena;
}

int keycache_seal(struct keycache *c)
{
    static const char zeros[ALIGN];
    size_t len = c->arena.len - c->open_at - sizeof(struct keycache_record);
    size_t size = record_size((uint32_t)len);

    if (len >= NONE || c->arena.len >= NONE - ALIGN)
        return -1;
    /* The padding may move the arena: the record is found again by its offset after it. */
    if (buf_append(&c->arena, zeros, size - sizeof(struct keycache_record) - len) == -1)
        return -1;
    record_at(c, (uint32_t)c->open_at)->len = (uint32_t)len;
    c->cur[c->open_ix] = (uint32_t)c->open_at;
    c->live += size;
    return 0;
}

const struct keycache_record *keycache_get(const struct keycache *c, uint32_t index)
{
    if (index >= c->capacity || c->cur[index] == NONE)
        return NULL;
    return record_at(c, c->cur[index]);
}

/* Copies the records this render holds into a new arena, in the order of their places. */
static void compact(struct keycache *c)
{
    struct buf fresh;

    buf_init(&fresh, ARENA_MAX);
    (void)buf_space(&fresh, c->live);
    for (size_t i = 0; i < c->capacity; i++) {
        const struct keycache_record *r;
        size_t at = fresh.len;

        if (c->cur[i] == NONE)
            continue;
        r = record_at(c, c->cur[i]);
        if (buf_append(&fresh, r, record_size(r->len)) == -1) {
            c->cur[i] = NONE; /* cannot happen: fresh holds less than the old arena */
            continue;
        }
        c->cur[i] = (uint32_t)at;
    }
    buf_free(&c->arena);
    c->arena = fresh;
}

void keycache_end(struct keycache *c)
{
    size_t garbage = c->arena.len - c->live;

    if (garbage > COMPACT_MIN && garbage > c->live)
        compact(c);
}

size_t keycache_bytes(const struct keycache *c)
{
    return c->arena.cap + 2 * c->capacity * sizeof(uint32_t);
}
