/* URL tests: one parse for the request URL, the logs and --check-config; credentials never
 * printed, whatever their shape. */
#include <stdlib.h>

#include "base/url.h"
#include "test.h"

static const char *part(struct url_span s, char *buf, size_t len)
{
    if (s.p == NULL)
        return "(none)";
    snprintf(buf, len, "%.*s", (int)s.len, s.p);
    return buf;
}

static void test_split(void)
{
    static const struct {
        const char *url, *userinfo, *host, *port, *path, *query;
    } rows[] = {
        {"http://h:8086", "(none)", "h", "8086", "", "(none)"},
        {"https://u:pw@h/base/?db=x#f", "u:pw", "h", "(none)", "/base/", "db=x"},
        {"http://u:p@ss@h:1/x", "u:p@ss", "h", "1", "/x", "(none)"},
        {"http://u:pa/ss@h:1", "u:pa/ss", "h", "1", "", "(none)"},
        {"http://u:12/x@y@h:1/w", "u:12/x@y", "h", "1", "/w", "(none)"},
        {"http://h:1?u=me@example.com&p=x", "(none)", "h", "1", "", "u=me@example.com&p=x"},
        {"http://[::1]:8086/", "(none)", "[::1]", "8086", "/", "(none)"},
        {"http://u@[2001:db8::1]", "u", "[2001:db8::1]", "(none)", "", "(none)"},
    };
    char a[64], b[64], c[64], d[64], e[64];

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct url_parts u;

        CHECK_EQ(url_split(rows[i].url, &u), 0);
        CHECK_STR(part(u.userinfo, a, sizeof(a)), rows[i].userinfo);
        CHECK_STR(part(u.host, b, sizeof(b)), rows[i].host);
        CHECK_STR(part(u.port, c, sizeof(c)), rows[i].port);
        CHECK_STR(part(u.path, d, sizeof(d)), rows[i].path);
        CHECK_STR(part(u.query, e, sizeof(e)), rows[i].query);
    }
    {
        struct url_parts u;

        CHECK_EQ(url_split("host:8086", &u), -1);
    }
}

static void test_redact(void)
{
    static const struct {
        const char *url, *shown;
    } rows[] = {
        {"http://u:pw@h:1/x", "http://(redacted)@h:1/x"},
        {"http://u:p@w@h:1/write?db=x", "http://(redacted)@h:1/write?db=x"},
        {"http://u:pa/ss@h:1", "http://(redacted)@h:1"},
        {"http://admin:s3cr/t@w@influx:8086/", "http://(redacted)@influx:8086/"},
        {"http://h:1?q=a@b", "http://h:1?q=a@b"},
        {"http://h:1/write?u=me&p=hunter2&db=x", "http://h:1/write?u=me&p=(redacted)&db=x"},
        {"http://h:1/?db=x&password=a@b/c&Token=t0k", "http://h:1/?db=x&password=(redacted)&"
                                                      "Token=(redacted)"},
        {"http://h:1/?p=&pp=1#frag", "http://h:1/?p=(redacted)&pp=1#frag"},
        {"user@host", "user@host"},
        /* An unencoded '?' in a password: no sensible host, so all up to the last '@'. */
        {"http://u:p?ss@h:1/x", "http://(redacted)@h:1/x"},
        {"http://u:p#ss@h", "http://(redacted)@h"},
        {"http://junk value", "http://junk value"},
        {"/var/run/secrets/influx/token", "/var/run/secrets/influx/token"},
    };
    char out[256];

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        url_redact(rows[i].url, "(redacted)@", out, sizeof(out));
        CHECK_STR(out, rows[i].shown);
    }
    url_redact("http://u:p@w@h:1/write?db=x", "", out, sizeof(out));
    CHECK_STR(out, "http://h:1/write?db=x");
    url_redact("http://u:secret@h:1/x", "", out, 12);
    CHECK_STR(out, "http://h:1/");
}

static void test_check(void)
{
    char err[128];

    CHECK_EQ(url_check_http("http://influxdb:8086", err, sizeof(err)), 0);
    CHECK_EQ(url_check_http("https://u:p@ss/w@[::1]:8086/base?u=a&p=b", err, sizeof(err)), 0);
    CHECK_EQ(url_check_http("ftp://x", err, sizeof(err)), -1);
    CHECK_STR(err, "must start with http:// or https://");
    CHECK_EQ(url_check_http("junk value", err, sizeof(err)), -1);
    CHECK_EQ(url_check_http("http://junk value", err, sizeof(err)), -1);
    CHECK_STR(err, "holds a space or a control character");
    CHECK_EQ(url_check_http("http://h\x1b[2J", err, sizeof(err)), -1);
    CHECK_EQ(url_check_http("http://", err, sizeof(err)), -1);
    CHECK_STR(err, "has no valid host");
    CHECK_EQ(url_check_http("http://u:p@/x", err, sizeof(err)), -1);
    CHECK_EQ(url_check_http("http://h:99999", err, sizeof(err)), -1);
    CHECK_STR(err, "has a bad port (1-65535)");
    CHECK_EQ(url_check_http("http://h:0", err, sizeof(err)), -1);
    CHECK_EQ(url_check_http("http://h:", err, sizeof(err)), -1);
    CHECK_EQ(url_check_http("http://h:80x", err, sizeof(err)), -1);
    CHECK_EQ(url_check_http("http://[::1", err, sizeof(err)), -1);
    CHECK_EQ(url_check_http("http://[fe80::1%25eth0]:8086", err, sizeof(err)), 0);
    CHECK_EQ(url_check_http("http://[::1]x:8086", err, sizeof(err)), -1);
    CHECK_EQ(url_check_http("http://h\xc3\xa9:8086", err, sizeof(err)), -1);
}

static void test_endpoint(void)
{
    static const struct {
        const char *base, *path, *query, *want;
    } rows[] = {
        {"http://h:8086", "/write", "db=x", "http://h:8086/write?db=x"},
        {"http://h:8086/", "/write", "db=x", "http://h:8086/write?db=x"},
        {"https://u:p@ss@h/influx//", "/write", "db=x", "https://h/influx/write?db=x"},
        {"http://h:1?u=me&p=pw", "/write", "db=x&precision=ns",
         "http://h:1/write?u=me&p=pw&db=x&precision=ns"},
        {"http://h:1/base/?u=me#frag", "/api/v2/write", "org=o",
         "http://h:1/base/api/v2/write?u=me&org=o"},
        {"http://h:1/?", "/write", "db=x", "http://h:1/write?db=x"},
        {"http://h:1", "/write", "", "http://h:1/write"},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *u = url_endpoint(rows[i].base, rows[i].path, rows[i].query);

        CHECK_STR(u, rows[i].want);
        free(u);
    }
    CHECK(url_endpoint("h:1", "/write", "db=x") == NULL);
}

static void test_decode(void)
{
    char out[16];

    CHECK_EQ(url_decode("p%40ss%2Fw%3a", 13, out, sizeof(out)), 0);
    CHECK_STR(out, "p@ss/w:");
    CHECK_EQ(url_decode("100%", 4, out, sizeof(out)), 0);
    CHECK_STR(out, "100%");
    CHECK_EQ(url_decode("%zz", 3, out, sizeof(out)), 0);
    CHECK_STR(out, "%zz");
    CHECK_EQ(url_decode("a%00b", 5, out, sizeof(out)), -1);
    CHECK_EQ(url_decode("0123456789abcdefg", 17, out, sizeof(out)), -1);
}

int main(void)
{
    RUN(test_split);
    RUN(test_redact);
    RUN(test_check);
    RUN(test_endpoint);
    RUN(test_decode);
    return test_report();
}
