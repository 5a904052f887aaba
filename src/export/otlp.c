/* OTLP/HTTP protobuf (opentelemetry-proto v1): ExportMetricsServiceRequest { ResourceMetrics
 * resource_metrics = 1 { Resource resource = 1; ScopeMetrics scope_metrics = 2 {
 * InstrumentationScope scope = 1; Metric metrics = 2 { name = 1; description = 2; Gauge gauge =
 * 5 | Sum sum = 7 { NumberDataPoint data_points = 1; aggregation_temporality = 2; is_monotonic =
 * 3 } } } } }, NumberDataPoint { attributes = 7; fixed64 start_time_unix_nano = 2; fixed64
 * time_unix_nano = 3; double as_double = 4 | sfixed64 as_int = 6; uint32 flags = 8 }. One
 * Metric per family and request; a series' identity is its family's name and attributes. */
#include "otlp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/pb.h"
#include "base/xalloc.h"
#include "export/pblabels.h"
#include "export/seriesset.h"

/* Generous caps that only a runaway would reach: a request's raw bytes, and what is kept of
 * the series and families for the next interval. */
#define REQUEST_MAX_BYTES ((size_t)256 << 20)
#define SERIES_MAX_BYTES ((size_t)1 << 30)
#define NO_FAMILY ((uint32_t)-1)
#define AGGREGATION_TEMPORALITY_CUMULATIVE 2
#define FLAG_NO_RECORDED_VALUE 1

/* A family as the interval wrote it: name and help in the interval's text. */
struct family {
    size_t name_off, help_off;
    enum series_type type;
};

struct families {
    struct family *v;
    size_t n, cap;
    struct buf text;
};

struct otlp {
    struct series_writer w;
    size_t max_points;
    bool gzip;
    uint64_t start_ms;
    struct buf resource; /* ResourceMetrics.resource, written once */
    struct buf scope;    /* ScopeMetrics.scope, written once */
    struct seriesset *set;
    /* Flow key series by key, family and direction, whatever their labels: struct key_run. */
    struct seriesset *keys;
    struct pblabels attrs;
    struct buf point;   /* the series being written: its family's index, then its attributes */
    struct buf metrics; /* the request's Metric messages */
    size_t points;
    bool metric_open;
    int metric_gen; /* the open Metric's family: fams[metric_gen].v[metric_family] */
    uint32_t metric_family;
    size_t metric_mark, data_mark;
    struct buf req;
    struct push_bodies bodies;
    struct families fams[2]; /* fams[cur] this interval's, fams[!cur] the previous one's */
    int cur;
    uint32_t family; /* the family being written, or NO_FAMILY */
    uint64_t ts_ms, last_push_ms;
    bool pushed, open, failed;
    struct otlp_stats stats;
    struct otlp_stats interval; /* counted into stats when the interval is handed over */
};

static struct otlp *otlp_of(struct series_writer *w)
{
    return (struct otlp *)w;
}

static int fail(struct otlp *e)
{
    e->failed = true;
    return -1;
}

static int close_metric(struct otlp *e)
{
    struct families *f = &e->fams[e->metric_gen];

    if (!e->metric_open)
        return 0;
    e->metric_open = false;
    if (f->v[e->metric_family].type == SERIES_COUNTER &&
        (pb_uint64(&e->metrics, 2, AGGREGATION_TEMPORALITY_CUMULATIVE) ||
         pb_uint64(&e->metrics, 3, 1)))
        return -1;
    return pb_end(&e->metrics, e->data_mark) || pb_end(&e->metrics, e->metric_mark);
}

/* Makes the open Metric the one of family index of generation gen. */
static int open_metric(struct otlp *e, int gen, uint32_t index)
{
    const struct families *f = &e->fams[gen];
    const struct family *fam = &f->v[index];
    const char *help = f->text.data + fam->help_off;

    if (e->metric_open && e->metric_gen == gen && e->metric_family == index)
        return 0;
    if (close_metric(e) == -1)
        return -1;
    e->metric_mark = pb_begin(&e->metrics, 2);
    if (pb_string(&e->metrics, 1, f->text.data + fam->name_off,
                  strlen(f->text.data + fam->name_off)) ||
        (help[0] != '\0' && pb_string(&e->metrics, 2, help, strlen(help))))
        return -1;
    e->data_mark = pb_begin(&e->metrics, fam->type == SERIES_COUNTER ? 7 : 5);
    e->metric_open = true;
    e->metric_gen = gen;
    e->metric_family = index;
    return 0;
}

/* The request so far becomes a body. */
static int cut(struct otlp *e)
{
    size_t sm_len, rm_len;

    if (e->points == 0)
        return 0;
    if (close_metric(e) == -1)
        return fail(e);
    sm_len = e->scope.len + e->metrics.len;
    rm_len = e->resource.len + 1 + pb_varint_len(sm_len) + sm_len;
    buf_reset(&e->req);
    if (pb_tag(&e->req, 1, PB_LEN) || pb_varint(&e->req, rm_len) ||
        buf_append(&e->req, e->resource.data, e->resource.len) || pb_tag(&e->req, 2, PB_LEN) ||
        pb_varint(&e->req, sm_len) || buf_append(&e->req, e->scope.data, e->scope.len) ||
        buf_append(&e->req, e->metrics.data, e->metrics.len) ||
        push_bodies_add(&e->bodies, e->req.data, e->req.len, e->gzip ? PUSH_GZIP : PUSH_IDENTITY))
        return fail(e);
    buf_reset(&e->metrics);
    e->points = 0;
    return 0;
}

enum value_kind { VALUE_INT, VALUE_DOUBLE, VALUE_NONE };

/* A data point of family index of generation gen with the len bytes of attributes at attrs. */
static int write_point(struct otlp *e, int gen, uint32_t index, const char *attrs, size_t len,
                       uint64_t start_ms, enum value_kind kind, uint64_t bits)
{
    struct buf *m = &e->metrics;
    size_t mark;

    if (open_metric(e, gen, index) == -1)
        return fail(e);
    mark = pb_begin_sized(m, 1, len + 27); /* the attributes, then three 9-byte fields */
    if (buf_append(m, attrs, len) ||
        (e->fams[gen].v[index].type == SERIES_COUNTER && start_ms != 0 &&
         pb_fixed64(m, 2, start_ms * 1000000)) ||
        (e->ts_ms != 0 && pb_fixed64(m, 3, e->ts_ms * 1000000)) ||
        (kind == VALUE_INT && pb_fixed64(m, 6, bits)) ||
        (kind == VALUE_DOUBLE && pb_fixed64(m, 4, bits)) ||
        (kind == VALUE_NONE && pb_uint64(m, 8, FLAG_NO_RECORDED_VALUE)) || pb_end(m, mark))
        return fail(e);
    return ++e->points >= e->max_points ? cut(e) : 0;
}

static const char *family_name(const struct otlp *e)
{
    const struct families *f = &e->fams[e->cur];

    return f->text.data + f->v[e->family].name_off;
}

/* The identity of the series in e->point: its family's name and its attributes. */
static uint64_t point_id(const struct otlp *e)
{
    const char *name = family_name(e);

    return seriesset_hash(e->set, name, strlen(name), e->point.data + sizeof(uint32_t),
                          e->point.len - sizeof(uint32_t));
}

/* Writes the series id whose attributes follow the family index in e->point. A series new
 * since the last push starts there (or at start_ms in the first); one that went on keeps its
 * start. */
static int write_series(struct otlp *e, uint64_t id, uint64_t start_ms, enum value_kind kind,
                        uint64_t bits)
{
    const char *attrs = e->point.data + sizeof(uint32_t);
    size_t len = e->point.len - sizeof(uint32_t);
    int seen = seriesset_add(e->set, id, e->point.data, e->point.len, &start_ms);

    if (seen == -1)
        return fail(e);
    if (seen == SERIESSET_REPEATED) {
        e->interval.repeated++;
        return 0;
    }
    e->interval.points++;
    return write_point(e, e->cur, e->family, attrs, len, start_ms, kind, bits);
}

static uint64_t new_start(const struct otlp *e)
{
    return e->pushed ? e->last_push_ms : e->start_ms;
}

/* A counter value: as_int while it fits, else as_double. */
static int write_u64(struct otlp *e, uint64_t id, uint64_t start_ms, uint64_t value)
{
    double d = (double)value;
    uint64_t bits;

    if (value <= INT64_MAX)
        return write_series(e, id, start_ms, VALUE_INT, value);
    memcpy(&bits, &d, sizeof(bits));
    return write_series(e, id, start_ms, VALUE_DOUBLE, bits);
}

/* Starts e->point: the current family's index, attributes to follow. */
static int begin_point(struct otlp *e)
{
    if (!e->open || e->failed || e->family == NO_FAMILY)
        return -1;
    buf_reset(&e->point);
    return buf_append(&e->point, &e->family, sizeof(e->family));
}

static int ot_family(struct series_writer *w, const char *name, enum series_type type,
                     const char *help)
{
    struct otlp *e = otlp_of(w);
    struct families *f = &e->fams[e->cur];
    size_t name_off = f->text.len, help_off;

    if (!e->open || buf_append(&f->text, name, strlen(name) + 1) == -1)
        return fail(e);
    help_off = f->text.len;
    if (buf_append(&f->text, help, strlen(help) + 1) == -1 || f->n >= NO_FAMILY)
        return fail(e);
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 64;
        f->v = xreallocarray(f->v, f->cap, sizeof(*f->v));
    }
    f->v[f->n] = (struct family){name_off, help_off, type};
    e->family = (uint32_t)f->n++;
    return 0;
}

static int ot_sample_u64(struct series_writer *w, const struct prom_label *labels, size_t n,
                         uint64_t value)
{
    struct otlp *e = otlp_of(w);

    if (begin_point(e) == -1 || pblabels_put(&e->attrs, &e->point, labels, n, NULL, 0) == -1)
        return fail(e);
    return write_u64(e, point_id(e), new_start(e), value);
}

static int ot_sample_double(struct series_writer *w, const struct prom_label *labels, size_t n,
                            double value)
{
    struct otlp *e = otlp_of(w);
    uint64_t bits;

    if (begin_point(e) == -1 || pblabels_put(&e->attrs, &e->point, labels, n, NULL, 0) == -1)
        return fail(e);
    memcpy(&bits, &value, sizeof(bits));
    return write_series(e, point_id(e), new_start(e), VALUE_DOUBLE, bits);
}

static const char *const reserved[] = {"direction", NULL};

/* Longest key id key_prepare takes. */
#define KEY_ID_MAX 64

/* A flow key's series (one family, one direction) over its key's life, kept from push to
 * push: which labelled series carries it now, since when, and from what count. */
struct key_run {
    uint64_t series;   /* the series' identity (point_id) */
    uint64_t start_ms; /* its start time */
    uint64_t baseline; /* the key's count at start_ms: the series counts from there */
    uint64_t total;    /* the key's count at this push */
};

/* The prepared form is the key's id (a byte for its length, then the bytes), then its
 * KeyValue messages in key order without direction, which key_sample merges in. */
static int ot_key_prepare(struct series_writer *w, struct buf *arena, const void *id, size_t id_len,
                          const struct prom_label *labels, size_t n)
{
    uint8_t len = (uint8_t)id_len;

    if (id_len > KEY_ID_MAX)
        return fail(otlp_of(w));
    return buf_append(arena, &len, 1) || buf_append(arena, id, id_len) ||
           pblabels_prepare(&otlp_of(w)->attrs, arena, labels, n, reserved);
}

/* Where a key's series starts, and the count it starts from. A flow series whose labels change
 * while its key lives (a remote named after its first interval) is a new series: it starts at
 * the last push, from the key's count then, so the old series and the new one add up to the
 * key's count with nothing counted twice. A key that expired and came back counts from zero. */
static int key_run(struct otlp *e, uint64_t key, uint64_t series, uint64_t total,
                   struct key_run *run)
{
    struct key_run prev;
    const char *data;
    size_t len;

    *run = (struct key_run){series, new_start(e), 0, total};
    if (seriesset_previous(e->keys, key, &data, &len) && len == sizeof(prev)) {
        memcpy(&prev, data, sizeof(prev));
        if (prev.series == series) {
            run->start_ms = prev.start_ms;
            run->baseline = prev.baseline;
        } else {
            run->baseline = prev.total;
        }
    }
    if (run->baseline > total) /* not the same count: it started again */
        *run = (struct key_run){series, new_start(e), 0, total};
    return seriesset_add(e->keys, key, run, sizeof(*run), &(uint64_t){0}) == -1 ? -1 : 0;
}

static int ot_key_sample(struct series_writer *w, const char *direction, const char *prepared,
                         size_t len, uint64_t value)
{
    struct otlp *e = otlp_of(w);
    struct prom_label extra = {"direction", direction, true};
    const char *name;
    char what[256];
    size_t id_len = len > 0 ? (uint8_t)prepared[0] : 0, what_len;
    struct key_run run;
    uint64_t series;

    if (len == 0 || 1 + id_len > len || begin_point(e) == -1 ||
        pblabels_merge(&e->attrs, &e->point, prepared + 1 + id_len, len - 1 - id_len, &extra, 1) ==
            -1)
        return fail(e);
    /* The key's run in this family and direction: "name\0direction" and the key's id. */
    name = family_name(e);
    what_len = (size_t)snprintf(what, sizeof(what), "%s%c%s", name, '\0', direction);
    if (what_len >= sizeof(what))
        return fail(e);
    series = point_id(e);
    if (key_run(e, seriesset_hash(e->keys, what, what_len, prepared + 1, id_len), series, value,
                &run) == -1)
        return fail(e);
    return write_u64(e, series, run.start_ms, value - run.baseline);
}

static const struct series_writer_ops otlp_ops = {
    .family = ot_family,
    .sample_u64 = ot_sample_u64,
    .sample_double = ot_sample_double,
    .key_prepare = ot_key_prepare,
    .key_sample = ot_key_sample,
};

/* ResourceMetrics.resource and ScopeMetrics.scope, the same in every request. */
static void write_heads(struct otlp *e, const struct otlp_config *cfg)
{
    struct prom_label *l = xcalloc(cfg->n_resource + 1, sizeof(*l));
    struct pblabels attrs;
    size_t m;

    for (size_t i = 0; i < cfg->n_resource; i++)
        l[i] = (struct prom_label){cfg->resource[i].key, cfg->resource[i].value, false};
    pblabels_init(&attrs, PBLABELS_OTLP, 1);
    m = pb_begin(&e->resource, 1);
    (void)(pblabels_put(&attrs, &e->resource, l, cfg->n_resource, NULL, 0) ||
           pb_end(&e->resource, m));
    pblabels_free(&attrs);
    free(l);
    m = pb_begin(&e->scope, 1);
    (void)(pb_string(&e->scope, 1, "nstats", 6) ||
           (cfg->scope_version != NULL && cfg->scope_version[0] != '\0' &&
            pb_string(&e->scope, 2, cfg->scope_version, strlen(cfg->scope_version))) ||
           pb_end(&e->scope, m));
}

struct otlp *otlp_new(const struct otlp_config *cfg)
{
    struct otlp *e = xcalloc(1, sizeof(*e));

    e->w.ops = &otlp_ops;
    e->max_points = cfg->max_points_per_request ? cfg->max_points_per_request : 2000;
    e->gzip = cfg->gzip;
    e->start_ms = cfg->start_ms;
    /* The heads have no cap worth failing on: they are the caller's few attributes. */
    buf_init(&e->resource, (size_t)-1);
    buf_init(&e->scope, (size_t)-1);
    write_heads(e, cfg);
    e->set = seriesset_new(SERIES_MAX_BYTES);
    e->keys = seriesset_new(SERIES_MAX_BYTES);
    pblabels_init(&e->attrs, PBLABELS_OTLP, 7);
    buf_init(&e->point, REQUEST_MAX_BYTES);
    buf_init(&e->metrics, REQUEST_MAX_BYTES);
    buf_init(&e->req, REQUEST_MAX_BYTES);
    push_bodies_init(&e->bodies);
    for (int i = 0; i < 2; i++)
        buf_init(&e->fams[i].text, SERIES_MAX_BYTES);
    e->family = NO_FAMILY;
    return e;
}

void otlp_free(struct otlp *e)
{
    if (e == NULL)
        return;
    buf_free(&e->resource);
    buf_free(&e->scope);
    seriesset_free(e->set);
    seriesset_free(e->keys);
    pblabels_free(&e->attrs);
    buf_free(&e->point);
    buf_free(&e->metrics);
    buf_free(&e->req);
    push_bodies_free(&e->bodies);
    for (int i = 0; i < 2; i++) {
        free(e->fams[i].v);
        buf_free(&e->fams[i].text);
    }
    free(e);
}

static void clear_families(struct families *f)
{
    f->n = 0;
    buf_reset(&f->text);
}

/* Forgets an interval's writing, as if it had not begun. */
static void drop_interval(struct otlp *e)
{
    seriesset_drop_current(e->set);
    seriesset_drop_current(e->keys);
    clear_families(&e->fams[e->cur]);
    push_bodies_drop(&e->bodies);
    buf_reset(&e->metrics);
    e->metric_open = false;
    e->points = 0;
    memset(&e->interval, 0, sizeof(e->interval));
}

struct series_writer *otlp_begin(struct otlp *e, uint64_t ts_ms)
{
    if (e->open)
        drop_interval(e);
    e->open = true;
    e->failed = false;
    e->ts_ms = ts_ms;
    e->family = NO_FAMILY;
    return &e->w;
}

/* A no-value point for each series of the previous interval that this one did not write. */
static int write_ended(struct otlp *e)
{
    size_t cursor = 0, len;
    const char *data;
    uint64_t start_ms;

    while (seriesset_next_ended(e->set, &cursor, &data, &len, &start_ms)) {
        uint32_t index;

        memcpy(&index, data, sizeof(index));
        if (write_point(e, !e->cur, index, data + sizeof(index), len - sizeof(index), start_ms,
                        VALUE_NONE, 0) == -1)
            return -1;
        e->interval.ended++;
    }
    return 0;
}

int otlp_end(struct otlp *e, push_body_fn *fn, void *arg)
{
    if (!e->open)
        return -1;
    e->open = false;
    if (e->failed || write_ended(e) == -1 || cut(e) == -1) {
        drop_interval(e);
        e->stats.failed++;
        return -1;
    }
    e->stats.points += e->interval.points;
    e->stats.ended += e->interval.ended;
    e->stats.repeated += e->interval.repeated;
    memset(&e->interval, 0, sizeof(e->interval));
    e->stats.requests += e->bodies.n;
    e->stats.body_bytes += push_bodies_hand_over(&e->bodies, fn, arg, e->ts_ms);
    seriesset_next_interval(e->set);
    seriesset_next_interval(e->keys);
    e->cur = !e->cur;
    clear_families(&e->fams[e->cur]);
    e->pushed = true;
    e->last_push_ms = e->ts_ms;
    return 0;
}

void otlp_get_stats(const struct otlp *e, struct otlp_stats *out)
{
    *out = e->stats;
}

void otlp_set_start(struct otlp *e, uint64_t start_ms)
{
    e->start_ms = start_ms;
}
