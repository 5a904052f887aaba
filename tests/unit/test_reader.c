/* Plain pcap file reader tests: files written by hand, in either byte order and stamp
 * precision, cut short or oversized, read through the capture API; every packet before an
 * error is passed, and the errors are libpcap's own words (checked against libpcap itself). */
#define _DEFAULT_SOURCE

#include <pcap/pcap.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "capture/capture.h"
#include "test.h"

/* A capture file built in memory. */
struct file {
    uint8_t *bytes;
    size_t len;
    size_t cap;
    bool swapped;
};

static void put(struct file *f, const void *p, size_t n)
{
    if (f->len + n > f->cap) {
        f->cap = (f->len + n) * 2;
        f->bytes = xreallocarray(f->bytes, f->cap, 1);
    }
    memcpy(f->bytes + f->len, p, n);
    f->len += n;
}

static void put_u32(struct file *f, uint32_t v)
{
    if (f->swapped)
        v = __builtin_bswap32(v);
    put(f, &v, sizeof(v));
}

static void put_u16(struct file *f, uint16_t v)
{
    if (f->swapped)
        v = __builtin_bswap16(v);
    put(f, &v, sizeof(v));
}

/* The classic file header: version 2.4, Ethernet. */
static void file_header(struct file *f, uint32_t magic, uint32_t snaplen)
{
    put_u32(f, magic);
    put_u16(f, 2);
    put_u16(f, 4);
    put_u32(f, 0); /* thiszone */
    put_u32(f, 0); /* sigfigs */
    put_u32(f, snaplen);
    put_u32(f, DLT_EN10MB);
}

/* A record header and caplen bytes of an Ethernet + IPv4 frame (the decoder's input only). */
static void record(struct file *f, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len)
{
    static const uint8_t eth[14] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
    uint8_t zero[256] = {0};

    put_u32(f, sec);
    put_u32(f, frac);
    put_u32(f, caplen);
    put_u32(f, len);
    put(f, eth, caplen < sizeof(eth) ? caplen : sizeof(eth));
    for (uint32_t left = caplen > sizeof(eth) ? caplen - (uint32_t)sizeof(eth) : 0; left > 0;) {
        uint32_t n = left < sizeof(zero) ? left : (uint32_t)sizeof(zero);

        put(f, zero, n);
        left -= n;
    }
}

/* Writes f to a new temporary file, whose path is left in path. */
static void write_file(struct file *f, char *path)
{
    int fd;

    strcpy(path, "/tmp/nstats-test-reader-XXXXXX");
    fd = mkstemp(path);

    CHECK(fd != -1);
    CHECK_EQ(write(fd, f->bytes, f->len), f->len);
    close(fd);
    free(f->bytes);
    f->bytes = NULL;
    f->len = f->cap = 0;
}

/* What a read saw. */
struct result {
    int rc;     /* the last dispatch: -1 on an error */
    bool eof;   /* capture_at_eof at the end */
    uint32_t n; /* packets */
    uint64_t ts_us[8];
    uint32_t len[8];
    uint64_t total_len;
    uint64_t last_ts_us;
    char err[512];
};

static void on_packet(void *arg, const struct capture_packet *pkt)
{
    struct result *res = arg;

    if (res->n < 8) {
        res->ts_us[res->n] = pkt->ts_us;
        res->len[res->n] = pkt->len;
    }
    res->n++;
    res->total_len += pkt->len;
    res->last_ts_us = pkt->ts_us;
}

/* Reads path through the capture API to its end or an error, then removes it. */
static void read_file(char *path, struct result *res)
{
    struct capture *c;
    int rounds = 0;

    memset(res, 0, sizeof(*res));
    c = capture_open_file(path, res->err, sizeof(res->err));
    CHECK(c != NULL);
    if (c == NULL)
        return;
    while (res->rc != -1 && !capture_at_eof(c) && rounds++ < 100000)
        res->rc = capture_dispatch(c, 0, on_packet, res, res->err, sizeof(res->err));
    res->eof = capture_at_eof(c);
    capture_close(c);
}

/* libpcap's own reading of path: its packets and its error (empty at the end). */
static uint32_t libpcap_read(const char *path, char *err)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, errbuf);
    struct pcap_pkthdr *h;
    const u_char *bytes;
    uint32_t n = 0;
    int rc;

    err[0] = '\0';
    CHECK(p != NULL);
    if (p == NULL)
        return 0;
    while ((rc = pcap_next_ex(p, &h, &bytes)) == 1)
        n++;
    if (rc == PCAP_ERROR)
        snprintf(err, PCAP_ERRBUF_SIZE, "%s", pcap_geterr(p));
    pcap_close(p);
    return n;
}

/* Reads path both ways, checks they agree, and removes it. */
static void read_both(char *path, struct result *res)
{
    char pcap_err[PCAP_ERRBUF_SIZE];
    uint32_t pcap_n = libpcap_read(path, pcap_err);

    char want[PCAP_ERRBUF_SIZE + 8] = "";

    read_file(path, res);
    unlink(path);
    CHECK_EQ(res->n, pcap_n);
    /* The capture API says which step failed. */
    if (pcap_err[0] != '\0')
        snprintf(want, sizeof(want), "read: %s", pcap_err);
    CHECK_STR(res->rc == -1 ? res->err : "", want);
}

static void three_records(struct file *f, uint32_t magic, uint32_t frac_scale)
{
    file_header(f, magic, 65535);
    record(f, 1700000000, 123456 * frac_scale, 60, 60);
    record(f, 1700000001, 0, 100, 1500);
    record(f, 1700000002, 999999 * frac_scale, 42, 64);
}

static void check_three(const struct result *res)
{
    CHECK_EQ(res->rc, 0);
    CHECK(res->eof);
    CHECK_EQ(res->n, 3);
    CHECK_EQ(res->ts_us[0], 1700000000123456u);
    CHECK_EQ(res->ts_us[1], 1700000001000000u);
    CHECK_EQ(res->ts_us[2], 1700000002999999u);
    CHECK_EQ(res->len[0], 60);
    CHECK_EQ(res->len[1], 1500);
    CHECK_EQ(res->len[2], 64);
}

static void test_native_microseconds(void)
{
    char path[] = "/tmp/nstats-test-reader-XXXXXX";
    struct file f = {0};
    struct result res;

    three_records(&f, 0xa1b2c3d4u, 1);
    write_file(&f, path);
    read_both(path, &res);
    check_three(&res);
}

static void test_swapped_microseconds(void)
{
    char path[] = "/tmp/nstats-test-reader-XXXXXX";
    struct file f = {.swapped = true};
    struct result res;

    three_records(&f, 0xa1b2c3d4u, 1);
    write_file(&f, path);
    read_both(path, &res);
    check_three(&res);
}

/* Nanosecond stamps are truncated to microseconds, as libpcap does: 999,999,999 ns is
 * 999,999 µs, 1,999 ns is 1 µs. */
static void test_nanoseconds(void)
{
    char path[] = "/tmp/nstats-test-reader-XXXXXX";
    struct file f = {0};
    struct result res;

    three_records(&f, 0xa1b23c4du, 1000);
    record(&f, 1700000003, 999999999, 60, 60);
    record(&f, 1700000004, 1999, 60, 60);
    write_file(&f, path);
    read_both(path, &res);
    CHECK_EQ(res.n, 5);
    CHECK_EQ(res.ts_us[0], 1700000000123456u);
    CHECK_EQ(res.ts_us[2], 1700000002999999u);
    CHECK_EQ(res.ts_us[3], 1700000003999999u);
    CHECK_EQ(res.ts_us[4], 1700000004000001u);

    f.swapped = true;
    three_records(&f, 0xa1b23c4du, 1000);
    write_file(&f, path);
    read_both(path, &res);
    check_three(&res);
}

/* A record longer than the file's snap length, up to libpcap's maximum, is read (cut to the
 * snap length for the decoder), counted with its whole length, and the next one follows it. */
static void test_caplen_over_snaplen(void)
{
    char path[] = "/tmp/nstats-test-reader-XXXXXX";
    struct file f = {0};
    struct result res;

    file_header(&f, 0xa1b2c3d4u, 128);
    record(&f, 1, 0, 60, 60);
    record(&f, 2, 0, 1000, 1000);
    record(&f, 3, 0, 262144, 300000);
    record(&f, 4, 0, 60, 70);
    write_file(&f, path);
    read_both(path, &res);
    CHECK_EQ(res.rc, 0);
    CHECK(res.eof);
    CHECK_EQ(res.n, 4);
    CHECK_EQ(res.len[1], 1000);
    CHECK_EQ(res.len[2], 300000);
    CHECK_EQ(res.ts_us[3], 4000000u);
    CHECK_EQ(res.len[3], 70);
}

static void test_caplen_over_maximum(void)
{
    char path[] = "/tmp/nstats-test-reader-XXXXXX";
    struct file f = {0};
    struct result res;

    file_header(&f, 0xa1b2c3d4u, 65535);
    record(&f, 1, 0, 60, 60);
    record(&f, 2, 0, 60, 60);
    put_u32(&f, 3);
    put_u32(&f, 0);
    put_u32(&f, 262145);
    put_u32(&f, 262145);
    write_file(&f, path);
    read_both(path, &res);
    CHECK_EQ(res.rc, -1);
    CHECK_EQ(res.n, 2);
    CHECK_STR(res.err, "read: invalid packet capture length 262145, bigger than snaplen of 65535");
}

static void test_truncated_record_header(void)
{
    char path[] = "/tmp/nstats-test-reader-XXXXXX";
    struct file f = {0};
    struct result res;

    file_header(&f, 0xa1b2c3d4u, 65535);
    record(&f, 1, 0, 60, 60);
    record(&f, 2, 0, 80, 80);
    put(&f, "0123456789", 10);
    write_file(&f, path);
    read_both(path, &res);
    CHECK_EQ(res.rc, -1);
    CHECK_EQ(res.n, 2);
    CHECK_EQ(res.len[1], 80);
    CHECK_STR(res.err, "read: truncated dump file; tried to read 16 header bytes, only got 10");
}

static void test_truncated_record_data(void)
{
    char path[] = "/tmp/nstats-test-reader-XXXXXX";
    struct file f = {0};
    struct result res;

    file_header(&f, 0xa1b2c3d4u, 65535);
    record(&f, 1, 0, 60, 60);
    record(&f, 2, 0, 80, 80);
    record(&f, 3, 0, 100, 100);
    f.len -= 60;
    write_file(&f, path);
    read_both(path, &res);
    CHECK_EQ(res.rc, -1);
    CHECK_EQ(res.n, 2);
    CHECK_STR(res.err, "read: truncated dump file; tried to read 100 captured bytes, only got 40");

    /* Over the snap length: libpcap reads the snap length first, and says so when even that
     * is short. */
    file_header(&f, 0xa1b2c3d4u, 128);
    record(&f, 1, 0, 60, 60);
    record(&f, 2, 0, 1000, 1000);
    f.len -= 1000 - 100;
    write_file(&f, path);
    read_both(path, &res);
    CHECK_EQ(res.n, 1);
    CHECK_STR(res.err, "read: truncated dump file; tried to read 128 captured bytes, only got 100");
}

static void test_header_only(void)
{
    char path[] = "/tmp/nstats-test-reader-XXXXXX";
    struct file f = {0};
    struct result res;

    file_header(&f, 0xa1b2c3d4u, 65535);
    write_file(&f, path);
    read_both(path, &res);
    CHECK_EQ(res.rc, 0);
    CHECK(res.eof);
    CHECK_EQ(res.n, 0);
}

/* More than one 4 MiB window, with a record across the first window's end (the window starts
 * after the 24-byte file header). */
static void test_larger_than_window(void)
{
    const size_t window_end = 24 + ((size_t)4 << 20);
    char path[] = "/tmp/nstats-test-reader-XXXXXX";
    struct file f = {0};
    struct result res;
    uint64_t total = 0;
    uint32_t n = 0;
    bool crossed = false;

    file_header(&f, 0xa1b2c3d4u, 65535);
    while (f.len < ((size_t)5 << 20)) {
        size_t start = f.len;
        uint32_t caplen = 60 + n * 37 % 1400;

        record(&f, 1700000000 + n / 1000, n % 1000 * 1000, caplen, caplen + n % 5);
        crossed |= start < window_end && f.len > window_end;
        total += caplen + n % 5;
        n++;
    }
    CHECK(crossed);
    write_file(&f, path);
    read_both(path, &res);
    CHECK_EQ(res.rc, 0);
    CHECK(res.eof);
    CHECK_EQ(res.n, n);
    CHECK_EQ(res.total_len, total);
    CHECK_EQ(res.last_ts_us,
             (uint64_t)(1700000000 + (n - 1) / 1000) * 1000000u + (n - 1) % 1000 * 1000u);
}

/* A pcapng file is not read here: libpcap reads it. */
static void test_pcapng_falls_back(void)
{
    static const uint8_t frame[60] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
    char path[] = "/tmp/nstats-test-reader-XXXXXX";
    struct file f = {0};
    struct result res;
    uint64_t ts = 1700000000123456u;

    /* Section header block: byte-order magic, version 1.0, section length unknown. */
    put_u32(&f, 0x0a0d0d0a);
    put_u32(&f, 28);
    put_u32(&f, 0x1a2b3c4d);
    put_u16(&f, 1);
    put_u16(&f, 0);
    put_u32(&f, 0xffffffff);
    put_u32(&f, 0xffffffff);
    put_u32(&f, 28);
    /* Interface description block: Ethernet, microsecond stamps (the default). */
    put_u32(&f, 1);
    put_u32(&f, 20);
    put_u16(&f, DLT_EN10MB);
    put_u16(&f, 0);
    put_u32(&f, 65535);
    put_u32(&f, 20);
    /* Two enhanced packet blocks. */
    for (int i = 0; i < 2; i++) {
        put_u32(&f, 6);
        put_u32(&f, 32 + sizeof(frame));
        put_u32(&f, 0);
        put_u32(&f, (uint32_t)(ts >> 32));
        put_u32(&f, (uint32_t)ts);
        put_u32(&f, sizeof(frame));
        put_u32(&f, 100 + (uint32_t)i);
        put(&f, frame, sizeof(frame));
        put_u32(&f, 32 + sizeof(frame));
        ts += 1000000;
    }
    write_file(&f, path);
    read_both(path, &res);
    CHECK_EQ(res.rc, 0);
    CHECK(res.eof);
    CHECK_EQ(res.n, 2);
    CHECK_EQ(res.ts_us[0], 1700000000123456u);
    CHECK_EQ(res.ts_us[1], 1700000001123456u);
    CHECK_EQ(res.len[0], 100);
    CHECK_EQ(res.len[1], 101);
}

int main(void)
{
    RUN(test_native_microseconds);
    RUN(test_swapped_microseconds);
    RUN(test_nanoseconds);
    RUN(test_caplen_over_snaplen);
    RUN(test_caplen_over_maximum);
    RUN(test_truncated_record_header);
    RUN(test_truncated_record_data);
    RUN(test_header_only);
    RUN(test_larger_than_window);
    RUN(test_pcapng_falls_back);
    return test_report();
}
