/* What the metrics page writes its series to: the text exposition for a scrape, or an encoder
 * for a push (remote write, OTLP). metrics_render walks the same series for all of them, so
 * every sink carries the same names, labels and values. */
#ifndef NSTATS_SERIES_H
#define NSTATS_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct prom_label {
    const char *name;
    const char *value;
    bool plain; /* the value needs no escaping (digits, addresses): a hint for the text form */
};

enum series_type { SERIES_COUNTER, SERIES_GAUGE };

struct series_writer;

struct series_writer_ops {
    /* A family starts; its samples follow until the next family. name is a static or
     * otherwise long-lived string. */
    int (*family)(struct series_writer *w, const char *name, enum series_type type,
                  const char *help);
    /* A sample of the current family. Labels come in any order; an empty value is absent. */
    int (*sample_u64)(struct series_writer *w, const struct prom_label *labels, size_t n,
                      uint64_t value);
    int (*sample_double)(struct series_writer *w, const struct prom_label *labels, size_t n,
                         double value);
    /* Flow keys carry many labels and are written under several families and directions:
     * key_prepare appends the writer's own form of a key's labels to arena (opaque to the
     * caller), and key_sample writes a sample of the current family with one more label,
     * direction, and those prepared labels. id (id_len bytes, at most 64) names the key for
     * its whole life, whatever names its labels gain meanwhile. */
    int (*key_prepare)(struct series_writer *w, struct buf *arena, const void *id, size_t id_len,
                       const struct prom_label *labels, size_t n);
    int (*key_sample)(struct series_writer *w, const char *direction, const char *prepared,
                      size_t len, uint64_t value);
};

struct series_writer {
    const struct series_writer_ops *ops;
};

/* The Prometheus text exposition (format 0.0.4) into a buffer. */
struct series_text {
    struct series_writer w;
    struct buf *b;
    const char *family; /* the current family's name */
};

void series_text_init(struct series_text *t, struct buf *b);

#endif
