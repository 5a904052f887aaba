/* Exporter tests: an interval written in slices is byte for byte the interval written whole,
 * and a stdout whose reader went away is reported and stops the loop. */
#include <pcap/dlt.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "export/exporter.h"
#include "pktbuild.h"
#include "test.h"

#define KEYS 10000 /* more than two slices of rows */

static struct locality loc;
static const struct hash_key seed = {7, 8};

struct emitted {
    struct exporter *e;
    struct buf whole; /* what schema_write_default makes of the same snapshot */
    const struct export_identity *id;
};

static void on_emit(const struct meter_snapshot *snap, void *arg)
{
    struct emitted *em = arg;
    struct export_capture_stats cs = {0, 0};

    schema_write_default(&em->whole, em->id, snap, &cs, NULL);
    exporter_interval(snap, em->e);
}

static struct meter *make_meter(struct emitted *em)
{
    struct meter_config mc = {10000, 60000, KEYS * 2, 32768, FLOW_KEY_ALL, DLT_EN10MB};
    struct netprefix net;

    locality_init(&loc);
    netprefix_parse("198.18.0.1", &net);
    locality_add_net(&loc, &net);
    return meter_new(&mc, &loc, NULL, &seed, on_emit, em);
}

/* Reads everything from fd into b until end of file. */
static void read_all(int fd, struct buf *b)
{
    char chunk[65536];
    ssize_t n;

    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        buf_append(b, chunk, (size_t)n);
}

static void test_slices_equal_the_whole(void)
{
    struct export_identity id = {"h", "eth0", "ns", "node-1", NULL};
    struct exporter_config ec = {.schema = SCHEMA_DEFAULT, .use_stdout = true};
    struct exporter_links links = {.id = &id};
    struct emitted em = {.id = &id};
    char path[] = "/tmp/nstats-test-exporter-XXXXXX";
    int out = mkstemp(path), saved = dup(STDOUT_FILENO);
    struct buf got;
    struct meter *m;

    CHECK(out != -1);
    unlink(path);
    links.loop = loop_new();
    em.e = exporter_new(&ec, &links);
    buf_init(&em.whole, 64u << 20);
    buf_init(&got, 64u << 20);
    m = make_meter(&em);
    dup2(out, STDOUT_FILENO);
    for (uint32_t i = 0; i < KEYS; i++) {
        struct pkt p = {.len = 0};
        char remote[32];

        snprintf(remote, sizeof(remote), "198.19.%u.%u", i / 250, i % 250 + 1);
        eth(&p, 0x0800);
        ipv4(&p, "198.18.0.1", remote, 6, 20, 0, 5);
        tcp(&p, 40000, 443, 0x10);
        meter_packet(m, 1700000000000ULL + i, p.b, p.len, 100 + i % 7);
    }
    meter_finish(m, 1700000010000ULL, false);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    CHECK(!exporter_broken(em.e));
    lseek(out, 0, SEEK_SET);
    read_all(out, &got);
    close(out);
    /* KEYS rows plus the capture row, in more than two slices, exactly as written whole. */
    CHECK(em.whole.len > 0);
    CHECK_EQ(got.len, em.whole.len);
    CHECK(got.len == em.whole.len && memcmp(got.data, em.whole.data, got.len) == 0);
    meter_free(m);
    exporter_free(em.e);
    loop_free(links.loop);
    buf_free(&got);
    buf_free(&em.whole);
}

static void test_broken_stdout_stops_the_loop(void)
{
    struct export_identity id = {"h", "eth0", "", "", NULL};
    struct exporter_config ec = {.schema = SCHEMA_LEGACY, .use_stdout = true};
    struct exporter_links links = {.id = &id};
    struct emitted em = {.id = &id};
    int pipefd[2], saved = dup(STDOUT_FILENO);
    struct pkt p = {.len = 0};
    struct meter *m;

    CHECK(pipe(pipefd) == 0);
    close(pipefd[0]); /* the reader went away */
    links.loop = loop_new();
    em.e = exporter_new(&ec, &links);
    buf_init(&em.whole, 1u << 20);
    m = make_meter(&em);
    dup2(pipefd[1], STDOUT_FILENO);
    close(pipefd[1]);
    eth(&p, 0x0800);
    ipv4(&p, "198.18.0.1", "198.19.0.2", 6, 20, 0, 5);
    tcp(&p, 40000, 443, 0x10);
    meter_packet(m, 1700000000000ULL, p.b, p.len, 100);
    meter_finish(m, 1700000010000ULL, false);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    CHECK(exporter_broken(em.e));
    /* Nothing to deliver without InfluxDB: finishing is immediate and loses nothing. */
    CHECK_EQ(exporter_finish(em.e, &(bool){false}), 0);
    meter_free(m);
    exporter_free(em.e);
    loop_free(links.loop);
    buf_free(&em.whole);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(test_slices_equal_the_whole);
    RUN(test_broken_stdout_stops_the_loop);
    return test_report();
}
