/* Allocation wrappers: an allocation failure is not recoverable for a daemon this small. */
#include "xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t bytes)
{
    fprintf(stderr, "nstats: out of memory allocating %zu bytes\n", bytes);
    abort();
}

void *xcalloc(size_t nmemb, size_t size)
{
    void *p;

    if (nmemb == 0 || size == 0)
        nmemb = size = 1;
    p = calloc(nmemb, size);
    if (p == NULL)
        out_of_memory(nmemb * size);
    return p;
}

void *xreallocarray(void *ptr, size_t nmemb, size_t size)
{
    void *p;

    if (size != 0 && nmemb > SIZE_MAX / size)
        out_of_memory(SIZE_MAX);
    if (nmemb == 0 || size == 0)
        nmemb = size = 1;
    p = realloc(ptr, nmemb * size);
    if (p == NULL)
        out_of_memory(nmemb * size);
    return p;
}

char *xstrdup(const char *s)
{
    size_t len = strlen(s) + 1;
    char *p = xcalloc(1, len);

    memcpy(p, s, len);
    return p;
}
