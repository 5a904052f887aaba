/* DNS snooping: queries and answers from the wire to the names, live and from files. */
#include "snoop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "base/log.h"
#include "base/xalloc.h"

/* DNS arrives far below the accounting rate; a small ring is plenty. */
#define SNOOP_RING_BYTES (1u << 20)
#define SNOOP_SNAPLEN 65535
/* An answer reaches the names within this, far inside CAPTURE_HANDOVER_MS, so the rows of the
 * interval it was seen in carry its name. Not libpcap's immediate mode: that hands over (and
 * wakes the loop for) every message, 14,000 times a second where DNS is a tenth of 600,000
 * packets a second, in frames sized for the 64 KiB snap length. */
#define SNOOP_BLOCK_MS 10

struct snoop {
    struct capture *cap;
    struct loop *loop;
    struct names *names;
    bool broken;
};

void snoop_packet(struct names *names, const struct capture_packet *pkt)
{
    const struct pktsummary *p = pkt->sum;
    struct dns_endpoints ends;

    if (p->status != DECODE_OK || !(p->dns_answer || p->dns_query) || pkt->data == NULL ||
        p->payload_offset >= pkt->caplen)
        return;
    ends.src = p->src;
    ends.dst = p->dst;
    ends.sport = p->sport;
    ends.dport = p->dport;
    names_dns_message(names, pkt->data + p->payload_offset, pkt->caplen - p->payload_offset,
                      p->proto == IPPROTO_TCP, &ends, pkt->ts_us / 1000u);
}

static void on_message(void *arg, const struct capture_packet *pkt)
{
    struct snoop *s = arg;

    snoop_packet(s->names, pkt);
}

void snoop_drain(struct snoop *s)
{
    char err[512];

    if (s == NULL || s->broken)
        return;
    if (capture_dispatch(s->cap, 0, on_message, s, err, sizeof(err)) == -1) {
        log_warnx("DNS capture stopped: %s", err);
        loop_unwatch(s->loop, capture_fd(s->cap));
        s->broken = true;
    }
}

static void on_readable(void *arg, int fd, uint32_t events)
{
    (void)fd;
    (void)events;
    snoop_drain(arg);
}

struct snoop *snoop_start(const char *ifname, struct loop *loop, struct names *names, char *errbuf,
                          size_t errlen)
{
    struct snoop *s = xcalloc(1, sizeof(*s));
    char filter[64];

    s->loop = loop;
    s->names = names;
    errbuf[0] = '\0';
    /* Both ways: an answer counts only if its query was seen. */
    (void)snprintf(filter, sizeof(filter), "udp port %d or tcp port %d", DECODE_DNS_PORT,
                   DECODE_DNS_PORT);
    s->cap =
        capture_open_live(ifname, SNOOP_SNAPLEN, SNOOP_RING_BYTES, SNOOP_BLOCK_MS, errbuf, errlen);
    if (s->cap == NULL || capture_set_filter(s->cap, filter, errbuf, errlen) == -1 ||
        loop_watch(loop, capture_fd(s->cap), EPOLLIN, on_readable, s) == -1) {
        if (errbuf[0] == '\0')
            (void)snprintf(errbuf, errlen, "%s", strerror(errno));
        capture_close(s->cap);
        free(s);
        return NULL;
    }
    return s;
}

void snoop_stop(struct snoop *s)
{
    if (s == NULL)
        return;
    if (!s->broken)
        loop_unwatch(s->loop, capture_fd(s->cap));
    capture_close(s->cap);
    free(s);
}
