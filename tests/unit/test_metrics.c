/* Metrics page tests: a real meter fed known frames renders into exact exposition lines, each
 * family announced once, label values escaped, counters cumulative across intervals. */
#include <pcap/dlt.h>
#include <stdbool.h>
#include <stdlib.h>

#include "export/metrics.h"
#include "pktbuild.h"
#include "test.h"

/* The exposition text, as a scrape gets it. */
static int render_text(struct buf *b, const struct metrics_sources *src)
{
    struct series_text t;

    series_text_init(&t, b);
    return metrics_render(&t.w, src);
}

#define T0_MS 1700000001000ULL

static struct locality loc;
static const struct hash_key seed = {3, 4};

static void on_emit(const struct meter_snapshot *snap, void *arg)
{
    int *intervals = arg;

    (void)snap;
    (*intervals)++;
}

/* A 10 s meter whose local address is 198.18.0.1. */
static struct meter *make_meter(int *intervals)
{
    struct meter_config mc = {10000, 60000, 100, 32768, FLOW_KEY_ALL, DLT_EN10MB};
    struct netprefix net;

    locality_init(&loc);
    netprefix_parse("198.18.0.1", &net);
    locality_add_net(&loc, &net);
    return meter_new(&mc, &loc, NULL, &seed, on_emit, intervals);
}

/* 198.18.0.1:40000 -> 198.19.0.2:443, TCP. */
static void tcp_out(struct pkt *p)
{
    p->len = 0;
    eth(p, 0x0800);
    ipv4(p, "198.18.0.1", "198.19.0.2", 6, 20, 0, 5);
    tcp(p, 40000, 443, 0x10);
}

/* 198.19.0.3:5000 -> 198.18.0.1:40001, UDP: port 5000 is the service, 40001 ephemeral. */
static void udp_in(struct pkt *p)
{
    p->len = 0;
    eth(p, 0x0800);
    ipv4(p, "198.19.0.3", "198.18.0.1", 17, 8 + 4, 0, 5);
    udp(p, 5000, 40001, 4);
    zeros(p, 4);
}

static void sources(struct metrics_sources *src, const struct export_identity *id, struct meter *m)
{
    memset(src, 0, sizeof(*src));
    src->id = id;
    src->version = "1.2.3";
    src->meter = m;
    src->max_flows = 100;
    src->now_ms = T0_MS;
}

/* True if text holds line as a whole line. */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

#define CHECK_LINE(text, line)                                                                     \
    do {                                                                                           \
        if (has_line((text), (line))) {                                                            \
            test_passed++;                                                                         \
        } else {                                                                                   \
            test_failed++;                                                                         \
            fprintf(stderr, "%s:%d: no line \"%s\" in:\n%s\n", __FILE__, __LINE__, (line),         \
                    (text));                                                                       \
        }                                                                                          \
    } while (0)

static int count_lines_starting(const char *text, const char *prefix)
{
    int n = 0;
    size_t len = strlen(prefix);

    for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p)
        n += strncmp(p, prefix, len) == 0;
    return n;
}

static void test_flow_series(void)
{
    int intervals = 0;
    struct meter *m = make_meter(&intervals);
    struct export_identity id = {"pod-a", "eth0", NULL, NULL, NULL};
    struct metrics_sources src;
    struct pkt out, in;
    struct buf b;

    tcp_out(&out);
    udp_in(&in);
    meter_packet(m, T0_MS, out.b, out.len, 1514);
    meter_packet(m, T0_MS + 1000, out.b, out.len, 100);
    meter_packet(m, T0_MS + 2000, in.b, in.len, 60);
    sources(&src, &id, m);
    buf_init(&b, 1 << 20);
    CHECK_EQ(render_text(&b, &src), 0);
    CHECK_EQ(intervals, 0);
    /* One series per key and direction, direction first and then the key's labels in name
     * order, empty labels left out, no identity: the scrape target says who is counting. */
    CHECK_LINE(b.data, "nstats_bytes_total{direction=\"out\",class=\"private\","
                       "local=\"198.18.0.1\",port=\"443\",proto=\"tcp\","
                       "remote=\"198.19.0.2\"} 1614");
    CHECK_LINE(b.data, "nstats_bytes_total{direction=\"in\",class=\"private\","
                       "local=\"198.18.0.1\",port=\"443\",proto=\"tcp\","
                       "remote=\"198.19.0.2\"} 0");
    CHECK_LINE(b.data, "nstats_bytes_total{direction=\"in\",class=\"private\","
                       "local=\"198.18.0.1\",port=\"5000\",proto=\"udp\","
                       "remote=\"198.19.0.3\"} 60");
    CHECK_LINE(b.data, "nstats_packets_total{direction=\"out\",class=\"private\","
                       "local=\"198.18.0.1\",port=\"443\",proto=\"tcp\","
                       "remote=\"198.19.0.2\"} 2");
    CHECK_LINE(b.data, "nstats_packets_total{direction=\"in\",class=\"private\","
                       "local=\"198.18.0.1\",port=\"5000\",proto=\"udp\","
                       "remote=\"198.19.0.3\"} 1");
    /* The special rows are always there. */
    CHECK_LINE(b.data, "nstats_bytes_total{direction=\"in\",class=\"unknown\","
                       "local=\"none\",port=\"0\",proto=\"malformed\",remote=\"none\"} 0");
    CHECK_LINE(b.data, "nstats_bytes_total{direction=\"out\",class=\"unknown\","
                       "local=\"other\",port=\"0\",proto=\"other\",remote=\"other\"} 0");
    /* Two keys and three special rows, two directions, two families. */
    CHECK_EQ(count_lines_starting(b.data, "nstats_bytes_total{"), 10);
    CHECK_EQ(count_lines_starting(b.data, "nstats_packets_total{"), 10);
    buf_free(&b);
    meter_free(m);
}

static void test_totals_exact(void)
{
    int intervals = 0;
    struct meter *m = make_meter(&intervals);
    struct export_identity id = {"pod-a", "eth0", NULL, NULL, NULL};
    struct metrics_sources src;
    struct pkt out, in;
    struct buf b;
    const char *tail;

    tcp_out(&out);
    udp_in(&in);
    meter_packet(m, T0_MS, out.b, out.len, 1514);
    meter_packet(m, T0_MS + 1000, out.b, out.len, 100);
    meter_packet(m, T0_MS + 2000, in.b, in.len, 60);
    meter_packet(m, T0_MS + 3000, out.b, 10, 70); /* malformed */
    sources(&src, &id, m);
    buf_init(&b, 1 << 20);
    CHECK_EQ(render_text(&b, &src), 0);
    /* Everything after the flow families, with no optional source: exact. */
    tail = strstr(b.data, "# HELP nstats_expired_bytes_total");
    CHECK(tail != NULL);
    CHECK_STR(tail,
              "# HELP nstats_expired_bytes_total Bytes of keys that expired; their series are "
              "gone, their bytes stay here.\n"
              "# TYPE nstats_expired_bytes_total counter\n"
              "nstats_expired_bytes_total{direction=\"in\"} 0\n"
              "nstats_expired_bytes_total{direction=\"out\"} 0\n"
              "# HELP nstats_expired_packets_total Frames of keys that expired.\n"
              "# TYPE nstats_expired_packets_total counter\n"
              "nstats_expired_packets_total{direction=\"in\"} 0\n"
              "nstats_expired_packets_total{direction=\"out\"} 0\n"
              "# HELP nstats_attributed_bytes_total Captured bytes by the kind of row they were "
              "counted in; sums to nstats_capture_bytes_total.\n"
              "# TYPE nstats_attributed_bytes_total counter\n"
              "nstats_attributed_bytes_total{kind=\"key\"} 1674\n"
              "nstats_attributed_bytes_total{kind=\"fragment\"} 0\n"
              "nstats_attributed_bytes_total{kind=\"other\"} 0\n"
              "nstats_attributed_bytes_total{kind=\"non_ip\"} 0\n"
              "nstats_attributed_bytes_total{kind=\"malformed\"} 70\n"
              "nstats_attributed_bytes_total{kind=\"expired\"} 0\n"
              "# HELP nstats_keys Keys in the flow table, special rows included.\n"
              "# TYPE nstats_keys gauge\n"
              "nstats_keys 5\n"
              "# HELP nstats_keys_max The --max-flows bound on ordinary keys.\n"
              "# TYPE nstats_keys_max gauge\n"
              "nstats_keys_max 100\n"
              "# HELP nstats_keys_created_total Keys ever added to the table.\n"
              "# TYPE nstats_keys_created_total counter\n"
              "nstats_keys_created_total 2\n"
              "# HELP nstats_keys_expired_total Keys removed after idling.\n"
              "# TYPE nstats_keys_expired_total counter\n"
              "nstats_keys_expired_total 0\n"
              "# HELP nstats_folded_packets_total Frames counted in an other row because their "
              "key did not fit.\n"
              "# TYPE nstats_folded_packets_total counter\n"
              "nstats_folded_packets_total 0\n"
              "# HELP nstats_folded_bytes_total Bytes counted in an other row because their key "
              "did not fit.\n"
              "# TYPE nstats_folded_bytes_total counter\n"
              "nstats_folded_bytes_total 0\n"
              "# HELP nstats_capture_packets_total Frames captured and counted.\n"
              "# TYPE nstats_capture_packets_total counter\n"
              "nstats_capture_packets_total 4\n"
              "# HELP nstats_capture_bytes_total Frame bytes captured and counted (pcap len).\n"
              "# TYPE nstats_capture_bytes_total counter\n"
              "nstats_capture_bytes_total 1744\n"
              "# HELP nstats_info Always 1: who is counting, for joins on the target's labels.\n"
              "# TYPE nstats_info gauge\n"
              "nstats_info{device=\"eth0\",host=\"pod-a\"} 1\n"
              "# HELP nstats_build_info Always 1; the version is a label.\n"
              "# TYPE nstats_build_info gauge\n"
              "nstats_build_info{version=\"1.2.3\"} 1\n");
    /* A page that does not fit the buffer's cap is an error, not a cut page. */
    {
        struct buf small;

        buf_init(&small, 512);
        CHECK_EQ(render_text(&small, &src), -1);
        buf_free(&small);
    }
    buf_free(&b);
    meter_free(m);
}

static void test_label_escaping(void)
{
    int intervals = 0;
    struct meter *m = make_meter(&intervals);
    struct export_identity id = {"pod\"a\\b\nc", "eth0", "ns\\\"1", "node\n2", "w\\1"};
    struct metrics_sources src;
    struct pkt out;
    struct buf b;

    tcp_out(&out);
    meter_packet(m, T0_MS, out.b, out.len, 1514);
    sources(&src, &id, m);
    src.version = "v\"1\\\n";
    buf_init(&b, 1 << 20);
    CHECK_EQ(render_text(&b, &src), 0);
    /* Backslash, double quote and newline are escaped. The identity is on nstats_info alone,
     * the namespace not at all: a scrape target has one of its own. */
    CHECK_LINE(b.data, "nstats_info{device=\"eth0\",host=\"pod\\\"a\\\\b\\nc\","
                       "node=\"node\\n2\",workload=\"w\\\\1\"} 1");
    CHECK(strstr(b.data, "namespace=") == NULL);
    CHECK_LINE(b.data, "nstats_build_info{version=\"v\\\"1\\\\\\n\"} 1");
    /* No raw newline inside a label value: every line is a comment or a sample. */
    CHECK_EQ(count_lines_starting(b.data, "nstats_") + count_lines_starting(b.data, "# "),
             count_lines_starting(b.data, ""));
    buf_free(&b);
    meter_free(m);
}

/* Every family has one HELP and one TYPE line, HELP first, and its samples follow at once. */
static void check_families_once(const char *text)
{
    char family[128] = "";
    int families = 0, bad = 0;

    for (const char *p = text; *p != '\0';) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char line[1024];

        snprintf(line, sizeof(line), "%.*s", (int)len, p);
        if (strncmp(line, "# HELP ", 7) == 0) {
            char want_type[160], seen[160];

            snprintf(family, sizeof(family), "%.*s", (int)strcspn(line + 7, " "), line + 7);
            snprintf(want_type, sizeof(want_type), "# TYPE %s ", family);
            snprintf(seen, sizeof(seen), "# HELP %s ", family);
            families++;
            /* Announced once: no other HELP or TYPE line for this family anywhere. */
            if (count_lines_starting(text, seen) != 1 || count_lines_starting(text, want_type) != 1)
                bad++;
            /* TYPE right after HELP. */
            if (end == NULL || strncmp(end + 1, want_type, strlen(want_type)) != 0)
                bad++;
        } else if (strncmp(line, "# TYPE ", 7) != 0) {
            size_t name_len = strcspn(line, "{ ");

            /* A sample of the family announced last (counters keep their _total name). */
            if (name_len != strlen(family) || strncmp(line, family, name_len) != 0) {
                fprintf(stderr, "sample outside its family %s: %s\n", family, line);
                bad++;
            }
        }
        p += len + (end != NULL);
    }
    CHECK(families > 20);
    CHECK_EQ(bad, 0);
}

static void test_all_sources(void)
{
    int intervals = 0;
    struct meter *m = make_meter(&intervals);
    struct export_identity id = {"pod-a", "eth0", "default", "node-1", NULL};
    struct push_stats influx;
    struct rdns_stats rdns = {10, 6, 2, 1, 1, 3, 0};
    struct prices prices = {.n = 0};
    struct k8s_stats k8s = {.lists = 2,
                            .list_pages = 5,
                            .watches = 3,
                            .relists = 1,
                            .events = 40,
                            .objects = 9,
                            .dropped = 4};
    struct netlabels labels;
    struct names *names;
    struct metrics_sources src;
    struct pkt out;
    struct buf b;
    char err[128];

    memset(&influx, 0, sizeof(influx));
    influx.batches_sent = 7;
    influx.batches_retried = 2;
    influx.batches_dropped = 1;
    influx.bytes_sent = 4096;
    influx.queue_bytes = 100;
    influx.queue_batches = 1;
    netlabels_init(&labels);
    CHECK_EQ(netlabels_add(&labels, "198.19.0.0/16=lab", err, sizeof(err)), 0);
    names = names_new(64, 3600000, &labels, &seed);
    tcp_out(&out);
    meter_packet(m, T0_MS, out.b, out.len, 1514);
    sources(&src, &id, m);
    src.have_capture = true;
    src.capture = (struct capture_stats){5, 1, 2};
    src.have_iface = true;
    src.iface = (struct iface_counters){1000, 2000, 10, 20};
    src.sinks[0].id = "influxdb";
    src.sinks[0].stats = influx;
    src.sinks[1].id = "remote_write";
    src.sinks[1].stats = (struct push_stats){.batches_sent = 3, .last_success_ms = 1700000000500};
    src.n_sinks = 2;
    src.have_process = true;
    src.process = (struct procstat){1.5, 1700000000.25, 4096, 8192, 9, 1024};
    src.names = names;
    src.listeners = &(struct listeners){.reads_netlink = 12, .reads_proc = 1};
    src.rdns = &rdns;
    src.k8s = &k8s;
    CHECK_EQ(prices_add(&prices, "cross-zone=0.01", err, sizeof(err)), 0);
    CHECK_EQ(prices_add(&prices, "internet:out=0.09", err, sizeof(err)), 0);
    /* A direction's own price and a both-ways one of the same value: one sample each. */
    CHECK_EQ(prices_add(&prices, "vpc:in=0.5", err, sizeof(err)), 0);
    CHECK_EQ(prices_add(&prices, "vpc=0.5", err, sizeof(err)), 0);
    src.prices = &prices;
    buf_init(&b, 1 << 20);
    CHECK_EQ(render_text(&b, &src), 0);
    check_families_once(b.data);
    /* Prices, per direction, for cost as a join in PromQL. */
    CHECK_LINE(b.data, "nstats_price_usd_per_gigabyte{class=\"cross-zone\",direction=\"in\"} 0.01");
    CHECK_LINE(b.data,
               "nstats_price_usd_per_gigabyte{class=\"cross-zone\",direction=\"out\"} 0.01");
    CHECK_LINE(b.data, "nstats_price_usd_per_gigabyte{class=\"internet\",direction=\"out\"} 0.09");
    CHECK_LINE(b.data, "nstats_price_usd_per_gigabyte{class=\"vpc\",direction=\"in\"} 0.5");
    CHECK_LINE(b.data, "nstats_price_usd_per_gigabyte{class=\"vpc\",direction=\"out\"} 0.5");
    CHECK_EQ(count_lines_starting(b.data, "nstats_price_usd_per_gigabyte{"), 5);
    /* Names and Kubernetes add their labels to flow series. */
    CHECK_LINE(
        b.data,
        "nstats_bytes_total{direction=\"out\",class=\"lab\",local=\"198.18.0.1\",net=\"lab\","
        "port=\"443\",proto=\"tcp\",remote=\"198.19.0.2\",remote_name=\"lab\","
        "remote_source=\"net\"} 1514");
    CHECK_LINE(b.data, "nstats_info{device=\"eth0\",host=\"pod-a\",node=\"node-1\"} 1");
    CHECK_LINE(b.data, "nstats_capture_drops_total{reason=\"kernel\"} 1");
    CHECK_LINE(b.data, "nstats_capture_drops_total{reason=\"interface\"} 2");
    /* One direction vocabulary: the interface's rx is in, its tx out. */
    CHECK_LINE(b.data, "nstats_interface_bytes_total{device=\"eth0\",direction=\"out\"} 2000");
    CHECK_LINE(b.data, "nstats_interface_packets_total{device=\"eth0\",direction=\"in\"} 10");
    CHECK_LINE(b.data, "nstats_listeners_reads_total{via=\"netlink\"} 12");
    CHECK_LINE(b.data, "nstats_listeners_reads_total{via=\"proc\"} 1");
    CHECK_LINE(b.data, "nstats_export_batches_total{result=\"sent\",sink=\"influxdb\"} 7");
    CHECK_LINE(b.data, "nstats_export_batches_total{result=\"retried\",sink=\"influxdb\"} 2");
    CHECK_LINE(b.data, "nstats_export_batches_total{result=\"dropped\",sink=\"influxdb\"} 1");
    CHECK_LINE(b.data, "nstats_export_batches_total{result=\"sent\",sink=\"remote_write\"} 3");
    CHECK_LINE(b.data, "nstats_export_queue_bytes{sink=\"influxdb\"} 100");
    CHECK_LINE(b.data, "nstats_export_sent_bytes_total{sink=\"influxdb\"} 4096");
    CHECK_LINE(b.data, "nstats_export_last_success_timestamp_seconds{sink=\"influxdb\"} 0");
    CHECK_LINE(b.data,
               "nstats_export_last_success_timestamp_seconds{sink=\"remote_write\"} 1700000000.5");
    CHECK_LINE(b.data, "nstats_names_cache_entries 0");
    CHECK_LINE(b.data, "nstats_rdns_queries_total{result=\"name\"} 6");
    CHECK_LINE(b.data, "nstats_rdns_queries_total{result=\"failed\"} 1");
    CHECK_LINE(b.data, "nstats_rdns_limited_total 3");
    CHECK_LINE(b.data, "nstats_k8s_events_total 40");
    CHECK_LINE(b.data, "nstats_k8s_list_pages_total 5");
    CHECK_LINE(b.data, "nstats_k8s_objects 9");
    CHECK_LINE(b.data, "nstats_k8s_objects_dropped_total 4");
    CHECK_LINE(b.data, "process_cpu_seconds_total 1.5");
    CHECK_LINE(b.data, "process_start_time_seconds 1700000000.25");
    CHECK_LINE(b.data, "process_open_fds 9");
    CHECK_LINE(b.data, "# TYPE process_resident_memory_bytes gauge");
    CHECK_LINE(b.data, "# TYPE nstats_export_sent_bytes_total counter");
    buf_free(&b);
    names_free(names);
    meter_free(m);
}

static void test_counters_cumulative(void)
{
    int intervals = 0;
    struct meter *m = make_meter(&intervals);
    struct export_identity id = {"pod-a", "eth0", NULL, NULL, NULL};
    struct metrics_sources src;
    struct pkt out;
    struct buf b;
    const char *bytes_out = "nstats_bytes_total{direction=\"out\",class=\"private\",local=\"198.18."
                            "0.1\",port=\"443\",proto=\"tcp\","
                            "remote=\"198.19.0.2\"} ";
    char want[512];

    tcp_out(&out);
    meter_packet(m, T0_MS, out.b, out.len, 1514);
    sources(&src, &id, m);
    buf_init(&b, 1 << 20);
    CHECK_EQ(render_text(&b, &src), 0);
    snprintf(want, sizeof(want), "%s1514", bytes_out);
    CHECK_LINE(b.data, want);
    /* The next interval's packet closes the first; the series keeps counting from 1514. */
    meter_packet(m, T0_MS + 10000, out.b, out.len, 100);
    CHECK_EQ(intervals, 1);
    buf_reset(&b);
    CHECK_EQ(render_text(&b, &src), 0);
    snprintf(want, sizeof(want), "%s1614", bytes_out);
    CHECK_LINE(b.data, want);
    CHECK_LINE(b.data, "nstats_capture_packets_total 2");
    CHECK_LINE(b.data, "nstats_capture_bytes_total 1614");
    CHECK_LINE(b.data, "nstats_keys_created_total 1");
    buf_free(&b);
    meter_free(m);
}

/* text without the lines of the name cache's hit and miss counters, which count lookups: a
 * scrape that keeps labels looks up less. Into out (n bytes). */
static const char *but_lookups(const char *text, char *out, size_t n)
{
    size_t w = 0;

    for (const char *p = text; *p != '\0';) {
        const char *end = strchr(p, '\n');
        size_t len = end != NULL ? (size_t)(end - p) + 1 : strlen(p);

        if (strncmp(p, "nstats_names_cache_hits_total ", 30) != 0 &&
            strncmp(p, "nstats_names_cache_misses_total ", 32) != 0 && w + len < n) {
            memcpy(out + w, p, len);
            w += len;
        }
        p += len;
    }
    out[w] = '\0';
    return out;
}

/* /metrics keeps each key's labels from the last scrape: a scrape that reuses them writes
 * exactly what one without the cache writes, new counts included; a name learned meanwhile
 * (names_version) makes the labels again; a mixed Service's endpoints are there every time. */
static void test_kept_labels(void)
{
    int intervals = 0;
    struct meter *m = make_meter(&intervals);
    struct export_identity id = {"pod-a", "eth0", NULL, NULL, NULL};
    struct names *names = names_new(64, 3600000, NULL, &seed);
    struct keycache *cache = keycache_new(true);
    struct metrics_sources src;
    struct netaddr far;
    struct pkt out, in;
    struct buf cached, fresh;
    static char a[1 << 16], b[1 << 16];

    tcp_out(&out);
    udp_in(&in);
    meter_packet(m, T0_MS, out.b, out.len, 1514);
    meter_packet(m, T0_MS + 1000, in.b, in.len, 60);
    sources(&src, &id, m);
    src.names = names;
    buf_init(&cached, 1 << 20);
    buf_init(&fresh, 1 << 20);
    src.keycache = cache;
    CHECK_EQ(render_text(&cached, &src), 0);
    CHECK_LINE(cached.data, "nstats_bytes_total{direction=\"out\",class=\"private\","
                            "local=\"198.18.0.1\",port=\"443\",proto=\"tcp\","
                            "remote=\"198.19.0.2\",remote_name=\"198.19.0.2\","
                            "remote_source=\"addr\"} 1514");
    for (int round = 0; round < 3; round++) {
        meter_packet(m, T0_MS + 2000 + (uint64_t)round, out.b, out.len, 100);
        buf_reset(&cached);
        buf_reset(&fresh);
        src.keycache = cache;
        CHECK_EQ(render_text(&cached, &src), 0);
        src.keycache = NULL;
        CHECK_EQ(render_text(&fresh, &src), 0);
        CHECK_STR(but_lookups(cached.data, a, sizeof(a)), but_lookups(fresh.data, b, sizeof(b)));
    }
    CHECK_LINE(cached.data, "nstats_bytes_total{direction=\"out\",class=\"private\","
                            "local=\"198.18.0.1\",port=\"443\",proto=\"tcp\","
                            "remote=\"198.19.0.2\",remote_name=\"198.19.0.2\","
                            "remote_source=\"addr\"} 1814");
    /* A PTR name for the far end: the next scrape says it. */
    netaddr_parse("198.19.0.2", &far);
    names_put_ptr(names, &far, "db.example", T0_MS + 3600000, T0_MS);
    buf_reset(&cached);
    src.keycache = cache;
    CHECK_EQ(render_text(&cached, &src), 0);
    CHECK_LINE(cached.data, "nstats_bytes_total{direction=\"out\",class=\"private\","
                            "local=\"198.18.0.1\",port=\"443\",proto=\"tcp\","
                            "remote=\"198.19.0.2\",remote_name=\"db.example\","
                            "remote_source=\"ptr\"} 1814");
    buf_reset(&fresh);
    src.keycache = NULL;
    CHECK_EQ(render_text(&fresh, &src), 0);
    CHECK_STR(but_lookups(cached.data, a, sizeof(a)), but_lookups(fresh.data, b, sizeof(b)));
    buf_free(&cached);
    buf_free(&fresh);
    keycache_free(cache);
    names_free(names);
    meter_free(m);
}

/* A list page for k8smap_apply_list, with ' for ". */
static void apply(struct k8smap *map, enum k8s_kind kind, const char *text)
{
    char json[2048], rv[64], cont[64];
    size_t i;

    for (i = 0; text[i] != '\0' && i + 1 < sizeof(json); i++)
        json[i] = text[i] == '\'' ? '"' : text[i];
    json[i] = '\0';
    CHECK_EQ(k8smap_apply_list(map, kind, json, i, true, rv, sizeof(rv), cont, sizeof(cont)),
             K8S_OK);
}

/* A Service whose ready endpoints are in two zones: its rows are "mixed", and the endpoints
 * per class are there to bound the cost; nstats_info says where "here" is. */
static void test_mixed_service(void)
{
    int intervals = 0;
    struct meter *m = make_meter(&intervals);
    struct export_identity id = {"web-1", "eth0", "shop", "node-1", NULL};
    struct k8smap *map = k8smap_new(64);
    struct names *names = names_new(64, 3600000, NULL, &seed);
    struct metrics_sources src;
    struct pkt out;
    struct buf b;

    apply(map, K8S_NODE,
          "{'items':[{'metadata':{'name':'node-1','labels':{'topology.kubernetes.io/zone':'a',"
          "'topology.kubernetes.io/region':'r1'}},'status':{'addresses':[{'type':'InternalIP',"
          "'address':'198.18.8.1'}]}},{'metadata':{'name':'node-2','labels':{"
          "'topology.kubernetes.io/zone':'b','topology.kubernetes.io/region':'r1'}},'status':{"
          "'addresses':[{'type':'InternalIP','address':'198.18.8.2'}]}}]}");
    apply(map, K8S_SERVICE,
          "{'items':[{'metadata':{'name':'db','namespace':'shop'},'spec':{'clusterIP':"
          "'198.19.0.2'}}]}");
    apply(map, K8S_ENDPOINTSLICE,
          "{'items':[{'metadata':{'name':'db-1','namespace':'shop','labels':{"
          "'kubernetes.io/service-name':'db'}},'endpoints':[{'addresses':['198.18.9.1'],"
          "'zone':'a'},{'addresses':['198.18.9.2'],'zone':'b'},{'addresses':['198.18.9.3'],"
          "'zone':'b'}]}]}");
    k8smap_set_self(map, &(struct k8s_self){.node = "node-1"});
    names_set_k8s(names, map);
    tcp_out(&out);
    meter_packet(m, T0_MS, out.b, out.len, 1514);
    sources(&src, &id, m);
    src.names = names;
    buf_init(&b, 1 << 20);
    CHECK_EQ(render_text(&b, &src), 0);
    check_families_once(b.data);
    CHECK_LINE(b.data, "nstats_bytes_total{direction=\"out\",class=\"mixed\",local=\"198.18.0.1\","
                       "port=\"443\",proto=\"tcp\",remote=\"198.19.0.2\",remote_kind=\"service\","
                       "remote_name=\"db\",remote_namespace=\"shop\",remote_source=\"k8s\"} 1514");
    CHECK_LINE(b.data, "nstats_service_endpoints{class=\"same-zone\",remote_name=\"db\","
                       "remote_namespace=\"shop\"} 1");
    CHECK_LINE(b.data, "nstats_service_endpoints{class=\"cross-zone\",remote_name=\"db\","
                       "remote_namespace=\"shop\"} 2");
    CHECK_EQ(count_lines_starting(b.data, "nstats_service_endpoints{"), 2);
    CHECK_LINE(b.data, "nstats_info{device=\"eth0\",host=\"web-1\",node=\"node-1\",region=\"r1\","
                       "zone=\"a\"} 1");
    /* Twice more with the scrapes' cache: the second keeps the row's labels and still finds
     * the Service's endpoints. */
    src.keycache = keycache_new(true);
    for (int i = 0; i < 2; i++) {
        buf_reset(&b);
        CHECK_EQ(render_text(&b, &src), 0);
        CHECK_LINE(b.data, "nstats_service_endpoints{class=\"cross-zone\",remote_name=\"db\","
                           "remote_namespace=\"shop\"} 2");
        CHECK_EQ(count_lines_starting(b.data, "nstats_service_endpoints{"), 2);
    }
    keycache_free(src.keycache);
    buf_free(&b);
    names_free(names);
    k8smap_free(map);
    meter_free(m);
}

int main(void)
{
    RUN(test_flow_series);
    RUN(test_totals_exact);
    RUN(test_label_escaping);
    RUN(test_all_sources);
    RUN(test_counters_cumulative);
    RUN(test_mixed_service);
    RUN(test_kept_labels);
    return test_report();
}
