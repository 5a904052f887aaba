/* Prometheus text exposition (format 0.0.4) rendering. Escaping happens here and nowhere else. */
#ifndef NSTATS_PROM_H
#define NSTATS_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct prom_label {
    const char *name;
    const char *value;
};

/* "# HELP name help\n# TYPE name type\n"; help text escapes '\' and newline. */
int prom_family(struct buf *b, const char *name, const char *type, const char *help);
/* name{l1="v1",...} value\n, label values escaped ('\', '"', newline). n may be 0. */
int prom_sample_u64(struct buf *b, const char *name, const struct prom_label *labels, size_t n,
                    uint64_t value);
int prom_sample_double(struct buf *b, const char *name, const struct prom_label *labels, size_t n,
                       double value);
/* Appends a label value escaped for the exposition format. */
int prom_escape_label_value(struct buf *b, const char *value);

#endif
