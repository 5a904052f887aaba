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

/* Writes the n bytes of s escaped per table into w, which has room for 2 * n bytes. Returns
 * the end of what it wrote. Runs that need nothing, which is nearly everything, are copied
 * whole. */
static char *escape_into(char *w, const char *s, size_t n, const uint8_t *table)
{
    size_t i = 0;

    for (;;) {
        size_t run = i;

        while (run < n && table[(unsigned char)s[run]] == ESC_NONE)
            run++;
        memcpy(w, s + i, run - i);
        w += run - i;
        if (run == n)
            return w;
        if (table[(unsigned char)s[run]] == ESC_BACKSLASH) {
            *w++ = '\\';
            *w++ = s[run];
        } else {
            *w++ = '_';
        }
        i = run + 1;
    }
}

/* Appends s escaped per table, reserving the worst case once. */
static int escape_with(struct buf *b, const char *s, const uint8_t *table)
{
    size_t n = strlen(s);
    char *w;

    init_tables();
    w = buf_space(b, 2 * n);
    return buf_commit(b, (size_t)(escape_into(w, s, n, table) - w));
}

/* Decimal digits of v at w (room for 20), two at a time. Returns the end. */
static char *put_u64(char *w, uint64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930"
                                "31323334353637383940414243444546474849505152535455565758596061"
                                "62636465666768697071727374757677787980818283848586878889909192"
                                "93949596979899";
    char digits[20], *p = digits + sizeof(digits);

    while (v >= 100) {
        p -= 2;
        memcpy(p, pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, pairs + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    memcpy(w, p, (size_t)(digits + sizeof(digits) - p));
    return w + (digits + sizeof(digits) - p);
}

int lineproto_escape_measurement(struct buf *b, const char *s)
{
    return escape_with(b, s, esc_measurement);
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
    init_tables();
    l->b = b;
    l->line_start = b->len;
    l->n_fields = 0;
    l->err = 0;
    check(l, lineproto_escape_measurement(b, measurement));
}

void lineproto_tag(struct lineproto_line *l, const char *key, const char *value)
{
    if (!l->err && value != NULL)
        check(l, lineproto_escape_tag(l->b, key, value));
}

int lineproto_escape_tag(struct buf *b, const char *key, const char *value)
{
    size_t kn = strlen(key), vn = value != NULL ? strlen(value) : 0;
    char *start, *w;

    if (kn == 0 || vn == 0)
        return 0;
    init_tables();
    start = w = buf_space(b, 2 + 2 * (kn + vn));
    *w++ = ',';
    w = escape_into(w, key, kn, esc_key);
    *w++ = '=';
    w = escape_into(w, value, vn, esc_key);
    return buf_commit(b, (size_t)(w - start));
}

void lineproto_put_tag(struct lineproto_line *l, const char *key_text, size_t key_len,
                       const char *value, bool escape)
{
    size_t vn;
    char *start, *w;

    if (l->err || value == NULL || value[0] == '\0')
        return;
    vn = strlen(value);
    start = w = buf_space(l->b, key_len + (escape ? 2 * vn : vn));
    memcpy(w, key_text, key_len);
    w += key_len;
    if (escape) {
        w = escape_into(w, value, vn, esc_key);
    } else {
        memcpy(w, value, vn);
        w += vn;
    }
    check(l, buf_commit(l->b, (size_t)(w - start)));
}

void lineproto_tags_verbatim(struct lineproto_line *l, const char *text, size_t len)
{
    if (!l->err)
        check(l, buf_append(l->b, text, len));
}

/* Appends a field's separator, escaped key and '='. Returns the buffer's end, with room for
 * value_max more bytes, or NULL (the line's error is set). */
static char *field_key(struct lineproto_line *l, const char *key, size_t value_max)
{
    size_t kn = strlen(key);
    char *start = buf_space(l->b, 2 + 2 * kn + value_max), *w = start;

    *w++ = l->n_fields++ == 0 ? ' ' : ',';
    w = escape_into(w, key, kn, esc_key);
    *w++ = '=';
    if (buf_commit(l->b, (size_t)(w - start)) == -1) {
        l->err = -1;
        return NULL;
    }
    return w;
}

/* Writes a signed integer value and its 'i' at w (room for 22). Returns the end. */
static char *put_int(char *w, int64_t value)
{
    if (value < 0) {
        *w++ = '-';
        w = put_u64(w, (uint64_t)0 - (uint64_t)value);
    } else {
        w = put_u64(w, (uint64_t)value);
    }
    *w++ = 'i';
    return w;
}

void lineproto_field_int(struct lineproto_line *l, const char *key, int64_t value)
{
    char *start;

    if (l->err || (start = field_key(l, key, 22)) == NULL)
        return;
    check(l, buf_commit(l->b, (size_t)(put_int(start, value) - start)));
}

/* Integer fields are signed 64-bit in InfluxDB 1.x; counters never reach 2^63. */
static int64_t clamp_uint(uint64_t value)
{
    return value > INT64_MAX ? INT64_MAX : (int64_t)value;
}

void lineproto_put_uint(struct lineproto_line *l, const char *key_text, size_t key_len,
                        uint64_t value)
{
    char *start, *w;

    if (l->err)
        return;
    start = w = buf_space(l->b, 1 + key_len + 22);
    *w++ = l->n_fields++ == 0 ? ' ' : ',';
    memcpy(w, key_text, key_len);
    w = put_int(w + key_len, clamp_uint(value));
    check(l, buf_commit(l->b, (size_t)(w - start)));
}

void lineproto_field_uint(struct lineproto_line *l, const char *key, uint64_t value)
{
    lineproto_field_int(l, key, clamp_uint(value));
}

void lineproto_field_float(struct lineproto_line *l, const char *key, double value)
{
    if (l->err)
        return;
    /* NaN and infinities have no line protocol form. */
    if (!isfinite(value))
        value = 0;
    if (field_key(l, key, 0) != NULL)
        check(l, buf_append_double(l->b, value));
}

void lineproto_field_string(struct lineproto_line *l, const char *key, const char *value)
{
    if (l->err)
        return;
    if (field_key(l, key, 0) != NULL)
        check(l, lineproto_escape_string(l->b, value));
}

int lineproto_end(struct lineproto_line *l, uint64_t ts_ns)
{
    if (!l->err && l->n_fields > 0) {
        char *start = buf_space(l->b, 22), *w = start;

        *w++ = ' ';
        w = put_u64(w, ts_ns > LINEPROTO_MAX_TS_NS ? LINEPROTO_MAX_TS_NS : ts_ns);
        *w++ = '\n';
        check(l, buf_commit(l->b, (size_t)(w - start)));
    }
    if (l->err || l->n_fields == 0) {
        l->b->len = l->line_start;
        if (l->b->data != NULL)
            l->b->data[l->b->len] = '\0';
        return -1;
    }
    return 0;
}
