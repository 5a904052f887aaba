/* Prometheus text exposition (format 0.0.4) rendering. Escaping happens here and nowhere else. */
#ifndef NSTATS_PROM_H
#define NSTATS_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "export/series.h"

/* "# HELP name help\n# TYPE name type\n"; help text escapes '\' and newline. */
int prom_family(struct buf *b, const char *name, const char *type, const char *help);
/* name{l1="v1",...} value\n, label values escaped ('\', '"', newline). n may be 0. */
int prom_sample_u64(struct buf *b, const char *name, const struct prom_label *labels, size_t n,
                    uint64_t value);
int prom_sample_double(struct buf *b, const char *name, const struct prom_label *labels, size_t n,
                       double value);
/* Appends a label value escaped for the exposition format. */
int prom_escape_label_value(struct buf *b, const char *value);

/* Labels escaped once and written under several names and values: the flow families write
 * each key's labels four times. Appends ',name="value"' to labels, value escaped unless
 * value_is_plain (the caller knows it needs none: digits, addresses). An empty value is not
 * written: Prometheus reads it as absent. */
int prom_labels_add(struct buf *labels, const char *name, const char *value, bool value_is_plain);
/* name{first<labels>} value\n in one append; first is a label written out ("direction=\"in\"")
 * and labels what prom_labels_add made. */
int prom_sample_labels(struct buf *b, const char *name, const char *first, const char *labels,
                       size_t labels_len, uint64_t value);

#endif
