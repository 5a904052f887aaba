/* gzip compression (zlib): request bodies whole, pages as a stream, and pages read back. */
#ifndef NSTATS_GZIP_H
#define NSTATS_GZIP_H

#include <stddef.h>

#include "base/buf.h"

/* Appends the gzip form of len bytes at data to out. Returns 0, or -1 if zlib fails or out's
 * cap is reached. */
int gzip_compress(const void *data, size_t len, struct buf *out);

/* A gzip stream appended to out as data is written: the text is never held whole. window_log
 * (9..15) sets the window, and with it what a reader needs to inflate it (2^window_log bytes). */
struct gzip_stream;
struct gzip_stream *gzip_stream_new(int window_log, struct buf *out);
/* Return 0, or -1 if zlib fails or out's cap is reached. */
int gzip_stream_write(struct gzip_stream *g, const void *data, size_t len);
int gzip_stream_finish(struct gzip_stream *g);
void gzip_stream_free(struct gzip_stream *g);

/* Reads the text of len gzip bytes at gz (which must outlive the reader) back in pieces. */
struct gunzip;
struct gunzip *gunzip_new(const void *gz, size_t len, int window_log);
/* Writes up to max bytes of text to out. Returns how many, 0 at the end, -1 if corrupt. */
long gunzip_read(struct gunzip *g, void *out, size_t max);
void gunzip_free(struct gunzip *g);

#endif
