/* Fuzz target for the remote write encoder: fuzz bytes drive families, labels (any bytes as
 * values), values, flow keys and interval boundaries; every body is uncompressed and walked by
 * a strict reader (tests/unit/pbread.h) checking each TimeSeries: labels named, non-empty,
 * UTF-8, strictly in name order with __name__ first, one sample stamped with the interval; at
 * most the maximum series a request; stale markers exactly for the series that ended. */
#include <snappy-c.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/pbread.h"
#include "base/utf8.h"
#include "export/promwrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
    const uint8_t *p, *end;
};

static unsigned byte(struct input *in)
{
    return in->p < in->end ? *in->p++ : 0;
}

static uint64_t word(struct input *in)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | byte(in);
    return v;
}

/* A set of label sets, each the TimeSeries' label bytes; small, so searched in turn. */
struct set {
    char **v;
    size_t *len;
    size_t n;
};

static bool set_has(const struct set *s, const char *p, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->len[i] == len && memcmp(s->v[i], p, len) == 0)
            return true;
    return false;
}

static void set_add(struct set *s, const char *p, size_t len)
{
    s->v = realloc(s->v, (s->n + 1) * sizeof(*s->v));
    s->len = realloc(s->len, (s->n + 1) * sizeof(*s->len));
    if (s->v == NULL || s->len == NULL)
        abort();
    s->v[s->n] = malloc(len + 1);
    memcpy(s->v[s->n], p, len);
    s->len[s->n++] = len;
}

static void set_clear(struct set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    free(s->len);
    memset(s, 0, sizeof(*s));
}

struct check {
    size_t max_series;
    uint64_t ts;
    struct set prev, cur, stale;
};

/* Checks one Label; returns its name through name/name_len. */
static void check_label(const struct pbfield *f, const char **name, size_t *name_len)
{
    struct pbread r = pbread_of(f->data, f->len);
    struct pbfield g;
    int rc, seen = 0;

    while ((rc = pbread_next(&r, &g)) == 1) {
        if (g.wire != 2 || g.len == 0 || !utf8_valid(g.data, g.len) || (g.num != 1 && g.num != 2))
            abort();
        if (g.num == 1) {
            *name = g.data;
            *name_len = g.len;
        }
        seen |= 1 << g.num;
    }
    if (rc == -1 || seen != 6)
        abort();
}

static void check_series(struct check *c, const char *data, size_t len)
{
    struct pbread r = pbread_of(data, len);
    struct pbfield f;
    const char *prev = NULL, *labels_end = data;
    size_t prev_len = 0, labels = 0, samples = 0;
    uint64_t bits = 0, ts = 0;
    int rc;

    while ((rc = pbread_next(&r, &f)) == 1) {
        if (f.num == 1 && f.wire == 2 && samples == 0) {
            const char *name = NULL;
            size_t name_len = 0, n;

            check_label(&f, &name, &name_len);
            n = name_len < prev_len ? name_len : prev_len;
            if (labels == 0 && !(name_len == 8 && memcmp(name, "__name__", 8) == 0))
                abort();
            if (prev != NULL &&
                (memcmp(prev, name, n) > 0 || (memcmp(prev, name, n) == 0 && prev_len >= name_len)))
                abort(); /* not strictly in order */
            prev = name;
            prev_len = name_len;
            labels++;
            labels_end = f.data + f.len;
        } else if (f.num == 2 && f.wire == 2) {
            struct pbread s = pbread_of(f.data, f.len);
            struct pbfield g;

            while ((rc = pbread_next(&s, &g)) == 1) {
                if (g.num == 1 && g.wire == 1)
                    bits = g.v;
                else if (g.num == 2 && g.wire == 0)
                    ts = g.v;
                else
                    abort();
            }
            if (rc == -1)
                abort();
            samples++;
        } else {
            abort();
        }
    }
    if (rc == -1 || labels == 0 || samples != 1 || ts != c->ts)
        abort();
    /* Series first, then stale markers, each label set once. */
    len = (size_t)(labels_end - data);
    if (set_has(&c->cur, data, len) || set_has(&c->stale, data, len))
        abort();
    if (bits == PROMWRITE_STALE_NAN) {
        if (!set_has(&c->prev, data, len))
            abort();
        set_add(&c->stale, data, len);
    } else {
        if (c->stale.n > 0)
            abort();
        set_add(&c->cur, data, len);
    }
}

static void check_body(void *arg, char *body, size_t len, uint64_t ts_ms)
{
    struct check *c = arg;
    size_t raw_len, series = 0;
    char *raw;
    struct pbread r;
    struct pbfield f;
    int rc;

    if (ts_ms != c->ts || snappy_uncompressed_length(body, len, &raw_len) != SNAPPY_OK)
        abort();
    raw = malloc(raw_len + 1);
    if (snappy_uncompress(body, len, raw, &raw_len) != SNAPPY_OK)
        abort();
    r = pbread_of(raw, raw_len);
    while ((rc = pbread_next(&r, &f)) == 1) {
        if (f.num != 1 || f.wire != 2)
            abort();
        check_series(c, f.data, f.len);
        series++;
    }
    if (rc == -1 || series == 0 || series > c->max_series)
        abort();
    free(raw);
    free(body);
}

/* Ends the interval: every series of the previous one not written again got a marker. */
static void end_interval(struct promwrite *e, struct check *c)
{
    size_t ended = 0;

    if (promwrite_end(e, check_body, c) == 0) {
        for (size_t i = 0; i < c->prev.n; i++)
            ended += !set_has(&c->cur, c->prev.v[i], c->prev.len[i]);
        if (ended != c->stale.n)
            abort();
        set_clear(&c->prev);
        c->prev = c->cur;
        memset(&c->cur, 0, sizeof(c->cur));
    } else if (c->cur.n > 0 || c->stale.n > 0) {
        abort(); /* a failed interval hands nothing over */
    }
    set_clear(&c->cur);
    set_clear(&c->stale);
}

static const char *const names[12] = {"a",           "b",        "local", "remote",
                                      "remote_name", "port",     "proto", "net",
                                      "direction",   "__name__", "zz",    "x1"};

/* A string of up to max bytes from the input (any bytes but NUL) into out. */
static char *text(struct input *in, char *out, size_t max)
{
    size_t n = byte(in) % max, i = 0;

    for (; i < n && in->p < in->end && *in->p != 0; i++)
        out[i] = (char)byte(in);
    out[i] = '\0';
    return out;
}

/* Up to 5 labels; names from the table or [a-z][a-z0-9_]*, values any bytes. */
static size_t labels_of(struct input *in, struct prom_label *l, char (*store)[2][40])
{
    size_t n = byte(in) % 6;

    for (size_t i = 0; i < n; i++) {
        unsigned b = byte(in);

        if (b % 16 < 12) {
            l[i].name = names[b % 12];
        } else {
            char *name = text(in, store[i][0], 9);

            for (char *p = name; *p; p++)
                *p = p == name ? (char)('a' + (unsigned char)*p % 26)
                               : "abcdefghijklmnopqrstuvwxyz0123456789_"[(unsigned char)*p % 37];
            l[i].name = name;
        }
        l[i].value = text(in, store[i][1], 40);
        l[i].plain = false;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const families[4] = {"nstats_bytes_total", "m", "up", "x_\xc3\xa9"};
    struct input in = {data, data + size};
    struct check c;
    struct promwrite *e;
    struct series_writer *w;
    struct buf arena;
    size_t keys[16], key_len[16], n_keys = 0;

    if (size > 4096)
        return 0;
    memset(&c, 0, sizeof(c));
    c.max_series = 1 + byte(&in) % 8;
    e = promwrite_new(c.max_series);
    w = promwrite_begin(e, c.ts);
    buf_init(&arena, 1 << 20);
    while (in.p < in.end) {
        struct prom_label l[6];
        char store[6][2][40], name[16];
        size_t n;

        switch (byte(&in) % 6) {
        case 0:
            end_interval(e, &c);
            c.ts += byte(&in) * 1000ULL;
            w = promwrite_begin(e, c.ts);
            buf_reset(&arena);
            n_keys = 0;
            break;
        case 1:
            n = byte(&in);
            w->ops->family(w, n < 200 ? families[n % 4] : text(&in, name, 16), SERIES_COUNTER, "");
            break;
        case 2:
            n = labels_of(&in, l, store);
            w->ops->sample_u64(w, l, n, word(&in));
            break;
        case 3: {
            uint64_t bits = word(&in);
            double v;

            memcpy(&v, &bits, sizeof(v));
            n = labels_of(&in, l, store);
            w->ops->sample_double(w, l, n, v);
            break;
        }
        case 4:
            n = labels_of(&in, l, store);
            if (n_keys < 16) {
                keys[n_keys] = arena.len;
                if (w->ops->key_prepare(w, &arena, &n_keys, sizeof(n_keys), l, n) == -1)
                    abort();
                key_len[n_keys] = arena.len - keys[n_keys];
                n_keys++;
            }
            break;
        default:
            if (n_keys > 0) {
                size_t k = byte(&in) % n_keys;
                unsigned d = byte(&in);
                const char *dir = d == 0   ? "in"
                                  : d == 1 ? "out"
                                  : d == 2 ? ""
                                           : text(&in, name, 16);

                /* A key with no labels prepares nothing: the arena may be unallocated. */
                w->ops->key_sample(w, dir, arena.len > 0 ? arena.data + keys[k] : "", key_len[k],
                                   word(&in));
            }
            break;
        }
    }
    end_interval(e, &c);
    set_clear(&c.prev);
    buf_free(&arena);
    promwrite_free(e);
    return 0;
}
