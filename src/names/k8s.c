/* Kubernetes list-and-watch. Each kind runs its own small state machine (k8s_next_state):
 * LIST, then WATCH from the list's resourceVersion, again from the last event's version when
 * the server ends the stream, LIST again on 410 Gone, and a capped exponential backoff with
 * jitter after errors. The rest of this file is the libcurl shell around it. */
#include "k8s.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/retry.h"
#include "base/xalloc.h"
#include "io/curlloop.h"

#define LIST_MAX_BYTES (256u << 20)
#define LINE_MAX_BYTES (16u << 20)
#define WATCH_SECONDS 300
/* How often a kind's continuing failures are logged again. */
#define LOG_EVERY_MS 60000

struct watcher {
    struct k8s *k;
    enum k8s_kind kind;
    CURL *easy;
    struct curl_slist *headers;
    enum k8s_state state;
    struct buf body;
    char rv[64];
    char cont[4096];   /* the next page's continue token, while a list is in pages */
    bool next_page;    /* the request being started is the next page of the list */
    unsigned failures; /* consecutive, for the backoff */
    bool synced;
    bool gone;
    bool broken; /* a line failed to parse: list again */
    uint64_t started_ms;
    struct loop_timer *retry;
    struct log_limit fail_log;
    struct log_limit cap_log;
};

struct k8s {
    struct k8s_config cfg; /* with its own copies of the strings */
    struct k8smap *map;
    struct loop *loop;
    struct curlloop *curl;
    struct watcher w[K8S_KINDS];
    struct retry_rng rng;
    struct k8s_stats stats;
};

struct k8s_step k8s_next_state(enum k8s_state state, enum k8s_event ev,
                               const struct k8s_watch_flags *f)
{
    struct k8s_step s = {.next = K8S_IDLE};

    switch (ev) {
    case K8S_EV_START:
        if (state != K8S_IDLE)
            break;
        s.next = K8S_LISTING;
        return s;
    case K8S_EV_RETRY:
        if (state != K8S_IDLE)
            break;
        /* Watch on from the last version unless it is known to be stale. */
        s.next = f->synced && !f->gone && !f->broken ? K8S_WATCHING : K8S_LISTING;
        return s;
    case K8S_EV_FAILED:
        return s; /* back off, with the caller's reason */
    case K8S_EV_LISTED:
        if (state != K8S_LISTING)
            break;
        s.next = K8S_WATCHING;
        s.synced = true;
        s.clear_failures = true;
        return s;
    case K8S_EV_WATCH_END:
        if (state != K8S_WATCHING)
            break;
        s.relist = f->gone;
        /* A watch that ends at once, again and again, must not become a busy loop. */
        if (f->quick) {
            s.why = f->gone ? "410 Gone right after listing" : "watch ended at once";
            return s;
        }
        if (f->gone || f->broken) {
            s.next = K8S_LISTING;
            return s;
        }
        s.next = K8S_WATCHING;
        s.clear_failures = true;
        return s;
    }
    s.why = "unexpected event";
    return s;
}

int k8s_incluster_url(const char *host, const char *port, char *buf, size_t len)
{
    if (host == NULL || port == NULL || host[0] == '\0' || port[0] == '\0')
        return -1;
    /* An IPv6 service address needs brackets in a URL. */
    snprintf(buf, len, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port);
    return 0;
}

static void start_request(struct watcher *w, enum k8s_state state);
static void step(struct watcher *w, enum k8s_event ev, const char *what);

static bool namespaced(enum k8s_kind kind)
{
    return kind != K8S_NODE;
}

static void build_url(struct watcher *w, bool watch, struct buf *u)
{
    const struct k8s_config *c = &w->k->cfg;
    char *esc;

    buf_append_str(u, c->api_url);
    buf_append_str(u, k8s_kind_group(w->kind));
    if (namespaced(w->kind) && c->namespace_ != NULL) {
        esc = curl_easy_escape(w->easy, c->namespace_, 0);
        buf_printf(u, "/namespaces/%s", esc);
        curl_free(esc);
    }
    /* Lists come in pages: one page's JSON is parsed at a time, so neither memory nor the
     * loop's time grows with the size of the cluster. */
    buf_printf(u, "/%s?limit=%d", k8s_kind_path(w->kind), watch ? 0 : K8S_PAGE_ITEMS);
    if (!watch && w->cont[0] != '\0') {
        esc = curl_easy_escape(w->easy, w->cont, 0);
        buf_printf(u, "&continue=%s", esc);
        curl_free(esc);
    }
    /* Nodes and EndpointSlices are read whole: a selector for the app's objects would hide
     * the zones and endpoints its traffic reaches. */
    if (c->label_selector != NULL && w->kind != K8S_NODE && w->kind != K8S_ENDPOINTSLICE) {
        esc = curl_easy_escape(w->easy, c->label_selector, 0);
        buf_printf(u, "&labelSelector=%s", esc);
        curl_free(esc);
    }
    if (c->field_selector != NULL && w->kind == K8S_POD) {
        esc = curl_easy_escape(w->easy, c->field_selector, 0);
        buf_printf(u, "&fieldSelector=%s", esc);
        curl_free(esc);
    }
    if (watch) {
        esc = curl_easy_escape(w->easy, w->rv, 0);
        buf_printf(u, "&watch=1&allowWatchBookmarks=true&timeoutSeconds=%d&resourceVersion=%s",
                   WATCH_SECONDS, esc);
        curl_free(esc);
    }
}

/* Reads the service-account token now, so a rotated one is picked up. Returns 0, or -1 with
 * the reason in why. */
static int auth_header(struct watcher *w, char *why, size_t whylen)
{
    char token[8192], header[8300];
    FILE *f = fopen(w->k->cfg.token_file, "r");
    size_t n;

    curl_slist_free_all(w->headers);
    w->headers = NULL;
    if (f == NULL) {
        snprintf(why, whylen, "token %s: %s", w->k->cfg.token_file, strerror(errno));
        return -1;
    }
    n = fread(token, 1, sizeof(token) - 1, f);
    fclose(f);
    while (n > 0 && (token[n - 1] == '\n' || token[n - 1] == '\r' || token[n - 1] == ' '))
        n--;
    token[n] = '\0';
    snprintf(header, sizeof(header), "Authorization: Bearer %s", token);
    w->headers = curl_slist_append(NULL, header);
    w->headers = curl_slist_append(w->headers, "Accept: application/json");
    return 0;
}

/* Applies every complete line of a watch stream; keeps a partial line for later. */
static void consume_lines(struct watcher *w)
{
    char *start = w->body.data, *nl;
    size_t left = w->body.len;

    while (left > 0 && (nl = memchr(start, '\n', left)) != NULL) {
        size_t len = (size_t)(nl - start);

        if (len > 0) {
            enum k8s_result r =
                k8smap_apply_event(w->k->map, w->kind, start, len, w->rv, sizeof(w->rv));

            w->k->stats.events++;
            if (r == K8S_GONE)
                w->gone = true;
            else if (r == K8S_BAD)
                w->broken = true;
        }
        left -= len + 1;
        start = nl + 1;
    }
    memmove(w->body.data, start, left);
    w->body.len = left;
    w->body.data[left] = '\0';
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *userp)
{
    struct watcher *w = userp;
    size_t n = size * nmemb;

    if (buf_append(&w->body, data, n) == -1) {
        log_warnx_limited(&w->cap_log, loop_now_ms(), LOG_EVERY_MS,
                          "Kubernetes %s: answer over its size cap", k8s_kind_path(w->kind));
        return 0; /* aborts the transfer */
    }
    if (w->state == K8S_WATCHING)
        consume_lines(w);
    return n;
}

static void on_retry(void *arg)
{
    step(arg, K8S_EV_RETRY, NULL);
}

/* Counts an error and arms the retry timer; the wait grows with consecutive failures. */
static void back_off(struct watcher *w, const char *what)
{
    uint64_t wait = retry_backoff_ms(++w->failures, K8S_BACKOFF_BASE_MS, K8S_BACKOFF_MAX_MS,
                                     retry_rand01(&w->k->rng), 0);

    w->k->stats.errors++;
    log_warnx_limited(&w->fail_log, loop_now_ms(), LOG_EVERY_MS,
                      "Kubernetes %s: %s; retrying in %.1fs", k8s_kind_path(w->kind), what,
                      (double)wait / 1000.0);
    w->state = K8S_IDLE;
    loop_timer_arm(w->retry, wait);
}

/* Feeds ev to the state machine and carries out its step. start_request calls back here only
 * with K8S_EV_FAILED, which always leads to K8S_IDLE (a timer, not a request), so the
 * recursion is at most two deep. */
// NOLINTNEXTLINE(misc-no-recursion)
static void step(struct watcher *w, enum k8s_event ev, const char *what)
{
    struct k8s_watch_flags f = {
        .synced = w->synced,
        .gone = w->gone,
        .broken = w->broken,
        .quick = loop_now_ms() - w->started_ms < K8S_QUICK_END_MS,
    };
    struct k8s_step s;

    /* A list that failed part-way holds one page's resourceVersion, not the list's: list
     * again rather than watch from it. */
    if (ev == K8S_EV_FAILED && w->state == K8S_LISTING)
        f.broken = w->broken = true;
    s = k8s_next_state(w->state, ev, &f);
    if (s.relist)
        w->k->stats.relists++;
    if (s.synced)
        w->synced = true;
    if (s.clear_failures)
        w->failures = 0;
    if (s.next == K8S_IDLE)
        back_off(w, s.why != NULL ? s.why : what);
    else
        start_request(w, s.next);
}

static void on_done(void *arg, CURL *easy, CURLcode rc)
{
    struct watcher *w = arg;
    long status = 0;
    char what[128];

    if (rc == CURLE_OK)
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    /* A 410 on the request itself also means "list again". */
    if (rc != CURLE_OK || (status != 200 && status != 410)) {
        if (rc != CURLE_OK)
            snprintf(what, sizeof(what), "%s", curl_easy_strerror(rc));
        else
            snprintf(what, sizeof(what), "HTTP %ld", status);
        step(w, K8S_EV_FAILED, what);
        return;
    }
    if (status == 410 && w->state == K8S_LISTING && w->cont[0] != '\0') {
        /* The continue token expired between pages: the list starts over at once. */
        w->k->stats.relists++;
        start_request(w, K8S_LISTING);
        return;
    }
    if (status == 410)
        w->gone = true;
    if (w->state != K8S_LISTING) {
        step(w, K8S_EV_WATCH_END, NULL);
        return;
    }
    if (k8smap_apply_list(w->k->map, w->kind, w->body.data ? w->body.data : "", w->body.len,
                          w->cont[0] == '\0', w->rv, sizeof(w->rv), w->cont,
                          sizeof(w->cont)) != K8S_OK) {
        w->cont[0] = '\0';
        step(w, K8S_EV_FAILED, "malformed list");
    } else if (w->cont[0] != '\0') {
        w->next_page = true;
        start_request(w, K8S_LISTING);
    } else {
        step(w, K8S_EV_LISTED, NULL);
    }
}

// NOLINTNEXTLINE(misc-no-recursion)
static void start_request(struct watcher *w, enum k8s_state state)
{
    struct buf url;
    char why[512];

    bool next_page = w->next_page;

    w->state = state;
    w->started_ms = loop_now_ms();
    w->gone = false;
    w->broken = false;
    /* A list starts from its first page, unless this is its next one. */
    w->next_page = false;
    if (!next_page)
        w->cont[0] = '\0';
    buf_reset(&w->body);
    buf_init(&url, 16384);
    build_url(w, state == K8S_WATCHING, &url);
    if (auth_header(w, why, sizeof(why)) == -1) {
        buf_free(&url);
        step(w, K8S_EV_FAILED, why);
        return;
    }
    curl_easy_setopt(w->easy, CURLOPT_URL, url.data);
    buf_free(&url);
    curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, w->headers);
    curl_easy_setopt(w->easy, CURLOPT_TIMEOUT_MS,
                     state == K8S_WATCHING ? (long)(WATCH_SECONDS + 30) * 1000 : 60000L);
    w->body.max_bytes = state == K8S_WATCHING ? LINE_MAX_BYTES : LIST_MAX_BYTES;
    if (state == K8S_WATCHING)
        w->k->stats.watches++;
    else
        w->k->stats.list_pages++;
    if (state == K8S_LISTING && !next_page)
        w->k->stats.lists++;
    if (curlloop_add(w->k->curl, w->easy, on_done, w) == -1)
        step(w, K8S_EV_FAILED, "cannot start a request");
}

/* Different for every start, so clients started together do not retry in step. */
static uint64_t seed_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void free_config(struct k8s_config *c)
{
    free((char *)(uintptr_t)c->api_url);
    free((char *)(uintptr_t)c->token_file);
    free((char *)(uintptr_t)c->ca_file);
    free((char *)(uintptr_t)c->namespace_);
    free((char *)(uintptr_t)c->label_selector);
    free((char *)(uintptr_t)c->field_selector);
}

struct k8s *k8s_start(const struct k8s_config *cfg, struct k8smap *map, struct loop *loop,
                      char *errbuf, size_t errlen)
{
    struct k8s *k = xcalloc(1, sizeof(*k));

    k->cfg.api_url = xstrdup(cfg->api_url);
    k->cfg.token_file = xstrdup(cfg->token_file);
    k->cfg.ca_file = cfg->ca_file ? xstrdup(cfg->ca_file) : NULL;
    k->cfg.namespace_ = cfg->namespace_ ? xstrdup(cfg->namespace_) : NULL;
    k->cfg.label_selector = cfg->label_selector ? xstrdup(cfg->label_selector) : NULL;
    k->cfg.field_selector = cfg->field_selector ? xstrdup(cfg->field_selector) : NULL;
    k->map = map;
    k->loop = loop;
    retry_rng_seed(&k->rng, seed_now());
    k->curl = curlloop_new(loop);
    if (k->curl == NULL) {
        snprintf(errbuf, errlen, "Kubernetes: cannot initialise libcurl");
        free_config(&k->cfg);
        free(k);
        return NULL;
    }
    for (int i = 0; i < K8S_KINDS; i++) {
        struct watcher *w = &k->w[i];

        w->k = k;
        w->kind = (enum k8s_kind)i;
        w->easy = curl_easy_init();
        buf_init(&w->body, LIST_MAX_BYTES);
        w->retry = loop_timer_new(loop, on_retry, w);
        curl_easy_setopt(w->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(w->easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
        curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w);
        curl_easy_setopt(w->easy, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(w->easy, CURLOPT_ACCEPT_ENCODING, "");
        if (cfg->ca_file != NULL)
            curl_easy_setopt(w->easy, CURLOPT_CAINFO, cfg->ca_file);
        w->state = K8S_IDLE;
        step(w, K8S_EV_START, NULL);
    }
    return k;
}

void k8s_stop(struct k8s *k)
{
    if (k == NULL)
        return;
    curlloop_free(k->curl);
    for (int i = 0; i < K8S_KINDS; i++) {
        loop_timer_free(k->w[i].retry);
        curl_easy_cleanup(k->w[i].easy);
        curl_slist_free_all(k->w[i].headers);
        buf_free(&k->w[i].body);
    }
    free_config(&k->cfg);
    free(k);
}

bool k8s_synced(const struct k8s *k)
{
    for (int i = 0; i < K8S_KINDS; i++)
        if (!k->w[i].synced)
            return false;
    return true;
}

int k8s_wait_synced(struct k8s *k, uint64_t timeout_ms, const bool *stop)
{
    uint64_t deadline = loop_now_ms() + timeout_ms;

    while (!k8s_synced(k) && loop_now_ms() < deadline && (stop == NULL || !*stop))
        loop_run_once(k->loop, 100);
    return k8s_synced(k) ? 0 : -1;
}

void k8s_get_stats(const struct k8s *k, struct k8s_stats *out)
{
    *out = k->stats;
    out->objects = k8smap_size(k->map);
    out->dropped = k8smap_dropped(k->map);
}
