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
/* How a sink's files end: a plain body's suffix and an encoded (compressed) one's. NULL means
 * InfluxDB's: ".lp" and ".lp.gz". */
struct spool_suffixes {
    const char *plain;
    const char *encoded;
};

/* Writes a batch durably (temporary file, fsync, rename) as TS-SEQ and sfx's suffix. Returns
 * the file's path (malloc'd), or NULL with errno set. */
char *spool_write(const char *dir, const struct spool_suffixes *sfx, uint64_t ts_ms, unsigned seq,
                  bool encoded, const void *body, size_t len);
void spool_remove(const char *path);

typedef void spool_load_fn(void *arg, char *path, char *body, size_t len, bool encoded,
                           uint64_t ts_ms);
/* Calls fn for every spooled batch in dir, oldest first, handing over path and body
 * (malloc'd). Files over max_bytes or unreadable are skipped with a warning. Returns the
 * number loaded, or -1 with errbuf filled if dir cannot be read. */
int spool_load(const char *dir, const struct spool_suffixes *sfx, size_t max_bytes,
               spool_load_fn *fn, void *arg, char *errbuf, size_t errlen);

#endif
