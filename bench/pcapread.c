/* pcapread: the benchmark baseline, a bare libpcap read loop that only sums frame lengths. */

/*
 * Whatever nstats does per packet is priced against this loop: the same
 * pcap_open_offline() and pcap_loop() with a callback that does nothing but
 * count, so the difference in the benchmark is nstats' own work.
 */

/* libpcap's headers use the BSD u_char / u_int types, which strict C11 hides. */
#define _DEFAULT_SOURCE

#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

struct pcapread_totals {
    uint64_t packets;
    uint64_t bytes;
};

static void pcapread_count(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct pcapread_totals *totals = (struct pcapread_totals *)(void *)user;
    (void)bytes;
    totals->packets++;
    totals->bytes += h->len;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr,
                "usage: pcapread FILE\n"
                "Reads a capture with libpcap and prints \"packets bytes\" (sum of len).\n");
        return 2;
    }

    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pcap = pcap_open_offline(argv[1], errbuf);
    if (pcap == NULL) {
        fprintf(stderr, "pcapread: %s\n", errbuf);
        return 1;
    }
    struct pcapread_totals totals = {0, 0};
    int ret = 0;
    if (pcap_loop(pcap, -1, pcapread_count, (u_char *)&totals) == PCAP_ERROR) {
        fprintf(stderr, "pcapread: %s: %s\n", argv[1], pcap_geterr(pcap));
        ret = 1;
    }
    pcap_close(pcap);
    if (ret == 0) {
        printf("%" PRIu64 " %" PRIu64 "\n", totals.packets, totals.bytes);
    }
    return ret;
}
