/* pktblast: the live benchmark's generator, replaying a capture's frames out of one interface. */

/*
 * bench/live.sh needs a packet rate that the capturers, not the generator, are the limit of.
 * tcpreplay sends one frame a system call; this loads every frame of a capture into memory
 * first, writes the Ethernet addresses it is given into each, and sends them round robin
 * through an AF_PACKET socket with sendmmsg(), a batch a call, at full speed or paced to a
 * fixed rate. The socket is bound with protocol 0, so it receives nothing and is no capturer
 * itself; frames go through the interface's normal transmit path, so every packet socket on
 * the interface (tcpdump, nstats) sees them as outgoing. Only Ethernet captures are accepted.
 *
 * On exit it prints one line: "packets=N bytes=B seconds=T pps=R".
 */

/* libpcap's headers use the BSD u_char / u_int types, which strict C11 hides. */
#define _DEFAULT_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PKTBLAST_MAX_BATCH 1024

struct pktblast_frames {
    uint8_t *data;  /* all frames back to back */
    size_t *offset; /* where frame i starts in data */
    uint32_t *len;  /* its length */
    size_t count;
    size_t data_cap; /* allocated sizes, in elements */
    size_t offset_cap;
    size_t len_cap;
};

static volatile sig_atomic_t pktblast_stop;

static void pktblast_on_signal(int sig)
{
    (void)sig;
    pktblast_stop = 1;
}

static double pktblast_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int pktblast_parse_mac(const char *text, uint8_t mac[6])
{
    unsigned int b[6];
    char tail;
    if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
               &tail) != 6) {
        return -1;
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = (uint8_t)b[i];
    }
    return 0;
}

static void *pktblast_grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) {
        return p;
    }
    size_t n = *cap ? *cap : 1024;
    while (n < need) {
        n *= 2;
    }
    void *q = realloc(p, n * elem);
    if (q == NULL) {
        fprintf(stderr, "pktblast: out of memory\n");
        exit(1);
    }
    *cap = n;
    return q;
}

/* Loads every frame of path, with the Ethernet addresses replaced by dst and src. */
static int pktblast_load(const char *path, const uint8_t dst[6], const uint8_t src[6],
                         struct pktblast_frames *f)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pcap = pcap_open_offline(path, errbuf);
    if (pcap == NULL) {
        fprintf(stderr, "pktblast: %s\n", errbuf);
        return -1;
    }
    if (pcap_datalink(pcap) != DLT_EN10MB) {
        fprintf(stderr, "pktblast: %s: not an Ethernet capture\n", path);
        pcap_close(pcap);
        return -1;
    }
    size_t used = 0;
    struct pcap_pkthdr *h;
    const u_char *bytes;
    int rc;
    while ((rc = pcap_next_ex(pcap, &h, &bytes)) == 1) {
        if (h->caplen < 14) {
            continue;
        }
        f->data = pktblast_grow(f->data, &f->data_cap, used + h->caplen, 1);
        f->offset = pktblast_grow(f->offset, &f->offset_cap, f->count + 1, sizeof *f->offset);
        f->len = pktblast_grow(f->len, &f->len_cap, f->count + 1, sizeof *f->len);
        memcpy(f->data + used, bytes, h->caplen);
        memcpy(f->data + used, dst, 6);
        memcpy(f->data + used + 6, src, 6);
        f->offset[f->count] = used;
        f->len[f->count] = h->caplen;
        f->count++;
        used += h->caplen;
    }
    if (rc == PCAP_ERROR) {
        fprintf(stderr, "pktblast: %s: %s\n", path, pcap_geterr(pcap));
        pcap_close(pcap);
        return -1;
    }
    pcap_close(pcap);
    if (f->count == 0) {
        fprintf(stderr, "pktblast: %s: no Ethernet frames\n", path);
        return -1;
    }
    return 0;
}

static void pktblast_usage(void)
{
    fprintf(
        stderr,
        "usage: pktblast --interface IF --pcap FILE --dst-mac MAC --src-mac MAC\n"
        "                [--seconds S=3] [--packets N] [--pps R=0 (full speed)] [--batch B=64]\n"
        "Sends the capture's frames round robin out of IF (AF_PACKET, sendmmsg) until S\n"
        "seconds or N packets, then prints \"packets=N bytes=B seconds=T pps=R\".\n");
}

int main(int argc, char **argv)
{
    const char *ifname = NULL;
    const char *path = NULL;
    const char *dst_text = NULL;
    const char *src_text = NULL;
    double seconds = 3.0;
    uint64_t max_packets = 0;
    double pps = 0.0;
    long batch = 64;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            pktblast_usage();
            return 0;
        }
        if (i + 1 >= argc) {
            pktblast_usage();
            return 2;
        }
        const char *val = argv[++i];
        if (strcmp(opt, "--interface") == 0) {
            ifname = val;
        } else if (strcmp(opt, "--pcap") == 0) {
            path = val;
        } else if (strcmp(opt, "--dst-mac") == 0) {
            dst_text = val;
        } else if (strcmp(opt, "--src-mac") == 0) {
            src_text = val;
        } else if (strcmp(opt, "--seconds") == 0) {
            seconds = strtod(val, NULL);
        } else if (strcmp(opt, "--packets") == 0) {
            max_packets = strtoull(val, NULL, 10);
        } else if (strcmp(opt, "--pps") == 0) {
            pps = strtod(val, NULL);
        } else if (strcmp(opt, "--batch") == 0) {
            batch = strtol(val, NULL, 10);
        } else {
            pktblast_usage();
            return 2;
        }
    }
    uint8_t dst[6];
    uint8_t src[6];
    if (ifname == NULL || path == NULL || dst_text == NULL || src_text == NULL ||
        pktblast_parse_mac(dst_text, dst) != 0 || pktblast_parse_mac(src_text, src) != 0 ||
        batch < 1 || batch > PKTBLAST_MAX_BATCH || seconds <= 0 || pps < 0) {
        pktblast_usage();
        return 2;
    }

    struct pktblast_frames frames = {0};
    if (pktblast_load(path, dst, src, &frames) != 0) {
        return 1;
    }
    unsigned int ifindex = if_nametoindex(ifname);
    if (ifindex == 0) {
        fprintf(stderr, "pktblast: %s: no such interface\n", ifname);
        return 1;
    }
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0) {
        fprintf(stderr, "pktblast: socket(AF_PACKET): %s\n", strerror(errno));
        return 1;
    }
    int sndbuf = 4 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    struct sockaddr_ll to;
    memset(&to, 0, sizeof to);
    to.sll_family = AF_PACKET;
    to.sll_ifindex = (int)ifindex;
    to.sll_halen = 6;
    if (bind(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        fprintf(stderr, "pktblast: bind %s: %s\n", ifname, strerror(errno));
        return 1;
    }
    signal(SIGINT, pktblast_on_signal);
    signal(SIGTERM, pktblast_on_signal);

    static struct mmsghdr msgs[PKTBLAST_MAX_BATCH];
    static struct iovec iovs[PKTBLAST_MAX_BATCH];
    size_t next = 0;
    uint64_t sent = 0;
    uint64_t bytes = 0;
    uint64_t retries = 0;
    double start = pktblast_now_s();
    double deadline = start + seconds;
    double now = start;
    while (!pktblast_stop) {
        uint64_t want = (uint64_t)batch;
        if (max_packets > 0) {
            if (sent >= max_packets) {
                break;
            }
            if (max_packets - sent < want) {
                want = max_packets - sent;
            }
        }
        if (pps > 0) {
            /* Paced: the batch leaves when the packets before it are due, spinning on the clock
             * (the generator has a core of its own). */
            double due = start + (double)sent / pps;
            while ((now = pktblast_now_s()) < due && now < deadline) {
            }
        } else {
            now = pktblast_now_s();
        }
        if (now >= deadline) {
            break;
        }
        for (uint64_t i = 0; i < want; i++) {
            iovs[i].iov_base = frames.data + frames.offset[next];
            iovs[i].iov_len = frames.len[next];
            memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
            msgs[i].msg_hdr.msg_iov = &iovs[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            next = next + 1 == frames.count ? 0 : next + 1;
        }
        uint64_t done = 0;
        while (done < want && !pktblast_stop) {
            int n = sendmmsg(fd, msgs + done, (unsigned int)(want - done), 0);
            if (n < 0) {
                if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
                    retries++;
                    continue;
                }
                fprintf(stderr, "pktblast: sendmmsg: %s\n", strerror(errno));
                return 1;
            }
            for (int i = 0; i < n; i++) {
                bytes += iovs[done + (uint64_t)i].iov_len;
            }
            done += (uint64_t)n;
        }
        sent += done;
    }
    double elapsed = pktblast_now_s() - start;
    close(fd);
    printf("packets=%" PRIu64 " bytes=%" PRIu64 " seconds=%.6f pps=%.0f retries=%" PRIu64 "\n",
           sent, bytes, elapsed, elapsed > 0 ? (double)sent / elapsed : 0.0, retries);
    free(frames.data);
    free(frames.offset);
    free(frames.len);
    return 0;
}
