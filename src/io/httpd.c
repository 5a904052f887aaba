/* HTTP endpoint on libmicrohttpd in "external epoll" mode: MHD exposes one epoll descriptor,
 * which our loop watches; MHD_run does the work on our thread.
 *
 * Bounded by construction:
 * - A page is rendered in 64 KiB slices straight into gzip, so a large page is never held as
 *   text; the compressed body is cached for a second and shared by every request for the path
 *   (reference-counted), so many clients cost one body. A client that does not take gzip gets
 *   the text inflated from that body as it reads (about 11 KiB each, at most
 *   HTTPD_PLAIN_STREAMS at once; more get 503 with Retry-After).
 * - Connections: past HTTPD_SOFT_LIMIT, a new connection closes the oldest one still sending
 *   its request (or else the oldest one), so a flood of slow clients cannot keep /healthz
 *   from answering. A request's headers must
 *   arrive within HTTPD_HEADER_DEADLINE_MS and its answer be read within
 *   HTTPD_REQUEST_DEADLINE_MS, however it trickles. */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "io/gzip.h"

#define CONNECTION_LIMIT (HTTPD_SOFT_LIMIT + 64) /* MHD's own; ours evicts before it */
#define CONNECTION_TIMEOUT_S 10                  /* idle, between requests */
#define CONNECTION_MEMORY 16384                  /* per connection; bounds request headers */
#define SWEEP_MS 500
#define CACHE_MS 1000
#define MAX_CACHED 4
#define PATH_MAX_LEN 512
#define QUERY_MAX_LEN 1024
#define SLICE_BYTES ((size_t)64 << 10)
#define BODY_MAX_BYTES ((size_t)256 << 20) /* compressed */
/* zlib's full 32 KiB window: a plain reader costs about 85 KiB with its send block (at most 16).
 * Smaller windows make deflate slide its window far more often: 4 KiB took twice the CPU
 * (bench/export_bench: 155 ms against 76 ms for 25,000 keys). */
#define GZIP_WINDOW_LOG 15
#define STREAM_BLOCK ((size_t)64 << 10) /* what a plain reader is sent per turn of the loop */
#define SEND_BUFFER (64 << 10)

/* A rendered page: its text if short, else only its gzip form; shared by the cache and every
 * response made from it. */
struct body {
    unsigned refs;
    unsigned status;
    bool cacheable;
    const char *content_type;
    const char *csp; /* or NULL */
    char *plain;     /* NULL when only the gzip form was kept */
    size_t text_len;
    char *gz;
    size_t gz_len;
};

struct cached {
    char path[32];
    uint64_t made_ms;
    struct body *body;
};

/* One connection, oldest first in the server's list. */
struct conn {
    struct conn *prev, *next;
    int fd;
    uint64_t since_ms; /* accepted, or its last request answered */
    bool in_request;   /* headers complete, answering */
    bool closing;      /* shut down by us; MHD closes it */
};

/* One request: its path and query as sent (not unescaped), for routing. */
struct request {
    char path[PATH_MAX_LEN];
    char query[QUERY_MAX_LEN];
    bool seen;
};

struct plain_stream {
    struct httpd *h;
    struct body *body;
    struct gunzip *z;
};

struct httpd {
    struct MHD_Daemon *daemon;
    struct loop *loop;
    struct loop_timer *timer;
    struct loop_timer *sweep;
    int epoll_fd;
    httpd_handler_fn *handler;
    void *arg;
    unsigned port;
    struct cached cache[MAX_CACHED];
    struct conn *oldest, *newest;
    unsigned plain_streams;
    struct httpd_stats stats;
};

int httpd_parse_listen(const char *listen, void *sockaddr_out, size_t *len_out)
{
    char host[64];
    const char *colon;
    char *end;
    unsigned long port;
    size_t host_len;

    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');

        if (close == NULL || close[1] != ':')
            return -1;
        host_len = (size_t)(close - listen - 1);
        if (host_len >= sizeof(host))
            return -1;
        memcpy(host, listen + 1, host_len);
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (colon == NULL)
            return -1;
        host_len = (size_t)(colon - listen);
        if (host_len >= sizeof(host))
            return -1;
        memcpy(host, listen, host_len);
    }
    host[host_len] = '\0';
    if (colon[1] < '0' || colon[1] > '9')
        return -1;
    port = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || port > 65535)
        return -1;
    if (host_len == 0) {
        /* All addresses: the IPv6 wildcard, serving IPv4 too (dual stack). */
        struct sockaddr_in6 *sin6 = sockaddr_out;

        memset(sin6, 0, sizeof(*sin6));
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        *len_out = sizeof(*sin6);
        return 0;
    }
    if (strcmp(host, "0.0.0.0") == 0 || strchr(host, ':') == NULL) {
        struct sockaddr_in *sin = sockaddr_out;

        memset(sin, 0, sizeof(*sin));
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        if (host_len > 0 && inet_pton(AF_INET, host, &sin->sin_addr) != 1)
            return -1;
        *len_out = sizeof(*sin);
        return 0;
    }
    {
        struct sockaddr_in6 *sin6 = sockaddr_out;

        memset(sin6, 0, sizeof(*sin6));
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
            return -1;
        *len_out = sizeof(*sin6);
        return 0;
    }
}

static void rearm(struct httpd *h)
{
    MHD_UNSIGNED_LONG_LONG ms;

    if (MHD_get_timeout(h->daemon, &ms) == MHD_YES)
        loop_timer_arm(h->timer, ms);
    else
        loop_timer_arm(h->timer, (uint64_t)CONNECTION_TIMEOUT_S * 1000u);
}

static void on_epoll(void *arg, int fd, uint32_t events)
{
    struct httpd *h = arg;

    (void)fd;
    (void)events;
    MHD_run(h->daemon);
    rearm(h);
}

static void on_timer(void *arg)
{
    struct httpd *h = arg;

    MHD_run(h->daemon);
    rearm(h);
}

/* Ends a connection MHD holds: its next read sees the end and MHD closes it. */
static void close_conn(struct conn *c)
{
    if (!c->closing) {
        c->closing = true;
        shutdown(c->fd, SHUT_RDWR);
    }
}

/* Closes connections past their deadline. */
static void on_sweep(void *arg)
{
    struct httpd *h = arg;
    uint64_t now = loop_now_ms();

    for (struct conn *c = h->oldest; c != NULL; c = c->next) {
        uint64_t limit = c->in_request ? HTTPD_REQUEST_DEADLINE_MS : HTTPD_HEADER_DEADLINE_MS;

        if (!c->closing && now - c->since_ms > limit) {
            h->stats.timed_out++;
            close_conn(c);
        }
    }
    loop_timer_arm(h->sweep, SWEEP_MS);
    MHD_run(h->daemon);
    rearm(h);
}

/* Past the soft limit: the oldest connection still sending its request goes, else the oldest;
 * never the newcomer that made room necessary. */
static void evict_one(struct httpd *h, const struct conn *newcomer)
{
    struct conn *victim = NULL;

    for (struct conn *c = h->oldest; c != NULL; c = c->next) {
        if (c->closing || c == newcomer)
            continue;
        if (!c->in_request) {
            victim = c;
            break;
        }
        if (victim == NULL)
            victim = c;
    }
    if (victim != NULL) {
        h->stats.evicted++;
        close_conn(victim);
    }
}

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct httpd *h = cls;
    struct conn *c = *socket_context;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);

        c = xcalloc(1, sizeof(*c));
        c->fd = info != NULL ? info->connect_fd : -1;
        /* MHD writes each ready connection until the socket is full: a small send buffer
         * keeps one pass over many readers of a long page short, so the loop comes back to
         * counting often (and the kernel holds less for slow readers). */
        (void)setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &(int){SEND_BUFFER}, sizeof(int));
        c->since_ms = loop_now_ms();
        c->prev = h->newest;
        if (h->newest != NULL)
            h->newest->next = c;
        else
            h->oldest = c;
        h->newest = c;
        *socket_context = c;
        h->stats.accepted++;
        if (++h->stats.open > HTTPD_SOFT_LIMIT)
            evict_one(h, c);
        return;
    }
    if (c == NULL)
        return;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        h->oldest = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    else
        h->newest = c->prev;
    h->stats.open--;
    free(c);
    *socket_context = NULL;
}

static struct conn *conn_of(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return info != NULL ? info->socket_context : NULL;
}

/* The request line is in: keep its path as sent, before MHD unescapes it. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *connection)
{
    struct request *r = xcalloc(1, sizeof(*r));
    size_t n = strcspn(uri, "?#"), q;

    (void)cls;
    (void)connection;
    if (n >= sizeof(r->path))
        n = 0; /* too long to be one of ours: routed as "" */
    memcpy(r->path, uri, n);
    r->path[n] = '\0';
    if (uri[n] == '?') {
        uri += n + 1;
        q = strcspn(uri, "#");
        if (q >= sizeof(r->query))
            q = sizeof(r->query) - 1; /* cut: the handler sees a query it may refuse */
        memcpy(r->query, uri, q);
        r->query[q] = '\0';
    }
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
                         enum MHD_RequestTerminationCode code)
{
    struct conn *c = conn_of(connection);

    (void)cls;
    (void)code;
    free(*req_cls);
    *req_cls = NULL;
    if (c != NULL) {
        c->in_request = false;
        c->since_ms = loop_now_ms();
    }
}

bool httpd_accepts_gzip(const char *accept_encoding)
{
    const char *p = accept_encoding;
    bool star = false, gzip = false, gzip_named = false;

    while (p != NULL && *p != '\0') {
        size_t len = strcspn(p, ",");
        const char *end = p + len, *name = p, *semi;
        size_t name_len;
        double q = 1.0;

        while (name < end && (*name == ' ' || *name == '\t'))
            name++;
        semi = memchr(name, ';', (size_t)(end - name));
        name_len = (size_t)((semi != NULL ? semi : end) - name);
        while (name_len > 0 && (name[name_len - 1] == ' ' || name[name_len - 1] == '\t'))
            name_len--;
        if (semi != NULL) {
            const char *qp = semi + 1;

            while (qp < end && (*qp == ' ' || *qp == '\t'))
                qp++;
            if (qp + 1 < end && (qp[0] == 'q' || qp[0] == 'Q') && qp[1] == '=')
                q = strtod(qp + 2, NULL);
        }
        if ((name_len == 4 && strncasecmp(name, "gzip", 4) == 0) ||
            (name_len == 6 && strncasecmp(name, "x-gzip", 6) == 0)) {
            gzip_named = true;
            gzip = q > 0;
        } else if (name_len == 1 && name[0] == '*') {
            star = q > 0;
        }
        p = *end == ',' ? end + 1 : end;
    }
    return gzip_named ? gzip : star;
}

static void body_unref(void *arg)
{
    struct body *b = arg;

    if (b == NULL || --b->refs > 0)
        return;
    free(b->plain);
    free(b->gz);
    free(b);
}

/* Renders a page: slices of text go to gzip as they are written, unless it is short. */
struct render {
    struct buf gz;
    struct gzip_stream *z;
    size_t text_len;
};

static int on_slice(void *arg, const char *data, size_t len)
{
    struct render *r = arg;

    if (r->z == NULL && (r->z = gzip_stream_new(GZIP_WINDOW_LOG, &r->gz)) == NULL)
        return -1;
    r->text_len += len;
    return gzip_stream_write(r->z, data, len);
}

static struct body *render(struct httpd *h, const char *path, const char *query)
{
    struct httpd_reply reply;
    struct render r;
    struct body *b = xcalloc(1, sizeof(*b));
    bool failed;

    memset(&reply, 0, sizeof(reply));
    memset(&r, 0, sizeof(r));
    reply.status = 200;
    reply.content_type = "text/plain; charset=utf-8";
    reply.query = query;
    buf_init(&reply.body, SLICE_BYTES * 2);
    buf_init(&r.gz, BODY_MAX_BYTES);
    buf_set_drain(&reply.body, SLICE_BYTES, on_slice, &r);
    h->handler(h->arg, path, &reply);
    b->refs = 1;
    b->status = reply.status;
    b->content_type = reply.content_type;
    b->csp = reply.csp;
    if (r.z == NULL) {
        /* Short: the text is kept, and compressed only if someone asks. */
        failed = reply.failed;
        b->text_len = reply.body.len;
        b->plain = reply.body.data != NULL ? reply.body.data : xcalloc(1, 1);
        reply.body.data = NULL;
    } else {
        failed = reply.failed || buf_flush(&reply.body) == -1 || gzip_stream_finish(r.z) == -1;
        b->text_len = r.text_len;
        b->gz = r.gz.data;
        b->gz_len = r.gz.len;
        r.gz.data = NULL;
    }
    gzip_stream_free(r.z);
    buf_free(&reply.body);
    buf_free(&r.gz);
    if (failed) {
        static const char over[] = "page over its size cap\n";

        free(b->plain);
        free(b->gz);
        b->gz = NULL;
        b->gz_len = 0;
        b->status = 500;
        b->content_type = "text/plain; charset=utf-8";
        b->plain = xstrdup(over);
        b->text_len = sizeof(over) - 1;
    }
    b->cacheable = reply.cacheable && !failed && query[0] == '\0';
    return b;
}

static ssize_t read_plain(void *cls, uint64_t pos, char *out, size_t max)
{
    struct plain_stream *ps = cls;
    long n = gunzip_read(ps->z, out, max);

    (void)pos;
    if (n > 0)
        return (ssize_t)n;
    return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void free_plain(void *cls)
{
    struct plain_stream *ps = cls;

    ps->h->plain_streams--;
    gunzip_free(ps->z);
    body_unref(ps->body);
    free(ps);
}

/* The text inflated as the client reads it, from the shared gzip body. */
static struct MHD_Response *stream_plain(struct httpd *h, struct body *b)
{
    struct plain_stream *ps = xcalloc(1, sizeof(*ps));
    struct MHD_Response *resp;

    ps->h = h;
    ps->body = b;
    ps->z = gunzip_new(b->gz, b->gz_len, GZIP_WINDOW_LOG);
    if (ps->z == NULL) {
        free(ps);
        return NULL;
    }
    h->plain_streams++;
    b->refs++; /* the stream's, dropped by free_plain */
    resp = MHD_create_response_from_callback(b->text_len, STREAM_BLOCK, read_plain, ps, free_plain);
    if (resp == NULL)
        free_plain(ps);
    return resp;
}

static struct MHD_Response *from_body(struct httpd *h, struct body *b, bool gzip)
{
    struct MHD_Response *resp;

    if (gzip && b->gz == NULL && b->text_len > 0) {
        struct buf z;

        buf_init(&z, BODY_MAX_BYTES);
        if (gzip_compress(b->plain, b->text_len, &z) == 0) {
            b->gz = z.data;
            b->gz_len = z.len;
        } else {
            buf_free(&z);
        }
    }
    if (gzip && b->gz != NULL) {
        resp =
            MHD_create_response_from_buffer_with_free_callback_cls(b->gz_len, b->gz, body_unref, b);
    } else if (b->plain != NULL) {
        gzip = false;
        resp = MHD_create_response_from_buffer_with_free_callback_cls(b->text_len, b->plain,
                                                                      body_unref, b);
    } else {
        gzip = false;
        resp = stream_plain(h, b);
    }
    if (resp == NULL)
        return NULL;
    if (b->plain != NULL || gzip)
        b->refs++; /* the buffer response's, dropped by body_unref */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, b->content_type);
    if (b->csp != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY, b->csp);
    if (gzip)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    return resp;
}

static struct body *find_cached(struct httpd *h, const char *path, uint64_t now)
{
    for (int i = 0; i < MAX_CACHED; i++) {
        struct cached *c = &h->cache[i];

        if (c->body != NULL && strcmp(c->path, path) == 0 && now - c->made_ms < CACHE_MS)
            return c->body;
    }
    return NULL;
}

static void remember(struct httpd *h, const char *path, struct body *b, uint64_t now)
{
    struct cached *slot = &h->cache[0];

    if (strlen(path) >= sizeof(slot->path))
        return;
    for (int i = 0; i < MAX_CACHED; i++) {
        struct cached *c = &h->cache[i];

        if (c->body == NULL || strcmp(c->path, path) == 0) {
            slot = c;
            break;
        }
        if (c->made_ms < slot->made_ms)
            slot = c;
    }
    body_unref(slot->body);
    snprintf(slot->path, sizeof(slot->path), "%s", path);
    slot->made_ms = now;
    slot->body = b;
    b->refs++;
}

static enum MHD_Result send_simple(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc;

    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct httpd *h = cls;
    struct request *req = *req_cls;
    struct conn *c = conn_of(conn);
    struct MHD_Response *resp;
    struct body *b;
    bool gzip;
    unsigned status;
    uint64_t now = loop_now_ms();
    enum MHD_Result rc;

    (void)url;
    (void)version;
    (void)upload_data;
    if (req == NULL)
        return MHD_NO;
    if (!req->seen) {
        /* MHD calls twice: once with headers, once more when the body (if any) has come. */
        req->seen = true;
        if (c != NULL) {
            c->in_request = true;
            c->since_ms = now;
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* bodies are never read; a GET should not have one */
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return send_simple(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    gzip = httpd_accepts_gzip(
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
    /* Answers that depend on a query are made for each request. */
    b = req->query[0] == '\0' ? find_cached(h, req->path, now) : NULL;
    if (b != NULL) {
        b->refs++;
    } else {
        b = render(h, req->path, req->query);
        if (b->cacheable)
            remember(h, req->path, b, now);
    }
    if (!gzip && b->plain == NULL && h->plain_streams >= HTTPD_PLAIN_STREAMS) {
        h->stats.busy++;
        body_unref(b);
        return send_simple(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                           "busy: too many uncompressed answers at once; retry, or ask with "
                           "Accept-Encoding: gzip\n");
    }
    status = b->status;
    resp = from_body(h, b, gzip);
    body_unref(b);
    if (resp == NULL)
        return MHD_NO;
    rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;

    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    log_debug("http: %s", line);
}

static struct MHD_Daemon *start_daemon(struct httpd *h, const struct sockaddr_storage *addr,
                                       bool dual_stack)
{
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

    if (addr->ss_family == AF_INET6)
        flags |= dual_stack ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONNECTION_MEMORY, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
}

struct httpd *httpd_start(const char *listen, struct loop *loop, httpd_handler_fn *handler,
                          void *arg, char *errbuf, size_t errlen)
{
    struct sockaddr_storage addr;
    size_t addr_len = 0;
    struct httpd *h;
    const union MHD_DaemonInfo *info;

    if (httpd_parse_listen(listen, &addr, &addr_len) == -1) {
        snprintf(errbuf, errlen, "bad listen address '%s' (ADDR:PORT, [V6ADDR]:PORT or :PORT)",
                 listen);
        return NULL;
    }
    h = xcalloc(1, sizeof(*h));
    h->loop = loop;
    h->handler = handler;
    h->arg = arg;
    h->daemon = start_daemon(h, &addr, listen[0] == ':');
    if (h->daemon == NULL && listen[0] == ':') {
        /* No IPv6 here: all IPv4 addresses, then. */
        struct sockaddr_in *sin = (struct sockaddr_in *)&addr;
        uint16_t port = ((struct sockaddr_in6 *)&addr)->sin6_port;

        memset(&addr, 0, sizeof(addr));
        sin->sin_family = AF_INET;
        sin->sin_port = port;
        h->daemon = start_daemon(h, &addr, false);
    }
    if (h->daemon == NULL) {
        snprintf(errbuf, errlen, "cannot listen on %s: %s", listen,
                 errno ? strerror(errno) : "libmicrohttpd refused");
        free(h);
        return NULL;
    }
    info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    h->epoll_fd = info ? info->epoll_fd : -1;
    info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : 0;
    h->timer = loop_timer_new(loop, on_timer, h);
    h->sweep = loop_timer_new(loop, on_sweep, h);
    loop_timer_arm(h->sweep, SWEEP_MS);
    if (h->epoll_fd == -1 || loop_watch(loop, h->epoll_fd, EPOLLIN, on_epoll, h) == -1) {
        snprintf(errbuf, errlen, "cannot watch the HTTP server's descriptor");
        loop_timer_free(h->timer);
        loop_timer_free(h->sweep);
        MHD_stop_daemon(h->daemon);
        free(h);
        return NULL;
    }
    rearm(h);
    return h;
}

void httpd_stop(struct httpd *h)
{
    if (h == NULL)
        return;
    loop_unwatch(h->loop, h->epoll_fd);
    loop_timer_free(h->timer);
    loop_timer_free(h->sweep);
    /* Connections close first: their responses drop their references to the bodies. */
    MHD_stop_daemon(h->daemon);
    for (int i = 0; i < MAX_CACHED; i++)
        body_unref(h->cache[i].body);
    free(h);
}

void httpd_get_stats(const struct httpd *h, struct httpd_stats *out)
{
    *out = h->stats;
    out->plain_streams = h->plain_streams;
}

unsigned httpd_port(const struct httpd *h)
{
    return h->port;
}
