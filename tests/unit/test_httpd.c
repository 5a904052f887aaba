/* HTTP server tests: listen-address parsing, Accept-Encoding, and a real server on the loop
 * answering a long page whole, plain (inflated as read) and gzip, routing paths as sent. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "io/httpd.h"
#include "io/loop.h"
#include "test.h"

static void test_listen_addresses(void)
{
    struct sockaddr_storage ss;
    size_t len;
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

    CHECK_EQ(httpd_parse_listen(":9781", &ss, &len), 0);
    CHECK_EQ(sin6->sin6_family, AF_INET6); /* all addresses: dual-stack wildcard */
    CHECK_EQ(ntohs(sin6->sin6_port), 9781);
    CHECK_EQ(httpd_parse_listen("0.0.0.0:9781", &ss, &len), 0);
    CHECK_EQ(sin->sin_family, AF_INET);
    CHECK_EQ(sin->sin_addr.s_addr, htonl(INADDR_ANY));
    CHECK_EQ(httpd_parse_listen("127.0.0.1:80", &ss, &len), 0);
    CHECK_EQ(sin->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    CHECK_EQ(httpd_parse_listen("[::1]:9781", &ss, &len), 0);
    CHECK_EQ(sin6->sin6_family, AF_INET6);
    CHECK_EQ(len, sizeof(struct sockaddr_in6));
    CHECK_EQ(httpd_parse_listen("[::]:0", &ss, &len), 0);
    CHECK_EQ(httpd_parse_listen("9781", &ss, &len), -1);
    CHECK_EQ(httpd_parse_listen("localhost:9781", &ss, &len), -1);
    CHECK_EQ(httpd_parse_listen("1.2.3.4:65536", &ss, &len), -1);
    CHECK_EQ(httpd_parse_listen("1.2.3.4:", &ss, &len), -1);
    CHECK_EQ(httpd_parse_listen("[::1]9781", &ss, &len), -1);
}

static void test_accept_encoding(void)
{
    CHECK(httpd_accepts_gzip("gzip"));
    CHECK(httpd_accepts_gzip("deflate, gzip;q=1.0, *;q=0.5"));
    CHECK(httpd_accepts_gzip("GZIP"));
    CHECK(httpd_accepts_gzip("*"));
    CHECK(httpd_accepts_gzip("x-gzip"));
    CHECK(!httpd_accepts_gzip("gzip;q=0"));
    CHECK(!httpd_accepts_gzip("gzip; q=0.000, *"));
    CHECK(!httpd_accepts_gzip("identity"));
    CHECK(!httpd_accepts_gzip("gzipx"));
    CHECK(!httpd_accepts_gzip(""));
    CHECK(!httpd_accepts_gzip(NULL));
    CHECK(!httpd_accepts_gzip("*;q=0"));
}

#define PAGE_LINES 40000

static void page_line(char *out, size_t len, unsigned i)
{
    snprintf(out, len, "nstats_bytes_total{remote=\"198.18.%u.%u\",port=\"%u\"} %u\n",
             (i >> 8) & 0xff, i & 0xff, i % 1000, i * 7919u);
}

static char last_path[64];
static unsigned renders;

static void handler(void *arg, const char *path, struct httpd_reply *reply)
{
    char line[128];

    (void)arg;
    snprintf(last_path, sizeof(last_path), "%s", path);
    if (strcmp(path, "/page") != 0) {
        reply->status = 404;
        buf_append_str(&reply->body, "not found\n");
        return;
    }
    renders++;
    reply->cacheable = true;
    for (unsigned i = 0; i < PAGE_LINES; i++) {
        page_line(line, sizeof(line), i);
        buf_append_str(&reply->body, line);
    }
}

struct client {
    unsigned port;
    const char *request;
    char *response; /* whole, headers included */
    size_t len;
    bool done;
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    size_t cap = 1 << 16;
    ssize_t n;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->response = malloc(cap);
    c->len = 0;
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
        write(fd, c->request, strlen(c->request)) == (ssize_t)strlen(c->request)) {
        while ((n = read(fd, c->response + c->len, cap - c->len - 1)) > 0) {
            c->len += (size_t)n;
            if (cap - c->len < 4096)
                c->response = realloc(c->response, cap *= 2);
        }
    }
    c->response[c->len] = '\0';
    close(fd);
    __atomic_store_n(&c->done, true, __ATOMIC_RELEASE);
    return NULL;
}

/* Runs the loop until the client has its whole answer. Returns where the body starts. */
static const char *fetch(struct loop *l, struct client *c)
{
    pthread_t t;
    const char *body;

    c->done = false;
    pthread_create(&t, NULL, client_main, c);
    for (int i = 0; i < 2000 && !__atomic_load_n(&c->done, __ATOMIC_ACQUIRE); i++)
        loop_run_once(l, 10);
    pthread_join(t, NULL);
    body = strstr(c->response, "\r\n\r\n");
    return body != NULL ? body + 4 : "";
}

static char *expected_page(size_t *len)
{
    char line[128];
    size_t cap = (size_t)PAGE_LINES * 64, n = 0;
    char *p = malloc(cap);

    for (unsigned i = 0; i < PAGE_LINES; i++) {
        page_line(line, sizeof(line), i);
        memcpy(p + n, line, strlen(line));
        n += strlen(line);
    }
    *len = n;
    return p;
}

static void test_long_page_plain_and_gzip(void)
{
    char err[256];
    struct loop *l = loop_new();
    struct httpd *h = httpd_start("127.0.0.1:0", l, handler, NULL, err, sizeof(err));
    struct client c = {0};
    struct httpd_stats st;
    size_t want_len;
    char *want = expected_page(&want_len);
    const char *body;

    CHECK(h != NULL);
    if (h == NULL)
        return;
    c.port = httpd_port(h);
    renders = 0;
    /* Plain: inflated from the shared gzip body as the client reads, byte for byte. */
    c.request = "GET /page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    body = fetch(l, &c);
    CHECK(strstr(c.response, "HTTP/1.1 200") == c.response);
    CHECK(strstr(c.response, "Content-Encoding") == NULL);
    CHECK_EQ(c.len - (size_t)(body - c.response), want_len);
    CHECK(memcmp(body, want, want_len) == 0);
    free(c.response);
    /* gzip: the same body, not rendered again within the second. */
    c.request =
        "GET /page HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n";
    body = fetch(l, &c);
    CHECK(strstr(c.response, "Content-Encoding: gzip") != NULL);
    {
        z_stream z = {0};
        char *out = malloc(want_len + 1);

        inflateInit2(&z, 15 + 16);
        z.next_in = (unsigned char *)(uintptr_t)body;
        z.avail_in = (uInt)(c.len - (size_t)(body - c.response));
        z.next_out = (unsigned char *)out;
        z.avail_out = (uInt)want_len + 1;
        CHECK_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
        CHECK_EQ(z.total_out, want_len);
        CHECK(memcmp(out, want, want_len) == 0);
        inflateEnd(&z);
        free(out);
    }
    CHECK_EQ(renders, 1);
    free(c.response);
    /* gzip;q=0 is a refusal. */
    c.request = "GET /page HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip;q=0\r\n"
                "Connection: close\r\n\r\n";
    body = fetch(l, &c);
    CHECK(strstr(c.response, "Content-Encoding") == NULL);
    CHECK_EQ(c.len - (size_t)(body - c.response), want_len);
    free(c.response);
    /* HEAD: the headers only. */
    c.request = "HEAD /page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    body = fetch(l, &c);
    CHECK(strstr(c.response, "HTTP/1.1 200") == c.response);
    CHECK_EQ(*body, '\0');
    free(c.response);
    /* Paths are routed as sent: an escaped letter is not the same path. */
    c.request = "GET /%70age HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    fetch(l, &c);
    CHECK(strstr(c.response, "HTTP/1.1 404") == c.response);
    CHECK_STR(last_path, "/%70age");
    free(c.response);
    httpd_get_stats(h, &st);
    CHECK_EQ(st.accepted, 5);
    CHECK_EQ(st.plain_streams, 0);
    httpd_stop(h);
    loop_free(l);
    free(want);
}

int main(void)
{
    RUN(test_listen_addresses);
    RUN(test_accept_encoding);
    RUN(test_long_page_plain_and_gzip);
    return test_report();
}
