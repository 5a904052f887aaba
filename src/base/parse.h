/* Strict parsers for option values: the whole string must be valid, nothing is guessed. */
#ifndef NSTATS_PARSE_H
#define NSTATS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
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

/* The inverses, for people: the largest unit that is exact ("5m", "10s", "500ms", "0s"),
 * text parse_duration_ms reads back to the same value. Returns buf. */
const char *parse_format_duration_ms(uint64_t ms, char *buf, size_t len);
/* "4MiB", "64KiB" when exact, else plain bytes; parse_size_bytes reads it back. Returns buf. */
const char *parse_format_size_bytes(uint64_t bytes, char *buf, size_t len);

#endif
