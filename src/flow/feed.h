/* Links a capture to the meter: live frames as the ring hands them over, a file in batches,
 * and the DNS messages a file kept to the names. */
#ifndef NSTATS_FEED_H
#define NSTATS_FEED_H

#include <stdbool.h>
#include <stddef.h>

#include "capture/capture.h"
#include "flow/meter.h"
#include "flow/nattable.h"
#include "names/names.h"

struct feed;

/* cap and meter (and names, which may be NULL) must outlive the feed. With names, a file's
 * DNS queries and answers are kept and passed to them (call before the first read). */
struct feed *feed_new(struct capture *cap, struct meter *meter, struct names *names);
void feed_free(struct feed *f);

/* Live: counts every frame the kernel has handed over. Returns 0, or -1 with the reason in
 * errbuf when the capture fails; after that the feed reads nothing more. */
int feed_drain(struct feed *f, char *errbuf, size_t errlen);
/* Live, at shutdown: frames captured before now may still sit in a ring block the kernel has
 * not handed over; waits out CAPTURE_HANDOVER_MS, counting them as they come. */
int feed_drain_handed_over(struct feed *f, char *errbuf, size_t errlen);
/* Live: packets of connections t translates are counted for their true ends (t may be NULL;
 * it must outlive the feed). */
void feed_set_nat(struct feed *f, struct nattable *t);
/* True once the capture has failed. */
bool feed_broken(const struct feed *f);
/* Live: the capture was opened again (capture_reopen_live); reads it from now on. */
void feed_resume(struct feed *f);

/* File: counts the next batch of packets. Returns 1 while more may follow, 0 at the end of
 * the file, or -1 with the reason in errbuf (everything before it was counted). */
int feed_file_batch(struct feed *f, char *errbuf, size_t errlen);
/* File, stopped early: counts what was already read (from a pipe it cannot be read again). */
void feed_file_rest(struct feed *f);

#endif
