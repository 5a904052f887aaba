/* A series' labels as protobuf messages, in name order: remote write's Label and OTLP's
 * KeyValue with a string value. The order makes the same labels the same bytes, which is the
 * series' identity for staleness. */
#ifndef NSTATS_PBLABELS_H
#define NSTATS_PBLABELS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "export/series.h"

enum pblabels_form {
    PBLABELS_PROM, /* Label { string name = 1; string value = 2; } */
    PBLABELS_OTLP, /* KeyValue { string key = 1; AnyValue value = 2 { string_value = 1 } } */
};

/* Writes labels as repeated field number field of the enclosing message, with scratch room for
 * sorting. Names are the caller's identifiers (ASCII); values are any bytes, sent as UTF-8. */
struct pblabels {
    enum pblabels_form form;
    uint32_t field;
    const struct prom_label **sorted;
    size_t cap;
};

void pblabels_init(struct pblabels *s, enum pblabels_form form, uint32_t field);
void pblabels_free(struct pblabels *s);

/* Appends labels (any order) and extras (n_extras of them, sorted by name, values non-empty) to
 * b merged in name order (bytewise). Left out: empty values, empty names, names an extra has,
 * and repeats of a name (the first stays). Returns 0, or -1 if b's cap was reached. */
int pblabels_put(struct pblabels *s, struct buf *b, const struct prom_label *labels, size_t n,
                 const struct prom_label *extras, size_t n_extras);
/* Appends labels to b as pblabels_put would without extras, also leaving out the names in
 * reserved (NULL-terminated): the prepared form of a key that pblabels_merge writes. */
int pblabels_prepare(struct pblabels *s, struct buf *b, const struct prom_label *labels, size_t n,
                     const char *const *reserved);
/* Appends the len bytes of prepared labels with extras (sorted, names among those reserved
 * when preparing) merged in name order. Returns 0, or -1 if b's cap was reached or prepared
 * is not what pblabels_prepare wrote. */
int pblabels_merge(const struct pblabels *s, struct buf *b, const char *prepared, size_t len,
                   const struct prom_label *extras, size_t n_extras);

#endif
