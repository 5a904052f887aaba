/* Naming facade tests: Kubernetes, a label for one address, DNS answers seen on the wire, then
 * network labels and addresses, in that order of preference; answers count only for queries
 * seen; TCP framing; the counters. */
#include "dnsbuild.h"
#include "names/names.h"
#include "test.h"

static struct hash_key seed = {5, 6};

/* A client at 198.18.0.1:40000 asking the resolver 198.18.0.53, and the way back. */
static struct dns_endpoints ask, reply;

static void endpoints(void)
{
    netaddr_parse("198.18.0.1", &ask.src);
    netaddr_parse("198.18.0.53", &ask.dst);
    ask.sport = 40000;
    ask.dport = 53;
    reply.src = ask.dst;
    reply.dst = ask.src;
    reply.sport = 53;
    reply.dport = 40000;
}

static void set_id(struct dnsmsg *m, unsigned id)
{
    m->b[0] = (uint8_t)(id >> 8);
    m->b[1] = (uint8_t)id;
}

/* Sends the query for qname (type A) with id from e. */
static void query(struct names *n, const char *qname, unsigned id, const struct dns_endpoints *e,
                  uint64_t now_ms)
{
    struct dnsmsg m;

    dm_response(&m, qname, 1, 0);
    set_id(&m, id);
    m.b[2] = 0x01; /* RD: a query */
    m.b[3] = 0x00;
    names_dns_message(n, m.b, m.len, false, e, now_ms);
}

/* Sends an answer naming addr qname (type A, TTL 5 s) with id from e. */
static void answer(struct names *n, const char *qname, unsigned id, const char *addr,
                   const struct dns_endpoints *e, uint64_t now_ms)
{
    struct dnsmsg m;
    size_t q = dm_response(&m, qname, 1, 1);

    set_id(&m, id);
    dm_ptr(&m, q);
    dm_rr(&m, 1, 5, 4);
    dm_a(&m, addr);
    names_dns_message(n, m.b, m.len, false, e, now_ms);
}

static const char *source_of(struct names *n, const char *addr, uint64_t now_ms)
{
    static struct name_info ni;
    struct netaddr a;

    netaddr_parse(addr, &a);
    names_lookup(n, &a, NULL, now_ms, &ni);
    return ni.source;
}

static void test_facade(void)
{
    static struct netlabels l;
    char err[256];
    struct names *n;
    struct name_info ni;
    struct netaddr a;
    struct dnsmsg m;
    size_t q;

    /* The labels test_netlabels checks, as the facade's last resort. */
    netlabels_init(&l);
    CHECK_EQ(netlabels_add(&l, "0.0.0.0/0=internet", err, sizeof(err)), 0);
    CHECK_EQ(netlabels_add(&l, "198.18.0.0/15=lab", err, sizeof(err)), 0);
    CHECK_EQ(netlabels_add(&l, "198.19.1.0/24=db", err, sizeof(err)), 0);
    CHECK_EQ(netlabels_add(&l, "2001:db8::/32=lab6", err, sizeof(err)), 0);

    n = names_new(128, 3600000, &l, &seed);
    netaddr_parse("198.19.1.7", &a);
    names_lookup(n, &a, NULL, 0, &ni);
    CHECK_STR(ni.name, "db");
    CHECK_STR(ni.source, "net");
    q = dm_response(&m, "db.prod.test", 1, 1);
    dm_ptr(&m, q);
    dm_rr(&m, 1, 5, 4);
    dm_a(&m, "198.19.1.7");
    query(n, "db.prod.test", 0x1234, &ask, 900);
    names_dns_message(n, m.b, m.len, false, &reply, 1000);
    names_lookup(n, &a, NULL, 2000, &ni);
    CHECK_STR(ni.name, "db.prod.test");
    CHECK_STR(ni.source, "dns");
    CHECK_STR(ni.net, "db");
    /* A TTL of 5 s is kept for the minimum of an hour. */
    names_lookup(n, &a, NULL, 1000 + 3599000, &ni);
    CHECK_STR(ni.source, "dns");
    netaddr_parse("2001:db9::1", &a);
    names_lookup(n, &a, NULL, 0, &ni);
    CHECK_STR(ni.name, "2001:db9::1");
    CHECK_STR(ni.source, "addr");
    CHECK_STR(ni.net, "");
    /* TCP framing: a whole message with its length prefix. */
    {
        struct dnsmsg t;

        t.len = 0;
        dm_u16(&t, (unsigned)m.len);
        memcpy(t.b + 2, m.b, m.len);
        t.len = m.len + 2;
        query(n, "db.prod.test", 0x1234, &ask, 1000);
        names_dns_message(n, t.b, t.len, true, &reply, 1000);
        names_dns_message(n, t.b, t.len - 1, true, &reply, 1000); /* split: rejected */
    }
    {
        struct names_stats st;

        names_get_stats(n, &st);
        CHECK_EQ(st.dns_queries, 2);
        CHECK_EQ(st.dns_responses, 2);
        CHECK_EQ(st.dns_rejected, 1);
        CHECK_EQ(st.dns_unsolicited, 0);
        CHECK_EQ(st.dns_addresses, 2);
    }
    names_free(n);
}

/* An answer names addresses only if it answers a query seen: same ID, same question, from the
 * server asked, to the client's address and port, within a few seconds, once. */
static void test_only_solicited_answers(void)
{
    struct names *n = names_new(128, 3600000, NULL, &seed);
    struct dns_endpoints e;
    struct names_stats st;

    /* One datagram from port 53 with no query: ignored. */
    answer(n, "evil.test", 7, "198.19.0.1", &reply, 1000);
    CHECK_STR(source_of(n, "198.19.0.1", 2000), "addr");

    query(n, "www.test", 7, &ask, 1000);
    answer(n, "www.test", 8, "198.19.0.2", &reply, 1001);   /* another ID */
    answer(n, "other.test", 7, "198.19.0.2", &reply, 1001); /* another question */
    e = reply;
    e.dport = 40001; /* another client port */
    answer(n, "www.test", 7, "198.19.0.2", &e, 1001);
    e = reply;
    netaddr_parse("198.18.0.54", &e.src); /* another server */
    answer(n, "www.test", 7, "198.19.0.2", &e, 1001);
    e = reply;
    netaddr_parse("198.18.0.9", &e.dst); /* another client */
    answer(n, "www.test", 7, "198.19.0.2", &e, 1001);
    CHECK_STR(source_of(n, "198.19.0.2", 2000), "addr");
    /* The real answer (the question's case does not matter), then a second one: one query
     * lets one answer through. */
    answer(n, "WWW.test", 7, "198.19.0.2", &reply, 1002);
    CHECK_STR(source_of(n, "198.19.0.2", 2000), "dns");
    answer(n, "www.test", 7, "198.19.0.3", &reply, 1003);
    CHECK_STR(source_of(n, "198.19.0.3", 2000), "addr");

    /* Too late: the query was forgotten. */
    query(n, "slow.test", 9, &ask, 10000);
    answer(n, "slow.test", 9, "198.19.0.4", &reply, 10000 + 5001);
    CHECK_STR(source_of(n, "198.19.0.4", 20000), "addr");
    /* A retransmitted query restarts the wait. */
    query(n, "slow.test", 10, &ask, 20000);
    query(n, "slow.test", 10, &ask, 24000);
    answer(n, "slow.test", 10, "198.19.0.4", &reply, 28000);
    CHECK_STR(source_of(n, "198.19.0.4", 28000), "dns");

    /* A flood of queries bounds the table: the oldest are pushed out, the newest answered. */
    for (unsigned i = 0; i < 100000; i++) {
        e = ask;
        e.sport = (uint16_t)(1024 + i % 60000);
        query(n, "flood.test", i & 0xffff, &e, 30000);
    }
    e = reply;
    e.dport = (uint16_t)(1024 + 99999 % 60000);
    answer(n, "flood.test", 99999 & 0xffff, "198.19.0.5", &e, 30001);
    CHECK_STR(source_of(n, "198.19.0.5", 30001), "dns");

    names_get_stats(n, &st);
    CHECK_EQ(st.dns_unsolicited, 8);
    CHECK_EQ(st.dns_addresses, 3);
    names_free(n);
}

/* A label the user gave one address wins over DNS; a network's label does not. */
static void test_host_label_wins(void)
{
    static struct netlabels l;
    char err[256];
    struct names *n;
    struct name_info ni;
    struct netaddr a;

    netlabels_init(&l);
    CHECK_EQ(netlabels_add(&l, "198.19.0.0/24=lab", err, sizeof(err)), 0);
    CHECK_EQ(netlabels_add(&l, "198.19.0.7/32=printer", err, sizeof(err)), 0);
    CHECK_EQ(netlabels_add(&l, "2001:db8::7/128=printer6", err, sizeof(err)), 0);
    n = names_new(128, 3600000, &l, &seed);
    query(n, "spoof.test", 1, &ask, 1000);
    answer(n, "spoof.test", 1, "198.19.0.7", &reply, 1000);
    query(n, "web.test", 2, &ask, 1000);
    answer(n, "web.test", 2, "198.19.0.8", &reply, 1000);
    netaddr_parse("198.19.0.7", &a);
    names_lookup(n, &a, NULL, 2000, &ni);
    CHECK_STR(ni.name, "printer");
    CHECK_STR(ni.source, "net");
    CHECK_STR(ni.net, "printer");
    CHECK(!names_wants_ptr(n, &a, 2000));
    names_put_ptr(n, &a, "ptr.test", 9000, 2000);
    names_lookup(n, &a, NULL, 2000, &ni);
    CHECK_STR(ni.name, "printer");
    netaddr_parse("198.19.0.8", &a);
    names_lookup(n, &a, NULL, 2000, &ni);
    CHECK_STR(ni.name, "web.test");
    CHECK_STR(ni.source, "dns");
    CHECK_STR(ni.net, "lab");
    netaddr_parse("2001:db8::7", &a);
    names_lookup(n, &a, NULL, 2000, &ni);
    CHECK_STR(ni.name, "printer6");
    netaddr_parse("2001:db8::8", &a);
    CHECK(names_wants_ptr(n, &a, 2000));
    names_free(n);
}

int main(void)
{
    endpoints();
    RUN(test_facade);
    RUN(test_only_solicited_answers);
    RUN(test_host_label_wins);
    return test_report();
}
