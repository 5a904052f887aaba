/* Fetching the live API of a running nstats: libcurl's easy interface with short timeouts, so
 * an interactive view is never held up for long by a daemon that went away. */
#ifndef NSTATS_TOP_CLIENT_H
#define NSTATS_TOP_CLIENT_H

#include <stddef.h>

#include "base/buf.h"

struct top_client;

/* target: http://HOST:PORT[/prefix], HOST:PORT, [V6ADDR]:PORT or :PORT (this host). timeout_ms
 * bounds each request, connecting included. Returns NULL with the reason in errbuf. */
struct top_client *top_client_new(const char *target, long timeout_ms, char *errbuf, size_t errlen);
void top_client_free(struct top_client *c);
/* The base URL requests go to (no trailing '/'). */
const char *top_client_base(const struct top_client *c);

/* GETs base + path_query into body (reset first, capped). Returns the HTTP status, or -1 with
 * the reason in errbuf when no answer came (refused, timed out, too large). */
int top_client_get(struct top_client *c, const char *path_query, struct buf *body, char *errbuf,
                   size_t errlen);
/* Appends s to b percent-encoded as a query value. Returns 0, or -1 if b's cap is reached. */
int top_client_escape(struct buf *b, const char *s);

#endif
