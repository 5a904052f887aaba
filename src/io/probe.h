/* A health check that needs no shell or curl binary in the image: one HTTP GET. */
#ifndef NSTATS_PROBE_H
#define NSTATS_PROBE_H

#include <stddef.h>

/* GETs url (http or https, 5 s timeout). Returns 0 for a 2xx answer, else -1; errbuf gets a
 * reason when the request itself failed, and is empty when the server answered otherwise. */
int probe_get(const char *url, char *errbuf, size_t errlen);

#endif
