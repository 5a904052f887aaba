/* The live API: one pass over the table (rates, names, filter, grouping), a sort, and the top
 * rows written with jansson. Groups live in an open-addressing table keyed by their text. */
#include "api.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/hash.h"
#include "base/parse.h"
#include "base/xalloc.h"
#include "export/schema.h"

#define DEFAULT_LIMIT 100
#define GROUP_TEXT_MAX 256

static const char *const group_names[] = {"pair",     "remote",    "name", "port",
                                          "workload", "namespace", "net",  "class"};
static const char *const sort_names[] = {"r2", "r10", "r40", "in", "out", "total", "peak", "name"};

static int find_name(const char *const names[], size_t n, const char *value)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], value) == 0)
            return (int)i;
    return -1;
}

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes len bytes of a query component into out (cap outlen). Returns 0, or -1 if it is
 * malformed or too long. */
static int decode(const char *s, size_t len, char *out, size_t outlen)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi, lo;

            if (i + 2 >= len)
                return -1;
            hi = hex(s[i + 1]);
            lo = hex(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (n + 1 >= outlen)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return 0;
}

int api_parse_query(const char *query, struct api_query *q, char *errbuf, size_t errlen)
{
    const char *p = query != NULL ? query : "";

    memset(q, 0, sizeof(*q));
    q->group = API_GROUP_PAIR;
    q->sort = API_SORT_R10;
    q->limit = DEFAULT_LIMIT;
    bool order_given = false;

    while (*p != '\0') {
        size_t len = strcspn(p, "&;");
        const char *eq = memchr(p, '=', len);
        char key[16], value[API_FILTER_MAX];
        size_t klen = eq != NULL ? (size_t)(eq - p) : len;

        if (len == 0) {
            p++;
            continue;
        }
        if (decode(p, klen, key, sizeof(key)) == -1) {
            snprintf(errbuf, errlen, "bad query parameter name");
            return -1;
        }
        if (eq == NULL) {
            value[0] = '\0';
        } else if (decode(eq + 1, len - klen - 1, value, sizeof(value)) == -1) {
            snprintf(errbuf, errlen, "bad value for %s (malformed, or over %d bytes)", key,
                     API_FILTER_MAX - 1);
            return -1;
        }
        if (strcmp(key, "group") == 0) {
            int g = find_name(group_names, sizeof(group_names) / sizeof(group_names[0]), value);

            if (g < 0) {
                snprintf(errbuf, errlen,
                         "bad group (pair, remote, name, port, workload, namespace or net)");
                return -1;
            }
            q->group = (enum api_group)g;
        } else if (strcmp(key, "sort") == 0) {
            int s = find_name(sort_names, sizeof(sort_names) / sizeof(sort_names[0]), value);

            if (s < 0) {
                snprintf(errbuf, errlen, "bad sort (r2, r10, r40, in, out, total, peak or name)");
                return -1;
            }
            q->sort = (enum api_sort)s;
        } else if (strcmp(key, "order") == 0) {
            if (strcmp(value, "asc") != 0 && strcmp(value, "desc") != 0) {
                snprintf(errbuf, errlen, "bad order (asc or desc)");
                return -1;
            }
            q->ascending = strcmp(value, "asc") == 0;
            order_given = true;
        } else if (strcmp(key, "filter") == 0) {
            snprintf(q->filter, sizeof(q->filter), "%s", value);
        } else if (strcmp(key, "limit") == 0) {
            uint64_t n;
            char why[64];

            if (parse_u64(value, 1, API_LIMIT_MAX, &n, why, sizeof(why)) == -1) {
                snprintf(errbuf, errlen, "bad limit (1 to %d)", API_LIMIT_MAX);
                return -1;
            }
            q->limit = (unsigned)n;
        }
        p += len;
        if (*p != '\0')
            p++;
    }
    if (!order_given)
        q->ascending = q->sort == API_SORT_NAME;
    return 0;
}

/* A row of the answer: one key, or the keys sharing a group's text. */
struct group {
    struct flow_key key; /* the first key, for the fields the group shares */
    uint32_t text;       /* offset of the group's text in the arena; 0 for pairs */
    uint32_t keys;
    struct rate_values in, out;
    double cost; /* USD of the totals, at the user's prices */
};

struct filter {
    enum { F_NONE, F_PREFIX, F_PORT, F_TEXT } kind;
    struct netprefix prefix;
    unsigned port;
    const char *text;
};

struct pass {
    const struct api_sources *src;
    const struct api_query *q;
    struct filter f;
    struct group *groups;
    size_t n, cap;
    uint32_t *slots; /* group index + 1, by the hash of the group's text */
    size_t slot_mask;
    struct buf arena;
    struct hash_key seed;
    struct group all;
};

static bool has_text(const char *s, const char *needle)
{
    size_t n = strlen(needle);

    for (; *s != '\0'; s++)
        if (strncasecmp(s, needle, n) == 0)
            return true;
    return false;
}

static bool kept(const struct filter *f, const struct flow_key *key,
                 const struct schema_key_tags *t, const struct name_info *ni)
{
    switch (f->kind) {
    case F_NONE:
        return true;
    case F_PREFIX:
        return key->kind == FLOW_KIND_NORMAL && (netprefix_contains(&f->prefix, &key->local) ||
                                                 netprefix_contains(&f->prefix, &key->remote));
    case F_PORT:
        return key->port == f->port;
    case F_TEXT:
        return has_text(t->local, f->text) || has_text(t->remote, f->text) ||
               has_text(t->proto, f->text) || has_text(ni->name, f->text) ||
               has_text(ni->net, f->text) || has_text(ni->namespace_, f->text) ||
               has_text(ni->workload, f->text) || has_text(ni->kind, f->text) ||
               has_text(ni->class_, f->text);
    }
    return true;
}

static void names_of(const struct api_sources *src, const struct flow_key *key,
                     const struct schema_key_tags *t, struct name_info *ni)
{
    if (src->names != NULL && schema_key_nameable(key))
        names_lookup(src->names, &key->remote, t->remote, src->now_ms, ni);
    else
        names_none(schema_key_nameable(key) ? &key->remote : NULL, t->remote, ni);
}

static void group_text(const struct api_query *q, const struct schema_key_tags *t,
                       const struct name_info *ni, char *out, size_t len)
{
    switch (q->group) {
    case API_GROUP_REMOTE:
        snprintf(out, len, "%s", t->remote);
        break;
    case API_GROUP_NAME:
        snprintf(out, len, "%s", ni->name);
        break;
    case API_GROUP_PORT:
        snprintf(out, len, "%s/%s", t->proto, t->port);
        break;
    case API_GROUP_WORKLOAD:
        snprintf(out, len, "%s/%s", ni->namespace_, ni->workload);
        break;
    case API_GROUP_NAMESPACE:
        snprintf(out, len, "%s", ni->namespace_);
        break;
    case API_GROUP_NET:
        snprintf(out, len, "%s", ni->net);
        break;
    case API_GROUP_CLASS:
        snprintf(out, len, "%s", ni->class_);
        break;
    case API_GROUP_PAIR:
        out[0] = '\0';
        break;
    }
}

static struct group *new_group(struct pass *p, const struct flow_key *key, uint32_t text)
{
    struct group *g;

    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 1024;
        p->groups = xreallocarray(p->groups, p->cap, sizeof(*p->groups));
    }
    g = &p->groups[p->n++];
    memset(g, 0, sizeof(*g));
    g->key = *key;
    g->text = text;
    return g;
}

static void grow_slots(struct pass *p)
{
    size_t size = p->slot_mask ? (p->slot_mask + 1) * 2 : 1024;

    free(p->slots);
    p->slots = xcalloc(size, sizeof(*p->slots));
    p->slot_mask = size - 1;
    for (size_t i = 0; i < p->n; i++) {
        const char *s = p->arena.data + p->groups[i].text;
        size_t h = hash_bytes(&p->seed, s, strlen(s)) & p->slot_mask;

        while (p->slots[h] != 0)
            h = (h + 1) & p->slot_mask;
        p->slots[h] = (uint32_t)i + 1;
    }
}

/* The group for text, made if new. */
static struct group *group_for(struct pass *p, const struct flow_key *key, const char *text)
{
    size_t h, len = strlen(text);
    uint32_t off;

    if ((p->n + 1) * 2 > p->slot_mask + 1)
        grow_slots(p);
    h = hash_bytes(&p->seed, text, len) & p->slot_mask;
    while (p->slots[h] != 0) {
        struct group *g = &p->groups[p->slots[h] - 1];

        if (strcmp(p->arena.data + g->text, text) == 0)
            return g;
        h = (h + 1) & p->slot_mask;
    }
    off = (uint32_t)p->arena.len;
    buf_append(&p->arena, text, len + 1);
    p->slots[h] = (uint32_t)p->n + 1;
    return new_group(p, key, off);
}

static void on_key(void *arg, const struct flow_key *key, const struct rate_values *in,
                   const struct rate_values *out)
{
    struct pass *p = arg;
    struct schema_key_tags t;
    struct name_info ni;
    struct group *g;
    char text[GROUP_TEXT_MAX];

    schema_key_tags(key, &t);
    names_of(p->src, key, &t, &ni);
    if (!kept(&p->f, key, &t, &ni))
        return;
    if (p->q->group == API_GROUP_PAIR) {
        g = new_group(p, key, 0);
    } else {
        group_text(p->q, &t, &ni, text, sizeof(text));
        g = group_for(p, key, text);
    }
    g->keys++;
    rate_values_add(&g->in, in);
    rate_values_add(&g->out, out);
    p->all.keys++;
    rate_values_add(&p->all.in, in);
    rate_values_add(&p->all.out, out);
    if (p->src->prices != NULL && p->src->prices->n > 0) {
        double cost = prices_cost(p->src->prices, ni.class_, in->total, out->total);

        g->cost += cost;
        p->all.cost += cost;
    }
}

static double metric(const struct group *g, enum api_sort s)
{
    switch (s) {
    case API_SORT_R2:
        return g->in.r2 + g->out.r2;
    case API_SORT_R10:
        return g->in.r10 + g->out.r10;
    case API_SORT_R40:
        return g->in.r40 + g->out.r40;
    case API_SORT_IN:
        return g->in.r10;
    case API_SORT_OUT:
        return g->out.r10;
    case API_SORT_TOTAL:
        return (double)(g->in.total + g->out.total);
    case API_SORT_PEAK:
        return g->in.peak + g->out.peak;
    case API_SORT_NAME:
        return 0;
    }
    return 0;
}

/* qsort has no context argument: the sort in effect, for one call on the loop thread. */
static const struct pass *sorting;

static int by_key_text(const struct group *a, const struct group *b)
{
    struct schema_key_tags ta, tb;
    int c;

    if (a->text != b->text)
        return strcmp(sorting->arena.data + a->text, sorting->arena.data + b->text);
    schema_key_tags(&a->key, &ta);
    schema_key_tags(&b->key, &tb);
    if ((c = strcmp(ta.remote, tb.remote)) != 0 || (c = strcmp(ta.local, tb.local)) != 0 ||
        (c = strcmp(ta.proto, tb.proto)) != 0)
        return c;
    return strcmp(ta.port, tb.port);
}

static int compare(const void *va, const void *vb)
{
    const struct group *a = va, *b = vb;
    int c = 0;

    if (sorting->q->sort != API_SORT_NAME) {
        double ma = metric(a, sorting->q->sort), mb = metric(b, sorting->q->sort);

        c = ma < mb ? -1 : ma > mb ? 1 : 0;
    }
    if (c == 0)
        c = by_key_text(a, b);
    return sorting->q->ascending ? c : -c;
}

static json_t *rates_json(const struct rate_values *v)
{
    return json_pack("{s:f,s:f,s:f,s:f,s:I}", "r2", v->r2, "r10", v->r10, "r40", v->r40, "peak",
                     v->peak, "total", (json_int_t)v->total);
}

/* Adds the group's cost when the user gave prices. */
static json_t *with_cost(const struct api_sources *src, const struct group *g, json_t *obj)
{
    if (obj != NULL && src->prices != NULL && src->prices->n > 0)
        json_object_set_new(obj, "cost_usd", json_real(g->cost));
    return obj;
}

static json_t *sums_json(const struct api_sources *src, const struct group *g)
{
    return with_cost(src, g,
                     json_pack("{s:I,s:o,s:o}", "keys", (json_int_t)g->keys, "in",
                               rates_json(&g->in), "out", rates_json(&g->out)));
}

static json_t *row_json(const struct pass *p, const struct group *g)
{
    struct schema_key_tags t;
    struct name_info ni;
    enum api_group grp = p->q->group;
    bool pair = grp == API_GROUP_PAIR, remote = pair || grp == API_GROUP_REMOTE;
    bool name = remote || grp == API_GROUP_NAME, port = pair || grp == API_GROUP_PORT;
    bool workload = name || grp == API_GROUP_WORKLOAD;
    bool ns = workload || grp == API_GROUP_NAMESPACE, net = remote || grp == API_GROUP_NET;
    bool cls = remote || grp == API_GROUP_CLASS;
    json_t *row;

    schema_key_tags(&g->key, &t);
    names_of(p->src, &g->key, &t, &ni);
    row = json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:o,s:o}", "local",
                    pair ? t.local : "", "remote", remote ? t.remote : "", "proto",
                    port ? t.proto : "", "port", port ? (int)g->key.port : 0, "remote_name",
                    name ? ni.name : "", "remote_source", name ? ni.source : "", "remote_kind",
                    workload ? ni.kind : "", "remote_namespace", ns ? ni.namespace_ : "",
                    "remote_workload", workload ? ni.workload : "", "net", net ? ni.net : "",
                    "class", cls ? ni.class_ : "", "keys", (json_int_t)g->keys, "in",
                    rates_json(&g->in), "out", rates_json(&g->out));
    return with_cost(p->src, g, row);
}

static int dump(struct buf *b, json_t *root)
{
    char *text;
    int rc = -1;

    if (root == NULL)
        return -1;
    text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (text != NULL) {
        rc = buf_append_str(b, text) == 0 && buf_append_char(b, '\n') == 0 ? 0 : -1;
        free(text);
    }
    json_decref(root);
    return rc;
}

static void parse_filter(const char *text, struct filter *f)
{
    uint64_t port;
    char why[64];

    memset(f, 0, sizeof(*f));
    if (text[0] == '\0') {
        f->kind = F_NONE;
    } else if (strchr(text, '/') != NULL && netprefix_parse(text, &f->prefix) == 0) {
        f->kind = F_PREFIX;
    } else if (strncmp(text, "port:", 5) == 0 &&
               parse_u64(text + 5, 0, 65535, &port, why, sizeof(why)) == 0) {
        f->kind = F_PORT;
        f->port = (unsigned)port;
    } else {
        f->kind = F_TEXT;
        f->text = text;
    }
}

int api_flows(struct buf *b, const struct api_sources *src, const struct api_query *q)
{
    struct pass p;
    struct group others;
    json_t *rows, *root;
    size_t shown;

    memset(&p, 0, sizeof(p));
    p.src = src;
    p.q = q;
    parse_filter(q->filter, &p.f);
    buf_init(&p.arena, (size_t)1 << 30);
    buf_append_char(&p.arena, '\0'); /* offset 0: no text */
    hash_key_random(&p.seed);
    rates_foreach(src->rates, src->meter, on_key, &p);
    sorting = &p;
    if (p.n > 0)
        qsort(p.groups, p.n, sizeof(*p.groups), compare);
    sorting = NULL;
    shown = p.n < q->limit ? p.n : q->limit;
    rows = json_array();
    memset(&others, 0, sizeof(others));
    for (size_t i = 0; i < p.n; i++) {
        if (i < shown) {
            json_array_append_new(rows, row_json(&p, &p.groups[i]));
        } else {
            others.keys += p.groups[i].keys;
            others.cost += p.groups[i].cost;
            rate_values_add(&others.in, &p.groups[i].in);
            rate_values_add(&others.out, &p.groups[i].out);
        }
    }
    root = json_pack("{s:i,s:I,s:s,s:s,s:s,s:s,s:s,s:i,s:[i,i,i],s:o,s:o,s:o}", "version", 1,
                     "time_ms", (json_int_t)src->now_ms, "source", src->source ? src->source : "",
                     "group", group_names[q->group], "sort", sort_names[q->sort], "order",
                     q->ascending ? "asc" : "desc", "filter", q->filter, "limit", (int)q->limit,
                     "windows_s", 2, 10, 40, "rows", rows, "others", sums_json(src, &others), "all",
                     sums_json(src, &p.all));
    free(p.groups);
    free(p.slots);
    buf_free(&p.arena);
    return dump(b, root);
}

static void sum_rates(void *arg, const struct flow_key *key, const struct rate_values *in,
                      const struct rate_values *out)
{
    struct group *all = arg;

    (void)key;
    all->keys++;
    rate_values_add(&all->in, in);
    rate_values_add(&all->out, out);
}

int api_summary(struct buf *b, const struct api_sources *src)
{
    struct meter_totals t;
    struct group all;
    json_t *root;
    uint64_t attributed, expired;

    memset(&all, 0, sizeof(all));
    meter_read(src->meter, &t, NULL, NULL);
    rates_foreach(src->rates, src->meter, sum_rates, &all);
    attributed = all.in.total + all.out.total;
    expired = t.table.expired.bytes_in + t.table.expired.bytes_out;
    root = json_pack("{s:i,s:I,s:s,s:s,s:{s:I,s:I},s:{s:I,s:I},s:I,s:I,s:{s:I,s:I},"
                     "s:{s:{s:f,s:f,s:f},s:{s:f,s:f,s:f}}}",
                     "version", 1, "time_ms", (json_int_t)src->now_ms, "source",
                     src->source ? src->source : "", "host", src->host ? src->host : "", "capture",
                     "packets", (json_int_t)t.packets, "bytes", (json_int_t)t.bytes, "attributed",
                     "bytes", (json_int_t)attributed, "expired_bytes", (json_int_t)expired, "keys",
                     (json_int_t)t.table.keys, "keys_max", (json_int_t)src->max_flows, "folded",
                     "packets", (json_int_t)t.table.folded_packets, "bytes",
                     (json_int_t)t.table.folded_bytes, "rates", "in", "r2", all.in.r2, "r10",
                     all.in.r10, "r40", all.in.r40, "out", "r2", all.out.r2, "r10", all.out.r10,
                     "r40", all.out.r40);
    if (root == NULL)
        return -1;
    if (src->have_capture) {
        json_t *c = json_object_get(root, "capture");

        json_object_set_new(c, "drops", json_integer((json_int_t)src->capture.drops));
        json_object_set_new(c, "interface_drops", json_integer((json_int_t)src->capture.ifdrops));
    }
    if (src->have_iface)
        json_object_set_new(root, "interface",
                            json_pack("{s:I,s:I,s:I,s:I}", "rx_bytes",
                                      (json_int_t)src->iface.rx_bytes, "tx_bytes",
                                      (json_int_t)src->iface.tx_bytes, "rx_packets",
                                      (json_int_t)src->iface.rx_packets, "tx_packets",
                                      (json_int_t)src->iface.tx_packets));
    if (src->sinks != NULL)
        json_object_set_new(root, "export",
                            json_pack("{s:I,s:I}", "queue_bytes",
                                      (json_int_t)src->sinks->queue_bytes, "batches_dropped",
                                      (json_int_t)src->sinks->batches_dropped));
    if (src->have_process)
        json_object_set_new(root, "process",
                            json_pack("{s:f,s:I}", "cpu_seconds", src->cpu_seconds, "rss_bytes",
                                      (json_int_t)src->rss_bytes));
    return dump(b, root);
}
