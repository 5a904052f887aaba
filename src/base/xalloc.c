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

void *xcalloc_aligned(size_t align, size_t nmemb, size_t size)
{
    size_t bytes;
    void *p;

    if (size != 0 && nmemb > SIZE_MAX / size)
        out_of_memory(SIZE_MAX);
    bytes = nmemb * size;
    /* aligned_alloc wants a multiple of the alignment. */
    bytes = (bytes + align - 1) / align * align;
    if (bytes == 0)
        bytes = align;
    p = aligned_alloc(align, bytes);
    if (p == NULL)
        out_of_memory(bytes);
    memset(p, 0, bytes);
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
