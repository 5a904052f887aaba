/* URL helpers shared by everything that builds a request URL or prints one a person may read. */
#ifndef NSTATS_URL_H
#define NSTATS_URL_H

#include <stddef.h>

/* One part of a URL: a span of the parsed string, not terminated; p is NULL when absent. */
struct url_span {
    const char *p;
    size_t len;
};

/* scheme://[userinfo@]host[:port][/path][?query][#fragment] */
struct url_parts {
    struct url_span scheme;
    struct url_span userinfo; /* without the '@' that ends it */
    struct url_span host;     /* a name, an IPv4 address, or [an IPv6 address] */
    struct url_span port;     /* without the ':' */
    struct url_span path;     /* from its '/'; empty when absent */
    struct url_span query;    /* without the '?' */
    struct url_span fragment; /* without the '#' */
};

/* Splits url. The user information ends at the last '@' before the query or fragment, so a
 * password may hold '@', '/' and ':' as they are (an '@' in a path must then be written %40,
 * and '?' or '#' in a password %3F and %23, as URLs require anyway). Returns 0, or -1 if url
 * has no "://". Pure. */
int url_split(const char *url, struct url_parts *out);

/* Checks an http:// or https:// URL: scheme, no spaces or control characters, a host, a port
 * in 1-65535. Returns 0, or -1 with the reason (never the URL itself) in errbuf, e.g. "must
 * start with http:// or https://". Pure. */
int url_check_http(const char *url, char *errbuf, size_t errlen);

/* Copies url into out (always terminated) with any user information replaced by mask (""
 * drops it, "(redacted)@" keeps the shape) and the values of the query's credential
 * parameters (p, password, token, any case) replaced by "(redacted)". Strings without "://"
 * are copied as they are. Pure. */
void url_redact(const char *url, const char *mask, char *out, size_t len);

/* The URL of an endpoint below base: base's scheme, host and port, base's path without its
 * trailing '/', then path; base's query, then query (a "k=v&k=v" string), joined by '&'. The
 * user information and fragment are left out. Returns a malloc'd string, or NULL if base
 * does not split. */
char *url_endpoint(const char *base, const char *path, const char *query);

/* Percent-decodes len bytes at s into out (always terminated). Returns 0, or -1 if the result
 * does not fit in outlen or holds a NUL. Pure. */
int url_decode(const char *s, size_t len, char *out, size_t outlen);

#endif
