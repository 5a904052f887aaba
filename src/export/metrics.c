/* /metrics, documented series by series in docs/METRICS.md: keep the two in step. Flow series
 * are counters for a key's life; when a key expires its series ends and its counts move into
 * nstats_expired_*, so sums over series never go backwards. */
#include "metrics.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* A Service the table's rows reach whose endpoints are in more than one class. */
struct mixed_service {
    char namespace_[K8S_STR_MAX];
    char name[K8S_STR_MAX];
    struct endpoint_counts endpoints;
};

#define MIXED_SERVICES_MAX 256

struct flow_pass {
    struct series_writer *w;
    struct mixed_service *mixed; /* MIXED_SERVICES_MAX, allocated at the first */
    size_t n_mixed;
    /* Every key's record (keycache.h): its labels, prepared by the writer, for both
     * families; the scrapes' cache, or one for this render only. */
    struct keycache *cache;
    struct names *names;
    uint64_t now_ms;
    bool packets; /* which family this pass writes */
    int err;
    uint64_t by_kind[5]; /* bytes per enum flow_kind */
};

/* Prometheus treats an empty label as an absent one: it is not written. */
static void label(struct prom_label *l, size_t *n, const char *name, const char *value)
{
    if (value != NULL && value[0] != '\0')
        l[(*n)++] = (struct prom_label){name, value, false};
}

static void note_mixed(struct flow_pass *p, const struct name_info *ni)
{
    struct mixed_service *m;

    for (size_t i = 0; i < p->n_mixed; i++)
        if (strcmp(p->mixed[i].name, ni->name) == 0 &&
            strcmp(p->mixed[i].namespace_, ni->namespace_) == 0)
            return;
    if (p->n_mixed == MIXED_SERVICES_MAX)
        return;
    if (p->mixed == NULL)
        p->mixed = xcalloc(MIXED_SERVICES_MAX, sizeof(*p->mixed));
    m = &p->mixed[p->n_mixed++];
    snprintf(m->namespace_, sizeof(m->namespace_), "%s", ni->namespace_);
    snprintf(m->name, sizeof(m->name), "%s", ni->name);
    m->endpoints = *ni->endpoints;
}

/* A key's record: its labels, prepared by the writer. */
static int key_labels(struct flow_pass *p, uint32_t index, const struct flow_key *key)
{
    struct schema_key_tags t;
    struct name_info ni;
    struct prom_label l[12];
    size_t n = 0;
    bool mixed;
    struct buf *a;

    schema_key_tags(key, &t);
    if (p->names != NULL && schema_key_nameable(key))
        names_lookup(p->names, &key->remote, t.remote, p->now_ms, &ni);
    else
        names_none(schema_key_nameable(key) ? &key->remote : NULL, NULL, &ni);
    mixed = ni.endpoints != NULL && strcmp(ni.class_, traffic_class_name(TC_MIXED)) == 0;
    if (mixed)
        note_mixed(p, &ni);
    /* A --label-net label is the user's text: escaped like any. */
    l[n++] = (struct prom_label){"class", ni.class_, false};
    l[n++] = (struct prom_label){"local", t.local, true};
    label(l, &n, "net", ni.net);
    l[n++] = (struct prom_label){"port", t.port, true};
    l[n++] = (struct prom_label){"proto", t.proto, true};
    l[n++] = (struct prom_label){"remote", t.remote, true};
    label(l, &n, "remote_kind", ni.kind);
    label(l, &n, "remote_name", ni.name);
    label(l, &n, "remote_namespace", ni.namespace_);
    if (ni.source != NULL && ni.source[0] != '\0')
        l[n++] = (struct prom_label){"remote_source", ni.source, true};
    label(l, &n, "remote_workload", ni.workload);
    label(l, &n, "remote_zone", ni.zone);
    if ((a = keycache_open(p->cache, index, key, mixed ? KEYCACHE_MIXED : 0)) == NULL ||
        p->w->ops->key_prepare(p->w, a, key, sizeof(*key), l, n) == -1)
        return -1;
    return keycache_seal(p->cache);
}

/* The last scrape's record of a key, kept when nothing it was made from changed. A mixed
 * Service's endpoints are looked up again, for nstats_service_endpoints. */
static bool kept(struct flow_pass *p, uint32_t index, const struct flow_key *key)
{
    const struct keycache_record *r;
    char text[NETADDR_STRLEN];
    struct name_info ni;

    if (!keycache_keep(p->cache, index, key))
        return false;
    r = keycache_get(p->cache, index);
    if ((r->flags & KEYCACHE_MIXED) && p->names != NULL) {
        names_lookup(p->names, &key->remote, netaddr_format(&key->remote, text, sizeof(text)),
                     p->now_ms, &ni);
        if (ni.endpoints != NULL)
            note_mixed(p, &ni);
    }
    return true;
}

/* A key's two samples. Who is counting (host, pod, namespace) is the scrape target's to say,
 * so flow series carry the key and the far end's names only; see nstats_info. The bytes pass
 * makes (or keeps) each key's record; the packets pass, over the same keys, writes them. */
static void flow_series(void *arg, uint32_t index, uint32_t hash, const struct flow_key *key,
                        const struct flow_counters *c)
{
    struct flow_pass *p = arg;
    const struct keycache_record *r;
    const char *labels;

    (void)hash;
    if (p->err)
        return;
    if (!p->packets) {
        if (key->kind < 5)
            p->by_kind[key->kind] += c->bytes_in + c->bytes_out;
        if (!kept(p, index, key) && key_labels(p, index, key) == -1) {
            p->err = 1;
            return;
        }
    }
    if ((r = keycache_get(p->cache, index)) == NULL) {
        p->err = 1; /* the packets pass saw a key the bytes pass did not */
        return;
    }
    labels = (const char *)(r + 1);
    p->err |= p->w->ops->key_sample(p->w, "in", labels, r->len,
                                    p->packets ? c->packets_in : c->bytes_in) ||
              p->w->ops->key_sample(p->w, "out", labels, r->len,
                                    p->packets ? c->packets_out : c->bytes_out);
}

static int family(struct series_writer *w, const char *name, enum series_type type,
                  const char *help)
{
    return w->ops->family(w, name, type, help);
}

static int sample(struct series_writer *w, const struct prom_label *l, size_t n, uint64_t value)
{
    return w->ops->sample_u64(w, l, n, value);
}

/* A family whose samples differ in one label: values[i] is the label's value of counts[i]. */
static int by_label(struct series_writer *w, const char *name, enum series_type type,
                    const char *help, const char *label, const char *const values[],
                    const uint64_t counts[], size_t n)
{
    if (family(w, name, type, help) == -1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct prom_label l = {label, values[i], false};

        if (sample(w, &l, 1, counts[i]) == -1)
            return -1;
    }
    return 0;
}

static int single(struct series_writer *w, const char *name, enum series_type type,
                  const char *help, uint64_t value)
{
    return family(w, name, type, help) || sample(w, NULL, 0, value);
}

/* The endpoints of Services whose rows are "mixed", by class: the shares that bound what
 * their bytes cost. */
static int render_mixed(struct series_writer *w, const struct mixed_service *m, size_t n)
{
    if (n == 0)
        return 0;
    if (family(w, "nstats_service_endpoints", SERIES_GAUGE,
               "Ready endpoints by traffic class, as seen from here, of the Services whose rows "
               "are class mixed."))
        return -1;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < TC_CLASSES; c++) {
            struct prom_label l[3] = {{"class", traffic_class_name((enum traffic_class)c), true},
                                      {"remote_name", m[i].name, false},
                                      {"remote_namespace", m[i].namespace_, false}};

            if (m[i].endpoints.n[c] != 0 && sample(w, l, 3, m[i].endpoints.n[c]))
                return -1;
        }
    return 0;
}

static int render_flows(struct series_writer *w, const struct metrics_sources *src,
                        struct meter_totals *totals, uint64_t by_kind[5])
{
    struct flow_pass p;

    memset(&p, 0, sizeof(p));
    p.w = w;
    p.names = src->names;
    p.now_ms = src->now_ms;
    p.cache = src->keycache != NULL ? src->keycache : keycache_new(false);
    keycache_begin(p.cache, w->ops, meter_capacity(src->meter),
                   src->names != NULL ? names_version(src->names) : 0);
    meter_read(src->meter, totals, NULL, NULL);
    if (family(w, "nstats_bytes_total", SERIES_COUNTER,
               "Frame bytes per key and direction since the key entered the table."))
        p.err = 1;
    if (!p.err)
        meter_visit_indexed(src->meter, flow_series, &p);
    memcpy(by_kind, p.by_kind, sizeof(p.by_kind));
    if (!p.err && family(w, "nstats_packets_total", SERIES_COUNTER,
                         "Frames per key and direction since the key entered the table."))
        p.err = 1;
    p.packets = true;
    if (!p.err)
        meter_visit_indexed(src->meter, flow_series, &p);
    keycache_end(p.cache);
    if (p.cache != src->keycache)
        keycache_free(p.cache);
    if (!p.err && render_mixed(w, p.mixed, p.n_mixed))
        p.err = 1;
    free(p.mixed);
    return p.err ? -1 : 0;
}

static int render_table(struct series_writer *w, const struct metrics_sources *src,
                        const struct meter_totals *t, const uint64_t by_kind[5])
{
    const struct flow_table_stats *s = &t->table;
    static const char *const kinds[6] = {"key",    "fragment",  "other",
                                         "non_ip", "malformed", "expired"};

    static const char *const in_out[2] = {"in", "out"};
    const uint64_t expired_bytes[2] = {s->expired.bytes_in, s->expired.bytes_out};
    const uint64_t expired_packets[2] = {s->expired.packets_in, s->expired.packets_out};
    const uint64_t attributed[6] = {by_kind[0], by_kind[1],
                                    by_kind[2], by_kind[3],
                                    by_kind[4], s->expired.bytes_in + s->expired.bytes_out};

    if (by_label(w, "nstats_expired_bytes_total", SERIES_COUNTER,
                 "Bytes of keys that expired; their series are gone, their bytes stay here.",
                 "direction", in_out, expired_bytes, 2) ||
        by_label(w, "nstats_expired_packets_total", SERIES_COUNTER, "Frames of keys that expired.",
                 "direction", in_out, expired_packets, 2) ||
        by_label(w, "nstats_attributed_bytes_total", SERIES_COUNTER,
                 "Captured bytes by the kind of row they were counted in; sums to "
                 "nstats_capture_bytes_total.",
                 "kind", kinds, attributed, 6))
        return -1;
    return single(w, "nstats_keys", SERIES_GAUGE, "Keys in the flow table, special rows included.",
                  s->keys) ||
           single(w, "nstats_keys_max", SERIES_GAUGE, "The --max-flows bound on ordinary keys.",
                  src->max_flows) ||
           single(w, "nstats_keys_created_total", SERIES_COUNTER, "Keys ever added to the table.",
                  s->keys_created) ||
           single(w, "nstats_keys_expired_total", SERIES_COUNTER, "Keys removed after idling.",
                  s->keys_expired) ||
           single(w, "nstats_folded_packets_total", SERIES_COUNTER,
                  "Frames counted in an other row because their key did not fit.",
                  s->folded_packets) ||
           single(w, "nstats_folded_bytes_total", SERIES_COUNTER,
                  "Bytes counted in an other row because their key did not fit.", s->folded_bytes);
}

static int render_capture(struct series_writer *w, const struct metrics_sources *src,
                          const struct meter_totals *t)
{
    if (single(w, "nstats_capture_packets_total", SERIES_COUNTER, "Frames captured and counted.",
               t->packets) ||
        single(w, "nstats_capture_bytes_total", SERIES_COUNTER,
               "Frame bytes captured and counted (pcap len).", t->bytes))
        return -1;
    if (src->have_capture) {
        static const char *const reasons[2] = {"kernel", "interface"};
        const uint64_t drops[2] = {src->capture.drops, src->capture.ifdrops};

        if (by_label(w, "nstats_capture_drops_total", SERIES_COUNTER,
                     "Frames the capture lost: kernel = no ring space (ps_drop), interface = "
                     "dropped by the interface or driver (ps_ifdrop).",
                     "reason", reasons, drops, 2))
            return -1;
    }
    if (src->have_iface) {
        struct prom_label in[2] = {{"device", src->id->interface, false},
                                   {"direction", "in", true}};
        struct prom_label out[2] = {{"device", src->id->interface, false},
                                    {"direction", "out", true}};

        if (family(w, "nstats_interface_bytes_total", SERIES_COUNTER,
                   "The interface's own byte counters (/sys/class/net) since nstats "
                   "started; in = received (rx), out = sent (tx).") ||
            sample(w, in, 2, src->iface.rx_bytes) || sample(w, out, 2, src->iface.tx_bytes) ||
            family(w, "nstats_interface_packets_total", SERIES_COUNTER,
                   "The interface's own packet counters since nstats started.") ||
            sample(w, in, 2, src->iface.rx_packets) || sample(w, out, 2, src->iface.tx_packets))
            return -1;
    }
    return 0;
}

static int render_listeners(struct series_writer *w, const struct listeners *l)
{
    static const char *const via[2] = {"netlink", "proc"};
    uint64_t counts[2];

    if (l == NULL)
        return 0;
    counts[0] = l->reads_netlink;
    counts[1] = l->reads_proc;
    return by_label(w, "nstats_listeners_reads_total", SERIES_COUNTER,
                    "Reads of the local listening sockets, once an interval: netlink = "
                    "sock_diag, listening sockets only; proc = /proc/net, every socket, where "
                    "netlink is refused.",
                    "via", via, counts, 2);
}

/* One family with a sample per push sink, labelled sink; field is a uint64_t in push_stats. */
static int per_sink(struct series_writer *w, const struct metrics_sources *src, const char *name,
                    enum series_type type, const char *help, size_t field)
{
    if (family(w, name, type, help) == -1)
        return -1;
    for (size_t i = 0; i < src->n_sinks; i++) {
        struct prom_label l = {"sink", src->sinks[i].id, true};
        uint64_t v;

        memcpy(&v, (const char *)&src->sinks[i].stats + field, sizeof(v));
        if (sample(w, &l, 1, v) == -1)
            return -1;
    }
    return 0;
}

static int render_export(struct series_writer *w, const struct metrics_sources *src)
{
    if (src->n_sinks == 0)
        return 0;
    if (family(w, "nstats_export_batches_total", SERIES_COUNTER,
               "Batches pushed to each sink by outcome: sent, retried (failed attempts to be "
               "repeated), dropped (refused, or pushed out of a full queue).") == -1)
        return -1;
    for (size_t i = 0; i < src->n_sinks; i++) {
        const struct push_stats *s = &src->sinks[i].stats;
        struct prom_label l[3][2] = {
            {{"result", "sent", true}, {"sink", src->sinks[i].id, true}},
            {{"result", "retried", true}, {"sink", src->sinks[i].id, true}},
            {{"result", "dropped", true}, {"sink", src->sinks[i].id, true}}};

        if (sample(w, l[0], 2, s->batches_sent) || sample(w, l[1], 2, s->batches_retried) ||
            sample(w, l[2], 2, s->batches_dropped))
            return -1;
    }
    if (per_sink(w, src, "nstats_export_queue_bytes", SERIES_GAUGE,
                 "Bytes of batches waiting for each sink.",
                 offsetof(struct push_stats, queue_bytes)) ||
        per_sink(w, src, "nstats_export_queue_batches", SERIES_GAUGE,
                 "Batches waiting for each sink.", offsetof(struct push_stats, queue_batches)) ||
        per_sink(w, src, "nstats_export_sent_bytes_total", SERIES_COUNTER,
                 "Request bodies delivered to each sink, as sent (compressed).",
                 offsetof(struct push_stats, bytes_sent)) ||
        per_sink(w, src, "nstats_export_series_dropped_total", SERIES_COUNTER,
                 "Series a push encoder left out because the interval had written them "
                 "already (remote write, OTLP).",
                 offsetof(struct push_stats, series_dropped)) ||
        family(w, "nstats_export_lost_total", SERIES_COUNTER,
               "What could not be made into a batch at all: InfluxDB lines (unit=lines), "
               "remote write or OTLP intervals (unit=intervals)."))
        return -1;
    for (size_t i = 0; i < src->n_sinks; i++) {
        bool lines = strcmp(src->sinks[i].id, "influxdb") == 0;
        struct prom_label l[2] = {{"sink", src->sinks[i].id, true},
                                  {"unit", lines ? "lines" : "intervals", true}};

        if (sample(w, l, 2, src->sinks[i].stats.lines_dropped) == -1)
            return -1;
    }
    if (family(w, "nstats_export_last_success_timestamp_seconds", SERIES_GAUGE,
               "When each sink last accepted a batch (Unix time; 0: never)."))
        return -1;
    for (size_t i = 0; i < src->n_sinks; i++) {
        struct prom_label l = {"sink", src->sinks[i].id, true};

        if (w->ops->sample_double(w, &l, 1, (double)src->sinks[i].stats.last_success_ms / 1000.0) ==
            -1)
            return -1;
    }
    return 0;
}

static int render_names(struct series_writer *w, struct names *names)
{
    struct names_stats s;

    if (names == NULL)
        return 0;
    names_get_stats(names, &s);
    return single(w, "nstats_names_cache_entries", SERIES_GAUGE, "Addresses in the name cache.",
                  s.cache.entries) ||
           single(w, "nstats_names_cache_hits_total", SERIES_COUNTER, "Name lookups answered.",
                  s.cache.hits) ||
           single(w, "nstats_names_cache_misses_total", SERIES_COUNTER,
                  "Name lookups with no name known.", s.cache.misses) ||
           single(w, "nstats_names_cache_evictions_total", SERIES_COUNTER,
                  "Live names pushed out of the full cache.", s.cache.evictions) ||
           single(w, "nstats_dns_responses_total", SERIES_COUNTER,
                  "DNS responses seen on the wire and parsed.", s.dns_responses) ||
           single(w, "nstats_dns_rejected_total", SERIES_COUNTER,
                  "DNS messages seen on the wire that were neither a well-formed response nor "
                  "a query.",
                  s.dns_rejected) ||
           single(w, "nstats_dns_queries_total", SERIES_COUNTER,
                  "DNS queries seen on the wire, whose answers are awaited.", s.dns_queries) ||
           single(w, "nstats_dns_unsolicited_total", SERIES_COUNTER,
                  "DNS responses to no query seen: not used for names.", s.dns_unsolicited) ||
           single(w, "nstats_dns_addresses_total", SERIES_COUNTER,
                  "Addresses named from DNS answers seen on the wire.", s.dns_addresses);
}

static int render_rdns(struct series_writer *w, const struct rdns_stats *s)
{
    static const char *const results[4] = {"name", "none", "timeout", "failed"};
    uint64_t counts[4];

    if (s == NULL)
        return 0;
    counts[0] = s->answered;
    counts[1] = s->negative;
    counts[2] = s->timeouts;
    counts[3] = s->failed;
    if (by_label(w, "nstats_rdns_queries_total", SERIES_COUNTER,
                 "Reverse DNS queries by result: name, none (NXDOMAIN or no PTR), timeout, "
                 "failed (server failure or refusal).",
                 "result", results, counts, 4))
        return -1;
    return single(w, "nstats_rdns_limited_total", SERIES_COUNTER,
                  "Reverse DNS lookups not started because of the rate or in-flight cap.",
                  s->limited) ||
           single(w, "nstats_rdns_in_flight", SERIES_GAUGE, "Reverse DNS queries outstanding.",
                  s->in_flight);
}

static int render_k8s(struct series_writer *w, const struct k8s_stats *s)
{
    if (s == NULL)
        return 0;
    return single(w, "nstats_k8s_lists_total", SERIES_COUNTER, "Kubernetes lists.", s->lists) ||
           single(w, "nstats_k8s_list_pages_total", SERIES_COUNTER,
                  "Kubernetes list requests (a list is read in pages).", s->list_pages) ||
           single(w, "nstats_k8s_objects", SERIES_GAUGE, "Addresses known from Kubernetes now.",
                  s->objects) ||
           single(w, "nstats_k8s_objects_dropped_total", SERIES_COUNTER,
                  "Kubernetes addresses not kept because the map was full.", s->dropped) ||
           single(w, "nstats_k8s_watches_total", SERIES_COUNTER,
                  "Kubernetes watch requests (restarts included).", s->watches) ||
           single(w, "nstats_k8s_relists_total", SERIES_COUNTER,
                  "Lists after a watch answered 410 Gone.", s->relists) ||
           single(w, "nstats_k8s_events_total", SERIES_COUNTER, "Kubernetes watch events applied.",
                  s->events) ||
           single(w, "nstats_k8s_errors_total", SERIES_COUNTER,
                  "Failed Kubernetes requests and malformed answers.", s->errors);
}

static int render_http(struct series_writer *w, const struct httpd_stats *s)
{
    struct prom_label evicted = {"reason", "evicted", true};
    struct prom_label deadline = {"reason", "deadline", true};

    if (s == NULL)
        return 0;
    return single(w, "nstats_http_connections_total", SERIES_COUNTER, "HTTP connections accepted.",
                  s->accepted) ||
           single(w, "nstats_http_connections_open", SERIES_GAUGE, "HTTP connections open now.",
                  s->open) ||
           family(w, "nstats_http_connections_closed_total", SERIES_COUNTER,
                  "HTTP connections nstats closed: for a newer one past the connection "
                  "limit (evicted), or past the request deadline.") ||
           sample(w, &evicted, 1, s->evicted) || sample(w, &deadline, 1, s->timed_out) ||
           single(w, "nstats_http_busy_total", SERIES_COUNTER,
                  "Requests answered 503: too many uncompressed answers at once.", s->busy);
}

/* What the scrape target cannot say about who is counting, as labels of one series to join
 * on: the interface captured, the host (the pod's name in Kubernetes), node, workload, and
 * the zone and region its traffic classes are seen from. */
static int render_info(struct series_writer *w, const struct metrics_sources *src)
{
    struct prom_label l[6];
    struct prom_label version = {"version", src->version, false};
    size_t n = 0;
    struct place here = {"", "", ""};

    if (src->names != NULL)
        names_here(src->names, &here);
    label(l, &n, "device", src->id->interface);
    label(l, &n, "host", src->id->host);
    label(l, &n, "node", src->id->node);
    label(l, &n, "region", here.region);
    label(l, &n, "workload", src->id->workload);
    label(l, &n, "zone", here.zone);
    return family(w, "nstats_info", SERIES_GAUGE,
                  "Always 1: who is counting, for joins on the target's labels.") ||
           sample(w, l, n, 1) ||
           family(w, "nstats_build_info", SERIES_GAUGE, "Always 1; the version is a label.") ||
           sample(w, &version, 1, 1);
}

static int render_conntrack(struct series_writer *w, const struct metrics_sources *src)
{
    const struct conntrack_stats *s = src->conntrack;

    if (!src->conntrack_wanted)
        return 0;
    if (single(w, "nstats_conntrack_up", SERIES_GAUGE,
               "1 when NAT'd packets are counted for their true ends from the kernel's "
               "conntrack; 0 when its table cannot be read here (see /healthz), or events "
               "were lost and it could not be read again yet.",
               s != NULL && !s->stale ? 1 : 0))
        return -1;
    if (s == NULL)
        return 0;
    return single(w, "nstats_conntrack_events_total", SERIES_COUNTER,
                  "conntrack NEW and DESTROY events read.", s->events) ||
           single(w, "nstats_conntrack_dumps_total", SERIES_COUNTER,
                  "Reads of the whole conntrack table: at the start and after each overrun.",
                  s->dumps) ||
           single(w, "nstats_conntrack_overruns_total", SERIES_COUNTER,
                  "Times the kernel dropped conntrack events before nstats read them.",
                  s->overruns) ||
           single(w, "nstats_conntrack_errors_total", SERIES_COUNTER,
                  "Failed conntrack reads and dumps.", s->errors) ||
           single(w, "nstats_conntrack_connections", SERIES_GAUGE,
                  "Translated (NAT'd) connections held now.", s->table.size) ||
           single(w, "nstats_conntrack_full_total", SERIES_COUNTER,
                  "Translated connections not held because the table was full.", s->table.full) ||
           single(w, "nstats_conntrack_translated_packets_total", SERIES_COUNTER,
                  "Captured packets counted for their connection's true ends.",
                  s->table.translated);
}

/* True if ps prices class in the direction (out or in), by its own entry or a both-ways one. */
static bool priced(const struct prices *ps, const char *class_, bool out)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->p[i].class_, class_) == 0 &&
            (ps->p[i].dir == PRICE_BOTH || (ps->p[i].dir == PRICE_OUT) == out))
            return true;
    return false;
}

/* The user's prices, so that cost is a join in PromQL: one sample per class and direction
 * priced, the direction's own price over the class's both-ways one. */
static int render_prices(struct series_writer *w, const struct prices *ps)
{
    static const char *const dirs[2] = {"in", "out"};

    if (ps == NULL || ps->n == 0)
        return 0;
    if (family(w, "nstats_price_usd_per_gigabyte", SERIES_GAUGE,
               "The --price given for a traffic class and direction, in USD per 10^9 bytes."))
        return -1;
    for (size_t i = 0; i < ps->n; i++) {
        bool seen = false;

        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(ps->p[j].class_, ps->p[i].class_) == 0;
        for (int d = 0; d < 2 && !seen; d++) {
            struct prom_label l[2] = {{"class", ps->p[i].class_, false},
                                      {"direction", dirs[d], true}};

            if (priced(ps, ps->p[i].class_, d == 1) &&
                w->ops->sample_double(w, l, 2, prices_get(ps, ps->p[i].class_, d == 1)))
                return -1;
        }
    }
    return 0;
}

static int render_process(struct series_writer *w, const struct metrics_sources *src)
{
    const struct procstat *p = &src->process;

    if (render_info(w, src))
        return -1;
    if (!src->have_process)
        return 0;
    return family(w, "process_cpu_seconds_total", SERIES_COUNTER,
                  "User and system CPU time spent in seconds.") ||
           w->ops->sample_double(w, NULL, 0, p->cpu_seconds) ||
           single(w, "process_resident_memory_bytes", SERIES_GAUGE,
                  "Resident memory size in bytes.", p->resident_bytes) ||
           single(w, "process_virtual_memory_bytes", SERIES_GAUGE, "Virtual memory size in bytes.",
                  p->virtual_bytes) ||
           family(w, "process_start_time_seconds", SERIES_GAUGE,
                  "Start time of the process since unix epoch in seconds.") ||
           w->ops->sample_double(w, NULL, 0, p->start_time_seconds) ||
           single(w, "process_open_fds", SERIES_GAUGE, "Number of open file descriptors.",
                  p->open_fds) ||
           single(w, "process_max_fds", SERIES_GAUGE, "Maximum number of open file descriptors.",
                  p->max_fds);
}

int metrics_render(struct series_writer *w, const struct metrics_sources *src)
{
    struct meter_totals totals;
    uint64_t by_kind[5];

    memset(&totals, 0, sizeof(totals));
    if (render_flows(w, src, &totals, by_kind) || render_table(w, src, &totals, by_kind) ||
        render_capture(w, src, &totals) || render_listeners(w, src->listeners) ||
        render_export(w, src) || render_names(w, src->names) || render_rdns(w, src->rdns) ||
        render_k8s(w, src->k8s) || render_conntrack(w, src) || render_prices(w, src->prices) ||
        render_http(w, src->http) || render_process(w, src))
        return -1;
    return 0;
}
