/* Thin wrapper over libpcap, with filereader.c the only files that include pcap.h (besides the
 * decoder's DLTs). */
#include "capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "capture/filereader.h"

/* How long a file dispatch waits for the reading thread before returning to the loop. */
#define FILE_WAIT_MS 100

struct capture {
    pcap_t *pcap;
    struct filereader *reader; /* files: started on the first dispatch */
    bool started;
    bool keep_dns;
    size_t readahead_bytes;
    bool live;
    bool eof;
    int linktype;
    capture_packet_fn *fn;
    void *arg;
};

/* libpcap's messages often repeat the device name; keep them on one line. */
static void copy_pcap_error(char *errbuf, size_t errlen, const char *prefix, const char *msg)
{
    snprintf(errbuf, errlen, "%s: %s", prefix, msg);
    for (char *p = errbuf; *p; p++)
        if (*p == '\n')
            *p = ' ';
}

struct capture *capture_open_live(const char *ifname, unsigned snaplen, unsigned buffer_bytes,
                                  char *errbuf, size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    struct capture *c;
    pcap_t *p;
    int rc;

    p = pcap_create(ifname, pcap_err);
    if (p == NULL) {
        copy_pcap_error(errbuf, errlen, ifname, pcap_err);
        return NULL;
    }
    pcap_set_snaplen(p, (int)snaplen);
    pcap_set_promisc(p, 0);
    pcap_set_buffer_size(p, (int)buffer_bytes);
    /* Blocks of the TPACKET_V3 ring are handed over at least this often. */
    pcap_set_timeout(p, CAPTURE_BLOCK_TIMEOUT_MS);
    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_MICRO);
    rc = pcap_activate(p);
    if (rc < 0) {
        const char *why = pcap_geterr(p);

        if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
            snprintf(errbuf, errlen, "%s: no such interface", ifname);
        else if (rc == PCAP_ERROR_PERM_DENIED)
            snprintf(errbuf, errlen,
                     "%s: no permission to capture (run as root or grant CAP_NET_RAW)", ifname);
        else
            copy_pcap_error(errbuf, errlen, ifname, why && *why ? why : pcap_statustostr(rc));
        pcap_close(p);
        return NULL;
    }
    if (pcap_setnonblock(p, 1, pcap_err) == -1) {
        copy_pcap_error(errbuf, errlen, ifname, pcap_err);
        pcap_close(p);
        return NULL;
    }
    c = xcalloc(1, sizeof(*c));
    c->pcap = p;
    c->live = true;
    c->linktype = pcap_datalink(p);
    return c;
}

struct capture *capture_open_file(const char *path, char *errbuf, size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    struct filereader *reader;
    struct capture *c;
    FILE *f;
    pcap_t *p;

    f = filereader_fopen(path, &reader);
    if (f == NULL) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, pcap_err);
    if (p == NULL) {
        copy_pcap_error(errbuf, errlen, path, pcap_err);
        fclose(f);
        filereader_free(reader);
        return NULL;
    }
    c = xcalloc(1, sizeof(*c));
    c->pcap = p;
    c->reader = reader;
    c->linktype = pcap_datalink(p);
    return c;
}

void capture_close(struct capture *c)
{
    if (c == NULL)
        return;
    filereader_free(c->reader);
    pcap_close(c->pcap);
    free(c);
}

int capture_set_filter(struct capture *c, const char *expr, char *errbuf, size_t errlen)
{
    struct bpf_program prog;

    if (pcap_compile(c->pcap, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) == -1) {
        copy_pcap_error(errbuf, errlen, expr, pcap_geterr(c->pcap));
        return -1;
    }
    if (pcap_setfilter(c->pcap, &prog) == -1) {
        copy_pcap_error(errbuf, errlen, expr, pcap_geterr(c->pcap));
        pcap_freecode(&prog);
        return -1;
    }
    pcap_freecode(&prog);
    return 0;
}

void capture_stop_reading(struct capture *c)
{
    if (c->reader != NULL)
        filereader_stop(c->reader);
}

void capture_keep_dns_answers(struct capture *c)
{
    c->keep_dns = true;
}

void capture_set_readahead(struct capture *c, size_t bytes)
{
    c->readahead_bytes = bytes;
}

int capture_linktype(const struct capture *c)
{
    return c->linktype;
}

int capture_fd(const struct capture *c)
{
    return c->live ? pcap_get_selectable_fd(c->pcap) : -1;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct capture *c = (struct capture *)user;
    struct pktsummary sum;
    struct capture_packet pkt = {
        (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec, h->len, &sum, bytes, h->caplen,
    };

    decode_packet(c->linktype, bytes, h->caplen, &sum);
    c->fn(c->arg, &pkt);
}

int capture_dispatch(struct capture *c, int max_packets, capture_packet_fn *fn, void *arg,
                     char *errbuf, size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE + 32];
    bool eof;
    int n;

    if (c->eof)
        return 0;
    if (!c->live) {
        if (!c->started && filereader_start(c->reader, c->pcap, c->linktype, c->keep_dns,
                                            c->readahead_bytes, errbuf, errlen) == -1) {
            c->eof = true;
            return -1;
        }
        c->started = true;
        n = filereader_dispatch(c->reader, max_packets, FILE_WAIT_MS, fn, arg, &eof, pcap_err,
                                sizeof(pcap_err));
        if (eof || n == -1)
            c->eof = true;
        if (n == -1)
            copy_pcap_error(errbuf, errlen, "read", pcap_err);
        return n;
    }
    c->fn = fn;
    c->arg = arg;
    n = pcap_dispatch(c->pcap, max_packets > 0 ? max_packets : -1, on_packet, (u_char *)c);
    if (n == PCAP_ERROR) {
        copy_pcap_error(errbuf, errlen, "capture", pcap_geterr(c->pcap));
        return -1;
    }
    if (n == PCAP_ERROR_BREAK)
        return 0;
    return n;
}

int capture_at_eof(const struct capture *c)
{
    return c->eof;
}

int capture_get_stats(struct capture *c, struct capture_stats *out)
{
    struct pcap_stat ps;

    memset(out, 0, sizeof(*out));
    if (!c->live)
        return 0;
    if (pcap_stats(c->pcap, &ps) == -1)
        return -1;
    out->received = ps.ps_recv;
    out->drops = ps.ps_drop;
    out->ifdrops = ps.ps_ifdrop;
    return 0;
}
