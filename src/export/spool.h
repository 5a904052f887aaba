/* The on-disk spool: every pending batch as a file, so a restart loses nothing. */
#ifndef NSTATS_SPOOL_H
#define NSTATS_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Creates dir if missing, checks it is writable and locks it (a second nstats on the same
 * directory is refused, since both would send its batches), then removes the temporary files
 * of writes an earlier run did not finish, counting them in *tmp_removed. Returns the lock's
 * descriptor for spool_release, or -1 with errbuf filled. */
int spool_prepare(const char *dir, unsigned *tmp_removed, char *errbuf, size_t errlen);
/* Unlocks the directory; lock may be -1. */
void spool_release(int lock);
/* Writes a batch durably (temporary file, fsync, rename). Returns the file's path (malloc'd),
 * or NULL with errno set. */
char *spool_write(const char *dir, uint64_t ts_ms, unsigned seq, bool gzipped, const void *body,
                  size_t len);
void spool_remove(const char *path);

typedef void spool_load_fn(void *arg, char *path, char *body, size_t len, bool gzipped,
                           uint64_t ts_ms);
/* Calls fn for every spooled batch in dir, oldest first, handing over path and body
 * (malloc'd). Files over max_bytes or unreadable are skipped with a warning. Returns the
 * number loaded, or -1 with errbuf filled if dir cannot be read. */
int spool_load(const char *dir, size_t max_bytes, spool_load_fn *fn, void *arg, char *errbuf,
               size_t errlen);

#endif
