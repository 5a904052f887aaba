/* The user's prices per traffic class (--price CLASS[:in|:out]=USD_PER_GB). nstats builds in
 * no price: cloud prices change and differ by provider, region and contract. */
#ifndef NSTATS_PRICES_H
#define NSTATS_PRICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRICES_MAX 64
#define PRICE_CLASS_MAX 64

enum price_direction { PRICE_BOTH, PRICE_IN, PRICE_OUT };

struct price {
    char class_[PRICE_CLASS_MAX];
    enum price_direction dir;
    double usd_per_gb; /* per 10^9 bytes, as clouds bill */
};

struct prices {
    struct price p[PRICES_MAX];
    size_t n;
};

/* Parses "cross-zone=0.01", "internet:out=0.09". Pure. Returns 0, or -1 with a reason. */
int prices_parse_entry(const char *spec, struct price *out, char *errbuf, size_t errlen);
/* Adds one entry; a later entry for the same class and direction replaces the earlier one. */
int prices_add(struct prices *ps, const char *spec, char *errbuf, size_t errlen);
/* USD per 10^9 bytes of class in one direction (in: false, out: true); 0 when unpriced. */
double prices_get(const struct prices *ps, const char *class_, bool out);
/* What bytes_in and bytes_out of class cost, in USD. */
double prices_cost(const struct prices *ps, const char *class_, uint64_t bytes_in,
                   uint64_t bytes_out);

#endif
