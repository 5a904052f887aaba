/* A small HTTP server (libmicrohttpd) driven from the event loop: requests run on the loop's
 * thread, so handlers may read loop-owned state. GET and HEAD only; sizes and idle time capped. */
#ifndef NSTATS_HTTPD_H
#define NSTATS_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "io/loop.h"

struct httpd_reply {
    unsigned status;
    const char *content_type;
    struct buf body; /* the handler appends; the server takes the bytes */
    bool cacheable;  /* the same body may answer other requests for this path for a second */
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

/* Parses a listen address into a sockaddr_storage-sized buffer. Pure. Returns 0 or -1. */
int httpd_parse_listen(const char *listen, void *sockaddr_out, size_t *len_out);

#endif
