/* Address popularity count in a fixed open-addressing table. */
#include "localguess.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "capture/capture.h"

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

/* What a file's first packets say: the busiest address, in how many of how many packets. */
struct localguess_result {
    struct netaddr best;
    uint64_t packets;
    unsigned seen;
};

struct file_guess {
    struct localguess *g;
    unsigned seen;
};

static void guess_packet(void *arg, const struct capture_packet *pkt)
{
    struct file_guess *fg = arg;

    localguess_add(fg->g, pkt->sum);
    fg->seen++;
}

/* Reads up to max_packets packets of the file at path and finds its busiest address. Returns
 * 0, or -1 if the file cannot be read (opening it for real reports why) or holds no IP. */
static int localguess_file(const char *path, unsigned max_packets, struct localguess_result *out)
{
    struct file_guess fg = {NULL, 0};
    struct capture *c;
    char err[512];
    int rc;

    c = capture_open_file(path, err, sizeof(err));
    if (c == NULL)
        return -1;
    fg.g = localguess_new();
    while (fg.seen < max_packets) {
        unsigned left = max_packets - fg.seen;

        if (capture_dispatch(c, left < 4096 ? (int)left : 4096, guess_packet, &fg, err,
                             sizeof(err)) == -1 ||
            capture_at_eof(c))
            break;
    }
    capture_close(c);
    rc = localguess_best(fg.g, &out->best, &out->packets);
    out->seen = fg.seen;
    localguess_free(fg.g);
    return rc;
}

void localguess_apply(const char *path, unsigned max_packets, struct locality *loc)
{
    struct localguess_result r;
    struct netprefix host;
    char text[NETADDR_STRLEN];

    if (strcmp(path, "-") == 0) {
        log_warnx("reading stdin without --local-net: no address is local, rows are oriented "
                  "by address order");
        return;
    }
    if (localguess_file(path, max_packets, &r) == -1)
        return;
    memset(&host, 0, sizeof(host));
    host.addr = r.best;
    host.bits = r.best.family == 4 ? 32 : 128;
    locality_add_net(loc, &host);
    log_info("no --local-net given: taking %s (in %llu of the first %u packets) as the local host",
             netaddr_format(&r.best, text, sizeof(text)), (unsigned long long)r.packets, r.seen);
}
