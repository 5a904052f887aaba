/* HTTP endpoint on libmicrohttpd in "external epoll" mode: MHD exposes one epoll descriptor,
 * which our loop watches; MHD_run does the work on our thread. Responses for a path are cached
 * for a second and shared (MHD reference-counts them), so many slow readers of /metrics cost
 * one rendered body, not one each. */
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
#include <sys/epoll.h>
#include <sys/socket.h>
#include <zlib.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "export/gzip.h"

#define CONNECTION_LIMIT 1024
#define CONNECTION_TIMEOUT_S 10
#define CONNECTION_MEMORY 16384 /* per connection; bounds request headers */
#define CACHE_MS 1000
#define MAX_CACHED 4

struct cached {
    char path[32];
    bool gzip;
    unsigned status;
    uint64_t made_ms;
    struct MHD_Response *response;
};

struct httpd {
    struct MHD_Daemon *daemon;
    struct loop *loop;
    struct loop_timer *timer;
    int epoll_fd;
    httpd_handler_fn *handler;
    void *arg;
    unsigned port;
    struct cached cache[MAX_CACHED];
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

static bool wants_gzip(struct MHD_Connection *conn)
{
    const char *ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");

    return ae != NULL && strstr(ae, "gzip") != NULL;
}

static struct MHD_Response *make_response(struct httpd_reply *r, bool gzip)
{
    struct MHD_Response *resp;
    struct buf z;
    void *data = r->body.data ? r->body.data : xcalloc(1, 1);
    size_t len = r->body.len;

    if (gzip && len > 0) {
        buf_init(&z, len + len / 2 + 1024);
        if (gzip_compress(data, len, &z) == 0) {
            free(data);
            data = z.data;
            len = z.len;
        } else {
            buf_free(&z);
            gzip = false;
        }
    } else {
        gzip = false;
    }
    r->body.data = NULL;
    resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(data);
        return NULL;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    if (gzip)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    return resp;
}

static struct cached *find_cached(struct httpd *h, const char *path, bool gzip, uint64_t now)
{
    for (int i = 0; i < MAX_CACHED; i++) {
        struct cached *c = &h->cache[i];

        if (c->response != NULL && c->gzip == gzip && strcmp(c->path, path) == 0 &&
            now - c->made_ms < CACHE_MS)
            return c;
    }
    return NULL;
}

static void remember(struct httpd *h, const char *path, bool gzip, unsigned status,
                     struct MHD_Response *resp, uint64_t now)
{
    struct cached *slot = &h->cache[0];

    if (strlen(path) >= sizeof(slot->path))
        return;
    for (int i = 0; i < MAX_CACHED; i++) {
        struct cached *c = &h->cache[i];

        if (c->response == NULL || (c->gzip == gzip && strcmp(c->path, path) == 0)) {
            slot = c;
            break;
        }
        if (c->made_ms < slot->made_ms)
            slot = c;
    }
    if (slot->response != NULL)
        MHD_destroy_response(slot->response);
    snprintf(slot->path, sizeof(slot->path), "%s", path);
    slot->gzip = gzip;
    slot->status = status;
    slot->made_ms = now;
    /* Our reference keeps the response for later requests; MHD takes its own per queueing. */
    slot->response = resp;
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
    rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    static int first_call_marker;
    struct httpd *h = cls;
    struct httpd_reply reply;
    struct MHD_Response *resp;
    bool gzip = wants_gzip(conn);
    uint64_t now = loop_now_ms();
    struct cached *c;
    enum MHD_Result rc;

    (void)version;
    (void)upload_data;
    if (*req_cls == NULL) {
        /* MHD calls twice: once with headers, once more when the body (if any) has come. */
        *req_cls = &first_call_marker;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* bodies are never read; a GET should not have one */
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return send_simple(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    c = find_cached(h, url, gzip, now);
    if (c != NULL)
        return MHD_queue_response(conn, c->status, c->response);
    memset(&reply, 0, sizeof(reply));
    reply.status = 200;
    reply.content_type = "text/plain; charset=utf-8";
    buf_init(&reply.body, 512u << 20);
    h->handler(h->arg, url, &reply);
    resp = make_response(&reply, gzip);
    buf_free(&reply.body);
    if (resp == NULL)
        return MHD_NO;
    rc = MHD_queue_response(conn, reply.status, resp);
    if (reply.cacheable)
        remember(h, url, gzip, reply.status, resp, now);
    else
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
        (size_t)CONNECTION_MEMORY, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
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
    if (h->epoll_fd == -1 || loop_watch(loop, h->epoll_fd, EPOLLIN, on_epoll, h) == -1) {
        snprintf(errbuf, errlen, "cannot watch the HTTP server's descriptor");
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
    for (int i = 0; i < MAX_CACHED; i++)
        if (h->cache[i].response != NULL)
            MHD_destroy_response(h->cache[i].response);
    MHD_stop_daemon(h->daemon);
    free(h);
}

unsigned httpd_port(const struct httpd *h)
{
    return h->port;
}
