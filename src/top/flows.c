/* Parsing the live API's JSON with jansson: every field checked for its type, absent fields
 * read as zero or "", so an older or newer daemon still shows what both understand. */
#include "flows.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* The API's own cap on limit: more rows than this is not an answer nstats gives. */
#define FLOWS_ROWS_MAX 10000

static void get_str(const json_t *obj, const char *key, char *out, size_t len)
{
    const json_t *v = json_object_get(obj, key);

    out[0] = '\0';
    if (json_is_string(v))
        snprintf(out, len, "%s", json_string_value(v));
}

static double get_double(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    double d;

    if (!json_is_number(v))
        return 0.0;
    d = json_number_value(v);
    return isfinite(d) && d > 0.0 ? d : 0.0;
}

static uint64_t get_u64(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    if (json_is_integer(v))
        return json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
    if (json_is_real(v)) {
        double d = json_real_value(v);

        return isfinite(d) && d > 0.0 && d < 1.8e19 ? (uint64_t)d : 0;
    }
    return 0;
}

static void get_rates(const json_t *obj, const char *key, struct flows_rates *out)
{
    const json_t *r = json_object_get(obj, key);

    memset(out, 0, sizeof(*out));
    if (!json_is_object(r))
        return;
    out->r2 = get_double(r, "r2");
    out->r10 = get_double(r, "r10");
    out->r40 = get_double(r, "r40");
    out->peak = get_double(r, "peak");
    out->total = get_u64(r, "total");
}

static void get_row(const json_t *obj, struct flows_row *out)
{
    uint64_t port = get_u64(obj, "port");

    memset(out, 0, sizeof(*out));
    if (!json_is_object(obj))
        return;
    get_str(obj, "local", out->local, sizeof(out->local));
    get_str(obj, "remote", out->remote, sizeof(out->remote));
    get_str(obj, "proto", out->proto, sizeof(out->proto));
    out->port = port <= 65535 ? (unsigned)port : 0;
    get_str(obj, "remote_name", out->remote_name, sizeof(out->remote_name));
    get_str(obj, "remote_source", out->remote_source, sizeof(out->remote_source));
    get_str(obj, "remote_kind", out->remote_kind, sizeof(out->remote_kind));
    get_str(obj, "remote_namespace", out->remote_namespace, sizeof(out->remote_namespace));
    get_str(obj, "remote_workload", out->remote_workload, sizeof(out->remote_workload));
    get_str(obj, "net", out->net, sizeof(out->net));
    get_str(obj, "class", out->class_, sizeof(out->class_));
    out->cost_usd = get_double(obj, "cost_usd");
    out->keys = get_u64(obj, "keys");
    get_rates(obj, "in", &out->in);
    get_rates(obj, "out", &out->out);
}

/* Loads a document that must be a JSON object. Returns it, or NULL with the reason. */
static json_t *load_object(const char *json, size_t len, const char *what, char *errbuf,
                           size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);

    if (root == NULL) {
        snprintf(errbuf, errlen, "%s: not JSON (%s at line %d)", what, jerr.text, jerr.line);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(errbuf, errlen, "%s: not a JSON object", what);
        return NULL;
    }
    return root;
}

int flows_parse(const char *json, size_t len, struct flows *out, char *errbuf, size_t errlen)
{
    json_t *root, *rows;
    size_t n;

    flows_free(out);
    if ((root = load_object(json, len, "flows", errbuf, errlen)) == NULL)
        return -1;
    rows = json_object_get(root, "rows");
    if (!json_is_array(rows)) {
        json_decref(root);
        snprintf(errbuf, errlen, "flows: no \"rows\" array");
        return -1;
    }
    out->time_ms = get_u64(root, "time_ms");
    get_str(root, "source", out->source, sizeof(out->source));
    get_str(root, "group", out->group, sizeof(out->group));
    get_str(root, "sort", out->sort, sizeof(out->sort));
    get_str(root, "order", out->order, sizeof(out->order));
    get_str(root, "filter", out->filter, sizeof(out->filter));
    n = json_array_size(rows);
    if (n > FLOWS_ROWS_MAX)
        n = FLOWS_ROWS_MAX;
    out->rows = n > 0 ? xcalloc(n, sizeof(*out->rows)) : NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *row = json_array_get(rows, i);

        /* A row that is not an object is skipped, not shown as zeros. */
        if (json_is_object(row))
            get_row(row, &out->rows[out->n_rows++]);
    }
    get_row(json_object_get(root, "others"), &out->others);
    get_row(json_object_get(root, "all"), &out->all);
    out->has_cost = json_is_number(json_object_get(json_object_get(root, "all"), "cost_usd"));
    json_decref(root);
    return 0;
}

static void get_dir_rates(const json_t *obj, const char *key, struct flows_dir_rates *out)
{
    const json_t *r = json_object_get(obj, key);

    out->r2 = get_double(r, "r2");
    out->r10 = get_double(r, "r10");
    out->r40 = get_double(r, "r40");
}

int flows_summary_parse(const char *json, size_t len, struct flows_summary *out, char *errbuf,
                        size_t errlen)
{
    const json_t *o;
    json_t *root;

    memset(out, 0, sizeof(*out));
    if ((root = load_object(json, len, "summary", errbuf, errlen)) == NULL)
        return -1;
    out->time_ms = get_u64(root, "time_ms");
    get_str(root, "source", out->source, sizeof(out->source));
    get_str(root, "host", out->host, sizeof(out->host));
    o = json_object_get(root, "capture");
    out->packets = get_u64(o, "packets");
    out->bytes = get_u64(o, "bytes");
    out->drops = get_u64(o, "drops");
    out->interface_drops = get_u64(o, "interface_drops");
    if (json_is_object(o = json_object_get(root, "interface"))) {
        out->has_interface = true;
        out->rx_bytes = get_u64(o, "rx_bytes");
        out->tx_bytes = get_u64(o, "tx_bytes");
        out->rx_packets = get_u64(o, "rx_packets");
        out->tx_packets = get_u64(o, "tx_packets");
    }
    out->keys = get_u64(root, "keys");
    out->keys_max = get_u64(root, "keys_max");
    o = json_object_get(root, "folded");
    out->folded_packets = get_u64(o, "packets");
    out->folded_bytes = get_u64(o, "bytes");
    o = json_object_get(root, "rates");
    get_dir_rates(o, "in", &out->in);
    get_dir_rates(o, "out", &out->out);
    if (json_is_object(o = json_object_get(root, "export"))) {
        out->has_export = true;
        out->queue_bytes = get_u64(o, "queue_bytes");
        out->batches_dropped = get_u64(o, "batches_dropped");
    }
    o = json_object_get(root, "process");
    out->cpu_seconds = get_double(o, "cpu_seconds");
    out->rss_bytes = get_u64(o, "rss_bytes");
    json_decref(root);
    return 0;
}

void flows_error_text(const char *json, size_t len, char *out, size_t outlen)
{
    json_t *root = json_loadb(json, len, 0, NULL);

    out[0] = '\0';
    if (json_is_object(root))
        get_str(root, "error", out, outlen);
    json_decref(root);
}

void flows_free(struct flows *f)
{
    free(f->rows);
    memset(f, 0, sizeof(*f));
}

bool flows_row_is_table_row(const struct flows_row *r)
{
    /* Grouped by port, the protocol is all a table row still shows of itself. */
    return strcmp(r->remote, "none") == 0 || strcmp(r->remote, "other") == 0 ||
           strcmp(r->proto, "non-ip") == 0 || strcmp(r->proto, "malformed") == 0 ||
           strcmp(r->proto, "other") == 0;
}

void flows_drop_idle_table_rows(struct flows *f)
{
    size_t kept = 0;

    for (size_t i = 0; i < f->n_rows; i++) {
        const struct flows_row *r = &f->rows[i];

        if (flows_row_is_table_row(r) && r->in.total == 0 && r->out.total == 0)
            continue;
        f->rows[kept++] = *r;
    }
    f->n_rows = kept;
}

size_t flows_row_id(const struct flows_row *r, char *out, size_t len)
{
    int n =
        snprintf(out, len, "%s|%s|%s|%u|%s|%s|%s|%s|%s", r->local, r->remote, r->proto, r->port,
                 r->remote_name, r->remote_kind, r->remote_namespace, r->remote_workload, r->net);

    if (n < 0)
        return 0;
    return (size_t)n < len ? (size_t)n : len > 0 ? len - 1 : 0;
}
