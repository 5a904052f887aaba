/* Thin wrapper over libpcap, with reader.c the only files that include pcap.h (besides the
 * decoder's DLTs). */
#include "capture.h"

#include <errno.h>
#include <linux/capability.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/caps.h"
#include "base/xalloc.h"
#include "capture/reader.h"
#include "io/loop.h"

/* How long a file dispatch waits for the reading thread before returning to the loop: a
 * regular file is read ahead at disk speed; a pipe may stay idle for minutes, and meanwhile the
 * loop serves HTTP only between these waits, so they are short (a 9 MB page to a plain client
 * took 60 s with 100 ms waits, and a /healthz 190 ms). */
#define FILE_WAIT_MS 100
#define PIPE_WAIT_MS 10

struct capture {
    pcap_t *pcap;
    struct reader *reader; /* files: started on the first dispatch; live: by capture_start_reader */
    FILE *pending;         /* a pipe whose header has not been read yet */
    char *path;            /* the file, or the interface */
    unsigned snaplen;      /* live: to open the interface again */
    unsigned buffer_bytes;
    unsigned block_ms;         /* live: the ring's block timeout (capture_open_live) */
    unsigned ifindex;          /* live: the interface opened (0 for "any") */
    struct capture_stats base; /* live: the counters of the handles before this one */
    bool started;
    bool keep_dns;
    size_t readahead_bytes; /* files; live: set when read on a thread of its own */
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

/* An activated, non-blocking live handle on ifname, or NULL with a reason in errbuf. */
static pcap_t *open_live(const char *ifname, unsigned snaplen, unsigned buffer_bytes,
                         unsigned block_ms, char *errbuf, size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p;
    int rc;

    caps_raise(CAP_NET_RAW); /* the image binary's file capability (base/caps.h) */
    p = pcap_create(ifname, pcap_err);
    if (p == NULL) {
        copy_pcap_error(errbuf, errlen, ifname, pcap_err);
        return NULL;
    }
    pcap_set_snaplen(p, (int)snaplen);
    pcap_set_promisc(p, 0);
    pcap_set_buffer_size(p, (int)buffer_bytes);
    /* Blocks of the TPACKET_V3 ring are handed over at least this often. */
    pcap_set_timeout(p, (int)block_ms);
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
    return p;
}

struct capture *capture_open_live(const char *ifname, unsigned snaplen, unsigned buffer_bytes,
                                  unsigned block_ms, char *errbuf, size_t errlen)
{
    pcap_t *p = open_live(ifname, snaplen, buffer_bytes, block_ms, errbuf, errlen);
    struct capture *c;

    if (p == NULL)
        return NULL;
    c = xcalloc(1, sizeof(*c));
    c->pcap = p;
    c->live = true;
    c->linktype = pcap_datalink(p);
    c->path = xstrdup(ifname);
    c->snaplen = snaplen;
    c->buffer_bytes = buffer_bytes;
    c->block_ms = block_ms;
    c->ifindex = if_nametoindex(ifname);
    return c;
}

bool capture_interface_gone(const struct capture *c)
{
    /* Gone, or gone and back already under the same name (a veth recreated). */
    return c->live && c->ifindex != 0 && if_nametoindex(c->path) != c->ifindex;
}

int capture_reopen_live(struct capture *c, char *errbuf, size_t errlen)
{
    struct capture_stats last;
    pcap_t *p = open_live(c->path, c->snaplen, c->buffer_bytes, c->block_ms, errbuf, errlen);

    if (p == NULL)
        return -1;
    /* The old handle's counters carry on under the new one's, so they never go back (a handle
     * whose reading thread never started was never read: its counters mean nothing). */
    if (c->reader != NULL && capture_get_stats(c, &last) == 0)
        c->base = last;
    reader_free(c->reader);
    c->reader = NULL;
    pcap_close(c->pcap);
    c->pcap = p;
    c->linktype = pcap_datalink(p);
    c->ifindex = if_nametoindex(c->path);
    c->eof = false;
    c->started = false;
    return c->readahead_bytes > 0 ? capture_start_reader(c, c->readahead_bytes, errbuf, errlen) : 0;
}

struct capture *capture_open_file(const char *path, char *errbuf, size_t errlen)
{
    struct reader *reader = reader_new();
    struct capture *c;
    FILE *f = reader != NULL ? reader_fopen(reader, path) : NULL;

    if (f == NULL) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        reader_free(reader);
        return NULL;
    }
    c = xcalloc(1, sizeof(*c));
    c->reader = reader;
    c->pending = f;
    c->path = xstrdup(path);
    /* A regular file's header is there to read; a pipe's may come later (capture_wait_fd). */
    if (reader_wait_fd(reader) == -1 && capture_read_header(c, errbuf, errlen) == -1) {
        capture_close(c);
        return NULL;
    }
    return c;
}

int capture_wait_fd(const struct capture *c)
{
    return c->pending != NULL ? reader_wait_fd(c->reader) : -1;
}

static void on_header_ready(void *arg, int fd, uint32_t events)
{
    (void)fd;
    (void)events;
    loop_stop(arg);
}

int capture_await_header(struct capture *c, struct loop *l, const bool *stopping)
{
    int fd = capture_wait_fd(c);
    int rc = 0;

    if (fd == -1)
        return 0;
    if (loop_watch(l, fd, EPOLLIN, on_header_ready, l) == -1)
        return -1;
    if (loop_run(l) == -1 || *stopping)
        rc = -1;
    loop_unwatch(l, fd);
    return rc;
}

int capture_read_header(struct capture *c, char *errbuf, size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";

    if (c->pending == NULL)
        return 0;
    c->pcap =
        pcap_fopen_offline_with_tstamp_precision(c->pending, PCAP_TSTAMP_PRECISION_MICRO, pcap_err);
    if (c->pcap == NULL) {
        copy_pcap_error(errbuf, errlen, c->path, pcap_err);
        fclose(c->pending);
        c->pending = NULL;
        return -1;
    }
    c->pending = NULL;
    c->linktype = pcap_datalink(c->pcap);
    return 0;
}

int capture_start_reader(struct capture *c, size_t readahead_bytes, char *errbuf, size_t errlen)
{
    c->readahead_bytes = readahead_bytes;
    c->reader = reader_new();
    if (c->reader == NULL) {
        snprintf(errbuf, errlen, "cannot start the capture thread: %s", strerror(errno));
        return -1;
    }
    if (reader_start_live(c->reader, c->pcap, c->linktype, readahead_bytes, errbuf, errlen) == -1) {
        reader_free(c->reader);
        c->reader = NULL;
        return -1;
    }
    c->started = true;
    return 0;
}

void capture_close(struct capture *c)
{
    if (c == NULL)
        return;
    reader_free(c->reader);
    if (c->pending != NULL)
        fclose(c->pending);
    if (c->pcap != NULL)
        pcap_close(c->pcap);
    free(c->path);
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
        reader_stop(c->reader);
}

void capture_keep_dns(struct capture *c)
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
    if (!c->live)
        return -1;
    return c->reader != NULL ? reader_notify_fd(c->reader) : pcap_get_selectable_fd(c->pcap);
}

/* Files: the reading thread starts on the first look at the packets. */
static int start_file(struct capture *c, char *errbuf, size_t errlen)
{
    if (c->started)
        return 0;
    if (c->pcap == NULL) {
        snprintf(errbuf, errlen, "%s: the capture file header has not been read", c->path);
        return -1;
    }
    if (reader_start(c->reader, c->pcap, c->linktype, c->keep_dns, c->readahead_bytes, errbuf,
                     errlen) == -1)
        return -1;
    c->started = true;
    return 0;
}

int capture_wait_ahead(struct capture *c, unsigned max_packets, unsigned wait_ms, char *errbuf,
                       size_t errlen)
{
    if (c->live)
        return 1;
    if (start_file(c, errbuf, errlen) == -1)
        return -1;
    return reader_wait_ahead(c->reader, max_packets, wait_ms);
}

unsigned capture_peek(struct capture *c, unsigned max_packets, capture_packet_fn *fn, void *arg)
{
    return c->live || !c->started ? 0 : reader_peek(c->reader, max_packets, fn, arg);
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
    if (c->reader != NULL) {
        if (!c->live && start_file(c, errbuf, errlen) == -1) {
            c->eof = true;
            return -1;
        }
        n = reader_dispatch(c->reader, max_packets,
                            c->live                           ? 0
                            : reader_wait_fd(c->reader) != -1 ? PIPE_WAIT_MS
                                                              : FILE_WAIT_MS,
                            fn, arg, &eof, pcap_err, sizeof(pcap_err));
        if (eof || n == -1)
            c->eof = true;
        if (n == -1)
            copy_pcap_error(errbuf, errlen, c->live ? "capture" : "read", pcap_err);
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
    if (c->reader != NULL) {
        reader_live_stats(c->reader, out);
    } else {
        if (pcap_stats(c->pcap, &ps) == -1)
            return -1;
        out->received = ps.ps_recv;
        out->drops = ps.ps_drop;
        out->ifdrops = ps.ps_ifdrop;
    }
    out->received += c->base.received;
    out->drops += c->base.drops;
    out->ifdrops += c->base.ifdrops;
    return 0;
}
