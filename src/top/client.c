/* The API client: one reused easy handle (its connection kept alive between refreshes). */
#include "client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/url.h"
#include "base/xalloc.h"

struct top_client {
    CURL *easy;
    char *base;
    long timeout_ms;
};

/* Turns what a person types into a base URL: a scheme when missing, this host for ":PORT",
 * no trailing '/'. Returns a malloc'd string. */
static char *normalize(const char *target)
{
    size_t len = strlen(target) + 32;
    char *url = xcalloc(1, len);

    if (strstr(target, "://") != NULL)
        snprintf(url, len, "%s", target);
    else if (target[0] == ':')
        snprintf(url, len, "http://127.0.0.1%s", target);
    else
        snprintf(url, len, "http://%s", target);
    for (size_t n = strlen(url); n > 0 && url[n - 1] == '/'; n--)
        url[n - 1] = '\0';
    return url;
}

struct top_client *top_client_new(const char *target, long timeout_ms, char *errbuf, size_t errlen)
{
    struct top_client *c;
    struct url_parts parts = {0};
    char reason[128] = "";
    char *base = normalize(target);

    if (url_check_http(base, reason, sizeof(reason)) == -1 || url_split(base, &parts) == -1 ||
        parts.query.p != NULL || parts.fragment.p != NULL) {
        snprintf(errbuf, errlen, "--connect '%s': %s", target,
                 parts.query.p != NULL || parts.fragment.p != NULL ? "no query or fragment, please"
                                                                   : reason);
        free(base);
        return NULL;
    }
    c = xcalloc(1, sizeof(*c));
    c->base = base;
    c->timeout_ms = timeout_ms;
    if ((c->easy = curl_easy_init()) == NULL) {
        snprintf(errbuf, errlen, "cannot start libcurl");
        top_client_free(c);
        return NULL;
    }
    return c;
}

void top_client_free(struct top_client *c)
{
    if (c == NULL)
        return;
    if (c->easy != NULL)
        curl_easy_cleanup(c->easy);
    free(c->base);
    free(c);
}

const char *top_client_base(const struct top_client *c)
{
    return c->base;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct buf *body = arg;

    /* Returning less than given makes libcurl fail the transfer (CURLE_WRITE_ERROR). */
    return buf_append(body, data, size * nmemb) == 0 ? size * nmemb : 0;
}

int top_client_get(struct top_client *c, const char *path_query, struct buf *body, char *errbuf,
                   size_t errlen)
{
    char url[4096];
    long status = 0;
    CURLcode rc;

    buf_reset(body);
    if ((size_t)snprintf(url, sizeof(url), "%s%s", c->base, path_query) >= sizeof(url)) {
        snprintf(errbuf, errlen, "request URL too long");
        return -1;
    }
    curl_easy_setopt(c->easy, CURLOPT_URL, url);
    curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c->easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c->easy, CURLOPT_USERAGENT, "nstats-top");
    rc = curl_easy_perform(c->easy);
    if (rc != CURLE_OK) {
        snprintf(errbuf, errlen, "%s",
                 rc == CURLE_WRITE_ERROR ? "answer too large" : curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    return (int)status;
}

int top_client_escape(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        int unreserved = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                         (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
                         *p == '~';

        if ((unreserved ? buf_append_char(b, (char)*p) : buf_append(b, enc, 3)) == -1)
            return -1;
    }
    return 0;
}
