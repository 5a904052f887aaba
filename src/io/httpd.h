/* A small HTTP server (libmicrohttpd) driven from the event loop: requests run on the loop's
 * thread, so handlers may read loop-owned state. GET and HEAD only. Bounded by construction:
 * connections per address and in all, the time a request may take, and response memory
 * (a page is held once, gzip-compressed, however many clients read it). */
#ifndef NSTATS_HTTPD_H
#define NSTATS_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "io/loop.h"

/* Past this many connections, each new one closes the oldest one still sending its request
 * (else the oldest one): a flood of slow clients cannot lock others out. There is no limit
 * per address: behind a port-forward or a proxy every client shares one. */
#define HTTPD_SOFT_LIMIT 512
/* A request's headers must be in this long after the connection opened (or its last answer);
 * its whole answer must be read within the second. */
#define HTTPD_HEADER_DEADLINE_MS 5000
#define HTTPD_REQUEST_DEADLINE_MS 60000
/* Uncompressed answers of a long page streamed at once; more get 503 and Retry-After. */
#define HTTPD_PLAIN_STREAMS 16

struct httpd_reply {
    const char *query; /* in: the request's query string as sent ("" if none) */
    unsigned status;
    const char *content_type; /* a string that outlives the server */
    /* A Content-Security-Policy header for the answer, or NULL for none; a string that
     * outlives the server. */
    const char *csp;
    /* The handler appends; the server takes the bytes, passing long text on in slices as it
     * is written, so a handler must not rewrite what it appended. */
    struct buf body;
    bool cacheable; /* the same body may answer other requests for this path for a second */
    bool failed;    /* the body could not be made whole: the server answers 500 */
};

struct httpd_stats {
    uint64_t accepted;      /* connections */
    uint64_t open;          /* now */
    uint64_t evicted;       /* closed for a newer one past HTTPD_SOFT_LIMIT */
    uint64_t timed_out;     /* closed past a deadline */
    uint64_t busy;          /* answered 503: too many uncompressed answers at once */
    uint64_t plain_streams; /* uncompressed answers being streamed now */
};

/* Fills reply for path. Called on the loop thread. */
typedef void httpd_handler_fn(void *arg, const char *path, struct httpd_reply *reply);

struct httpd;

/* Listens on "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" (all addresses). Returns NULL with a
 * one-line reason in errbuf. The loop must outlive the server. */
struct httpd *httpd_start(const char *listen, struct loop *loop, httpd_handler_fn *handler,
                          void *arg, char *errbuf, size_t errlen);
void httpd_stop(struct httpd *h);
/* The port actually bound (useful with port 0). */
unsigned httpd_port(const struct httpd *h);
void httpd_get_stats(const struct httpd *h, struct httpd_stats *out);

/* True if an Accept-Encoding value accepts gzip (q > 0 for gzip, or for * when gzip is not
 * named). Pure. */
bool httpd_accepts_gzip(const char *accept_encoding);

/* Parses a listen address into a sockaddr_storage-sized buffer. Pure. Returns 0 or -1. */
int httpd_parse_listen(const char *listen, void *sockaddr_out, size_t *len_out);

#endif
