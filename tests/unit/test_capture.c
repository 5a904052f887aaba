/* Capture file tests: the reading thread's hand-over keeps every record, in order, with its
 * summary, keeps bytes only where asked, reports a truncated file after what came before it,
 * and stops promptly, even on an idle pipe. */
#define _DEFAULT_SOURCE

#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "test.h"

#define N_PACKETS 20000 /* several chunks of 8,192 records */

/* Ethernet + IPv4 + UDP from 198.18.0.1:sport to 198.19.0.2:9000, padded to caplen. */
static uint32_t make_packet(uint8_t *b, uint32_t i, uint16_t sport, uint32_t caplen)
{
    static const uint8_t head[] = {
        0x02, 0, 0, 0, 0, 1, 0x02, 0, 0,  0,  0, 2, 0x08, 0x00,                      /* Ethernet */
        0x45, 0, 0, 0, 0, 0, 0,    0, 64, 17, 0, 0, 198,  18,   0, 1, 198, 19, 0, 2, /* IPv4 */
    };
    uint32_t ip_len = caplen - 14;

    memset(b, 0, caplen);
    memcpy(b, head, sizeof(head));
    b[16] = (uint8_t)(ip_len >> 8);
    b[17] = (uint8_t)ip_len;
    b[34] = (uint8_t)(sport >> 8);
    b[35] = (uint8_t)sport;
    b[36] = 9000 >> 8;
    b[37] = 9000 & 0xff;
    b[38] = (uint8_t)((ip_len - 20) >> 8);
    b[39] = (uint8_t)(ip_len - 20);
    /* A marker in the payload, to check kept bytes are this packet's. */
    memcpy(b + 42, &i, sizeof(i));
    return caplen;
}

static uint16_t sport_of(uint32_t i)
{
    return i % 97 == 0 ? 53 : (uint16_t)(40000 + i % 1000);
}

static uint32_t caplen_of(uint32_t i)
{
    return 60 + i % 200;
}

/* Writes N_PACKETS to path; returns the file size. */
static long write_capture(const char *path)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    uint8_t b[512];
    long size;
    FILE *f;

    for (uint32_t i = 0; i < N_PACKETS; i++) {
        struct pcap_pkthdr h;

        h.ts.tv_sec = 1700000000 + i / 1000;
        h.ts.tv_usec = (i % 1000) * 1000;
        h.caplen = make_packet(b, i, sport_of(i), caplen_of(i));
        h.len = h.caplen + i % 7;
        pcap_dump((u_char *)d, &h, b);
    }
    pcap_dump_close(d);
    pcap_close(dead);
    f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fclose(f);
    return size;
}

struct seen {
    uint32_t n;
    uint32_t bad_order;
    uint32_t bad_len;
    uint32_t bad_sum;
    uint32_t kept;
    uint32_t bad_kept;
};

static void check_packet(void *arg, const struct capture_packet *pkt)
{
    struct seen *s = arg;
    uint32_t i = s->n++;
    uint64_t want_ts = (uint64_t)(1700000000 + i / 1000) * 1000000u + (i % 1000) * 1000u;
    uint32_t marker;

    s->bad_order += pkt->ts_us != want_ts;
    s->bad_len += pkt->len != caplen_of(i) + i % 7;
    s->bad_sum += pkt->sum->status != DECODE_OK || pkt->sum->sport != sport_of(i) ||
                  pkt->sum->dport != 9000 || pkt->sum->proto != 17;
    if (pkt->data != NULL) {
        s->kept++;
        memcpy(&marker, pkt->data + 42, sizeof(marker));
        s->bad_kept += sport_of(i) != 53 || pkt->caplen != caplen_of(i) || marker != i;
    } else {
        s->bad_kept += sport_of(i) == 53 || pkt->caplen != 0;
    }
}

static void test_every_record_in_order(void)
{
    char path[] = "/tmp/nstats-test-capture-XXXXXX", err[512];
    struct seen s = {0};
    struct capture *c;
    int fd = mkstemp(path), rounds = 0;

    close(fd);
    write_capture(path);
    c = capture_open_file(path, err, sizeof(err));
    CHECK(c != NULL);
    capture_keep_dns(c);
    /* Small dispatches, so records are taken across chunk boundaries. */
    while (!capture_at_eof(c) && rounds++ < 100000)
        CHECK(capture_dispatch(c, 777, check_packet, &s, err, sizeof(err)) >= 0);
    CHECK_EQ(s.n, N_PACKETS);
    CHECK_EQ(s.bad_order, 0);
    CHECK_EQ(s.bad_len, 0);
    CHECK_EQ(s.bad_sum, 0);
    CHECK_EQ(s.kept, (N_PACKETS + 96) / 97);
    CHECK_EQ(s.bad_kept, 0);
    /* At the end it stays at the end. */
    CHECK_EQ(capture_dispatch(c, 0, check_packet, &s, err, sizeof(err)), 0);
    CHECK_EQ(s.n, N_PACKETS);
    capture_close(c);
    unlink(path);
}

static void test_truncated_after_what_came_before(void)
{
    char path[] = "/tmp/nstats-test-capture-XXXXXX", err[512] = "";
    struct seen s = {0};
    struct capture *c;
    int fd = mkstemp(path), rc = 0, rounds = 0;
    long size;

    close(fd);
    size = write_capture(path);
    /* Cut the last record short. */
    CHECK_EQ(truncate(path, size - 5), 0);
    c = capture_open_file(path, err, sizeof(err));
    CHECK(c != NULL);
    while (rc != -1 && !capture_at_eof(c) && rounds++ < 100000)
        rc = capture_dispatch(c, 0, check_packet, &s, err, sizeof(err));
    CHECK_EQ(rc, -1);
    CHECK(strstr(err, "truncated") != NULL);
    CHECK_EQ(s.n, N_PACKETS - 1);
    CHECK_EQ(s.bad_order + s.bad_len + s.bad_sum, 0);
    capture_close(c);
    unlink(path);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_close_midway(void)
{
    char path[] = "/tmp/nstats-test-capture-XXXXXX", err[512];
    struct seen s = {0};
    struct capture *c;
    int fd = mkstemp(path);

    close(fd);
    write_capture(path);
    c = capture_open_file(path, err, sizeof(err));
    CHECK(c != NULL);
    CHECK_EQ(capture_dispatch(c, 10, check_packet, &s, err, sizeof(err)), 10);
    capture_close(c); /* the reader may be waiting for room: it must stop and be joined */
    CHECK_EQ(s.n, 10);
    unlink(path);
}

static void test_idle_pipe_stops_promptly(void)
{
    static const uint8_t header[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2,    0,    4, 0, 0, 0, 0, 0,
                                       0,    0,    0,    0,    0xff, 0xff, 0, 0, 1, 0, 0, 0};
    char err[512];
    struct seen s = {0};
    struct capture *c;
    int p[2], saved_stdin = dup(STDIN_FILENO);
    double t0;

    CHECK_EQ(pipe(p), 0);
    /* A capture header and then nothing: a writer that has gone quiet. */
    CHECK_EQ(write(p[1], header, sizeof(header)), (ssize_t)sizeof(header));
    dup2(p[0], STDIN_FILENO);
    close(p[0]);
    c = capture_open_file("-", err, sizeof(err));
    CHECK(c != NULL);
    if (c != NULL) {
        CHECK(capture_wait_fd(c) != -1);
        CHECK_EQ(capture_read_header(c, err, sizeof(err)), 0);
        CHECK_EQ(capture_wait_fd(c), -1);
        t0 = now_s();
        CHECK_EQ(capture_dispatch(c, 0, check_packet, &s, err, sizeof(err)), 0);
        CHECK(!capture_at_eof(c));
        CHECK(now_s() - t0 < 2.0); /* waits about 100 ms, not for data */
        t0 = now_s();
        capture_close(c);
        CHECK(now_s() - t0 < 2.0); /* the blocked read is interrupted */
    }
    close(p[1]);
    dup2(saved_stdin, STDIN_FILENO);
    close(saved_stdin);
}

/* A named pipe without a writer: opening does not wait for one, the descriptor polls readable
 * only once the header comes, and a peek before counting leaves every packet to be counted. */
static void test_fifo_opens_without_writer_and_peeks(void)
{
    char dir[] = "/tmp/nstats-test-fifo-XXXXXX", fifo[64], path[] = "/tmp/nstats-test-cap-XXXXXX";
    char err[512], buf[4096];
    struct seen peeked = {0}, s = {0};
    struct pollfd p;
    struct capture *c;
    int fd = mkstemp(path), w, in, rounds = 0;
    unsigned seen;
    ssize_t n;
    double t0;

    close(fd);
    write_capture(path);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(fifo, sizeof(fifo), "%s/p", dir);
    CHECK_EQ(mkfifo(fifo, 0600), 0);
    t0 = now_s();
    c = capture_open_file(fifo, err, sizeof(err));
    CHECK(c != NULL);
    CHECK(now_s() - t0 < 1.0);
    if (c == NULL)
        return;
    p.fd = capture_wait_fd(c);
    p.events = POLLIN;
    CHECK(p.fd != -1);
    CHECK_EQ(poll(&p, 1, 50), 0); /* no writer yet: not readable, not hung up */
    w = open(fifo, O_WRONLY);
    in = open(path, O_RDONLY);
    /* Everything, then the writer is gone: the reader sees the end. */
    if (fork() == 0) {
        while ((n = read(in, buf, sizeof(buf))) > 0)
            if (write(w, buf, (size_t)n) != n)
                _exit(1);
        _exit(0);
    }
    close(w);
    close(in);
    CHECK_EQ(poll(&p, 1, 2000), 1);
    CHECK_EQ(capture_read_header(c, err, sizeof(err)), 0);
    capture_set_readahead(c, (size_t)8 << 20);
    CHECK_EQ(capture_wait_ahead(c, N_PACKETS, 5000, err, sizeof(err)), 1);
    /* As many as were read ahead (a pipe that pauses hands over partial chunks, which can fill
     * the read-ahead first), from the first, in order. */
    seen = capture_peek(c, N_PACKETS, check_packet, &peeked);
    CHECK(seen > 0 && seen <= N_PACKETS);
    CHECK_EQ(peeked.n, seen);
    CHECK_EQ(peeked.bad_order + peeked.bad_len + peeked.bad_sum, 0);
    while (!capture_at_eof(c) && rounds++ < 100000)
        CHECK(capture_dispatch(c, 0, check_packet, &s, err, sizeof(err)) >= 0);
    CHECK_EQ(s.n, N_PACKETS);
    CHECK_EQ(s.bad_order + s.bad_len + s.bad_sum, 0);
    capture_close(c);
    while (wait(NULL) > 0) {
    }
    unlink(fifo);
    rmdir(dir);
    unlink(path);
}

int main(void)
{
    RUN(test_every_record_in_order);
    RUN(test_truncated_after_what_came_before);
    RUN(test_close_midway);
    RUN(test_idle_pipe_stops_promptly);
    RUN(test_fifo_opens_without_writer_and_peeks);
    return test_report();
}
