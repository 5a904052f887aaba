/* Prices: a short table, searched linearly (a handful of classes). */
#include "prices.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"

int prices_parse_entry(const char *spec, struct price *out, char *errbuf, size_t errlen)
{
    const char *eq = strrchr(spec, '=');
    size_t class_len;
    char *end;

    memset(out, 0, sizeof(*out));
    if (eq == NULL) {
        snprintf(errbuf, errlen, "want CLASS=USD_PER_GB or CLASS:in|out=USD_PER_GB, got %s", spec);
        return -1;
    }
    class_len = (size_t)(eq - spec);
    /* A direction is a trailing ":in" or ":out"; any other colon is the class's own. */
    if (class_len >= 3 && memcmp(eq - 3, ":in", 3) == 0) {
        out->dir = PRICE_IN;
        class_len -= 3;
    } else if (class_len >= 4 && memcmp(eq - 4, ":out", 4) == 0) {
        out->dir = PRICE_OUT;
        class_len -= 4;
    }
    if (class_len == 0 || class_len >= sizeof(out->class_)) {
        snprintf(errbuf, errlen, "class must be 1 to %zu bytes: %s", sizeof(out->class_) - 1, spec);
        return -1;
    }
    memcpy(out->class_, spec, class_len);
    if (!utf8_valid(out->class_, class_len)) {
        snprintf(errbuf, errlen, "class is not UTF-8: %s", spec);
        return -1;
    }
    out->usd_per_gb = strtod(eq + 1, &end);
    if (eq[1] == '\0' || *end != '\0' || !isfinite(out->usd_per_gb) || out->usd_per_gb < 0) {
        snprintf(errbuf, errlen, "price must be a number of USD per GB, 0 or more: %s", spec);
        return -1;
    }
    return 0;
}

int prices_add(struct prices *ps, const char *spec, char *errbuf, size_t errlen)
{
    struct price p;
    size_t i;

    if (prices_parse_entry(spec, &p, errbuf, errlen) == -1)
        return -1;
    for (i = 0; i < ps->n; i++)
        if (strcmp(ps->p[i].class_, p.class_) == 0 && ps->p[i].dir == p.dir)
            break;
    if (i == PRICES_MAX) {
        snprintf(errbuf, errlen, "more than %d prices", PRICES_MAX);
        return -1;
    }
    ps->p[i] = p;
    if (i == ps->n)
        ps->n++;
    return 0;
}

double prices_get(const struct prices *ps, const char *class_, bool out)
{
    double both = 0;

    for (size_t i = 0; ps != NULL && i < ps->n; i++) {
        if (strcmp(ps->p[i].class_, class_) != 0)
            continue;
        if (ps->p[i].dir == (out ? PRICE_OUT : PRICE_IN))
            return ps->p[i].usd_per_gb; /* a direction's own price beats the class's */
        if (ps->p[i].dir == PRICE_BOTH)
            both = ps->p[i].usd_per_gb;
    }
    return both;
}

double prices_cost(const struct prices *ps, const char *class_, uint64_t bytes_in,
                   uint64_t bytes_out)
{
    return ((double)bytes_in * prices_get(ps, class_, false) +
            (double)bytes_out * prices_get(ps, class_, true)) /
           1e9;
}
