/* gzip compression of request bodies (zlib). */
#ifndef NSTATS_GZIP_H
#define NSTATS_GZIP_H

#include <stddef.h>

#include "base/buf.h"

/* Appends the gzip form of len bytes at data to out. Returns 0, or -1 if zlib fails or out's
 * cap is reached. */
int gzip_compress(const void *data, size_t len, struct buf *out);

#endif
