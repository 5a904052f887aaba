/* Name cache: open addressing with a short probe window; when the window is full, an entry
 * never looked up since it was written makes room before one that was, and among those the
 * one expiring first. Names are looked up for the traffic being written out, so a flood of
 * answers for addresses nobody talks to pushes out its own entries, not the names in use.
 * Memory is fixed at creation. */
#include "namecache.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

#define WINDOW 8

struct slot {
    struct netaddr addr; /* family 0: empty */
    uint8_t source;
    bool negative;
    bool used; /* looked up (and found) since the address took this slot */
    uint64_t expires_ms;
    char name[NAMECACHE_NAME_MAX];
};

struct namecache {
    struct hash_key seed;
    struct slot *slots;
    size_t mask;
    struct namecache_stats stats;
    uint64_t version; /* namecache_version */
};

struct namecache *namecache_new(size_t max_entries, const struct hash_key *seed)
{
    struct namecache *c = xcalloc(1, sizeof(*c));
    size_t n = 16;

    while (n < max_entries)
        n *= 2;
    c->seed = *seed;
    c->slots = xcalloc(n, sizeof(*c->slots));
    c->mask = n - 1;
    return c;
}

void namecache_free(struct namecache *c)
{
    if (c == NULL)
        return;
    free(c->slots);
    free(c);
}

/* True if s should make room before v (both hold an address). */
static bool evicts_before(const struct slot *s, const struct slot *v)
{
    if (s->used != v->used)
        return !s->used;
    return s->expires_ms < v->expires_ms;
}

static struct slot *find(struct namecache *c, const struct netaddr *a, struct slot **victim)
{
    size_t i = hash_bytes(&c->seed, a, sizeof(*a)) & c->mask;

    *victim = NULL;
    for (unsigned n = 0; n < WINDOW; n++, i = (i + 1) & c->mask) {
        struct slot *s = &c->slots[i];

        if (s->addr.family == 0) {
            if (*victim == NULL || (*victim)->addr.family != 0)
                *victim = s;
            continue;
        }
        if (netaddr_equal(&s->addr, a))
            return s;
        if (*victim == NULL || ((*victim)->addr.family != 0 && evicts_before(s, *victim)))
            *victim = s;
    }
    return NULL;
}

void namecache_put(struct namecache *c, const struct netaddr *a, const char *name,
                   enum name_source source, uint64_t expires_ms, uint64_t now_ms)
{
    struct slot *victim, *s = find(c, a, &victim);

    if (s != NULL && name == NULL && !s->negative) {
        /* "No answer" never erases a name: the last name known stays, asked again later. */
        if (expires_ms > s->expires_ms)
            s->expires_ms = expires_ms;
        return;
    }
    if (s != NULL) {
        bool live = s->expires_ms > now_ms;
        bool better = source <= (enum name_source)s->source;
        bool fills_gap = s->negative && name != NULL;

        if (live && !better && !fills_gap)
            return;
    } else {
        s = victim;
        if (s->addr.family != 0) {
            if (s->expires_ms > now_ms)
                c->stats.evictions++;
        } else {
            c->stats.entries++;
        }
    }
    c->stats.inserts++;
    if (!netaddr_equal(&s->addr, a) || s->source != (uint8_t)source ||
        s->negative != (name == NULL) ||
        (name != NULL && strncmp(s->name, name, sizeof(s->name) - 1) != 0))
        c->version++;
    if (!netaddr_equal(&s->addr, a))
        s->used = false;
    s->addr = *a;
    s->source = (uint8_t)source;
    s->negative = name == NULL;
    s->expires_ms = expires_ms;
    if (name != NULL) {
        size_t n = strlen(name);

        if (n >= sizeof(s->name))
            n = sizeof(s->name) - 1;
        memcpy(s->name, name, n);
        s->name[n] = '\0';
    } else {
        s->name[0] = '\0';
    }
}

const char *namecache_get(struct namecache *c, const struct netaddr *a, uint64_t now_ms,
                          enum name_source *source, bool *expired)
{
    struct slot *victim, *s = find(c, a, &victim);

    *source = NAME_SOURCE_NONE;
    *expired = false;
    if (s == NULL || s->negative) {
        c->stats.misses++;
        return NULL;
    }
    c->stats.hits++;
    s->used = true;
    *source = (enum name_source)s->source;
    *expired = s->expires_ms <= now_ms;
    return s->name;
}

bool namecache_fresh(struct namecache *c, const struct netaddr *a, uint64_t now_ms)
{
    struct slot *victim, *s = find(c, a, &victim);

    return s != NULL && s->expires_ms > now_ms;
}

void namecache_get_stats(const struct namecache *c, struct namecache_stats *out)
{
    *out = c->stats;
}

uint64_t namecache_version(const struct namecache *c)
{
    return c->version;
}

const char *name_source_str(enum name_source s)
{
    switch (s) {
    case NAME_SOURCE_K8S:
        return "k8s";
    case NAME_SOURCE_DNS:
        return "dns";
    case NAME_SOURCE_PTR:
        return "ptr";
    case NAME_SOURCE_NONE:
        break;
    }
    return "addr";
}
