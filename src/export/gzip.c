/* gzip via zlib's deflate with a gzip header (windowBits 15 + 16). */
#include "gzip.h"

#include <stdint.h>
#include <zlib.h>

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
