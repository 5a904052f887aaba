/* Line protocol: measurement,tag=v,... field=v,... timestamp\n */
#include "lineproto.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

/* What a byte needs in a name or tag: nothing, a backslash before it, or replacement. */
enum esc { ESC_NONE, ESC_BACKSLASH, ESC_REPLACE };

/* Per-byte actions for the two escaping contexts, filled once on first use. */
static uint8_t esc_measurement[256], esc_key[256];

static void init_tables(void)
{
    static bool done;

    if (done)
        return;
    for (unsigned c = 0; c < 256; c++) {
        uint8_t e = (c < 0x20 || c == 0x7f || c == '\\') ? ESC_REPLACE : ESC_NONE;

        esc_measurement[c] = (c == ',' || c == ' ') ? ESC_BACKSLASH : e;
        esc_key[c] = (c == ',' || c == '=' || c == ' ') ? ESC_BACKSLASH : e;
    }
    done = true;
}

/* Copies s, backslash-escaping the characters in specials and replacing unsafe bytes, in runs:
 * most values (addresses, names) need nothing and go in one append. */
static int escape_with(struct buf *b, const char *s, const uint8_t *table)
{
    const unsigned char *p = (const unsigned char *)s, *run = p;

    init_tables();
    for (; *p != '\0'; p++) {
        enum esc e = (enum esc)table[*p];
        int r;

        if (e == ESC_NONE)
            continue;
        if (p > run && buf_append(b, run, (size_t)(p - run)) == -1)
            return -1;
        if (e == ESC_REPLACE) {
            r = buf_append_char(b, '_');
        } else {
            char esc[2] = {'\\', (char)*p};

            r = buf_append(b, esc, 2);
        }
        if (r == -1)
            return -1;
        run = p + 1;
    }
    return p > run ? buf_append(b, run, (size_t)(p - run)) : 0;
}

/* Decimal digits of v, faster than printf on the export path of 100,000 rows. */
static int append_u64(struct buf *b, uint64_t v)
{
    char digits[20];
    int n = 0;

    do {
        digits[sizeof(digits) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return buf_append(b, digits + sizeof(digits) - n, (size_t)n);
}

int lineproto_escape_measurement(struct buf *b, const char *s)
{
    return escape_with(b, s, esc_measurement);
}

int lineproto_escape_key(struct buf *b, const char *s)
{
    return escape_with(b, s, esc_key);
}

int lineproto_escape_string(struct buf *b, const char *s)
{
    if (buf_append_char(b, '"') == -1)
        return -1;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        int r;

        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};

            r = buf_append(b, esc, 2);
        } else if (*p == '\n' || *p == '\r') {
            r = buf_append_char(b, '_');
        } else {
            r = buf_append_char(b, (char)*p);
        }
        if (r == -1)
            return -1;
    }
    return buf_append_char(b, '"');
}

static void check(struct lineproto_line *l, int r)
{
    if (r == -1)
        l->err = -1;
}

void lineproto_begin(struct lineproto_line *l, struct buf *b, const char *measurement)
{
    l->b = b;
    l->line_start = b->len;
    l->n_fields = 0;
    l->err = 0;
    check(l, lineproto_escape_measurement(b, measurement));
}

void lineproto_tag(struct lineproto_line *l, const char *key, const char *value)
{
    if (l->err || key[0] == '\0' || value == NULL || value[0] == '\0')
        return;
    check(l, buf_append_char(l->b, ','));
    check(l, lineproto_escape_key(l->b, key));
    check(l, buf_append_char(l->b, '='));
    check(l, lineproto_escape_key(l->b, value));
}

static void field_key(struct lineproto_line *l, const char *key)
{
    check(l, buf_append_char(l->b, l->n_fields++ == 0 ? ' ' : ','));
    check(l, lineproto_escape_key(l->b, key));
    check(l, buf_append_char(l->b, '='));
}

void lineproto_field_int(struct lineproto_line *l, const char *key, int64_t value)
{
    if (l->err)
        return;
    field_key(l, key);
    if (value < 0) {
        check(l, buf_append_char(l->b, '-'));
        check(l, append_u64(l->b, (uint64_t)0 - (uint64_t)value));
    } else {
        check(l, append_u64(l->b, (uint64_t)value));
    }
    check(l, buf_append_char(l->b, 'i'));
}

void lineproto_field_uint(struct lineproto_line *l, const char *key, uint64_t value)
{
    /* Integer fields are signed 64-bit in InfluxDB 1.x; counters never reach 2^63. */
    lineproto_field_int(l, key, value > INT64_MAX ? INT64_MAX : (int64_t)value);
}

void lineproto_field_float(struct lineproto_line *l, const char *key, double value)
{
    if (l->err)
        return;
    /* NaN and infinities have no line protocol form. */
    if (!isfinite(value))
        value = 0;
    field_key(l, key);
    check(l, buf_printf(l->b, "%.17g", value));
}

void lineproto_field_string(struct lineproto_line *l, const char *key, const char *value)
{
    if (l->err)
        return;
    field_key(l, key);
    check(l, lineproto_escape_string(l->b, value));
}

int lineproto_end(struct lineproto_line *l, uint64_t ts_ns)
{
    if (!l->err && l->n_fields > 0) {
        check(l, buf_append_char(l->b, ' '));
        check(l, append_u64(l->b, ts_ns));
        check(l, buf_append_char(l->b, '\n'));
    }
    if (l->err || l->n_fields == 0) {
        l->b->len = l->line_start;
        if (l->b->data != NULL)
            l->b->data[l->b->len] = '\0';
        return -1;
    }
    return 0;
}
