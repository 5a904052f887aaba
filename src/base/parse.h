/* Strict parsers for option values: the whole string must be valid, nothing is guessed. */
#ifndef NSTATS_PARSE_H
#define NSTATS_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* Decimal integer in [min, max]. Returns 0, or -1 with a reason in errbuf. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *errbuf,
              unsigned errlen);
/* "10s", "500ms", "5m", "1h", "1d"; a bare number means seconds. Result in milliseconds. */
int parse_duration_ms(const char *s, uint64_t *out_ms, char *errbuf, unsigned errlen);
/* "4096", "64k", "4M", "4MiB", "1G" (binary multiples). Result in bytes. */
int parse_size_bytes(const char *s, uint64_t *out, char *errbuf, unsigned errlen);
/* "1/0", "true/false", "yes/no", "on/off". */
int parse_bool(const char *s, bool *out, char *errbuf, unsigned errlen);

#endif
