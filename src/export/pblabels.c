/* Labels sorted once, written as messages, and merged with a series' own labels (its name, a
 * direction) by walking the messages' names, so a prepared key is never decoded whole. */
#include "pblabels.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/pb.h"
#include "base/xalloc.h"

void pblabels_init(struct pblabels *s, enum pblabels_form form, uint32_t field)
{
    s->form = form;
    s->field = field;
    s->sorted = NULL;
    s->cap = 0;
}

void pblabels_free(struct pblabels *s)
{
    free(s->sorted);
    s->sorted = NULL;
    s->cap = 0;
}

static char *put(char *w, const char *s, size_t len)
{
    memcpy(w, s, len);
    return w + len;
}

/* The general way: pb_string mends bytes that are not UTF-8. */
static int write_mended(const struct pblabels *s, struct buf *b, const char *name, size_t name_len,
                        const char *value, size_t value_len)
{
    size_t m = pb_begin(b, s->field), v;

    if (pb_string(b, 1, name, name_len))
        return -1;
    if (s->form == PBLABELS_PROM)
        return pb_string(b, 2, value, value_len) || pb_end(b, m);
    v = pb_begin(b, 2);
    return pb_string(b, 1, value, value_len) || pb_end(b, v) || pb_end(b, m);
}

/* A label is written with every series: sized first, then written in one reservation. */
static int write_label(const struct pblabels *s, struct buf *b, const char *name, const char *value)
{
    size_t name_len = strlen(name), value_len = strlen(value);
    size_t inner = 1 + pb_varint_len(value_len) + value_len, body;
    char *w, *p;

    if (!pb_utf8_as_is(name, name_len) || !pb_utf8_as_is(value, value_len))
        return write_mended(s, b, name, name_len, value, value_len);
    /* Label: 0a name 12 value; KeyValue: 0a key 12 AnyValue { 0a value }. */
    body = 1 + pb_varint_len(name_len) + name_len +
           (s->form == PBLABELS_PROM ? inner : 1 + pb_varint_len(inner) + inner);
    w = buf_space(b, body + 5 + 10);
    p = pb_put_varint(w, (uint64_t)s->field << 3 | PB_LEN);
    p = pb_put_varint(p, body);
    *p++ = 0x0a;
    p = put(pb_put_varint(p, name_len), name, name_len);
    *p++ = 0x12;
    if (s->form == PBLABELS_OTLP) {
        p = pb_put_varint(p, inner);
        *p++ = 0x0a;
    }
    p = put(pb_put_varint(p, value_len), value, value_len);
    return buf_commit(b, (size_t)(p - w));
}

static int by_name(const void *a, const void *b)
{
    const struct prom_label *x = *(const struct prom_label *const *)a;
    const struct prom_label *y = *(const struct prom_label *const *)b;
    int c = strcmp(x->name, y->name);

    /* Equal names keep their order, so the first of them stays. */
    return c != 0 ? c : (x > y) - (x < y);
}

static bool left_out(const struct prom_label *l, const struct prom_label *extras, size_t n_extras,
                     const char *const *reserved)
{
    if (l->name == NULL || l->name[0] == '\0' || l->value == NULL || l->value[0] == '\0')
        return true;
    for (size_t i = 0; i < n_extras; i++)
        if (strcmp(l->name, extras[i].name) == 0)
            return true;
    for (; reserved != NULL && *reserved != NULL; reserved++)
        if (strcmp(l->name, *reserved) == 0)
            return true;
    return false;
}

/* Points s->sorted at the labels kept, in name order; returns how many. */
static size_t sort(struct pblabels *s, const struct prom_label *labels, size_t n,
                   const struct prom_label *extras, size_t n_extras, const char *const *reserved)
{
    const struct prom_label **out;
    size_t k = 0, kept = 0;

    if (n > s->cap) {
        s->cap = n < 16 ? 16 : n;
        s->sorted = xreallocarray(s->sorted, s->cap, sizeof(const struct prom_label *));
    }
    out = s->sorted;
    for (size_t i = 0; i < n; i++)
        if (!left_out(&labels[i], extras, n_extras, reserved))
            out[k++] = &labels[i];
    /* metrics_render writes at most ten labels: an insertion sort, stable like by_name. */
    if (k > 16) {
        qsort(out, k, sizeof(const struct prom_label *), by_name);
    } else {
        for (size_t i = 1; i < k; i++) {
            const struct prom_label *l = out[i];
            size_t j = i;

            for (; j > 0 && strcmp(out[j - 1]->name, l->name) > 0; j--)
                out[j] = out[j - 1];
            out[j] = l;
        }
    }
    for (size_t i = 0; i < k; i++)
        if (kept == 0 || strcmp(out[kept - 1]->name, out[i]->name) != 0)
            out[kept++] = out[i];
    return kept;
}

int pblabels_put(struct pblabels *s, struct buf *b, const struct prom_label *labels, size_t n,
                 const struct prom_label *extras, size_t n_extras)
{
    size_t k = sort(s, labels, n, extras, n_extras, NULL), i = 0, j = 0;

    while (i < k || j < n_extras) {
        const struct prom_label *l;

        if (j == n_extras || (i < k && strcmp(s->sorted[i]->name, extras[j].name) < 0))
            l = s->sorted[i++];
        else
            l = &extras[j++];
        if (l->value[0] != '\0' && write_label(s, b, l->name, l->value) == -1)
            return -1;
    }
    return 0;
}

int pblabels_prepare(struct pblabels *s, struct buf *b, const struct prom_label *labels, size_t n,
                     const char *const *reserved)
{
    size_t k = sort(s, labels, n, NULL, 0, reserved);

    for (size_t i = 0; i < k; i++)
        if (write_label(s, b, s->sorted[i]->name, s->sorted[i]->value) == -1)
            return -1;
    return 0;
}

/* strcmp of the string z with the len bytes at name. */
static int name_cmp(const char *z, const char *name, size_t len)
{
    size_t z_len = strlen(z);
    int c = memcmp(z, name, z_len < len ? z_len : len);

    return c != 0 ? c : (z_len > len) - (z_len < len);
}

int pblabels_merge(const struct pblabels *s, struct buf *b, const char *prepared, size_t len,
                   const struct prom_label *extras, size_t n_extras)
{
    const char *run = prepared, *p = prepared, *end = len > 0 ? prepared + len : prepared;
    size_t j = 0;

    /* Once every extra is placed, the rest is copied as it is: direction sorts before most
     * key labels, so a flow key's walk stops at its first label. */
    while (p < end && j < n_extras) {
        uint32_t field, name_field;
        const char *body, *name;
        size_t body_len, name_len,
            size = pb_len_field_read(p, (size_t)(end - p), &field, &body, &body_len);

        if (size == 0 || field != s->field ||
            pb_len_field_read(body, body_len, &name_field, &name, &name_len) == 0 ||
            name_field != 1)
            return -1;
        if (j < n_extras && name_cmp(extras[j].name, name, name_len) < 0) {
            if (p > run && buf_append(b, run, (size_t)(p - run)) == -1)
                return -1;
            run = p;
            for (; j < n_extras && name_cmp(extras[j].name, name, name_len) < 0; j++)
                if (extras[j].value[0] != '\0' &&
                    write_label(s, b, extras[j].name, extras[j].value) == -1)
                    return -1;
        }
        p += size;
    }
    if (end > run && buf_append(b, run, (size_t)(end - run)) == -1)
        return -1;
    for (; j < n_extras; j++)
        if (extras[j].value[0] != '\0' && write_label(s, b, extras[j].name, extras[j].value) == -1)
            return -1;
    return 0;
}
