/* Allocation wrappers that never return NULL: running out of memory aborts. */
#ifndef NSTATS_XALLOC_H
#define NSTATS_XALLOC_H

#include <stddef.h>

/* Zeroed memory for nmemb * size bytes; the product is checked for overflow. */
void *xcalloc(size_t nmemb, size_t size);
/* xcalloc aligned to align (a power of two); free with free(). */
void *xcalloc_aligned(size_t align, size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);

#endif
