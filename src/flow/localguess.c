/* Address popularity count in a fixed open-addressing table. */
#include "localguess.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "capture/capture.h"
#include "io/loop.h"

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

static void guess_packet(void *arg, const struct capture_packet *pkt)
{
    localguess_add(arg, pkt->sum);
}

void localguess_apply(struct capture *c, struct loop *l, const bool *stopping, unsigned max_packets,
                      unsigned wait_ms, struct locality *loc)
{
    struct localguess *g;
    struct netprefix host;
    struct netaddr best;
    uint64_t packets, until = loop_now_ms() + wait_ms;
    char text[NETADDR_STRLEN], err[512];
    unsigned seen;
    int rc;

    /* A slow pipe gets a little time to send them; the loop runs meanwhile. */
    while ((rc = capture_wait_ahead(c, max_packets, 100, err, sizeof(err))) == 0 && !*stopping &&
           loop_now_ms() < until)
        loop_run_once(l, 0);
    if (rc == -1)
        return;
    g = localguess_new();
    seen = capture_peek(c, max_packets, guess_packet, g);
    rc = localguess_best(g, &best, &packets);
    localguess_free(g);
    if (rc == -1) {
        log_warnx("no --local-net given and no IP packet read ahead to guess from: no address is "
                  "local, rows are oriented by address order");
        return;
    }
    memset(&host, 0, sizeof(host));
    host.addr = best;
    host.bits = best.family == 4 ? 32 : 128;
    locality_add_net(loc, &host);
    log_info("no --local-net given: taking %s (in %llu of the first %u packets) as the local host",
             netaddr_format(&best, text, sizeof(text)), (unsigned long long)packets, seen);
}
