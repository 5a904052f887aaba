/* Remote write 1.0 (prometheus/prompb remote.proto, types.proto): WriteRequest { repeated
 * TimeSeries timeseries = 1; } TimeSeries { repeated Label labels = 1; repeated Sample samples
 * = 2; } Sample { double value = 1; int64 timestamp = 2; }. Each series is one TimeSeries with
 * its labels in name order, __name__ among them, and one sample; a request is cut every
 * max_series of them. A series' identity is its labels' bytes, kept for the next interval. */
#include "promwrite.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/pb.h"
#include "base/xalloc.h"
#include "export/pblabels.h"
#include "export/seriesset.h"

/* Generous caps that only a runaway would reach: one request's raw bytes, and the labels kept
 * for staleness. */
#define REQUEST_MAX_BYTES ((size_t)256 << 20)
#define SERIES_MAX_BYTES ((size_t)1 << 30)

/* Target labels at most: job, instance, namespace, pod and a few to spare. */
#define MAX_TARGET 8

struct promwrite {
    struct series_writer w;
    size_t max_series;
    /* Labels every series carries, sorted by name, copied; and the names a prepared key
     * leaves out for them: __name__, direction and these. */
    struct prom_label target[MAX_TARGET];
    char *owned[2 * MAX_TARGET]; /* the target labels' names and values */
    size_t n_target;
    const char *reserved[MAX_TARGET + 3];
    struct seriesset *set;
    struct pblabels labels;
    struct buf req; /* the WriteRequest being written */
    size_t req_series;
    struct push_bodies bodies;
    struct buf family; /* the current family's name */
    uint64_t ts_ms;
    bool open;
    bool failed;
    struct promwrite_stats stats;
    struct promwrite_stats interval; /* counted into stats when the interval is handed over */
};

static struct promwrite *promwrite_of(struct series_writer *w)
{
    return (struct promwrite *)w;
}

static int fail(struct promwrite *e)
{
    e->failed = true;
    return -1;
}

/* The request so far becomes a body. */
static int cut(struct promwrite *e)
{
    if (e->req_series == 0)
        return 0;
    if (push_bodies_add(&e->bodies, e->req.data, e->req.len, PUSH_SNAPPY) == -1)
        return fail(e);
    buf_reset(&e->req);
    e->req_series = 0;
    return 0;
}

/* Ends the TimeSeries begun at start (its tag) and mark (pb_begin's), whose labels are the
 * bytes from labels_at: records the series, then writes its sample, or takes the series back
 * if this interval already wrote it. */
static int finish_series(struct promwrite *e, size_t start, size_t mark, size_t labels_at,
                         uint64_t value_bits, bool stale)
{
    struct buf *r = &e->req;
    uint64_t aux = 0;
    size_t sample;

    if (!stale) {
        const char *labels = r->data + labels_at;
        size_t len = r->len - labels_at;
        int seen =
            seriesset_add(e->set, seriesset_hash(e->set, labels, len, NULL, 0), labels, len, &aux);

        if (seen == -1)
            return fail(e);
        if (seen == SERIESSET_REPEATED) {
            r->len = start;
            r->data[start] = '\0';
            e->interval.repeated++;
            return 0;
        }
    }
    /* proto3 leaves fields at their zero value out; a stale marker's value is never zero. */
    sample = pb_begin(r, 2);
    if ((value_bits != 0 && pb_fixed64(r, 1, value_bits)) ||
        (e->ts_ms != 0 && pb_int64(r, 2, (int64_t)e->ts_ms)) || pb_end(r, sample) ||
        pb_end(r, mark))
        return fail(e);
    e->req_series++;
    if (stale)
        e->interval.stale++;
    else
        e->interval.series++;
    return e->req_series >= e->max_series ? cut(e) : 0;
}

/* extras (sorted by name) and the target labels, merged in name order into out. */
static size_t with_target(const struct promwrite *e, const struct prom_label *extras, size_t n,
                          struct prom_label *out)
{
    size_t i = 0, j = 0, k = 0;

    while (i < n || j < e->n_target) {
        if (j == e->n_target || (i < n && strcmp(extras[i].name, e->target[j].name) < 0))
            out[k++] = extras[i++];
        else
            out[k++] = e->target[j++];
    }
    return k;
}

static int write_sample(struct promwrite *e, const struct prom_label *labels, size_t n,
                        double value)
{
    struct prom_label name = {"__name__", e->family.data, false};
    struct prom_label extras[MAX_TARGET + 1];
    size_t n_extras = with_target(e, &name, 1, extras);
    size_t start = e->req.len, mark, labels_at;
    uint64_t bits;

    if (!e->open || e->failed || e->family.len == 0)
        return fail(e);
    /* A NaN with StaleNaN's bits would end the series: NaN is sent as Prometheus' own. */
    if (isnan(value))
        bits = PROMWRITE_NORMAL_NAN;
    else
        memcpy(&bits, &value, sizeof(bits));
    mark = pb_begin(&e->req, 1);
    labels_at = e->req.len;
    if (pblabels_put(&e->labels, &e->req, labels, n, extras, n_extras) == -1)
        return fail(e);
    return finish_series(e, start, mark, labels_at, bits, false);
}

static int pw_family(struct series_writer *w, const char *name, enum series_type type,
                     const char *help)
{
    struct promwrite *e = promwrite_of(w);

    (void)type; /* remote write 1.0 carries no type or help with samples */
    (void)help;
    buf_reset(&e->family);
    if (buf_append_str(&e->family, name) == -1)
        return fail(e);
    return 0;
}

static int pw_sample_u64(struct series_writer *w, const struct prom_label *labels, size_t n,
                         uint64_t value)
{
    return write_sample(promwrite_of(w), labels, n, (double)value);
}

static int pw_sample_double(struct series_writer *w, const struct prom_label *labels, size_t n,
                            double value)
{
    return write_sample(promwrite_of(w), labels, n, value);
}

/* The prepared form is the key's Label messages in name order, without __name__ and direction,
 * which key_sample merges in. */
static int pw_key_prepare(struct series_writer *w, struct buf *arena, const void *id, size_t id_len,
                          const struct prom_label *labels, size_t n)
{
    struct promwrite *e = promwrite_of(w);

    (void)id; /* a series' identity is its labels */
    (void)id_len;
    return pblabels_prepare(&e->labels, arena, labels, n, e->reserved);
}

static int pw_key_sample(struct series_writer *w, const char *direction, const char *prepared,
                         size_t len, uint64_t value)
{
    struct promwrite *e = promwrite_of(w);
    struct prom_label fixed[2] = {{"__name__", e->family.data, false},
                                  {"direction", direction, true}};
    struct prom_label extras[MAX_TARGET + 2];
    size_t n_extras = with_target(e, fixed, 2, extras);
    size_t start = e->req.len, mark, labels_at;
    double v = (double)value;
    uint64_t bits;

    if (!e->open || e->failed || e->family.len == 0)
        return fail(e);
    memcpy(&bits, &v, sizeof(bits));
    /* A flow key's series passes 127 bytes: its length's two bytes are reserved up front. */
    mark = pb_begin_sized(&e->req, 1, len + e->family.len + 48);
    labels_at = e->req.len;
    if (pblabels_merge(&e->labels, &e->req, prepared, len, extras, n_extras) == -1)
        return fail(e);
    return finish_series(e, start, mark, labels_at, bits, false);
}

static const struct series_writer_ops promwrite_ops = {
    .family = pw_family,
    .sample_u64 = pw_sample_u64,
    .sample_double = pw_sample_double,
    .key_prepare = pw_key_prepare,
    .key_sample = pw_key_sample,
};

struct promwrite *promwrite_new(size_t max_series_per_request)
{
    struct promwrite *e = xcalloc(1, sizeof(*e));

    e->w.ops = &promwrite_ops;
    e->max_series = max_series_per_request ? max_series_per_request : 2000;
    e->set = seriesset_new(SERIES_MAX_BYTES);
    pblabels_init(&e->labels, PBLABELS_PROM, 1);
    buf_init(&e->req, REQUEST_MAX_BYTES);
    buf_init(&e->family, 4096);
    push_bodies_init(&e->bodies);
    e->reserved[0] = "__name__";
    e->reserved[1] = "direction";
    return e;
}

void promwrite_set_target(struct promwrite *e, const struct prom_label *labels, size_t n)
{
    for (size_t i = 0; i < 2 * e->n_target; i++)
        free(e->owned[i]);
    e->n_target = 0;
    for (size_t i = 0; i < n && e->n_target < MAX_TARGET; i++) {
        size_t at = e->n_target;

        if (labels[i].value == NULL || labels[i].value[0] == '\0' ||
            strcmp(labels[i].name, "__name__") == 0 || strcmp(labels[i].name, "direction") == 0)
            continue;
        /* Insertion in name order. */
        while (at > 0 && strcmp(e->target[at - 1].name, labels[i].name) > 0) {
            e->target[at] = e->target[at - 1];
            at--;
        }
        e->target[at] = (struct prom_label){labels[i].name, labels[i].value, false};
        e->n_target++;
    }
    /* The copies, once the order is settled. */
    for (size_t i = 0; i < e->n_target; i++) {
        e->owned[2 * i] = xstrdup(e->target[i].name);
        e->owned[2 * i + 1] = xstrdup(e->target[i].value);
        e->target[i] = (struct prom_label){e->owned[2 * i], e->owned[2 * i + 1], false};
    }
    for (size_t i = 0; i < e->n_target; i++)
        e->reserved[2 + i] = e->target[i].name;
    e->reserved[2 + e->n_target] = NULL;
}

void promwrite_free(struct promwrite *e)
{
    if (e == NULL)
        return;
    promwrite_set_target(e, NULL, 0);
    seriesset_free(e->set);
    pblabels_free(&e->labels);
    buf_free(&e->req);
    buf_free(&e->family);
    push_bodies_free(&e->bodies);
    free(e);
}

/* Forgets an interval's writing, as if it had not begun. */
static void drop_interval(struct promwrite *e)
{
    seriesset_drop_current(e->set);
    push_bodies_drop(&e->bodies);
    buf_reset(&e->req);
    e->req_series = 0;
    memset(&e->interval, 0, sizeof(e->interval));
}

struct series_writer *promwrite_begin(struct promwrite *e, uint64_t ts_ms)
{
    if (e->open)
        drop_interval(e);
    e->open = true;
    e->failed = false;
    e->ts_ms = ts_ms;
    buf_reset(&e->family);
    return &e->w;
}

/* A stale marker for each series of the previous interval that this one did not write. */
static int write_stale(struct promwrite *e)
{
    size_t cursor = 0, len;
    const char *labels;
    uint64_t aux;

    while (seriesset_next_ended(e->set, &cursor, &labels, &len, &aux)) {
        size_t start = e->req.len, mark = pb_begin(&e->req, 1), labels_at = e->req.len;

        if (buf_append(&e->req, labels, len) == -1 ||
            finish_series(e, start, mark, labels_at, PROMWRITE_STALE_NAN, true) == -1)
            return fail(e);
    }
    return 0;
}

int promwrite_end(struct promwrite *e, push_body_fn *fn, void *arg)
{
    if (!e->open)
        return -1;
    e->open = false;
    if (e->failed || write_stale(e) == -1 || cut(e) == -1) {
        drop_interval(e);
        e->stats.failed++;
        return -1;
    }
    e->stats.series += e->interval.series;
    e->stats.stale += e->interval.stale;
    e->stats.repeated += e->interval.repeated;
    memset(&e->interval, 0, sizeof(e->interval));
    e->stats.requests += e->bodies.n;
    e->stats.body_bytes += push_bodies_hand_over(&e->bodies, fn, arg, e->ts_ms);
    seriesset_next_interval(e->set);
    return 0;
}

void promwrite_get_stats(const struct promwrite *e, struct promwrite_stats *out)
{
    *out = e->stats;
}
