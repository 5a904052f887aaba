/* meter_bench: nstats' own per-packet cost, without reading: a capture's packets are loaded
 * into memory first, then fed through decode, keying and the flow table (meter_packet) with
 * intervals closed as in `nstats -r`, but no rows formatted. */

/* libpcap's headers use the BSD u_char / u_int types, which strict C11 hides. */
#define _DEFAULT_SOURCE

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/hash.h"
#include "base/netaddr.h"
#include "benchtime.h"
#include "capture/decode.h"
#include "flow/locality.h"
#include "flow/meter.h"

struct record {
    uint64_t ts_ms;
    uint32_t caplen;
    uint32_t len;
    size_t offset; /* into the data arena */
};

struct loaded {
    struct record *recs;
    size_t n, cap;
    uint8_t *data;
    size_t used, size;
};

static void keep(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct loaded *l = (struct loaded *)(void *)user;

    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1 << 16;
        l->recs = realloc(l->recs, l->cap * sizeof(*l->recs));
    }
    if (h->caplen > 65536) {
        fprintf(stderr, "meter_bench: a record over 65536 bytes\n");
        exit(1);
    }
    if (l->used + h->caplen > l->size) {
        l->size = l->size ? 2 * l->size : 1 << 24;
        l->data = realloc(l->data, l->size);
    }
    if (l->recs == NULL || l->data == NULL) {
        fprintf(stderr, "meter_bench: out of memory\n");
        exit(1);
    }
    memcpy(l->data + l->used, bytes, h->caplen);
    l->recs[l->n++] = (struct record){
        (uint64_t)h->ts.tv_sec * 1000u + (uint64_t)h->ts.tv_usec / 1000u,
        h->caplen,
        h->len,
        l->used,
    };
    l->used += h->caplen;
}

struct emitted {
    size_t rows;
    uint64_t bytes;
};

static void count_rows(const struct meter_snapshot *snap, void *arg)
{
    struct emitted *e = arg;

    e->rows += snap->n_rows;
    e->bytes += snap->bytes;
}

int main(int argc, char **argv)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    struct loaded l = {0};
    struct locality loc;
    struct hash_key seed;
    double runs[5], copies[5], decodes[5];
    struct emitted e = {0, 0};
    static uint8_t hot[65536];
    pcap_t *pcap;

    if (argc < 3) {
        fprintf(stderr,
                "usage: meter_bench FILE LOCAL_NET...\n"
                "As nstats -r FILE --local-net LOCAL_NET... --max-flows 100000 (interval 10s,\n"
                "flow timeout 5m), without writing rows.\n"
                "Prints the median ns per packet of meter_packet over 5 runs.\n");
        return 2;
    }
    pcap = pcap_open_offline(argv[1], errbuf);
    if (pcap == NULL) {
        fprintf(stderr, "meter_bench: %s\n", errbuf);
        return 1;
    }
    if (pcap_loop(pcap, -1, keep, (u_char *)&l) == PCAP_ERROR) {
        fprintf(stderr, "meter_bench: %s\n", pcap_geterr(pcap));
        return 1;
    }
    locality_init(&loc);
    for (int i = 2; i < argc; i++) {
        struct netprefix p;

        if (netprefix_parse(argv[i], &p) == -1 || locality_add_net(&loc, &p) == -1) {
            fprintf(stderr, "meter_bench: bad local net %s\n", argv[i]);
            return 2;
        }
    }
    hash_key_random(&seed);
    for (int r = 0; r < 5; r++) {
        struct meter_config mc = {10000, 300000, 100000, 32768, FLOW_KEY_ALL, pcap_datalink(pcap)};
        struct meter *m = meter_new(&mc, &loc, NULL, &seed, count_rows, &e);
        double t0 = bench_now(CLOCK_MONOTONIC);

        for (size_t i = 0; i < l.n; i++) {
            /* Hand the packet over in one reused, cache-hot buffer, as libpcap's file reader
             * does, rather than from cold memory. */
            memcpy(hot, l.data + l.recs[i].offset, l.recs[i].caplen);
            meter_packet(m, l.recs[i].ts_ms, hot, l.recs[i].caplen, l.recs[i].len);
        }
        meter_finish(m, meter_last_packet_ms(m), false);
        runs[r] = bench_now(CLOCK_MONOTONIC) - t0;
        meter_free(m);
    }
    /* The hand-over alone, to subtract. */
    for (int r = 0; r < 5; r++) {
        double t0 = bench_now(CLOCK_MONOTONIC);

        for (size_t i = 0; i < l.n; i++) {
            memcpy(hot, l.data + l.recs[i].offset, l.recs[i].caplen);
            __asm__ volatile("" : : "r"(hot) : "memory");
        }
        copies[r] = bench_now(CLOCK_MONOTONIC) - t0;
    }
    /* Decoding alone, from the same hot buffer. */
    for (int r = 0; r < 5; r++) {
        double t0 = bench_now(CLOCK_MONOTONIC);

        for (size_t i = 0; i < l.n; i++) {
            struct pktsummary sum;

            memcpy(hot, l.data + l.recs[i].offset, l.recs[i].caplen);
            decode_packet(pcap_datalink(pcap), hot, l.recs[i].caplen, &sum);
            __asm__ volatile("" : : "r"(&sum) : "memory");
        }
        decodes[r] = bench_now(CLOCK_MONOTONIC) - t0;
    }
    {
        double run = bench_median(runs, 5), copy = bench_median(copies, 5);
        double decode = bench_median(decodes, 5);

        printf("meter_packet: %.1f ns/packet, of which %.1f ns hand-over and %.1f ns decoding "
               "(medians of 5; %zu packets, %zu rows per run)\n",
               run * 1e9 / (double)l.n, copy * 1e9 / (double)l.n,
               (decode - copy) * 1e9 / (double)l.n, l.n, e.rows / 5);
    }
    pcap_close(pcap);
    free(l.recs);
    free(l.data);
    return 0;
}
