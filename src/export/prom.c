/* Exposition format: label values escape backslash, double quote and newline; HELP text
 * escapes backslash and newline. */
#include "prom.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int escape(struct buf *b, const char *s, bool quotes)
{
    const char *run = s, *p = s;

    for (; *p != '\0'; p++) {
        const char *rep = NULL;

        if (*p == '\\')
            rep = "\\\\";
        else if (*p == '\n')
            rep = "\\n";
        else if (*p == '"' && quotes)
            rep = "\\\"";
        if (rep == NULL)
            continue;
        if ((p > run && buf_append(b, run, (size_t)(p - run)) == -1) || buf_append_str(b, rep))
            return -1;
        run = p + 1;
    }
    return p > run ? buf_append(b, run, (size_t)(p - run)) : 0;
}

int prom_escape_label_value(struct buf *b, const char *value)
{
    return escape(b, value, true);
}

int prom_family(struct buf *b, const char *name, const char *type, const char *help)
{
    if (buf_append_str(b, "# HELP ") || buf_append_str(b, name) || buf_append_char(b, ' ') ||
        escape(b, help, false) || buf_append_str(b, "\n# TYPE ") || buf_append_str(b, name) ||
        buf_append_char(b, ' ') || buf_append_str(b, type) || buf_append_char(b, '\n'))
        return -1;
    return 0;
}

static int series(struct buf *b, const char *name, const struct prom_label *labels, size_t n)
{
    if (buf_append_str(b, name))
        return -1;
    if (n == 0)
        return buf_append_char(b, ' ');
    for (size_t i = 0; i < n; i++) {
        if (buf_append_char(b, i == 0 ? '{' : ',') || buf_append_str(b, labels[i].name) ||
            buf_append_str(b, "=\"") || prom_escape_label_value(b, labels[i].value) ||
            buf_append_char(b, '"'))
            return -1;
    }
    return buf_append_str(b, "} ");
}

int prom_sample_u64(struct buf *b, const char *name, const struct prom_label *labels, size_t n,
                    uint64_t value)
{
    return series(b, name, labels, n) || buf_printf(b, "%llu\n", (unsigned long long)value);
}

int prom_sample_double(struct buf *b, const char *name, const struct prom_label *labels, size_t n,
                       double value)
{
    if (series(b, name, labels, n) == -1)
        return -1;
    if (isnan(value))
        return buf_append_str(b, "NaN\n");
    if (isinf(value))
        return buf_append_str(b, value > 0 ? "+Inf\n" : "-Inf\n");
    return buf_append_double(b, value) || buf_append_char(b, '\n');
}

/* Copies n bytes to w (no terminator: the buffer's commit adds it); returns the end. */
static char *put(char *w, const char *s, size_t n)
{
    memcpy(w, s, n);
    return w + n;
}

/* The length of value, or SIZE_MAX if it holds a character the exposition escapes: one pass
 * instead of strlen and strpbrk (a scrape adds several labels a key). */
static size_t plain_len(const char *value)
{
    const char *p = value;

    for (; *p != '\0'; p++)
        if (*p == '\\' || *p == '"' || *p == '\n')
            return SIZE_MAX;
    return (size_t)(p - value);
}

int prom_labels_add(struct buf *labels, const char *name, const char *value, bool value_is_plain)
{
    size_t name_len, value_len;
    char *w;

    if (value == NULL || value[0] == '\0')
        return 0;
    name_len = strlen(name);
    value_len = value_is_plain ? strlen(value) : plain_len(value);
    if (value_len == SIZE_MAX) {
        if (buf_append_char(labels, ',') || buf_append(labels, name, name_len) ||
            buf_append(labels, "=\"", 2) || prom_escape_label_value(labels, value))
            return -1;
        return buf_append_char(labels, '"');
    }
    w = buf_space(labels, name_len + value_len + 4);
    *w++ = ',';
    w = put(w, name, name_len);
    *w++ = '=';
    *w++ = '"';
    w = put(w, value, value_len);
    *w = '"';
    return buf_commit(labels, name_len + value_len + 4);
}

/* Decimal digits of v ending at end; returns where they start (at most 20 before end). */
static char *u64_digits(char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return end;
}

int prom_sample_labels(struct buf *b, const char *name, const char *first, const char *labels,
                       size_t labels_len, uint64_t value)
{
    size_t name_len = strlen(name), first_len = strlen(first);
    char digits[24], *d = u64_digits(digits + sizeof(digits), value);
    size_t d_len = (size_t)(digits + sizeof(digits) - d);
    size_t len = name_len + 1 + first_len + labels_len + 2 + d_len + 1;
    char *w = buf_space(b, len);

    w = put(w, name, name_len);
    *w++ = '{';
    w = put(w, first, first_len);
    w = put(w, labels, labels_len);
    *w++ = '}';
    *w++ = ' ';
    w = put(w, d, d_len);
    *w = '\n';
    return buf_commit(b, len);
}

/* --- the text exposition as a series writer --- */

static struct series_text *text_of(struct series_writer *w)
{
    return (struct series_text *)w;
}

static int text_family(struct series_writer *w, const char *name, enum series_type type,
                       const char *help)
{
    struct series_text *t = text_of(w);

    t->family = name;
    return prom_family(t->b, name, type == SERIES_COUNTER ? "counter" : "gauge", help);
}

static int text_sample_u64(struct series_writer *w, const struct prom_label *labels, size_t n,
                           uint64_t value)
{
    struct series_text *t = text_of(w);

    return prom_sample_u64(t->b, t->family, labels, n, value);
}

static int text_sample_double(struct series_writer *w, const struct prom_label *labels, size_t n,
                              double value)
{
    struct series_text *t = text_of(w);

    return prom_sample_double(t->b, t->family, labels, n, value);
}

/* The prepared form is the labels' text, ',name="value"' each, escaped once. */
static int text_key_prepare(struct series_writer *w, struct buf *arena, const void *id,
                            size_t id_len, const struct prom_label *labels, size_t n)
{
    (void)w;
    (void)id;
    (void)id_len;
    for (size_t i = 0; i < n; i++)
        if (prom_labels_add(arena, labels[i].name, labels[i].value, labels[i].plain) == -1)
            return -1;
    return 0;
}

static int text_key_sample(struct series_writer *w, const char *direction, const char *prepared,
                           size_t len, uint64_t value)
{
    struct series_text *t = text_of(w);
    const char *first = strcmp(direction, "in") == 0    ? "direction=\"in\""
                        : strcmp(direction, "out") == 0 ? "direction=\"out\""
                                                        : NULL;
    char other[64];

    if (first == NULL) {
        snprintf(other, sizeof(other), "direction=\"%s\"", direction);
        first = other;
    }
    return prom_sample_labels(t->b, t->family, first, prepared, len, value);
}

static const struct series_writer_ops text_ops = {
    .family = text_family,
    .sample_u64 = text_sample_u64,
    .sample_double = text_sample_double,
    .key_prepare = text_key_prepare,
    .key_sample = text_key_sample,
};

void series_text_init(struct series_text *t, struct buf *b)
{
    t->w.ops = &text_ops;
    t->b = b;
    t->family = "";
}
