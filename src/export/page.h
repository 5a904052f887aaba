/* The live page at / and its assets under /assets/: static files compiled into the binary. */
#ifndef NSTATS_PAGE_H
#define NSTATS_PAGE_H

#include <stdbool.h>

#include "io/httpd.h"

/* The Content-Security-Policy the page is served with: nothing from another host, no inline
 * script or style. */
#define PAGE_CSP                                                                                   \
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "              \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "                 \
    "frame-ancestors 'none'"

/* Answers "/" (the page) and "/assets/NAME" (its script, style, icon and Chart.js) into
 * reply, and returns true; returns false, reply untouched, for any other path. Pure: the
 * assets are constant. */
bool page_handle(const char *path, struct httpd_reply *reply);

#endif
