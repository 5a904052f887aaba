/* gzip via zlib's deflate and inflate with a gzip header (windowBits + 16). */
#include "gzip.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "base/xalloc.h"

int gzip_compress(const void *data, size_t len, struct buf *out)
{
    z_stream z = {0};
    unsigned char chunk[16384];
    int rc;

    /* Level 1: most of line protocol's redundancy is found cheaply, and this runs per batch. */
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    z.next_in = (unsigned char *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof(chunk);
        rc = deflate(&z, Z_FINISH);
        if (rc == Z_STREAM_ERROR || buf_append(out, chunk, sizeof(chunk) - z.avail_out) == -1) {
            deflateEnd(&z);
            return -1;
        }
    } while (rc != Z_STREAM_END);
    deflateEnd(&z);
    return 0;
}

struct gzip_stream {
    z_stream z;
    struct buf *out;
};

struct gzip_stream *gzip_stream_new(int window_log, struct buf *out)
{
    struct gzip_stream *g = xcalloc(1, sizeof(*g));

    g->out = out;
    /* memLevel 8 with a small window: about 2^(window_log+2) + 128 KiB while it runs. */
    if (deflateInit2(&g->z, 1, Z_DEFLATED, window_log + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(g);
        return NULL;
    }
    return g;
}

static int deflate_into(struct gzip_stream *g, int flush)
{
    unsigned char chunk[16384];
    int rc;

    do {
        g->z.next_out = chunk;
        g->z.avail_out = sizeof(chunk);
        rc = deflate(&g->z, flush);
        if (rc == Z_STREAM_ERROR || buf_append(g->out, chunk, sizeof(chunk) - g->z.avail_out) == -1)
            return -1;
    } while (g->z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    return 0;
}

int gzip_stream_write(struct gzip_stream *g, const void *data, size_t len)
{
    g->z.next_in = (unsigned char *)(uintptr_t)data;
    g->z.avail_in = (uInt)len;
    return deflate_into(g, Z_NO_FLUSH);
}

int gzip_stream_finish(struct gzip_stream *g)
{
    g->z.next_in = NULL;
    g->z.avail_in = 0;
    return deflate_into(g, Z_FINISH);
}

void gzip_stream_free(struct gzip_stream *g)
{
    if (g == NULL)
        return;
    deflateEnd(&g->z);
    free(g);
}

struct gunzip {
    z_stream z;
    bool ended;
};

struct gunzip *gunzip_new(const void *gz, size_t len, int window_log)
{
    struct gunzip *g = xcalloc(1, sizeof(*g));

    if (inflateInit2(&g->z, window_log + 16) != Z_OK) {
        free(g);
        return NULL;
    }
    g->z.next_in = (unsigned char *)(uintptr_t)gz;
    g->z.avail_in = (uInt)len;
    return g;
}

long gunzip_read(struct gunzip *g, void *out, size_t max)
{
    int rc;

    if (g->ended)
        return 0;
    g->z.next_out = out;
    g->z.avail_out = (uInt)max;
    rc = inflate(&g->z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END)
        g->ended = true;
    else if (rc != Z_OK)
        return -1;
    return (long)(max - g->z.avail_out);
}

void gunzip_free(struct gunzip *g)
{
    if (g == NULL)
        return;
    inflateEnd(&g->z);
    free(g);
}
