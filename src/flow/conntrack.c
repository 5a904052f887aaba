/* conntrack over libnetfilter_conntrack: one handle subscribed to NEW and DESTROY events
 * (non-blocking, drained from the loop), one for dumps. */
#include "conntrack.h"

#include <errno.h>
#include <fcntl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "base/caps.h"
#include "base/log.h"
#include "base/xalloc.h"

/* The event socket's receive buffer: room for bursts of new connections between drains. */
#define EVENT_BUFFER_BYTES (4u << 20)
/* A dump that failed is tried again at most this often. */
#define DUMP_RETRY_MS 1000

struct conntrack {
    struct loop *loop;
    struct nattable *table;
    struct nfct_handle *events;
    struct nfct_handle *dump;
    struct conntrack_stats stats;
    struct log_limit log;
    bool need_dump;        /* events were lost: read the whole table again */
    uint64_t last_dump_ms; /* when the last dump was tried */
};

/* One direction of ct (orig or reply) as a nat_tuple. Returns false for what nattable does
 * not take (no addresses). */
static bool get_tuple(const struct nf_conntrack *ct, bool reply, struct nat_tuple *out)
{
    uint8_t family = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);

    memset(out, 0, sizeof(*out));
    out->proto = nfct_get_attr_u8(ct, reply ? ATTR_REPL_L4PROTO : ATTR_ORIG_L4PROTO);
    if (family == AF_INET) {
        uint32_t s = nfct_get_attr_u32(ct, reply ? ATTR_REPL_IPV4_SRC : ATTR_ORIG_IPV4_SRC);
        uint32_t d = nfct_get_attr_u32(ct, reply ? ATTR_REPL_IPV4_DST : ATTR_ORIG_IPV4_DST);

        out->src.family = out->dst.family = 4;
        memcpy(out->src.bytes, &s, 4); /* both in network order */
        memcpy(out->dst.bytes, &d, 4);
    } else if (family == AF_INET6) {
        const void *s = nfct_get_attr(ct, reply ? ATTR_REPL_IPV6_SRC : ATTR_ORIG_IPV6_SRC);
        const void *d = nfct_get_attr(ct, reply ? ATTR_REPL_IPV6_DST : ATTR_ORIG_IPV6_DST);

        if (s == NULL || d == NULL)
            return false;
        out->src.family = out->dst.family = 6;
        memcpy(out->src.bytes, s, 16);
        memcpy(out->dst.bytes, d, 16);
    } else {
        return false;
    }
    if (nfct_attr_is_set(ct, reply ? ATTR_REPL_PORT_SRC : ATTR_ORIG_PORT_SRC) > 0) {
        out->sport = ntohs(nfct_get_attr_u16(ct, reply ? ATTR_REPL_PORT_SRC : ATTR_ORIG_PORT_SRC));
        out->dport = ntohs(nfct_get_attr_u16(ct, reply ? ATTR_REPL_PORT_DST : ATTR_ORIG_PORT_DST));
    }
    return true;
}

static int on_conn(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *arg)
{
    struct conntrack *c = arg;
    struct nat_conn nc;

    if (!get_tuple(ct, false, &nc.orig) || !get_tuple(ct, true, &nc.reply))
        return NFCT_CB_CONTINUE;
    if (type == NFCT_T_DESTROY)
        nattable_end(c->table, &nc, loop_now_ms());
    else
        nattable_add(c->table, &nc);
    return NFCT_CB_CONTINUE;
}

static int on_event(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *arg)
{
    struct conntrack *c = arg;

    c->stats.events++;
    /* After an overrun the events still queued are older than the dump to come. */
    return c->need_dump ? NFCT_CB_CONTINUE : on_conn(type, ct, arg);
}

/* Reads the whole table again: after an overrun the events cannot say what changed. */
static int dump(struct conntrack *c)
{
    uint32_t family = AF_UNSPEC;

    c->stats.dumps++;
    c->last_dump_ms = loop_now_ms();
    nattable_clear(c->table);
    if (nfct_query(c->dump, NFCT_Q_DUMP, &family) == -1) {
        c->stats.errors++;
        return -1;
    }
    c->need_dump = false;
    return 0;
}

void conntrack_drain(struct conntrack *c)
{
    if (c == NULL)
        return;
    /* Every event waiting (non-blocking: EAGAIN when none is left). After an overrun they
     * are read and dropped, then the table is read again once. */
    for (;;) {
        if (nfct_catch(c->events) >= 0 || errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        if (errno == ENOBUFS) {
            c->stats.overruns++;
            c->need_dump = true;
            log_warnx_limited(&c->log, loop_now_ms(), 60000,
                              "conntrack events overran the socket buffer: reading the table "
                              "again");
            continue;
        }
        c->stats.errors++;
        break;
    }
    if (c->need_dump && loop_now_ms() - c->last_dump_ms >= DUMP_RETRY_MS)
        (void)dump(c);
    nattable_expire(c->table, loop_now_ms());
}

static void on_readable(void *arg, int fd, uint32_t events)
{
    (void)fd;
    (void)events;
    conntrack_drain(arg);
}

struct conntrack *conntrack_start(struct loop *loop, struct nattable *t, char *errbuf,
                                  size_t errlen)
{
    struct conntrack *c = xcalloc(1, sizeof(*c));
    int buf = EVENT_BUFFER_BYTES, fd;

    c->loop = loop;
    c->table = t;
    caps_raise(CAP_NET_ADMIN); /* the image binary's file capability, where the pod grants it */
    c->events = nfct_open(CONNTRACK, NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_DESTROY);
    c->dump = c->events != NULL ? nfct_open(CONNTRACK, 0) : NULL;
    if (c->events == NULL || c->dump == NULL) {
        snprintf(errbuf, errlen, "cannot open conntrack: %s", strerror(errno));
        goto fail;
    }
    fd = nfct_fd(c->events);
    /* Past net.core.rmem_max needs the force variant, which CAP_NET_ADMIN allows. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) == -1)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1 ||
        nfct_callback_register(c->events, NFCT_T_NEW | NFCT_T_DESTROY, on_event, c) == -1 ||
        nfct_callback_register(c->dump, NFCT_T_ALL, on_conn, c) == -1) {
        snprintf(errbuf, errlen, "conntrack: %s", strerror(errno));
        goto fail;
    }
    /* A dump the kernel refuses (no CAP_NET_ADMIN in this namespace) says so at once. */
    if (dump(c) == -1) {
        snprintf(errbuf, errlen, "cannot read the conntrack table: %s", strerror(errno));
        goto fail;
    }
    if (loop_watch(loop, fd, EPOLLIN, on_readable, c) == -1) {
        snprintf(errbuf, errlen, "conntrack: %s", strerror(errno));
        goto fail;
    }
    return c;
fail:
    if (c->events != NULL)
        nfct_close(c->events);
    if (c->dump != NULL)
        nfct_close(c->dump);
    free(c);
    return NULL;
}

void conntrack_stop(struct conntrack *c)
{
    if (c == NULL)
        return;
    loop_unwatch(c->loop, nfct_fd(c->events));
    nfct_close(c->events);
    nfct_close(c->dump);
    free(c);
}

void conntrack_get_stats(const struct conntrack *c, struct conntrack_stats *out)
{
    *out = c->stats;
    out->stale = c->need_dump;
    nattable_get_stats(c->table, &out->table);
}
