/* Default schema, documented in docs/METRICS.md: keep the two in step. */
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/lineproto.h"

static void copy_str(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);

    if (n >= len)
        n = len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void addr_or(const struct netaddr *a, const char *fallback, char *buf, size_t len)
{
    if (a->family == 0)
        copy_str(buf, len, fallback);
    else
        netaddr_format(a, buf, len);
}

static void format_port(uint16_t port, char *out)
{
    char tmp[6];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + port % 10);
        port /= 10;
    } while (port != 0);
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

void schema_key_tags(const struct flow_key *key, struct schema_key_tags *out)
{
    char num[8];

    addr_or(&key->local, "none", out->local, sizeof(out->local));
    addr_or(&key->remote, "none", out->remote, sizeof(out->remote));
    copy_str(out->proto, sizeof(out->proto), flow_proto_name(key->proto, num, sizeof(num)));
    format_port(key->port, out->port);
    switch ((enum flow_kind)key->kind) {
    case FLOW_KIND_NORMAL:
        break;
    case FLOW_KIND_FRAGMENT:
        copy_str(out->port, sizeof(out->port), "frag");
        break;
    case FLOW_KIND_OTHER:
        copy_str(out->remote, sizeof(out->remote), "other");
        if (key->local.family == 0 && key->proto == 0) {
            /* The catch-all row, used once the per-local other rows are exhausted too. */
            copy_str(out->local, sizeof(out->local), "other");
            copy_str(out->proto, sizeof(out->proto), "other");
        }
        break;
    case FLOW_KIND_NON_IP:
        copy_str(out->proto, sizeof(out->proto), "non-ip");
        break;
    case FLOW_KIND_MALFORMED:
        copy_str(out->proto, sizeof(out->proto), "malformed");
        break;
    }
}

/* The identity tags, escaped once per batch: they sit between the key's tags in key order,
 * as host,interface | local | namespace | net | node | port ... remote_workload | workload. */
struct identity_text {
    struct buf text;
    size_t host_interface_end;
    size_t namespace_end;
    size_t node_end;
};

static void identity_text_init(struct identity_text *t, const struct export_identity *id)
{
    buf_init(&t->text, 1u << 20);
    lineproto_escape_tag(&t->text, "host", id->host);
    lineproto_escape_tag(&t->text, "interface", id->interface);
    t->host_interface_end = t->text.len;
    lineproto_escape_tag(&t->text, "namespace", id->namespace_);
    t->namespace_end = t->text.len;
    lineproto_escape_tag(&t->text, "node", id->node);
    t->node_end = t->text.len;
    lineproto_escape_tag(&t->text, "workload", id->workload);
}

static void put_identity(struct lineproto_line *l, const struct identity_text *t, size_t from,
                         size_t to)
{
    if (to > from)
        lineproto_tags_verbatim(l, t->text.data + from, to - from);
}

/* The interval's capture row, shared by both schemas. */
size_t schema_write_capture(struct buf *b, const struct export_identity *id,
                            const struct meter_snapshot *snap,
                            const struct export_capture_stats *cs)
{
    struct identity_text it;
    struct lineproto_line l;
    int rc;

    identity_text_init(&it, id);
    lineproto_begin(&l, b, "nstats_capture");
    put_identity(&l, &it, 0, it.text.len);
    lineproto_field_uint(&l, "packets", snap->packets);
    lineproto_field_uint(&l, "bytes", snap->bytes);
    lineproto_field_uint(&l, "capture_drops", cs->capture_drops);
    lineproto_field_uint(&l, "interface_drops", cs->interface_drops);
    lineproto_field_uint(&l, "keys", snap->table.keys);
    lineproto_field_uint(&l, "keys_created", snap->table_delta.keys_created);
    lineproto_field_uint(&l, "keys_expired", snap->table_delta.keys_expired);
    lineproto_field_uint(&l, "folded_packets", snap->table_delta.folded_packets);
    lineproto_field_uint(&l, "folded_bytes", snap->table_delta.folded_bytes);
    lineproto_field_uint(&l, "interval_ms", snap->end_ms - snap->start_ms);
    rc = lineproto_end(&l, lineproto_ts_ms(snap->end_ms));
    buf_free(&it.text);
    return rc == -1;
}

size_t schema_write_export(struct buf *b, const struct export_identity *id,
                           const struct push_stats *st, uint64_t end_ms)
{
    struct identity_text it;
    struct lineproto_line l;
    int rc;

    identity_text_init(&it, id);
    lineproto_begin(&l, b, "nstats_export");
    put_identity(&l, &it, 0, it.text.len);
    lineproto_field_uint(&l, "batches_sent", st->batches_sent);
    lineproto_field_uint(&l, "batches_retried", st->batches_retried);
    lineproto_field_uint(&l, "batches_dropped", st->batches_dropped);
    lineproto_field_uint(&l, "queue_bytes", st->queue_bytes);
    lineproto_field_uint(&l, "queue_batches", st->queue_batches);
    rc = lineproto_end(&l, lineproto_ts_ms(end_ms));
    buf_free(&it.text);
    return rc == -1;
}

bool schema_key_nameable(const struct flow_key *key)
{
    return (key->kind == FLOW_KIND_NORMAL || key->kind == FLOW_KIND_FRAGMENT) &&
           key->remote.family != 0;
}

size_t schema_write_rows(struct buf *b, const struct export_identity *id,
                         const struct meter_snapshot *snap, size_t from, size_t to,
                         struct names *names)
{
    uint64_t ts_ns = lineproto_ts_ms(snap->end_ms);
    struct identity_text it;
    struct lineproto_line l;
    size_t dropped = 0;

    identity_text_init(&it, id);
    for (size_t i = from; i < to && i < snap->n_rows; i++) {
        const struct flow_row *r = &snap->rows[i];
        struct schema_key_tags t;
        struct name_info ni;
        bool named = names != NULL && schema_key_nameable(r->key);

        schema_key_tags(r->key, &t);
        if (named)
            names_lookup(names, &r->key->remote, t.remote, snap->end_ms, &ni);
        else
            names_none(schema_key_nameable(r->key) ? &r->key->remote : NULL, NULL, &ni);
        /* Tags in key order, as InfluxDB prefers them. */
        lineproto_begin(&l, b, "nstats");
        lineproto_tag_lit(&l, "class", ni.class_);
        put_identity(&l, &it, 0, it.host_interface_end);
        lineproto_tag_plain(&l, "local", t.local);
        put_identity(&l, &it, it.host_interface_end, it.namespace_end);
        if (named)
            lineproto_tag_lit(&l, "net", ni.net);
        put_identity(&l, &it, it.namespace_end, it.node_end);
        lineproto_tag_plain(&l, "port", t.port);
        lineproto_tag_plain(&l, "proto", t.proto);
        lineproto_tag_plain(&l, "remote", t.remote);
        if (named) {
            lineproto_tag_lit(&l, "remote_kind", ni.kind);
            lineproto_tag_lit(&l, "remote_name", ni.name);
            lineproto_tag_lit(&l, "remote_namespace", ni.namespace_);
            lineproto_tag_plain(&l, "remote_source", ni.source);
            lineproto_tag_lit(&l, "remote_workload", ni.workload);
            lineproto_tag_lit(&l, "remote_zone", ni.zone);
        }
        put_identity(&l, &it, it.node_end, it.text.len);
        lineproto_field_uint_lit(&l, "bytes_in", r->delta.bytes_in);
        lineproto_field_uint_lit(&l, "bytes_out", r->delta.bytes_out);
        lineproto_field_uint_lit(&l, "packets_in", r->delta.packets_in);
        lineproto_field_uint_lit(&l, "packets_out", r->delta.packets_out);
        if (lineproto_end(&l, ts_ns) == -1)
            dropped++;
    }
    buf_free(&it.text);
    return dropped;
}

size_t schema_write_default(struct buf *b, const struct export_identity *id,
                            const struct meter_snapshot *snap,
                            const struct export_capture_stats *cs, struct names *names)
{
    return schema_write_rows(b, id, snap, 0, snap->n_rows, names) +
           schema_write_capture(b, id, snap, cs);
}

/* One legacy row: a (sender, receiver) name pair and its bytes. Names, not addresses, make
 * the row, so two addresses with one name share a row instead of overwriting each other's
 * point in InfluxDB. */
struct legacy_row {
    char sender[NAMECACHE_NAME_MAX];
    char receiver[NAMECACHE_NAME_MAX];
    uint64_t bytes_in;
    uint64_t bytes_out;
};

static int legacy_order(const void *a, const void *b)
{
    const struct legacy_row *x = a, *y = b;
    int c = strcmp(x->sender, y->sender);

    return c != 0 ? c : strcmp(x->receiver, y->receiver);
}

/* The prototype's sender and receiver for a row: best names, or what the row is. */
static void legacy_names(const struct flow_key *key, struct names *names, uint64_t now_ms,
                         struct legacy_row *out)
{
    struct schema_key_tags t;
    struct name_info ni;

    schema_key_tags(key, &t);
    copy_str(out->sender, sizeof(out->sender), t.local);
    copy_str(out->receiver, sizeof(out->receiver),
             key->kind == FLOW_KIND_NON_IP      ? "non-ip"
             : key->kind == FLOW_KIND_MALFORMED ? "malformed"
                                                : t.remote);
    if (names == NULL || !schema_key_nameable(key))
        return;
    if (key->local.family != 0) {
        names_lookup(names, &key->local, t.local, now_ms, &ni);
        copy_str(out->sender, sizeof(out->sender), ni.name);
    }
    names_lookup(names, &key->remote, t.remote, now_ms, &ni);
    copy_str(out->receiver, sizeof(out->receiver), ni.name);
}

size_t schema_write_legacy(struct buf *b, const struct export_identity *id,
                           const struct meter_snapshot *snap, const struct export_capture_stats *cs,
                           struct names *names)
{
    uint64_t ts_ns = lineproto_ts_ms(snap->end_ms);
    uint64_t span_ms = snap->end_ms > snap->start_ms ? snap->end_ms - snap->start_ms : 1;
    double bits_per_byte_per_s = 8.0 * 1000.0 / (double)span_ms;
    struct legacy_row *rows = calloc(snap->n_rows ? snap->n_rows : 1, sizeof(*rows));
    size_t n = 0, dropped = 0;

    if (rows == NULL)
        return snap->n_rows + 1;
    for (size_t i = 0; i < snap->n_rows; i++) {
        legacy_names(snap->rows[i].key, names, snap->end_ms, &rows[i]);
        rows[i].bytes_in = snap->rows[i].delta.bytes_in;
        rows[i].bytes_out = snap->rows[i].delta.bytes_out;
    }
    qsort(rows, snap->n_rows, sizeof(*rows), legacy_order);
    for (size_t i = 0; i < snap->n_rows; i++) {
        if (n > 0 && legacy_order(&rows[n - 1], &rows[i]) == 0) {
            rows[n - 1].bytes_in += rows[i].bytes_in;
            rows[n - 1].bytes_out += rows[i].bytes_out;
        } else {
            rows[n++] = rows[i];
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct lineproto_line l;

        lineproto_begin(&l, b, "nstat");
        lineproto_tag(&l, "hosts", id->host);
        lineproto_tag(&l, "receiver", rows[i].receiver);
        lineproto_tag(&l, "sender", rows[i].sender);
        lineproto_field_float(&l, "sendRate", (double)rows[i].bytes_out * bits_per_byte_per_s);
        lineproto_field_float(&l, "receiveRate", (double)rows[i].bytes_in * bits_per_byte_per_s);
        if (lineproto_end(&l, ts_ns) == -1)
            dropped++;
    }
    free(rows);
    return dropped + schema_write_capture(b, id, snap, cs);
}
