/* URLs taken apart once, by one rule, for the request URL, --check-config and the logs. */
#include "url.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"

static struct url_span span(const char *from, const char *to)
{
    struct url_span s = {from, (size_t)(to - from)};

    return s;
}

int url_split(const char *url, struct url_parts *out)
{
    const char *sep = strstr(url, "://"), *auth, *end, *at = NULL, *hp, *q;

    memset(out, 0, sizeof(*out));
    if (sep == NULL)
        return -1;
    out->scheme = span(url, sep);
    auth = sep + 3;
    /* Everything before the query holds the user information and the host; an '@' there
     * ends the user information, and the last one wins, since a password may hold '@'. */
    end = auth + strcspn(auth, "?#");
    for (const char *p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    if (at != NULL) {
        out->userinfo = span(auth, at);
        hp = at + 1;
    } else {
        hp = auth;
    }
    q = hp + strcspn(hp, "/?#");
    if (hp[0] == '[') {
        const char *close = memchr(hp, ']', (size_t)(q - hp));

        out->host = span(hp, close ? close + 1 : q);
    } else {
        out->host = span(hp, hp + strcspn(hp, ":/?#"));
    }
    if (out->host.p + out->host.len < q && out->host.p[out->host.len] == ':')
        out->port = span(out->host.p + out->host.len + 1, q);
    else if (out->host.p + out->host.len < q)
        out->host = span(hp, q); /* "[v6]junk": a bad host, reported as one */
    end = q + strcspn(q, "?#");
    out->path = span(q, end);
    if (*end == '?') {
        q = end + 1;
        end = q + strcspn(q, "#");
        out->query = span(q, end);
    }
    if (*end == '#')
        out->fragment = span(end + 1, end + 1 + strlen(end + 1));
    return 0;
}

static bool host_ok(struct url_span h)
{
    if (h.len == 0)
        return false;
    if (h.p[0] == '[') {
        if (h.len < 3 || h.p[h.len - 1] != ']')
            return false;
        /* Hex digits, ':' and '.', and a zone after '%' ("[fe80::1%25eth0]"). */
        for (size_t i = 1; i + 1 < h.len; i++) {
            char c = h.p[i];

            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == ':' || c == '.' || c == '%' || c == '-' || c == '_'))
                return false;
        }
        return true;
    }
    for (size_t i = 0; i < h.len; i++) {
        char c = h.p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~' || c == '%'))
            return false;
    }
    return true;
}

/* A host and, if any, a port of digits: what a URL's authority looks like. */
static bool authority_plausible(const struct url_parts *u)
{
    if (!host_ok(u->host))
        return false;
    for (size_t i = 0; u->port.p != NULL && i < u->port.len; i++)
        if (u->port.p[i] < '0' || u->port.p[i] > '9')
            return false;
    return true;
}

int url_check_http(const char *url, char *errbuf, size_t errlen)
{
    struct url_parts u;
    unsigned long port = 0;

    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(errbuf, errlen, "must start with http:// or https://");
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        if (*p <= ' ' || *p == 0x7f) {
            snprintf(errbuf, errlen, "holds a space or a control character");
            return -1;
        }
    }
    url_split(url, &u);
    if (!host_ok(u.host)) {
        snprintf(errbuf, errlen, "has no valid host");
        return -1;
    }
    if (u.port.p != NULL) {
        bool ok = u.port.len > 0 && u.port.len <= 5;

        for (size_t i = 0; ok && i < u.port.len; i++) {
            ok = u.port.p[i] >= '0' && u.port.p[i] <= '9';
            port = port * 10 + (unsigned long)(u.port.p[i] - '0');
        }
        if (!ok || port == 0 || port > 65535) {
            snprintf(errbuf, errlen, "has a bad port (1-65535)");
            return -1;
        }
    }
    return 0;
}

/* Whether a query parameter's name says its value is a secret (InfluxDB 1.x takes u and p). */
static bool secret_param(const char *name, size_t len)
{
    static const char *const names[] = {"p", "password", "token"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == len && strncasecmp(name, names[i], len) == 0)
            return true;
    return false;
}

/* Appends a query with its secret values replaced. */
static void redact_query(struct buf *b, struct url_span q)
{
    const char *p = q.p, *end = q.p + q.len;

    while (p <= end) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));

        if (eq != NULL && secret_param(p, (size_t)(eq - p))) {
            buf_append(b, p, (size_t)(eq - p) + 1);
            buf_append_str(b, "(redacted)");
        } else {
            buf_append(b, p, (size_t)(stop - p));
        }
        if (amp == NULL)
            break;
        buf_append(b, "&", 1);
        p = amp + 1;
    }
}

void url_redact(const char *url, const char *mask, char *out, size_t len)
{
    struct url_parts u;
    struct buf b;

    if (len == 0)
        return;
    if (url_split(url, &u) == -1) {
        snprintf(out, len, "%s", url);
        return;
    }
    if (!authority_plausible(&u) && strrchr(u.host.p, '@') != NULL) {
        /* No sensible host where one was looked for: perhaps a password with an unencoded
         * '?' or '#' ("http://u:p?ss@h"). Everything up to the last '@' may be secret. */
        snprintf(out, len, "%.*s%s%s", (int)(u.scheme.len + 3), url, mask,
                 strrchr(u.host.p, '@') + 1);
        return;
    }
    /* Room for every query value to become "(redacted)". */
    buf_init(&b, 8 * strlen(url) + strlen(mask) + 64);
    buf_append(&b, url, u.scheme.len + 3);
    if (u.userinfo.p != NULL)
        buf_append_str(&b, mask);
    /* Host, port and path run on unchanged up to the query. */
    buf_append(&b, u.host.p, (size_t)(u.path.p + u.path.len - u.host.p));
    if (u.query.p != NULL) {
        buf_append(&b, "?", 1);
        redact_query(&b, u.query);
    }
    if (u.fragment.p != NULL) {
        buf_append(&b, "#", 1);
        buf_append(&b, u.fragment.p, u.fragment.len);
    }
    snprintf(out, len, "%s", b.data ? b.data : "");
    buf_free(&b);
}

char *url_endpoint(const char *base, const char *path, const char *query)
{
    struct url_parts u;
    struct buf b;
    size_t plen;

    if (url_split(base, &u) == -1)
        return NULL;
    plen = u.path.len;
    while (plen > 0 && u.path.p[plen - 1] == '/')
        plen--;
    buf_init(&b, 1u << 20);
    buf_printf(&b, "%.*s://", (int)u.scheme.len, u.scheme.p);
    buf_append(&b, u.host.p, (size_t)(u.path.p - u.host.p));
    buf_append(&b, u.path.p, plen);
    buf_printf(&b, "%s", path);
    if (u.query.len > 0 || (query != NULL && query[0] != '\0'))
        buf_append(&b, "?", 1);
    if (u.query.len > 0)
        buf_append(&b, u.query.p, u.query.len);
    if (u.query.len > 0 && query != NULL && query[0] != '\0')
        buf_append(&b, "&", 1);
    if (query != NULL)
        buf_printf(&b, "%s", query);
    return b.data;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int url_decode(const char *s, size_t len, char *out, size_t outlen)
{
    size_t w = 0;

    if (outlen == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (c == '%' && i + 2 < len && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            c = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
            if (c == '\0')
                return -1;
        }
        if (w + 1 >= outlen)
            return -1;
        out[w++] = c;
    }
    out[w] = '\0';
    return 0;
}
