/* InfluxDB line protocol encoder. Escaping happens here and nowhere else. */
#ifndef NSTATS_LINEPROTO_H
#define NSTATS_LINEPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* A line under construction. Errors (the buffer's cap) are sticky; lineproto_end then removes
 * the partial line, so the buffer only ever holds whole lines. */
struct lineproto_line {
    struct buf *b;
    size_t line_start;
    unsigned n_fields;
    int err;
};

void lineproto_begin(struct lineproto_line *l, struct buf *b, const char *measurement);
/* Tags must be added in key order (InfluxDB's advice). An empty key or value omits the tag, since
 * line protocol cannot carry one. */
void lineproto_tag(struct lineproto_line *l, const char *key, const char *value);
/* Faster forms for per-row loops. key must be a string literal that needs no escaping
 * (letters, digits, '_'), so its text is built at compile time; lineproto_tag_plain's value
 * must need none either (an address, a number, a fixed word). */
#define lineproto_tag_lit(l, key, value)                                                           \
    lineproto_put_tag((l), "," key "=", sizeof(key) + 1, (value), true)
#define lineproto_tag_plain(l, key, value)                                                         \
    lineproto_put_tag((l), "," key "=", sizeof(key) + 1, (value), false)
#define lineproto_field_uint_lit(l, key, value)                                                    \
    lineproto_put_uint((l), key "=", sizeof(key), (value))
void lineproto_put_tag(struct lineproto_line *l, const char *key_text, size_t key_len,
                       const char *value, bool escape);
void lineproto_put_uint(struct lineproto_line *l, const char *key_text, size_t key_len,
                        uint64_t value);
/* Appends prepared tags verbatim: text is a run of ",key=value" that lineproto_escape_tag
 * wrote, for tags that repeat on every line of a batch and are escaped once. */
void lineproto_tags_verbatim(struct lineproto_line *l, const char *text, size_t len);
void lineproto_field_int(struct lineproto_line *l, const char *key, int64_t value);
void lineproto_field_uint(struct lineproto_line *l, const char *key, uint64_t value);
void lineproto_field_float(struct lineproto_line *l, const char *key, double value);
void lineproto_field_string(struct lineproto_line *l, const char *key, const char *value);
/* The latest timestamp InfluxDB stores (2262-04-11T23:47:16.854775806Z); line protocol
 * timestamps are signed 64-bit nanoseconds. */
#define LINEPROTO_MAX_TS_NS 9223372036854775806ULL

/* Milliseconds as a line-protocol timestamp, held at LINEPROTO_MAX_TS_NS. */
static inline uint64_t lineproto_ts_ms(uint64_t ms)
{
    return ms > LINEPROTO_MAX_TS_NS / 1000000u ? LINEPROTO_MAX_TS_NS : ms * 1000000u;
}

/* Appends the timestamp (held at LINEPROTO_MAX_TS_NS, so never out of range or negative)
 * and newline. Returns 0, or -1 if the line was dropped: the buffer's cap was reached or no
 * field was added. */
int lineproto_end(struct lineproto_line *l, uint64_t ts_ns);

/* Escapers, exposed for tests and fuzzing. Tag keys, tag values and field keys escape comma,
 * equals sign and space; since line protocol has no escape for newline and a trailing
 * backslash breaks parsers, control characters and backslashes become '_'. */
int lineproto_escape_measurement(struct buf *b, const char *s);
/* String field values: quoted, with '"' and '\' escaped; newlines also become '_'. */
int lineproto_escape_string(struct buf *b, const char *s);
/* Appends ",key=value" escaped, or nothing if key or value is empty or value is NULL;
 * returns 0 or -1 (cap). */
int lineproto_escape_tag(struct buf *b, const char *key, const char *value);

#endif
