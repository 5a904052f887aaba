/* Address popularity count in a fixed open-addressing table. */
#include "localguess.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

#define SLOTS 65536 /* a power of two */
#define MAX_USED (SLOTS / 2)

struct guess_slot {
    struct netaddr addr;
    uint64_t packets;
};

struct localguess {
    struct guess_slot slots[SLOTS];
    unsigned used;
};

struct localguess *localguess_new(void)
{
    return xcalloc(1, sizeof(struct localguess));
}

void localguess_free(struct localguess *g)
{
    free(g);
}

static unsigned slot_of(const struct netaddr *a)
{
    return (unsigned)(netaddr_mix(a, 0) >> 40) & (SLOTS - 1);
}

static void count(struct localguess *g, const struct netaddr *a)
{
    unsigned i = slot_of(a);

    for (;;) {
        struct guess_slot *s = &g->slots[i];

        if (s->packets == 0) {
            if (g->used == MAX_USED)
                return;
            g->used++;
            s->addr = *a;
            s->packets = 1;
            return;
        }
        if (netaddr_equal(&s->addr, a)) {
            s->packets++;
            return;
        }
        i = (i + 1) & (SLOTS - 1);
    }
}

void localguess_add(struct localguess *g, const struct pktsummary *p)
{
    if (p->status != DECODE_OK)
        return;
    count(g, &p->src);
    if (!netaddr_equal(&p->src, &p->dst))
        count(g, &p->dst);
}

int localguess_best(const struct localguess *g, struct netaddr *out, uint64_t *packets)
{
    const struct guess_slot *best = NULL;

    for (unsigned i = 0; i < SLOTS; i++) {
        const struct guess_slot *s = &g->slots[i];

        /* Ties go to the lower address, so the guess does not depend on hashing. */
        if (s->packets > 0 &&
            (best == NULL || s->packets > best->packets ||
             (s->packets == best->packets && netaddr_compare(&s->addr, &best->addr) < 0)))
            best = s;
    }
    if (best == NULL)
        return -1;
    *out = best->addr;
    *packets = best->packets;
    return 0;
}
