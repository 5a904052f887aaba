/* The feed: the capture's packets into the meter, on the loop's thread. */
#include "feed.h"

#include <poll.h>
#include <stdlib.h>

#include "base/xalloc.h"
#include "io/loop.h"
#include "names/snoop.h"

/* Packets per file batch, so a signal or an HTTP request is handled promptly. */
#define FILE_BATCH 65536
/* Dispatches per feed_drain: bounds one loop turn when the ring never empties. */
#define LIVE_DISPATCHES 1000

struct feed {
    struct capture *cap;
    struct meter *meter;
    struct names *names;
    struct nattable *nat; /* live, may be NULL */
    bool broken;
};

struct feed *feed_new(struct capture *cap, struct meter *meter, struct names *names)
{
    struct feed *f = xcalloc(1, sizeof(*f));

    f->cap = cap;
    f->meter = meter;
    f->names = names;
    if (names != NULL)
        capture_keep_dns(cap);
    return f;
}

void feed_free(struct feed *f)
{
    free(f);
}

bool feed_broken(const struct feed *f)
{
    return f->broken;
}

void feed_resume(struct feed *f)
{
    f->broken = false;
}

void feed_set_nat(struct feed *f, struct nattable *t)
{
    f->nat = t;
}

static void on_packet(void *arg, const struct capture_packet *pkt)
{
    struct feed *f = arg;
    struct pktsummary s;

    /* A translated connection's packet is counted for its true ends. */
    if (f->nat != NULL && pkt->sum->has_ports && !nattable_empty(f->nat)) {
        s = *pkt->sum;
        if (nattable_translate(f->nat, &s)) {
            meter_decoded(f->meter, pkt->ts_us / 1000u, &s, pkt->len);
            return;
        }
    }
    meter_decoded(f->meter, pkt->ts_us / 1000u, pkt->sum, pkt->len);
}

/* A file's packets: counted, and its kept DNS messages passed to the names. */
static void on_file_packet(void *arg, const struct capture_packet *pkt)
{
    struct feed *f = arg;

    meter_decoded(f->meter, pkt->ts_us / 1000u, pkt->sum, pkt->len);
    if (pkt->data != NULL && f->names != NULL)
        snoop_packet(f->names, pkt);
}

int feed_drain(struct feed *f, char *errbuf, size_t errlen)
{
    for (int i = 0; i < LIVE_DISPATCHES && !f->broken; i++) {
        int n = capture_dispatch(f->cap, 0, on_packet, f, errbuf, errlen);

        if (n == -1) {
            f->broken = true;
            return -1;
        }
        if (n == 0)
            break;
    }
    return f->broken ? -1 : 0;
}

int feed_drain_handed_over(struct feed *f, char *errbuf, size_t errlen)
{
    uint64_t until = loop_now_ms() + CAPTURE_HANDOVER_MS;
    struct pollfd p = {.fd = capture_fd(f->cap), .events = POLLIN};

    while (!f->broken && loop_now_ms() < until) {
        if (feed_drain(f, errbuf, errlen) == -1)
            return -1;
        poll(&p, 1, 20);
    }
    /* The capture thread stops; what it read before is counted. */
    capture_stop_reading(f->cap);
    while (!f->broken && !capture_at_eof(f->cap))
        if (feed_drain(f, errbuf, errlen) == -1)
            return -1;
    return 0;
}

int feed_file_batch(struct feed *f, char *errbuf, size_t errlen)
{
    if (capture_dispatch(f->cap, FILE_BATCH, on_file_packet, f, errbuf, errlen) == -1) {
        f->broken = true;
        return -1;
    }
    return capture_at_eof(f->cap) ? 0 : 1;
}

void feed_file_rest(struct feed *f)
{
    char err[512];

    if (f->broken || capture_at_eof(f->cap))
        return;
    capture_stop_reading(f->cap);
    while (!capture_at_eof(f->cap) &&
           capture_dispatch(f->cap, FILE_BATCH, on_file_packet, f, err, sizeof(err)) != -1) {
    }
}
