/* Strict value parsers: reject empty strings, signs, trailing junk and overflow. */
#include "parse.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int parse_digits(const char *s, const char **end, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = s;

    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');

        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *end = p;
    *out = v;
    return 0;
}

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *errbuf,
              unsigned errlen)
{
    const char *end;
    uint64_t v;

    if (parse_digits(s, &end, &v) == -1 || *end != '\0') {
        snprintf(errbuf, errlen, "'%s' is not a non-negative integer", s);
        return -1;
    }
    if (v < min || v > max) {
        snprintf(errbuf, errlen, "%s is out of range [%llu, %llu]", s, (unsigned long long)min,
                 (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

struct unit {
    const char *name;
    uint64_t factor;
};

static int parse_with_units(const char *s, const struct unit *units, uint64_t default_factor,
                            uint64_t *out)
{
    const char *end;
    uint64_t v, factor = 0;

    if (parse_digits(s, &end, &v) == -1)
        return -1;
    if (*end == '\0') {
        factor = default_factor;
    } else {
        for (const struct unit *u = units; u->name != NULL; u++) {
            if (strcmp(end, u->name) == 0) {
                factor = u->factor;
                break;
            }
        }
    }
    if (factor == 0 || (v != 0 && v > UINT64_MAX / factor))
        return -1;
    *out = v * factor;
    return 0;
}

int parse_duration_ms(const char *s, uint64_t *out_ms, char *errbuf, unsigned errlen)
{
    static const struct unit units[] = {{"ms", 1},      {"s", 1000},     {"m", 60000},
                                        {"h", 3600000}, {"d", 86400000}, {NULL, 0}};

    if (parse_with_units(s, units, 1000, out_ms) == -1) {
        snprintf(errbuf, errlen, "'%s' is not a duration (e.g. 500ms, 10s, 5m, 1h)", s);
        return -1;
    }
    return 0;
}

int parse_size_bytes(const char *s, uint64_t *out, char *errbuf, unsigned errlen)
{
    static const struct unit units[] = {{"k", 1ULL << 10}, {"K", 1ULL << 10}, {"KiB", 1ULL << 10},
                                        {"m", 1ULL << 20}, {"M", 1ULL << 20}, {"MiB", 1ULL << 20},
                                        {"g", 1ULL << 30}, {"G", 1ULL << 30}, {"GiB", 1ULL << 30},
                                        {"B", 1},          {NULL, 0}};

    if (parse_with_units(s, units, 1, out) == -1) {
        snprintf(errbuf, errlen, "'%s' is not a size (e.g. 4096, 64KiB, 4MiB)", s);
        return -1;
    }
    return 0;
}

int parse_bool(const char *s, bool *out, char *errbuf, unsigned errlen)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};

    for (unsigned i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    snprintf(errbuf, errlen, "'%s' is not a boolean (true/false)", s);
    return -1;
}

/* The largest unit of units (largest first) that divides v exactly; the last one always does. */
static const char *format_with_units(uint64_t v, const struct unit *units, char *buf, size_t len)
{
    const struct unit *u = units;

    while (u[1].name != NULL && (v == 0 || v % u->factor != 0))
        u++;
    snprintf(buf, len, "%llu%s", (unsigned long long)(v / u->factor), u->name);
    return buf;
}

const char *parse_format_duration_ms(uint64_t ms, char *buf, size_t len)
{
    static const struct unit units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000},
                                        {"s", 1000},     {"ms", 1},      {NULL, 0}};

    if (ms == 0) {
        snprintf(buf, len, "0s");
        return buf;
    }
    return format_with_units(ms, units, buf, len);
}

const char *parse_format_size_bytes(uint64_t bytes, char *buf, size_t len)
{
    static const struct unit units[] = {
        {"GiB", 1ULL << 30}, {"MiB", 1ULL << 20}, {"KiB", 1ULL << 10}, {"", 1}, {NULL, 0}};

    return format_with_units(bytes, units, buf, len);
}
