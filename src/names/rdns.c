/* Reverse DNS on c-ares: c-ares reports the sockets it uses (ARES_OPT_SOCK_STATE_CB), the
 * loop watches them, and ares_process_fd runs on our thread; its timeout drives a loop timer.
 * Answers are parsed with our own DNS parser, which also gives the record's TTL. */
#include "rdns.h"

#include <ares.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/time.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "names/dnsparse.h"

#define MAX_SOCKETS 16
/* How often running out of socket slots is logged again. */
#define SOCKET_LOG_EVERY_MS 60000
#define TYPE_PTR 12
#define CLASS_IN 1

struct rdns {
    struct rdns_config cfg;
    struct netaddr *asking; /* addresses with a query in flight (max_in_flight of them) */
    uint64_t last_now_ms;   /* the caller's clock, which names the cache's times */
    struct loop *loop;
    struct names *names;
    ares_channel channel;
    struct loop_timer *timer;
    int sockets[MAX_SOCKETS];
    uint64_t window_start_ms; /* the current one-second rate window */
    unsigned window_count;
    struct log_limit socket_log;
    struct rdns_stats stats;
};

struct query {
    struct rdns *r;
    struct netaddr addr;
};

void rdns_ptr_name(const struct netaddr *a, char *buf, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

    if (a->family == 4) {
        snprintf(buf, len, "%u.%u.%u.%u.in-addr.arpa", a->bytes[3], a->bytes[2], a->bytes[1],
                 a->bytes[0]);
        return;
    }
    for (int i = 15; i >= 0 && n + 4 < len; i--) {
        buf[n++] = hex[a->bytes[i] & 0xf];
        buf[n++] = '.';
        buf[n++] = hex[a->bytes[i] >> 4];
        buf[n++] = '.';
    }
    snprintf(buf + n, len - n, "ip6.arpa");
}

void rdns_config_init(struct rdns_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->server = NULL;
    cfg->max_in_flight = RDNS_DEFAULT_MAX_IN_FLIGHT;
    cfg->per_second = RDNS_DEFAULT_PER_SECOND;
    cfg->negative_ttl_ms = RDNS_DEFAULT_NEGATIVE_TTL_MS;
    cfg->failure_ttl_ms = RDNS_DEFAULT_FAILURE_TTL_MS;
    cfg->timeout_ms = RDNS_DEFAULT_TIMEOUT_MS;
}

static void rearm(struct rdns *r)
{
    struct timeval max = {1, 0}, tv, *t = ares_timeout(r->channel, &max, &tv);

    loop_timer_arm(r->timer, (uint64_t)t->tv_sec * 1000u + (uint64_t)t->tv_usec / 1000u + 1);
}

static void on_socket_event(void *arg, int fd, uint32_t events)
{
    struct rdns *r = arg;

    ares_process_fd(r->channel, (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ? fd : ARES_SOCKET_BAD,
                    (events & EPOLLOUT) ? fd : ARES_SOCKET_BAD);
    rearm(r);
}

static void on_timer(void *arg)
{
    struct rdns *r = arg;

    ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearm(r);
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct rdns *r = data;
    uint32_t events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);
    int slot = -1;

    for (int i = 0; i < MAX_SOCKETS; i++)
        if (r->sockets[i] == fd)
            slot = i;
    if (events == 0) {
        if (slot != -1) {
            loop_unwatch(r->loop, fd);
            r->sockets[slot] = -1;
        }
        return;
    }
    if (slot != -1) {
        loop_modify(r->loop, fd, events);
        return;
    }
    for (int i = 0; i < MAX_SOCKETS; i++) {
        if (r->sockets[i] == -1) {
            if (loop_watch(r->loop, fd, events, on_socket_event, r) == 0)
                r->sockets[i] = fd;
            return;
        }
    }
    log_warnx_limited(&r->socket_log, loop_now_ms(), SOCKET_LOG_EVERY_MS,
                      "reverse DNS: more than %d resolver sockets", MAX_SOCKETS);
}

static void done_asking(struct rdns *r, const struct netaddr *a)
{
    for (unsigned i = 0; i < r->cfg.max_in_flight; i++) {
        if (netaddr_equal(&r->asking[i], a)) {
            memset(&r->asking[i], 0, sizeof(r->asking[i]));
            return;
        }
    }
}

static bool is_asking(const struct rdns *r, const struct netaddr *a)
{
    for (unsigned i = 0; i < r->cfg.max_in_flight; i++)
        if (netaddr_equal(&r->asking[i], a))
            return true;
    return false;
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct query *q = arg;
    struct rdns *r = q->r;
    uint64_t now = r->last_now_ms; /* the cache's clock: capture time with -r */
    struct dns_response resp;

    (void)timeouts;
    r->stats.in_flight--;
    done_asking(r, &q->addr);
    if (status == ARES_EDESTRUCTION) {
        free(q);
        return;
    }
    if (status == ARES_SUCCESS && abuf != NULL &&
        dns_parse_response(abuf, (size_t)alen, &resp) == 0 && resp.ptr_name[0] != '\0') {
        uint64_t ttl = (uint64_t)resp.ptr_ttl_s * 1000u;

        if (ttl < r->cfg.negative_ttl_ms)
            ttl = r->cfg.negative_ttl_ms;
        names_put_ptr(r->names, &q->addr, resp.ptr_name, now + ttl, now);
        r->stats.answered++;
    } else if (status == ARES_ENOTFOUND || status == ARES_ENODATA || status == ARES_SUCCESS) {
        names_put_ptr(r->names, &q->addr, NULL, now + r->cfg.negative_ttl_ms, now);
        r->stats.negative++;
    } else {
        names_put_ptr(r->names, &q->addr, NULL, now + r->cfg.failure_ttl_ms, now);
        if (status == ARES_ETIMEOUT)
            r->stats.timeouts++;
        else
            r->stats.failed++;
    }
    free(q);
}

struct rdns *rdns_new(const struct rdns_config *cfg, struct loop *loop, struct names *names,
                      char *errbuf, size_t errlen)
{
    struct ares_options opts;
    struct rdns *r;
    int rc;

    memset(&opts, 0, sizeof(opts));
    r = xcalloc(1, sizeof(*r));
    r->cfg = *cfg;
    r->loop = loop;
    r->names = names;
    r->asking = xcalloc(cfg->max_in_flight ? cfg->max_in_flight : 1, sizeof(*r->asking));
    for (int i = 0; i < MAX_SOCKETS; i++)
        r->sockets[i] = -1;
    opts.sock_state_cb = on_sock_state;
    opts.sock_state_cb_data = r;
    opts.timeout = (int)cfg->timeout_ms;
    opts.tries = 2;
    rc = ares_library_init(ARES_LIB_INIT_ALL);
    if (rc == ARES_SUCCESS)
        rc = ares_init_options(&r->channel, &opts,
                               ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
    if (rc == ARES_SUCCESS && cfg->server != NULL)
        rc = ares_set_servers_ports_csv(r->channel, cfg->server);
    if (rc != ARES_SUCCESS) {
        snprintf(errbuf, errlen, "reverse DNS%s%s: %s", cfg->server ? " via " : "",
                 cfg->server ? cfg->server : "", ares_strerror(rc));
        if (r->channel != NULL)
            ares_destroy(r->channel);
        ares_library_cleanup();
        free(r->asking);
        free(r);
        return NULL;
    }
    r->timer = loop_timer_new(loop, on_timer, r);
    return r;
}

void rdns_free(struct rdns *r)
{
    if (r == NULL)
        return;
    ares_destroy(r->channel); /* calls back every query with ARES_EDESTRUCTION */
    for (int i = 0; i < MAX_SOCKETS; i++)
        if (r->sockets[i] != -1)
            loop_unwatch(r->loop, r->sockets[i]);
    loop_timer_free(r->timer);
    ares_library_cleanup();
    free(r->asking);
    free(r);
}

void rdns_want(struct rdns *r, const struct netaddr *a, uint64_t now_ms)
{
    char qname[80];
    struct query *q;
    uint64_t mono = loop_now_ms(); /* the rate is per real second, also when replaying a file */

    r->last_now_ms = now_ms;
    if (!names_wants_ptr(r->names, a, now_ms) || is_asking(r, a))
        return;
    if (mono - r->window_start_ms >= 1000) {
        r->window_start_ms = mono;
        r->window_count = 0;
    }
    if (r->stats.in_flight >= r->cfg.max_in_flight || r->window_count >= r->cfg.per_second) {
        r->stats.limited++;
        return;
    }
    r->window_count++;
    r->stats.queries++;
    r->stats.in_flight++;
    /* Remembered here, not in the name cache, so a late answer always lands. */
    for (unsigned i = 0; i < r->cfg.max_in_flight; i++) {
        if (r->asking[i].family == 0) {
            r->asking[i] = *a;
            break;
        }
    }
    q = xcalloc(1, sizeof(*q));
    q->r = r;
    q->addr = *a;
    rdns_ptr_name(a, qname, sizeof(qname));
    ares_query(r->channel, qname, CLASS_IN, TYPE_PTR, on_answer, q);
    rearm(r);
}

void rdns_get_stats(const struct rdns *r, struct rdns_stats *out)
{
    *out = r->stats;
}

/* The port of each ADDR[:PORT] or [V6ADDR]:PORT in a comma-separated list is in 1-65535:
 * c-ares keeps a port's low 16 bits, so 99999 would quietly become 34463. */
static bool ports_ok(const char *server)
{
    for (const char *p = server; *p != '\0';) {
        size_t n = strcspn(p, ","), colons = 0;
        const char *port = NULL, *close;

        if (p[0] == '[') {
            close = memchr(p, ']', n);
            if (close != NULL && close + 1 < p + n && close[1] == ':')
                port = close + 2;
        } else {
            for (size_t i = 0; i < n; i++)
                if (p[i] == ':')
                    colons++, port = p + i + 1;
            if (colons != 1)
                port = NULL; /* no port, or a bare IPv6 address */
        }
        if (port != NULL) {
            unsigned long v = 0;
            size_t len = (size_t)(p + n - port);

            if (len == 0 || len > 5)
                return false;
            for (size_t i = 0; i < len; i++) {
                if (port[i] < '0' || port[i] > '9')
                    return false;
                v = v * 10 + (unsigned long)(port[i] - '0');
            }
            if (v == 0 || v > 65535)
                return false;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return true;
}

int rdns_check_server(const char *server, char *errbuf, size_t errlen)
{
    struct ares_options opts;
    ares_channel channel = NULL;
    int rc;

    if (!ports_ok(server)) {
        snprintf(errbuf, errlen, "reverse DNS via %s: a port must be in 1-65535", server);
        return -1;
    }

    /* The same c-ares parser as rdns_new: a look-alike could accept what c-ares refuses. */
    memset(&opts, 0, sizeof(opts));
    rc = ares_library_init(ARES_LIB_INIT_ALL);
    if (rc != ARES_SUCCESS) {
        snprintf(errbuf, errlen, "reverse DNS via %s: %s", server, ares_strerror(rc));
        return -1;
    }
    rc = ares_init_options(&channel, &opts, 0);
    if (rc == ARES_SUCCESS) {
        rc = ares_set_servers_ports_csv(channel, server);
        ares_destroy(channel);
    }
    ares_library_cleanup();
    if (rc != ARES_SUCCESS) {
        snprintf(errbuf, errlen, "reverse DNS via %s: %s", server, ares_strerror(rc));
        return -1;
    }
    return 0;
}
