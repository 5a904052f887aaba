/* Exposition format: label values escape backslash, double quote and newline; HELP text
 * escapes backslash and newline. */
#include "prom.h"

#include <math.h>
#include <stdbool.h>
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

int prom_labels_add(struct buf *labels, const char *name, const char *value, bool value_is_plain)
{
    size_t name_len, value_len;
    char *w;

    if (value == NULL || value[0] == '\0')
        return 0;
    name_len = strlen(name);
    value_len = strlen(value);
    if (!value_is_plain && strpbrk(value, "\\\"\n") != NULL) {
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
