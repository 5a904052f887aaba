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

static void identity_tags(struct lineproto_line *l, const struct export_identity *id)
{
    lineproto_tag(l, "host", id->host);
    lineproto_tag(l, "interface", id->interface);
}

size_t schema_write_default(struct buf *b, const struct export_identity *id,
                            const struct meter_snapshot *snap,
                            const struct export_capture_stats *cs)
{
    uint64_t ts_ns = snap->end_ms * 1000000ULL;
    struct lineproto_line l;
    size_t dropped = 0;

    for (size_t i = 0; i < snap->n_rows; i++) {
        const struct flow_row *r = &snap->rows[i];
        struct schema_key_tags t;

        schema_key_tags(&r->key, &t);
        /* Tags in key order: host, interface, local, port, proto, remote. */
        lineproto_begin(&l, b, "nstats");
        identity_tags(&l, id);
        lineproto_tag(&l, "local", t.local);
        lineproto_tag(&l, "port", t.port);
        lineproto_tag(&l, "proto", t.proto);
        lineproto_tag(&l, "remote", t.remote);
        lineproto_field_uint(&l, "bytes_in", r->delta.bytes_in);
        lineproto_field_uint(&l, "bytes_out", r->delta.bytes_out);
        lineproto_field_uint(&l, "packets_in", r->delta.packets_in);
        lineproto_field_uint(&l, "packets_out", r->delta.packets_out);
        if (lineproto_end(&l, ts_ns) == -1)
            dropped++;
    }
    lineproto_begin(&l, b, "nstats_capture");
    identity_tags(&l, id);
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
    if (lineproto_end(&l, ts_ns) == -1)
        dropped++;
    return dropped;
}

struct pair_sum {
    struct flow_key key; /* kind, local and remote only */
    uint64_t bytes_in;
    uint64_t bytes_out;
};

static int pair_order(const void *a, const void *b)
{
    return memcmp(&((const struct pair_sum *)a)->key, &((const struct pair_sum *)b)->key,
                  sizeof(struct flow_key));
}

size_t schema_write_legacy(struct buf *b, const struct export_identity *id,
                           const struct meter_snapshot *snap)
{
    uint64_t ts_ns = snap->end_ms * 1000000ULL;
    uint64_t span_ms = snap->end_ms > snap->start_ms ? snap->end_ms - snap->start_ms : 1;
    double bits_per_byte_per_s = 8.0 * 1000.0 / (double)span_ms;
    struct pair_sum *pairs = calloc(snap->n_rows ? snap->n_rows : 1, sizeof(*pairs));
    size_t n = 0, dropped = 0;

    if (pairs == NULL)
        return snap->n_rows;
    /* Pairs only: sort by (kind, local, remote) with protocol and port cleared, then merge. */
    for (size_t i = 0; i < snap->n_rows; i++) {
        const struct flow_row *r = &snap->rows[i];
        struct pair_sum *p = &pairs[i];

        memset(p, 0, sizeof(*p));
        /* A pair's fragments belong to the pair: one row, or InfluxDB keeps only one point. */
        p->key.kind = r->key.kind == FLOW_KIND_FRAGMENT ? FLOW_KIND_NORMAL : r->key.kind;
        p->key.local = r->key.local;
        p->key.remote = r->key.remote;
        if (r->key.kind == FLOW_KIND_OTHER && r->key.local.family == 0)
            p->key.proto = r->key.proto; /* keeps the catch-all apart */
        p->bytes_in = r->delta.bytes_in;
        p->bytes_out = r->delta.bytes_out;
    }
    qsort(pairs, snap->n_rows, sizeof(*pairs), pair_order);
    for (size_t i = 0; i < snap->n_rows; i++) {
        if (n > 0 && pair_order(&pairs[n - 1], &pairs[i]) == 0) {
            pairs[n - 1].bytes_in += pairs[i].bytes_in;
            pairs[n - 1].bytes_out += pairs[i].bytes_out;
        } else {
            pairs[n++] = pairs[i];
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct schema_key_tags t;
        struct lineproto_line l;
        const char *receiver;

        schema_key_tags(&pairs[i].key, &t);
        /* Rows with no remote address name what they are, so sums still add up. */
        receiver = pairs[i].key.kind == FLOW_KIND_NON_IP      ? "non-ip"
                   : pairs[i].key.kind == FLOW_KIND_MALFORMED ? "malformed"
                                                              : t.remote;
        lineproto_begin(&l, b, "nstat");
        lineproto_tag(&l, "hosts", id->host);
        lineproto_tag(&l, "receiver", receiver);
        lineproto_tag(&l, "sender", t.local);
        lineproto_field_float(&l, "sendRate", (double)pairs[i].bytes_out * bits_per_byte_per_s);
        lineproto_field_float(&l, "receiveRate", (double)pairs[i].bytes_in * bits_per_byte_per_s);
        if (lineproto_end(&l, ts_ns) == -1)
            dropped++;
    }
    free(pairs);
    return dropped;
}
