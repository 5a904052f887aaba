/* Export benchmark: CPU time to encode (and gzip) one interval of 10,000 line-protocol rows, and
 * to render /metrics for 100,000 series, from a meter filled with synthetic keys. */
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "benchtime.h"
#include "export/metrics.h"
#include "export/schema.h"
#include "flow/meter.h"
#include "io/gzip.h"

static struct meter_snapshot last_snap;
static struct flow_row *snap_rows;

static void keep(const struct meter_snapshot *snap, void *arg)
{
    (void)arg;
    last_snap = *snap;
    memcpy(snap_rows, snap->rows, snap->n_rows * sizeof(*snap_rows));
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

int main(void)
{
    enum { ROUNDS = 9 };
    struct export_identity id = {"bench-pod", "eth0", NULL, NULL, NULL};
    struct export_capture_stats cs = {0, 0};
    double enc[ROUNDS], gz[ROUNDS], prom[ROUNDS];
    struct metrics_sources src;
    struct buf b, z;
    struct meter *m;
    size_t lp_len = 0, gz_len = 0, prom_len = 0;

    snap_rows = calloc(200000, sizeof(*snap_rows));
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

    /* 25,000 keys: four series each (bytes and packets, in and out) = 100,000 series. */
    m = filled(25000, 3600000);
    memset(&src, 0, sizeof(src));
    src.id = &id;
    src.version = "bench";
    src.meter = m;
    src.max_flows = 25000;
    for (int r = 0; r < ROUNDS; r++) {
        double t0;

        buf_init(&b, 1u << 30);
        t0 = bench_now(CLOCK_PROCESS_CPUTIME_ID);
        metrics_render(&b, &src);
        prom[r] = bench_now(CLOCK_PROCESS_CPUTIME_ID) - t0;
        prom_len = b.len;
        buf_free(&b);
    }
    meter_free(m);
    free(snap_rows);

    printf("line protocol, 10,000 rows: encode %.2f ms, gzip %.2f ms (median of %d; %zu -> %zu "
           "bytes)\n",
           bench_median(enc, ROUNDS) * 1e3, bench_median(gz, ROUNDS) * 1e3, ROUNDS, lp_len, gz_len);
    printf("/metrics, 100,000 series: render %.2f ms CPU (median of %d; %zu bytes)\n",
           bench_median(prom, ROUNDS) * 1e3, ROUNDS, prom_len);
    return 0;
}
