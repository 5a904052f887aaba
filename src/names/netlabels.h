/* Static labels for networks (--label-net CIDR=LABEL): a cost class and a fallback name. */
#ifndef NSTATS_NETLABELS_H
#define NSTATS_NETLABELS_H

#include <stddef.h>

#include "base/netaddr.h"

#define NETLABELS_MAX 1024
#define NETLABEL_MAX 64

struct netlabels {
    struct netprefix prefixes[NETLABELS_MAX];
    char labels[NETLABELS_MAX][NETLABEL_MAX];
    size_t n;
};

void netlabels_init(struct netlabels *l);
/* Parses one "CIDR=LABEL" into prefix and label (NETLABEL_MAX bytes). Pure. Returns 0, or -1
 * with a reason in errbuf. Configuration validates with it; netlabels_add stores with it. */
int netlabels_parse_entry(const char *spec, struct netprefix *prefix, char *label, char *errbuf,
                          size_t errlen);
/* Parses "CIDR=LABEL". Returns 0, or -1 with a reason in errbuf. */
int netlabels_add(struct netlabels *l, const char *spec, char *errbuf, size_t errlen);
/* Reads one CIDR=LABEL per line (blank lines and # comments skipped). Returns 0 or -1. */
int netlabels_load_file(struct netlabels *l, const char *path, char *errbuf, size_t errlen);
/* The label of the longest prefix holding a, or NULL. */
const char *netlabels_find(const struct netlabels *l, const struct netaddr *a);

#endif
