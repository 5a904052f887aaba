/* libcurl's multi interface on our event loop: curl names the sockets to watch and when to
 * call it back (the multi_socket API, as in curl's ephiperfifo.c example). */
#ifndef NSTATS_CURLLOOP_H
#define NSTATS_CURLLOOP_H

#include <curl/curl.h>

#include "io/loop.h"

/* Called once per transfer when it ends; the handle is already removed from the multi. */
typedef void curlloop_done_fn(void *arg, CURL *easy, CURLcode rc);

struct curlloop;

/* The loop must outlive it. Returns NULL if libcurl cannot make a multi handle. */
struct curlloop *curlloop_new(struct loop *loop);
/* Ends every transfer without calling back; the easy handles stay the callers'. */
void curlloop_free(struct curlloop *cl);
/* Starts a configured transfer. Returns 0, or -1 if curl refuses it. */
int curlloop_add(struct curlloop *cl, CURL *easy, curlloop_done_fn *fn, void *arg);

#endif
