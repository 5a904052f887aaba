/* The HTTP push sink: one request in flight at a time keeps intervals in order; the queue holds
 * the rest. Requests run through curlloop on the caller's event loop. */
#include "push.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/retry.h"
#include "base/url.h"
#include "base/version.h"
#include "base/xalloc.h"
#include "export/outqueue.h"
#include "export/spool.h"
#include "io/curlloop.h"

/* Server answers are read for their error message only. */
#define RESPONSE_MAX 4096
/* How often a continuing outage, refusal, queue overflow or spool failure is logged again. */
#define LOG_EVERY_MS 60000
/* Statuses whose refusals are rate-limited apart; more share the last slot. */
#define DROP_LOG_SLOTS 8
/* 307 and 308 are followed this many times per request; the body is sent again each time. */
#define MAX_REDIRECTS 3

struct push_sink {
    struct push_config cfg;
    struct loop *loop;
    struct curlloop *curl;
    CURL *easy;
    struct loop_timer *retry_timer;
    struct curl_slist *headers_plain;
    struct curl_slist *headers_encoded;
    char *url;                        /* as requested: without user information */
    char *spool_dir;                  /* cfg.spool_dir's copy */
    const struct spool_suffixes *sfx; /* cfg's, or NULL for InfluxDB's */
    char endpoint[512];
    char *url_user; /* from the URL's user information, percent-decoded, or NULL */
    char *url_password;
    int spool_lock;        /* the spool directory's lock, or -1 */
    long refused_redirect; /* a 3xx other than 307/308 that ended the request, or 0 */
    struct outqueue q;
    struct outbatch *in_flight;
    struct buf response;
    uint64_t retry_after_ms;
    unsigned seq;
    struct retry_rng rng;
    unsigned failures;         /* consecutive failed attempts */
    struct log_limit fail_log; /* a flapping server is logged once a period, too */
    struct {
        long status;
        struct log_limit limit;
    } drop_log[DROP_LOG_SLOTS]; /* refusals, per HTTP status */
    unsigned n_drop_log;
    struct log_limit queue_log;
    struct log_limit spool_log;
    struct push_stats stats;
};

static void start_next(struct push_sink *s);

static void on_retry_timer(void *arg)
{
    start_next(arg);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct push_sink *s = userp;
    size_t n = size * nmemb, room = RESPONSE_MAX - s->response.len;

    buf_append(&s->response, data, n < room ? n : room);
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    struct push_sink *s = userp;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";

    /* Each response's status line: a redirect other than 307 or 308 would turn the POST into
     * a GET, so it is not followed but ends the request, to be retried. */
    if (n > 12 && strncmp(data, "HTTP/", 5) == 0) {
        const char *sp = memchr(data, ' ', n);
        long status = 0;

        if (sp != NULL && sp + 3 < data + n && sp[1] >= '1' && sp[1] <= '5' && sp[2] >= '0' &&
            sp[2] <= '9' && sp[3] >= '0' && sp[3] <= '9')
            status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');

        s->retry_after_ms = 0;
        if (status >= 300 && status < 400 && status != 307 && status != 308) {
            s->refused_redirect = status;
            return 0;
        }
        return n;
    }
    if (n > sizeof(name) - 1 && n < 128 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
        char value[128];

        memcpy(value, data + sizeof(name) - 1, n - (sizeof(name) - 1));
        value[n - (sizeof(name) - 1)] = '\0';
        s->retry_after_ms = retry_parse_retry_after(value);
    }
    return n;
}

/* --- delivery --- */

/* A batch is done with (sent or dropped): its spool file goes too. */
static void release(struct outbatch *b)
{
    if (b->spool_path != NULL)
        spool_remove(b->spool_path);
    outbatch_free(b);
}

static void on_queue_drop(struct outbatch *b, void *arg)
{
    struct push_sink *s = arg;

    s->stats.batches_dropped++;
    snprintf(s->stats.last_drop, sizeof(s->stats.last_drop), "the queue was over %zu bytes",
             s->cfg.queue_bytes);
    s->stats.sent_at_last_drop = s->stats.batches_sent;
    log_warnx_limited(&s->queue_log, loop_now_ms(), LOG_EVERY_MS,
                      "%s export queue over %zu bytes: dropped the oldest batch "
                      "(interval %llu)",
                      s->cfg.what, s->cfg.queue_bytes, (unsigned long long)b->ts_ms);
    release(b);
}

/* The server's message in one line, for logs. */
static void describe_failure(struct push_sink *s, long status, CURLcode rc)
{
    if (status == 0) {
        snprintf(s->stats.last_error, sizeof(s->stats.last_error), "%s", curl_easy_strerror(rc));
        return;
    }
    if (status >= 300 && status < 400 && status != 307 && status != 308) {
        snprintf(s->stats.last_error, sizeof(s->stats.last_error),
                 "HTTP %ld: a redirect nstats does not follow (only 307 and 308 keep the "
                 "POST; point %s at the new address)",
                 status, s->cfg.url_flag);
        return;
    }
    /* One line, and whole: an answer may be binary (OTLP's Status is protobuf), so a NUL
     * does not end it. The log shows other control bytes as \xHH. */
    snprintf(s->stats.last_error, sizeof(s->stats.last_error), "HTTP %ld%s", status,
             s->response.len ? ": " : "");
    for (size_t i = 0, at = strlen(s->stats.last_error);
         i < s->response.len && i < 200 && at + 1 < sizeof(s->stats.last_error); i++) {
        char c = s->response.data[i];

        if (c == '\n' || c == '\r' || c == '\0')
            c = ' ';
        s->stats.last_error[at++] = c;
        s->stats.last_error[at] = '\0';
    }
}

/* The rate limit for refusals with this status: a wrong token or database repeats every
 * interval, but a new kind of refusal is news. */
static struct log_limit *drop_log_limit(struct push_sink *s, long status)
{
    for (unsigned i = 0; i < s->n_drop_log; i++)
        if (s->drop_log[i].status == status)
            return &s->drop_log[i].limit;
    if (s->n_drop_log == DROP_LOG_SLOTS)
        return &s->drop_log[DROP_LOG_SLOTS - 1].limit;
    s->drop_log[s->n_drop_log].status = status;
    return &s->drop_log[s->n_drop_log++].limit;
}

static void finish(struct push_sink *s, long status, CURLcode rc)
{
    struct outbatch *b = s->in_flight;
    uint64_t now = loop_now_ms();

    s->in_flight = NULL;
    b->in_flight = false;
    s->stats.last_status = status;
    switch (s->cfg.classify != NULL ? s->cfg.classify(status) : retry_classify(status)) {
    case RETRY_DONE:
        outqueue_pop(&s->q);
        s->stats.batches_sent++;
        s->stats.bytes_sent += b->len;
        s->stats.last_success_ms = loop_wall_ms();
        if (s->failures > 0)
            log_info("%s: delivery to %s recovered after %u failed attempts", s->cfg.what,
                     s->endpoint, s->failures);
        s->failures = 0;
        s->stats.last_error[0] = '\0';
        release(b);
        break;
    case RETRY_AGAIN: {
        uint64_t wait = retry_backoff_ms(b->attempts, s->cfg.retry_base_ms, s->cfg.retry_max_ms,
                                         retry_rand01(&s->rng), s->retry_after_ms);

        describe_failure(s, status, rc);
        s->stats.batches_retried++;
        s->failures++;
        b->not_before_ms = now + wait;
        log_warnx_limited(&s->fail_log, now, LOG_EVERY_MS,
                          "%s: delivery to %s failed (%s); retrying in %.1fs, %zu batches "
                          "(%zu bytes) queued",
                          s->cfg.what, s->endpoint, s->stats.last_error, (double)wait / 1000.0,
                          s->q.count, s->q.bytes);
        break;
    }
    case RETRY_DROP:
        describe_failure(s, status, rc);
        outqueue_pop(&s->q);
        s->stats.batches_dropped++;
        memcpy(s->stats.last_drop, s->stats.last_error, sizeof(s->stats.last_drop));
        s->stats.sent_at_last_drop = s->stats.batches_sent;
        log_warnx_limited(drop_log_limit(s, status), now, LOG_EVERY_MS,
                          "%s at %s refused a batch (%s); dropping it, since retrying "
                          "cannot fix this (further refusals with HTTP %ld are logged at most "
                          "once a minute)",
                          s->cfg.what, s->endpoint, s->stats.last_error, status);
        release(b);
        break;
    }
    start_next(s);
}

static void on_done(void *arg, CURL *easy, CURLcode rc)
{
    struct push_sink *s = arg;
    long status = 0;

    if (rc == CURLE_OK)
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    else if (s->refused_redirect != 0)
        status = s->refused_redirect;
    if (s->in_flight != NULL)
        finish(s, status, rc);
}

static void start_next(struct push_sink *s)
{
    struct outbatch *b = s->q.head;
    uint64_t now = loop_now_ms();

    if (s->in_flight != NULL || b == NULL)
        return;
    if (b->not_before_ms > now) {
        loop_timer_arm(s->retry_timer, b->not_before_ms - now);
        return;
    }
    b->in_flight = true;
    b->attempts++;
    s->in_flight = b;
    s->retry_after_ms = 0;
    s->refused_redirect = 0;
    buf_reset(&s->response);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, b->body);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->len);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER,
                     b->gzipped ? s->headers_encoded : s->headers_plain);
    if (curlloop_add(s->curl, s->easy, on_done, s) == -1) {
        s->in_flight = NULL;
        b->in_flight = false;
        b->not_before_ms = now + s->cfg.retry_base_ms;
        loop_timer_arm(s->retry_timer, s->cfg.retry_base_ms);
    }
}

/* --- setup --- */

/* The URL's user information becomes libcurl's credentials; logs get the URL without it. */
static int url_credentials(struct push_sink *s, char *errbuf, size_t errlen)
{
    struct url_parts u;

    s->url = url_endpoint(s->cfg.url, "", "");
    if (s->url == NULL) {
        snprintf(errbuf, errlen, "%s URL does not parse", s->cfg.what);
        return -1;
    }
    url_split(s->cfg.userinfo_url != NULL ? s->cfg.userinfo_url : s->cfg.url, &u);
    if (u.userinfo.p != NULL) {
        const char *colon = memchr(u.userinfo.p, ':', u.userinfo.len);
        size_t ulen = colon ? (size_t)(colon - u.userinfo.p) : u.userinfo.len;
        char user[1024], password[1024] = "";

        if (url_decode(u.userinfo.p, ulen, user, sizeof(user)) == -1 ||
            (colon != NULL &&
             url_decode(colon + 1, u.userinfo.len - ulen - 1, password, sizeof(password)) == -1)) {
            snprintf(errbuf, errlen, "%s URL: the user name or password is too long", s->cfg.what);
            return -1;
        }
        s->url_user = xstrdup(user);
        s->url_password = xstrdup(password);
    }
    /* For logs: query credentials (u=..&p=..) redacted. */
    url_redact(s->url, "", s->endpoint, sizeof(s->endpoint));
    return 0;
}

static void load_spooled(void *arg, char *path, char *body, size_t len, bool encoded,
                         uint64_t ts_ms)
{
    struct push_sink *s = arg;

    outqueue_push(&s->q, outbatch_new(body, len, encoded, ts_ms, path), on_queue_drop, s);
}

static int open_spool(struct push_sink *s, char *errbuf, size_t errlen)
{
    const char *dir = s->cfg.spool_dir;
    unsigned tmp_removed = 0;
    int n;

    s->spool_lock = spool_prepare(dir, &tmp_removed, errbuf, errlen);
    if (s->spool_lock == -1)
        return -1;
    if (tmp_removed > 0)
        log_info("%s: removed %u unfinished spool files (.tmp-*) an earlier run left in %s",
                 s->cfg.what, tmp_removed, dir);
    n = spool_load(dir, s->sfx, s->cfg.queue_bytes, load_spooled, s, errbuf, errlen);
    if (n == -1)
        return -1;
    if (n > 0)
        log_info("%s: %d spooled batches (%zu bytes) from %s to deliver first", s->cfg.what, n,
                 s->q.bytes, dir);
    return 0;
}

int push_url_check(const char *what, const char *url, char *errbuf, size_t errlen)
{
    char shown[512], reason[128];

    if (url_check_http(url, reason, sizeof(reason)) == -1) {
        url_redact(url, "(redacted)@", shown, sizeof(shown));
        snprintf(errbuf, errlen, "%s URL '%s' %s", what, shown, reason);
        return -1;
    }
    return 0;
}

static void set_options(struct push_sink *s)
{
    const struct push_config *cfg = &s->cfg;
    CURL *easy = s->easy;

    curl_easy_setopt(easy, CURLOPT_URL, s->url);
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(cfg->timeout_ms < 5000 ? cfg->timeout_ms : 5000));
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "nstats/" NSTATS_VERSION);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, s);
    /* A moved server answers 307 or 308, which keep the POST. libcurl sends the credentials
     * (user and password, the Authorization header) to the first host only. */
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(easy, CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
    curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_UNRESTRICTED_AUTH, 0L);
    /* The flags win over the URL's user information. */
    if (cfg->user != NULL) {
        curl_easy_setopt(easy, CURLOPT_USERNAME, cfg->user);
        curl_easy_setopt(easy, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
    } else if (s->url_user != NULL) {
        curl_easy_setopt(easy, CURLOPT_USERNAME, s->url_user);
        curl_easy_setopt(easy, CURLOPT_PASSWORD, s->url_password);
    }
    if (cfg->ca_file != NULL)
        curl_easy_setopt(easy, CURLOPT_CAINFO, cfg->ca_file);
    if (cfg->insecure) {
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

struct push_sink *push_sink_new(const struct push_config *cfg, struct loop *loop, char *errbuf,
                                size_t errlen)
{
    struct push_sink *s;
    struct timespec now;

    errbuf[0] = '\0';
    if (push_url_check(cfg->what, cfg->url, errbuf, errlen) == -1)
        return NULL;
    s = xcalloc(1, sizeof(*s));
    s->cfg = *cfg;
    s->spool_dir = cfg->spool_dir != NULL ? xstrdup(cfg->spool_dir) : NULL;
    s->cfg.spool_dir = s->spool_dir;
    if (cfg->spool_suffixes.plain != NULL && cfg->spool_suffixes.encoded != NULL)
        s->sfx = &s->cfg.spool_suffixes;
    s->loop = loop;
    s->spool_lock = -1;
    if (s->cfg.retry_base_ms == 0)
        s->cfg.retry_base_ms = PUSH_DEFAULT_RETRY_BASE_MS;
    /* Nanoseconds, so sidecars started in the same second do not retry in step. */
    clock_gettime(CLOCK_REALTIME, &now);
    retry_rng_seed(&s->rng, (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
    buf_init(&s->response, RESPONSE_MAX + 1);
    outqueue_init(&s->q, cfg->queue_bytes);
    s->curl = curlloop_new(loop);
    s->easy = curl_easy_init();
    if (s->curl == NULL || s->easy == NULL || url_credentials(s, errbuf, errlen) == -1) {
        if (errbuf[0] == '\0')
            snprintf(errbuf, errlen, "cannot initialise libcurl");
        push_sink_free(s);
        return NULL;
    }
    s->retry_timer = loop_timer_new(loop, on_retry_timer, s);
    /* No "Expect: 100-continue": the servers answer at once anyway. */
    s->headers_plain = curl_slist_append(NULL, "Expect:");
    for (const char *const *h = cfg->headers; h != NULL && *h != NULL; h++)
        s->headers_plain = curl_slist_append(s->headers_plain, *h);
    for (struct curl_slist *p = s->headers_plain; p != NULL; p = p->next)
        s->headers_encoded = curl_slist_append(s->headers_encoded, p->data);
    if (cfg->encoded_header != NULL)
        s->headers_encoded = curl_slist_append(s->headers_encoded, cfg->encoded_header);
    set_options(s);
    /* libcurl copied these; the rest are static names or copied above. */
    s->cfg.url = s->cfg.userinfo_url = s->cfg.user = s->cfg.password = s->cfg.ca_file = NULL;
    s->cfg.headers = NULL;
    s->cfg.encoded_header = NULL;
    if (cfg->spool_dir != NULL && open_spool(s, errbuf, errlen) == -1) {
        push_sink_free(s);
        return NULL;
    }
    start_next(s);
    return s;
}

void push_sink_free(struct push_sink *s)
{
    if (s == NULL)
        return;
    curlloop_free(s->curl);
    loop_timer_free(s->retry_timer);
    if (s->easy != NULL)
        curl_easy_cleanup(s->easy);
    curl_slist_free_all(s->headers_plain);
    curl_slist_free_all(s->headers_encoded);
    outqueue_clear(&s->q);
    buf_free(&s->response);
    free(s->url);
    free(s->url_user);
    if (s->url_password != NULL) {
        explicit_bzero(s->url_password, strlen(s->url_password));
        free(s->url_password);
    }
    spool_release(s->spool_lock);
    free(s->spool_dir);
    free(s);
}

void push_sink_enqueue(struct push_sink *s, char *body, size_t len, bool encoded, uint64_t ts_ms)
{
    char *path = NULL;

    if (s->cfg.spool_dir != NULL) {
        path = spool_write(s->cfg.spool_dir, s->sfx, ts_ms, s->seq++, encoded, body, len);
        if (path == NULL)
            log_warn_limited(&s->spool_log, loop_now_ms(), LOG_EVERY_MS,
                             "spooling a batch to %s (kept in memory only)", s->cfg.spool_dir);
    }
    outqueue_push(&s->q, outbatch_new(body, len, encoded, ts_ms, path), on_queue_drop, s);
    start_next(s);
}

void push_sink_count_lost(struct push_sink *s, uint64_t n)
{
    s->stats.lines_dropped += n;
}

bool push_sink_idle(const struct push_sink *s)
{
    return s->in_flight == NULL && s->q.head == NULL;
}

void push_sink_get_stats(const struct push_sink *s, struct push_stats *out)
{
    *out = s->stats;
    out->queue_bytes = s->q.bytes;
    out->queue_batches = s->q.count;
    out->queue_limit = s->cfg.queue_bytes;
    out->queue_unspooled = 0;
    for (const struct outbatch *b = s->q.head; b != NULL; b = b->next)
        out->queue_unspooled += b->spool_path == NULL;
}

const char *push_sink_endpoint(const struct push_sink *s)
{
    return s->endpoint;
}

const char *push_sink_what(const struct push_sink *s)
{
    return s->cfg.what;
}

const char *push_sink_id(const struct push_sink *s)
{
    return s->cfg.id;
}

const char *push_sink_spool_dir(const struct push_sink *s)
{
    return s->spool_dir;
}

void push_sink_count_series_dropped(struct push_sink *s, uint64_t n)
{
    s->stats.series_dropped += n;
}
