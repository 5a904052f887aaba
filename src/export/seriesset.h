/* The series a push encoder wrote in the previous interval and in the current one, by identity
 * (a keyed 64-bit hash of the series' name and labels): which series are new, which went on,
 * and which ended, so remote write can mark them stale and OTLP can close them. */
#ifndef NSTATS_SERIESSET_H
#define NSTATS_SERIESSET_H

#include <stddef.h>
#include <stdint.h>

struct seriesset;

enum seriesset_seen {
    SERIESSET_NEW,      /* not in the previous interval */
    SERIESSET_WENT_ON,  /* in the previous interval too */
    SERIESSET_REPEATED, /* already recorded in this interval: the caller drops it */
};

/* Memory grows with the series of two intervals, up to max_bytes of kept data each. */
struct seriesset *seriesset_new(size_t max_bytes);
void seriesset_free(struct seriesset *s);

/* The identity of the series whose name and labels are the a_len bytes at a and the b_len bytes
 * at b (either may be empty). Keyed per set, so label values from the network cannot be chosen
 * to collide. */
uint64_t seriesset_hash(const struct seriesset *s, const void *a, size_t a_len, const void *b,
                        size_t b_len);
/* Records a series of the current interval with what the encoder keeps for it: len bytes at
 * data (copied) and *aux. A series that went on keeps the previous interval's aux, which is
 * returned in *aux. Returns an enum seriesset_seen, or -1 if max_bytes would be passed. */
int seriesset_add(struct seriesset *s, uint64_t id, const void *data, size_t len, uint64_t *aux);

/* The series of the previous interval not recorded in the current one, in the order they were
 * recorded: start with *cursor = 0, call until it returns 0. Data stays valid until
 * seriesset_next_interval or seriesset_drop_current. */
int seriesset_next_ended(struct seriesset *s, size_t *cursor, const char **data, size_t *len,
                         uint64_t *aux);
/* The data the previous interval recorded for id: 1 with *data and *len set, or 0 if it had
 * no such series. Valid as seriesset_next_ended's. */
int seriesset_previous(const struct seriesset *s, uint64_t id, const char **data, size_t *len);
/* The current interval becomes the previous one, and a new one starts empty. */
void seriesset_next_interval(struct seriesset *s);
/* Forgets the current interval (its push failed): the next is compared with the previous. */
void seriesset_drop_current(struct seriesset *s);

#endif
