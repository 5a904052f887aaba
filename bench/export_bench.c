/* Export benchmark: CPU time to encode (and gzip) one interval of 10,000 line-protocol rows, to
 * render /metrics for 1,000, 25,000 and 100,000 keys (4 series each), and to encode 2,500 keys'
 * 10,000 flow series in every push format (line protocol, the text exposition, remote write,
 * OTLP), from a meter filled with synthetic keys. */
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "benchtime.h"
#include "export/metrics.h"
#include "export/otlp.h"
#include "export/promwrite.h"
#include "export/schema.h"
#include "flow/meter.h"
#include "io/gzip.h"
#include "names/names.h"

/* The exposition text, as a scrape gets it. */
static int render_text(struct buf *b, const struct metrics_sources *src)
{
    struct series_text t;

    series_text_init(&t, b);
    return metrics_render(&t.w, src);
}

static struct meter_snapshot last_snap;
static struct flow_row *snap_rows;
static struct flow_key *snap_keys;

/* Keeps the interval's rows and their keys (the table's own would not outlive it). */
static void keep(const struct meter_snapshot *snap, void *arg)
{
    (void)arg;
    last_snap = *snap;
    for (size_t i = 0; i < snap->n_rows; i++) {
        snap_keys[i] = *snap->rows[i].key;
        snap_rows[i].key = &snap_keys[i];
        snap_rows[i].delta = snap->rows[i].delta;
    }
    last_snap.rows = snap_rows;
}

/* One IPv4 UDP frame from 198.18.0.1 to 198.19.x.y port 443. */
static unsigned frame(uint8_t *f, unsigned peer)
{
    static const uint8_t head[] = {2,    0, 0,   0,  0, 1, 2,    0,    0,    0,    0, 2, 8,   0,
                                   0x45, 0, 0,   28, 0, 0, 0,    0,    64,   17,   0, 0, 198, 18,
                                   0,    1, 198, 19, 0, 0, 0x9c, 0x40, 0x01, 0xbb, 0, 8, 0,   0};

    memcpy(f, head, sizeof(head));
    f[32] = (uint8_t)(peer >> 8);
    f[33] = (uint8_t)peer;
    f[28] = (uint8_t)(peer >> 16); /* more peers than 65536: vary the third octet too */
    return sizeof(head);
}

static struct meter *filled(unsigned keys, uint64_t interval_ms)
{
    struct meter_config mc = {interval_ms, 3600000, keys, 32768, FLOW_KEY_ALL, DLT_EN10MB};
    static struct locality loc;
    struct netprefix net;
    struct hash_key seed = {1, 2};
    struct meter *m;
    uint8_t f[64];

    locality_init(&loc);
    netprefix_parse("198.18.0.0/16", &net);
    locality_add_net(&loc, &net);
    m = meter_new(&mc, &loc, NULL, &seed, keep, NULL);
    for (unsigned i = 0; i < keys; i++) {
        unsigned len = frame(f, i);

        meter_packet(m, 1000, f, len, 100 + i % 1400);
    }
    return m;
}

static int discard(void *arg, const char *data, size_t len)
{
    *(size_t *)arg += len;
    (void)data;
    return 0;
}

static int to_gzip(void *arg, const char *data, size_t len)
{
    return gzip_stream_write(arg, data, len);
}

/* One render of the exposition into a drain that counts bytes (or into gzip, as served), its
 * CPU seconds. */
static double render_once(const struct metrics_sources *src, size_t *text_len, size_t *gz_len)
{
    struct buf b, gz;
    struct gzip_stream *z = NULL;
    double t0;

    *text_len = 0;
    buf_init(&b, (size_t)128 << 10);
    if (gz_len != NULL)
        buf_init(&gz, (size_t)1 << 30);
    t0 = bench_now(CLOCK_PROCESS_CPUTIME_ID);
    if (gz_len != NULL) {
        z = gzip_stream_new(15, &gz);
        buf_set_drain(&b, (size_t)64 << 10, to_gzip, z);
    } else {
        buf_set_drain(&b, (size_t)64 << 10, discard, text_len);
    }
    render_text(&b, src);
    buf_flush(&b);
    if (z != NULL)
        gzip_stream_finish(z);
    t0 = bench_now(CLOCK_PROCESS_CPUTIME_ID) - t0;
    if (gz_len != NULL) {
        *gz_len = gz.len;
        gzip_stream_free(z);
        buf_free(&gz);
    }
    buf_free(&b);
    return t0;
}

/* A scrape as the server renders it: the keys' labels kept from the last scrape (names
 * unchanged: the steady state); "cold" formats every key, as a scrape after a name changed or
 * a push does (in the memory the last one used). */
static void bench_metrics(unsigned keys)
{
    enum { ROUNDS = 9 };
    struct export_identity id = {"bench-pod", "eth0", NULL, NULL, NULL};
    struct hash_key seed = {3, 4};
    struct meter *m = filled(keys, 3600000);
    struct names *names = names_new(keys, 3600000, NULL, &seed);
    struct metrics_sources src;
    double cold[ROUNDS], plain[ROUNDS], zipped[ROUNDS];
    size_t text_len = 0, gz_len = 0, ignored;

    memset(&src, 0, sizeof(src));
    src.id = &id;
    src.version = "bench";
    src.meter = m;
    src.max_flows = keys;
    src.names = names;
    src.keycache = keycache_new(false);
    render_once(&src, &ignored, NULL);
    for (int r = 0; r < ROUNDS; r++)
        cold[r] = render_once(&src, &text_len, NULL);
    keycache_free(src.keycache);
    src.keycache = keycache_new(true);
    render_once(&src, &ignored, NULL);
    for (int r = 0; r < ROUNDS; r++) {
        plain[r] = render_once(&src, &text_len, NULL);
        zipped[r] = render_once(&src, &ignored, &gz_len);
    }
    {
        double series = 4.0 * (keys + 3), ms = bench_median(plain, ROUNDS) * 1e3;

        printf("%8u %9.0f %8.2f %10.2f %9.0f %11zu %13.1f %11.2f %9zu %8.0f\n", keys, series,
               bench_median(cold, ROUNDS) * 1e3, ms, ms * 1e6 / series, text_len,
               (double)text_len / series, bench_median(zipped, ROUNDS) * 1e3, gz_len,
               (double)keycache_bytes(src.keycache) / keys);
    }
    keycache_free(src.keycache);
    names_free(names);
    meter_free(m);
}

struct wire {
    size_t bytes;
    size_t bodies;
};

static void count_body(void *arg, char *body, size_t len, uint64_t ts_ms)
{
    struct wire *c = arg;

    (void)ts_ms;
    c->bytes += len;
    c->bodies++;
    free(body);
}

static void push_row(const char *format, double *cpu, size_t rounds, size_t bytes, size_t bodies,
                     double series)
{
    double ms = bench_median(cpu, rounds) * 1e3;

    printf("%-34s %9.2f %9.0f %11zu %13.1f %9zu\n", format, ms, ms * 1e6 / series, bytes,
           (double)bytes / series, bodies);
}

/* One steady interval (every series went on from the one before, as after the first push) of
 * the remote write or OTLP encoder; returns the series written. */
static uint64_t push_interval(struct promwrite *pw, struct otlp *ot, uint64_t ts,
                              const struct metrics_sources *src, struct wire *c)
{
    struct series_writer *w = pw != NULL ? promwrite_begin(pw, ts) : otlp_begin(ot, ts);

    if (metrics_render(w, src) == -1 ||
        (pw != NULL ? promwrite_end(pw, count_body, c) : otlp_end(ot, count_body, c)) == -1) {
        fprintf(stderr, "export_bench: the push encoder failed\n");
        exit(1);
    }
    if (pw != NULL) {
        struct promwrite_stats st;

        promwrite_get_stats(pw, &st);
        return st.series;
    } else {
        struct otlp_stats st;

        otlp_get_stats(ot, &st);
        return st.points;
    }
}

/* Every push format for the same keys: CPU time for one interval, bytes on the wire. */
static void bench_push(unsigned keys)
{
    enum { ROUNDS = 9 };
    static const struct otlp_attribute resource[] = {
        {"service.name", "nstats"}, {"service.version", "bench"}, {"host.name", "bench-pod"}};
    struct export_identity id = {"bench-pod", "eth0", NULL, NULL, NULL};
    struct export_capture_stats cs = {0, 0};
    struct hash_key seed = {3, 4};
    struct meter *m = filled(keys, 3600000);
    struct names *names = names_new(keys, 3600000, NULL, &seed);
    struct metrics_sources src;
    double cpu[5][ROUNDS], series = 0;
    size_t bytes[5] = {0}, bodies[5] = {0};
    struct otlp *ot[2];
    struct promwrite *pw = promwrite_new(0);
    uint64_t ts = 1700000000000ULL;

    memset(&src, 0, sizeof(src));
    src.id = &id;
    src.version = "bench";
    src.meter = m;
    src.max_flows = keys;
    src.names = names;
    for (int z = 0; z < 2; z++)
        ot[z] = otlp_new(&(struct otlp_config){resource, 3, "bench", ts, 0, z == 1});
    /* The first interval makes every series new; the ones timed after it find them known. */
    {
        struct wire c = {0, 0};

        series = (double)push_interval(pw, NULL, ts, &src, &c);
        push_interval(NULL, ot[0], ts, &src, &c);
        push_interval(NULL, ot[1], ts, &src, &c);
    }
    for (int r = 0; r < ROUNDS; r++) {
        struct buf b;
        struct gzip_stream *z;
        struct wire c[3] = {{0, 0}, {0, 0}, {0, 0}};
        double t0;

        ts += 10000;
        t0 = bench_now(CLOCK_PROCESS_CPUTIME_ID);
        push_interval(pw, NULL, ts, &src, &c[0]);
        cpu[0][r] = bench_now(CLOCK_PROCESS_CPUTIME_ID) - t0;
        for (int k = 0; k < 2; k++) {
            t0 = bench_now(CLOCK_PROCESS_CPUTIME_ID);
            push_interval(NULL, ot[k], ts, &src, &c[1 + k]);
            cpu[1 + k][r] = bench_now(CLOCK_PROCESS_CPUTIME_ID) - t0;
        }
        for (int k = 0; k < 3; k++) {
            bytes[k] = c[k].bytes;
            bodies[k] = c[k].bodies;
        }
        /* The text exposition, whole and gzipped as a scrape gets it. */
        buf_init(&b, (size_t)1 << 30);
        t0 = bench_now(CLOCK_PROCESS_CPUTIME_ID);
        render_text(&b, &src);
        cpu[3][r] = bench_now(CLOCK_PROCESS_CPUTIME_ID) - t0;
        bytes[3] = b.len;
        buf_free(&b);
        {
            struct buf gz;

            buf_init(&gz, (size_t)1 << 30);
            buf_init(&b, (size_t)128 << 10);
            t0 = bench_now(CLOCK_PROCESS_CPUTIME_ID);
            z = gzip_stream_new(15, &gz);
            buf_set_drain(&b, (size_t)64 << 10, to_gzip, z);
            render_text(&b, &src);
            buf_flush(&b);
            gzip_stream_finish(z);
            cpu[4][r] = bench_now(CLOCK_PROCESS_CPUTIME_ID) - t0;
            bytes[4] = gz.len;
            gzip_stream_free(z);
            buf_free(&b);
            buf_free(&gz);
        }
    }
    printf("push formats, %u keys (%u flow series, %.0f in all; CPU time of one steady interval, "
           "median of %d):\n",
           keys, 4 * keys, series, ROUNDS);
    printf("%-34s %9s %9s %11s %13s %9s\n", "format", "encode ms", "ns/series", "wire bytes",
           "bytes/series", "requests");
    {
        struct meter *lm;
        double lp[ROUNDS], lpz[ROUNDS];
        size_t lp_len = 0, gz_len = 0;

        /* Line protocol: one row a key carries its four values. */
        lm = filled(keys, 10000);
        meter_finish(lm, 2000, true);
        for (int r = 0; r < ROUNDS; r++) {
            struct buf b, z;
            double t0;

            buf_init(&b, 1u << 30);
            buf_init(&z, 1u << 30);
            t0 = bench_now(CLOCK_PROCESS_CPUTIME_ID);
            schema_write_default(&b, &id, &last_snap, &cs, NULL);
            lp[r] = bench_now(CLOCK_PROCESS_CPUTIME_ID) - t0;
            gzip_compress(b.data, b.len, &z);
            lpz[r] = bench_now(CLOCK_PROCESS_CPUTIME_ID) - t0;
            lp_len = b.len;
            gz_len = z.len;
            buf_free(&b);
            buf_free(&z);
        }
        meter_free(lm);
        push_row("line protocol (a row a key)", lp, ROUNDS, lp_len, 1, 4.0 * keys);
        push_row("line protocol + gzip", lpz, ROUNDS, gz_len, 1, 4.0 * keys);
    }
    push_row("/metrics text", cpu[3], ROUNDS, bytes[3], 1, series);
    push_row("/metrics text + gzip", cpu[4], ROUNDS, bytes[4], 1, series);
    push_row("remote write (protobuf + snappy)", cpu[0], ROUNDS, bytes[0], bodies[0], series);
    push_row("OTLP (protobuf)", cpu[1], ROUNDS, bytes[1], bodies[1], series);
    push_row("OTLP (protobuf + gzip)", cpu[2], ROUNDS, bytes[2], bodies[2], series);
    promwrite_free(pw);
    otlp_free(ot[0]);
    otlp_free(ot[1]);
    names_free(names);
    meter_free(m);
}

int main(void)
{
    static const unsigned prom_keys[] = {1000, 25000, 100000};
    enum { ROUNDS = 9 };
    struct export_identity id = {"bench-pod", "eth0", NULL, NULL, NULL};
    struct export_capture_stats cs = {0, 0};
    double enc[ROUNDS], gz[ROUNDS];
    struct buf b, z;
    struct meter *m;
    size_t lp_len = 0, gz_len = 0;

    snap_rows = calloc(200000, sizeof(*snap_rows));
    snap_keys = calloc(200000, sizeof(*snap_keys));
    /* 10,000 rows in one interval. */
    m = filled(10000, 10000);
    meter_finish(m, 2000, true);
    for (int r = 0; r < ROUNDS; r++) {
        double t0;

        buf_init(&b, 1u << 30);
        buf_init(&z, 1u << 30);
        t0 = bench_now(CLOCK_PROCESS_CPUTIME_ID);
        schema_write_default(&b, &id, &last_snap, &cs, NULL);
        enc[r] = bench_now(CLOCK_PROCESS_CPUTIME_ID) - t0;
        t0 = bench_now(CLOCK_PROCESS_CPUTIME_ID);
        gzip_compress(b.data, b.len, &z);
        gz[r] = bench_now(CLOCK_PROCESS_CPUTIME_ID) - t0;
        lp_len = b.len;
        gz_len = z.len;
        buf_free(&b);
        buf_free(&z);
    }
    meter_free(m);

    printf("line protocol, 10,000 rows: encode %.2f ms, gzip %.2f ms (median of %d; %zu -> %zu "
           "bytes)\n",
           bench_median(enc, ROUNDS) * 1e3, bench_median(gz, ROUNDS) * 1e3, ROUNDS, lp_len, gz_len);
    /* /metrics as the server renders it: 64 KiB slices to a drain, every remote named (by its
     * address, as nstats names a peer it knows nothing of). Four series a key. */
    printf("/metrics (CPU time, median of %d; slices of 64 KiB; gzip as served, 32 KiB window;\n"
           "render and +gzip reuse the last scrape's labels, cold formats every key; cache B/key\n"
           "is what that costs between scrapes):\n",
           ROUNDS);
    printf("%8s %9s %8s %10s %9s %11s %13s %11s %9s %8s\n", "keys", "series", "cold ms",
           "render ms", "ns/series", "text bytes", "bytes/series", "+gzip ms", "gz bytes",
           "cache B/key");
    for (size_t i = 0; i < sizeof(prom_keys) / sizeof(prom_keys[0]); i++)
        bench_metrics(prom_keys[i]);
    bench_push(2500);
    free(snap_rows);
    free(snap_keys);
    return 0;
}
