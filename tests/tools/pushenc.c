/* pushenc: drives the remote write or OTLP encoder from a script on stdin and writes each
 * request body to a numbered file, so tests can decode them with the official protobuf
 * definitions (tests/integration/test_push_encoding.py). Many cases run in one process.
 *
 * Usage: pushenc OUTDIR < SCRIPT
 *
 * Script lines, fields separated by one space; every string is %XX-encoded (so it holds no
 * space or newline, and "%" and "=" appear only encoded), an empty string is an empty field:
 *   encoder promwrite|otlp [--max N] [--gzip] [--start MS] [--scope-version V]
 *           [--resource KEY=VALUE]...  a new encoder (the one before is freed)
 *   begin TS_MS                        starts an interval
 *   family counter|gauge NAME HELP
 *   u64 VALUE [NAME=VALUE]...          a sample of the current family
 *   double BITS [NAME=VALUE]...        BITS: the double's 16 hex digits
 *   key [NAME=VALUE]...                prepares a key, numbered from 0 in the interval
 *   keysample INDEX DIRECTION VALUE
 *   end                                ends the interval
 * stdout: "body FILE TS_MS" for each body (FILE in OUTDIR), then "end 0" or "end -1". */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/otlp.h"
#include "export/promwrite.h"

struct out {
    const char *dir;
    unsigned n;
    int err;
};

struct key {
    size_t off, len;
};

/* Undoes %XX in place. */
static char *unescape(char *s)
{
    char *w = s;

    for (const char *p = s; *p != '\0'; p++) {
        unsigned v;

        if (p[0] == '%' && p[1] != '\0' && p[2] != '\0' && sscanf(p + 1, "%2x", &v) == 1) {
            *w++ = (char)v;
            p += 2;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return s;
}

static void write_body(void *arg, char *body, size_t len, uint64_t ts_ms)
{
    struct out *o = arg;
    char path[4096], name[32];
    FILE *f;

    snprintf(name, sizeof(name), "%06u.bin", o->n++);
    snprintf(path, sizeof(path), "%s/%s", o->dir, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(body, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "pushenc: %s: %s\n", path, strerror(errno));
        o->err = 1;
    }
    free(body);
    printf("body %s %" PRIu64 "\n", name, ts_ms);
}

/* The NAME=VALUE fields left in *rest as labels; *n their count. The caller frees. */
/* FNV-1a over s and its terminator. */
static uint64_t fnv(uint64_t h, const char *s)
{
    do
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    while (*s++ != '\0');
    return h;
}

/* A key's id for key_prepare: its labels, hashed, as the key they stand for. */
static uint64_t key_id(const struct prom_label *l, size_t n)
{
    uint64_t h = 14695981039346656037ULL;

    for (size_t i = 0; i < n; i++)
        h = fnv(fnv(h, l[i].name), l[i].value);
    return h;
}

static struct prom_label *labels_of(char **rest, size_t *n)
{
    struct prom_label *l = NULL;
    char *field;

    *n = 0;
    while ((field = strsep(rest, " ")) != NULL) {
        char *eq = strchr(field, '=');

        if (eq == NULL)
            continue;
        *eq = '\0';
        l = realloc(l, (*n + 1) * sizeof(*l));
        if (l == NULL)
            abort();
        l[(*n)++] = (struct prom_label){unescape(field), unescape(eq + 1), false};
    }
    return l;
}

struct encoder {
    struct promwrite *pw;
    struct otlp *ot;
};

static struct series_writer *begin(struct encoder *e, uint64_t ts)
{
    return e->pw != NULL ? promwrite_begin(e->pw, ts) : otlp_begin(e->ot, ts);
}

static int end(struct encoder *e, struct out *o)
{
    return e->pw != NULL ? promwrite_end(e->pw, write_body, o) : otlp_end(e->ot, write_body, o);
}

static void encoder_free(struct encoder *e)
{
    promwrite_free(e->pw);
    otlp_free(e->ot);
    e->pw = NULL;
    e->ot = NULL;
}

/* "encoder MODE [OPTIONS]": the fields after "encoder" in rest. Returns 0, or -1. */
static int encoder_new(struct encoder *e, char *rest)
{
    struct otlp_attribute attrs[32];
    struct otlp_config cfg = {attrs, 0, NULL, 0, 0, false};
    char *mode = strsep(&rest, " "), *opt;

    while ((opt = strsep(&rest, " ")) != NULL) {
        char *arg = strcmp(opt, "--gzip") == 0 ? NULL : strsep(&rest, " ");

        if (strcmp(opt, "--gzip") == 0) {
            cfg.gzip = true;
        } else if (arg == NULL) {
            return -1;
        } else if (strcmp(opt, "--max") == 0) {
            cfg.max_points_per_request = strtoul(arg, NULL, 10);
        } else if (strcmp(opt, "--start") == 0) {
            cfg.start_ms = strtoull(arg, NULL, 10);
        } else if (strcmp(opt, "--scope-version") == 0) {
            cfg.scope_version = unescape(arg);
        } else if (strcmp(opt, "--resource") == 0 && cfg.n_resource < 32 &&
                   strchr(arg, '=') != NULL) {
            char *eq = strchr(arg, '=');

            *eq = '\0';
            attrs[cfg.n_resource++] = (struct otlp_attribute){unescape(arg), unescape(eq + 1)};
        } else {
            return -1;
        }
    }
    encoder_free(e);
    /* Both copy what they keep of the configuration. */
    if (strcmp(mode, "promwrite") == 0)
        e->pw = promwrite_new(cfg.max_points_per_request);
    else if (strcmp(mode, "otlp") == 0)
        e->ot = otlp_new(&cfg);
    else
        return -1;
    return 0;
}

/* Runs one script line. Returns 0, or -1 if it is malformed. */
static int run_line(struct encoder *e, struct out *o, char *line, struct series_writer **w,
                    struct buf *arena, struct key **keys, size_t *n_keys)
{
    char *rest = line, *op = strsep(&rest, " ");
    struct prom_label *l;
    size_t n;
    int rc;

    if (strcmp(op, "encoder") == 0 && rest != NULL) {
        *w = NULL;
        return encoder_new(e, rest);
    }
    if (e->pw == NULL && e->ot == NULL)
        return -1;
    if (strcmp(op, "begin") == 0 && rest != NULL) {
        *w = begin(e, strtoull(rest, NULL, 10));
        buf_reset(arena);
        *n_keys = 0;
        return 0;
    }
    if (strcmp(op, "end") == 0) {
        rc = end(e, o);
        printf("end %d\n", rc);
        *w = NULL;
        return 0;
    }
    if (*w == NULL || rest == NULL)
        return -1;
    if (strcmp(op, "family") == 0) {
        char *type = strsep(&rest, " "), *name = strsep(&rest, " "), *help = rest;

        if (name == NULL || help == NULL)
            return -1;
        (*w)->ops->family(*w, unescape(name),
                          strcmp(type, "counter") == 0 ? SERIES_COUNTER : SERIES_GAUGE,
                          unescape(help));
        return 0;
    }
    if (strcmp(op, "u64") == 0 || strcmp(op, "double") == 0) {
        char *value = strsep(&rest, " ");
        uint64_t v = strtoull(value, NULL, strcmp(op, "u64") == 0 ? 10 : 16);
        double d;

        l = labels_of(&rest, &n);
        memcpy(&d, &v, sizeof(d));
        if (strcmp(op, "u64") == 0)
            (*w)->ops->sample_u64(*w, l, n, v);
        else
            (*w)->ops->sample_double(*w, l, n, d);
        free(l);
        return 0;
    }
    if (strcmp(op, "key") == 0) {
        size_t at = arena->len;
        uint64_t id;

        l = labels_of(&rest, &n);
        id = key_id(l, n);
        (*w)->ops->key_prepare(*w, arena, &id, sizeof(id), l, n);
        free(l);
        *keys = realloc(*keys, (*n_keys + 1) * sizeof(**keys));
        if (*keys == NULL)
            abort();
        (*keys)[(*n_keys)++] = (struct key){at, arena->len - at};
        return 0;
    }
    if (strcmp(op, "keysample") == 0) {
        char *index = strsep(&rest, " "), *direction = strsep(&rest, " ");
        size_t i = strtoul(index, NULL, 10);

        if (direction == NULL || rest == NULL || i >= *n_keys)
            return -1;
        /* A key with no labels prepares nothing: the arena may be unallocated. */
        (*w)->ops->key_sample(*w, unescape(direction),
                              arena->len > 0 ? arena->data + (*keys)[i].off : "", (*keys)[i].len,
                              strtoull(rest, NULL, 10));
        return 0;
    }
    return -1;
}

int main(int argc, char **argv)
{
    struct encoder e = {NULL, NULL};
    struct out o = {NULL, 0, 0};
    struct series_writer *w = NULL;
    struct key *keys = NULL;
    size_t n_keys = 0, cap = 0;
    struct buf arena;
    char *line = NULL;
    ssize_t len;
    int bad = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: pushenc OUTDIR < SCRIPT\n");
        return 2;
    }
    o.dir = argv[1];
    buf_init(&arena, (size_t)1 << 30);
    while ((len = getline(&line, &cap, stdin)) > 0) {
        if (line[len - 1] == '\n')
            line[len - 1] = '\0';
        if (line[0] != '\0' && run_line(&e, &o, line, &w, &arena, &keys, &n_keys) == -1) {
            fprintf(stderr, "pushenc: bad line: %.200s\n", line);
            bad = 1;
        }
    }
    free(line);
    free(keys);
    buf_free(&arena);
    encoder_free(&e);
    return bad || o.err ? 1 : 0;
}
