/* HTTP route tests: which page each path is, the health texts, and that a scrape only reads. */
#include <pcap/dlt.h>
#include <stdlib.h>

#include "export/routes.h"
#include "pktbuild.h"
#include "test.h"

static struct locality loc;
static const struct hash_key seed = {5, 6};

static void on_emit(const struct meter_snapshot *snap, void *arg)
{
    (void)snap;
    (void)arg;
}

static struct meter *make_meter(void)
{
    struct meter_config mc = {10000, 60000, 100, 32768, FLOW_KEY_ALL, DLT_EN10MB};
    struct netprefix net;

    locality_init(&loc);
    netprefix_parse("198.18.0.1", &net);
    locality_add_net(&loc, &net);
    return meter_new(&mc, &loc, NULL, &seed, on_emit, NULL);
}

/* Runs the handler for path into a fresh reply; the caller frees reply->body. */
static void get(struct routes *r, const char *path, struct httpd_reply *reply)
{
    memset(reply, 0, sizeof(*reply));
    reply->status = 200;
    buf_init(&reply->body, 1u << 20);
    routes_handle(r, path, reply);
    buf_append(&reply->body, "", 1); /* a terminator, for the string checks */
}

static void test_health_texts(void)
{
    struct export_identity id = {"h", "eth0", "", "", ""};
    struct routes r;
    struct httpd_reply reply;

    memset(&r, 0, sizeof(r));
    r.id = &id;
    r.source = "eth0";
    get(&r, "/healthz", &reply);
    CHECK_EQ(reply.status, 503);
    CHECK_STR(reply.body.data, "not capturing yet\n");
    buf_free(&reply.body);
    get(&r, "/metrics", &reply);
    CHECK_EQ(reply.status, 503);
    buf_free(&reply.body);

    r.meter = make_meter();
    get(&r, "/healthz", &reply);
    CHECK_EQ(reply.status, 200);
    CHECK_STR(reply.body.data, "ok: capturing on eth0\n");
    buf_free(&reply.body);

    routes_set_problem(&r, "capture stopped: interface went away");
    get(&r, "/healthz", &reply);
    CHECK_EQ(reply.status, 503);
    CHECK_STR(reply.body.data, "capture stopped: interface went away\n");
    buf_free(&reply.body);
    routes_set_problem(&r, NULL);
    get(&r, "/healthz", &reply);
    CHECK_EQ(reply.status, 200);
    buf_free(&reply.body);
    meter_free(r.meter);
}

static void test_pages_and_unknown_paths(void)
{
    struct export_identity id = {"h", "eth0", "", "", ""};
    struct meter_totals before, after;
    struct httpd_reply reply;
    struct routes r;
    struct pkt p = {.len = 0};

    memset(&r, 0, sizeof(r));
    r.id = &id;
    r.source = "eth0";
    r.max_flows = 100;
    r.meter = make_meter();
    eth(&p, 0x0800);
    ipv4(&p, "198.18.0.1", "198.19.0.2", 6, 20, 0, 5);
    tcp(&p, 40000, 443, 0x10);
    meter_packet(r.meter, 1700000000000ULL, p.b, p.len, 1000);
    meter_read(r.meter, &before, NULL, NULL);

    get(&r, "/metrics", &reply);
    CHECK_EQ(reply.status, 200);
    CHECK(reply.cacheable);
    CHECK(strstr(reply.content_type, "text/plain; version=0.0.4") != NULL);
    CHECK(strstr(reply.body.data, "nstats_bytes_total{direction=\"out\"") != NULL);
    CHECK(strstr(reply.body.data, "} 1000\n") != NULL);
    buf_free(&reply.body);
    /* A scrape reads; it counts nothing and closes no interval. */
    meter_read(r.meter, &after, NULL, NULL);
    CHECK_EQ(after.packets, before.packets);
    CHECK_EQ(after.bytes, before.bytes);

    get(&r, "/", &reply);
    CHECK_EQ(reply.status, 200);
    CHECK(strstr(reply.content_type, "text/html") != NULL);
    CHECK(reply.csp != NULL && strstr(reply.csp, "default-src 'self'") != NULL);
    CHECK(strstr(reply.body.data, "assets/page.js") != NULL);
    buf_free(&reply.body);

    get(&r, "/metrics/extra", &reply);
    CHECK_EQ(reply.status, 404);
    CHECK(strstr(reply.body.data, "not found") != NULL);
    buf_free(&reply.body);
    meter_free(r.meter);
}

int main(void)
{
    RUN(test_health_texts);
    RUN(test_pages_and_unknown_paths);
    return test_report();
}
