/* URL helpers shared by everything that prints a URL a person may read. */
#ifndef NSTATS_URL_H
#define NSTATS_URL_H

#include <stddef.h>

/* Copies url into out (always terminated) with any user:password@ of its authority replaced
 * by mask ("" drops it). Strings without "://" are copied as they are. Pure. */
void url_redact(const char *url, const char *mask, char *out, size_t len);

#endif
