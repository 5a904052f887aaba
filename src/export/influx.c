/* The InfluxDB sink: line protocol cut into batches at line ends, gzipped if asked, and handed
 * to a push sink for delivery to /write (v1) or /api/v2/write (v2). */
#include "influx.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/url.h"
#include "base/xalloc.h"

struct influx_sink {
    bool gzip;
    size_t batch_bytes;
    struct push_sink *push;
};

static char *query_escape(CURL *easy, const char *s)
{
    char *e = curl_easy_escape(easy, s, 0);
    char *copy = xstrdup(e ? e : "");

    curl_free(e);
    return copy;
}

/* The write URL: the base URL's path and query kept, the endpoint's path inserted before the
 * query and the parameters added after it. NULL if too long. */
static char *build_url(const struct influx_config *c, CURL *easy)
{
    char query[8192];
    const char *path;

    if (c->bucket != NULL) {
        char *org = query_escape(easy, c->org ? c->org : "");
        char *bucket = query_escape(easy, c->bucket);

        path = "/api/v2/write";
        snprintf(query, sizeof(query), "org=%s&bucket=%s&precision=ns", org, bucket);
        free(org);
        free(bucket);
    } else {
        char *db = query_escape(easy, c->db);
        char *rp = c->rp != NULL ? query_escape(easy, c->rp) : NULL;

        path = "/write";
        snprintf(query, sizeof(query), "db=%s&precision=ns%s%s", db, rp ? "&rp=" : "",
                 rp ? rp : "");
        free(db);
        free(rp);
    }
    if (strlen(query) + 1 >= sizeof(query))
        return NULL;
    return url_endpoint(c->url, path, query);
}

int influx_config_check(const struct influx_config *cfg, char *errbuf, size_t errlen)
{
    if (push_url_check("InfluxDB", cfg->url, errbuf, errlen) == -1)
        return -1;
    if ((cfg->bucket == NULL) == (cfg->db == NULL)) {
        snprintf(errbuf, errlen,
                 "InfluxDB needs either a database (v1: --influx-db) or a "
                 "bucket (v2: --influx-bucket, --influx-org), not both");
        return -1;
    }
    return 0;
}

struct influx_sink *influx_sink_new(const struct influx_config *cfg, struct loop *loop,
                                    char *errbuf, size_t errlen)
{
    struct influx_sink *s;
    CURL *easy;
    char *url, auth[4096];
    const char *headers[3] = {"Content-Type: text/plain; charset=utf-8", NULL, NULL};

    if (influx_config_check(cfg, errbuf, errlen) == -1)
        return NULL;
    if ((easy = curl_easy_init()) == NULL) {
        snprintf(errbuf, errlen, "cannot initialise libcurl");
        return NULL;
    }
    url = build_url(cfg, easy);
    curl_easy_cleanup(easy);
    if (url == NULL) {
        snprintf(errbuf, errlen, "InfluxDB URL too long");
        return NULL;
    }
    if (cfg->token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Token %s", cfg->token);
        headers[1] = auth;
    }
    s = xcalloc(1, sizeof(*s));
    s->gzip = cfg->gzip;
    s->batch_bytes = cfg->batch_bytes;
    s->push = push_sink_new(
        &(struct push_config){
            .what = "InfluxDB",
            .id = "influxdb",
            .url_flag = "--influx-url",
            .url = url,
            .userinfo_url = cfg->url,
            .headers = headers,
            .encoded_header = "Content-Encoding: gzip",
            .user = cfg->user,
            .password = cfg->password,
            .ca_file = cfg->ca_file,
            .insecure = cfg->insecure,
            .queue_bytes = cfg->queue_bytes,
            .timeout_ms = cfg->timeout_ms,
            .retry_base_ms = cfg->retry_base_ms,
            .retry_max_ms = cfg->retry_max_ms,
            .spool_dir = cfg->spool_dir,
        },
        loop, errbuf, errlen);
    explicit_bzero(auth, sizeof(auth));
    free(url);
    if (s->push == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

void influx_sink_free(struct influx_sink *s)
{
    if (s == NULL)
        return;
    push_sink_free(s->push);
    free(s);
}

struct push_sink *influx_sink_push(struct influx_sink *s)
{
    return s->push;
}

static int enqueue_chunk(struct influx_sink *s, const char *data, size_t len, uint64_t ts_ms)
{
    size_t body_len;
    char *body = push_body_encode(data, len, s->gzip ? PUSH_GZIP : PUSH_IDENTITY, &body_len);

    if (body == NULL)
        return -1;
    push_sink_enqueue(s->push, body, body_len, s->gzip, ts_ms);
    return 0;
}

int influx_sink_enqueue(struct influx_sink *s, const char *lines, size_t len, uint64_t ts_ms)
{
    size_t start = 0;
    int rc = 0;

    while (start < len) {
        size_t end = start + s->batch_bytes;

        /* Cut after the last newline that fits; a single longer line goes alone. */
        if (end >= len) {
            end = len;
        } else {
            size_t cut = end;

            while (cut > start && lines[cut - 1] != '\n')
                cut--;
            if (cut == start) {
                const char *nl = memchr(lines + end, '\n', len - end);

                cut = nl ? (size_t)(nl - lines) + 1 : len;
            }
            end = cut;
        }
        if (enqueue_chunk(s, lines + start, end - start, ts_ms) == -1) {
            uint64_t lost = 0;

            for (size_t i = start; i < end; i++)
                lost += lines[i] == '\n';
            push_sink_count_lost(s->push, lost);
            rc = -1;
        }
        start = end;
    }
    return rc;
}
