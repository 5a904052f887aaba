/* Naming tests: DNS response parsing, the bounded name cache, network labels, the facade. */
#include "dnsbuild.h"
#include "names/dnsparse.h"
#include "names/names.h"
#include "names/rdns.h"
#include "test.h"

static struct hash_key seed = {5, 6};

static void check_addr(const struct netaddr *a, const char *want)
{
    char buf[NETADDR_STRLEN];

    CHECK_STR(netaddr_format(a, buf, sizeof(buf)), want);
}

static void test_a_with_compression(void)
{
    struct dnsmsg m;
    struct dns_response r;
    size_t q = dm_response(&m, "DB.Prod.svc.cluster.local", 1, 2);

    dm_ptr(&m, q);
    dm_rr(&m, 1, 30, 4);
    dm_a(&m, "198.19.0.12");
    dm_ptr(&m, q);
    dm_rr(&m, 1, 60, 4);
    dm_a(&m, "198.19.0.13");
    CHECK_EQ(dns_parse_response(m.b, m.len, &r), 0);
    CHECK_STR(r.qname, "db.prod.svc.cluster.local");
    CHECK_EQ(r.n_answers, 2);
    check_addr(&r.answers[0].addr, "198.19.0.12");
    CHECK_EQ(r.answers[0].ttl_s, 30);
    CHECK_EQ(r.answers[1].ttl_s, 60);
    /* Every truncation fails cleanly. */
    for (size_t n = 0; n < m.len; n++) {
        int rc = dns_parse_response(m.b, n, &r);

        CHECK(rc == -1 || r.n_answers < 2);
    }
}

static void test_cname_chain_and_aaaa(void)
{
    struct dnsmsg m;
    struct dns_response r;
    size_t q = dm_response(&m, "www.example.test", 28, 3), cname_at, rdata_len_at;
    uint8_t v6[16];

    /* www.example.test CNAME edge.cdn.test; edge.cdn.test AAAA; and an unrelated AAAA. */
    dm_ptr(&m, q);
    dm_rr(&m, 5, 300, 0);
    rdata_len_at = m.len - 2;
    cname_at = dm_name(&m, "edge.cdn.test");
    m.b[rdata_len_at + 1] = (uint8_t)(m.len - cname_at);
    dm_ptr(&m, cname_at);
    dm_rr(&m, 28, 20, 16);
    inet_pton(AF_INET6, "2001:db8:1::5", v6);
    memcpy(m.b + m.len, v6, 16);
    m.len += 16;
    dm_name(&m, "other.test");
    dm_rr(&m, 28, 20, 16);
    inet_pton(AF_INET6, "2001:db8:1::6", v6);
    memcpy(m.b + m.len, v6, 16);
    m.len += 16;
    CHECK_EQ(dns_parse_response(m.b, m.len, &r), 0);
    CHECK_EQ(r.n_answers, 1);
    check_addr(&r.answers[0].addr, "2001:db8:1::5");
    CHECK_STR(r.qname, "www.example.test");
}

static void test_malicious(void)
{
    struct dnsmsg m;
    struct dns_response r;
    size_t q = dm_response(&m, "a.test", 1, 1);

    /* A pointer to itself, and a forward pointer, both refused. */
    dm_ptr(&m, m.len);
    dm_rr(&m, 1, 1, 4);
    dm_a(&m, "198.19.0.1");
    CHECK_EQ(dns_parse_response(m.b, m.len, &r), -1);
    dm_response(&m, "a.test", 1, 1);
    dm_ptr(&m, m.len + 2);
    dm_name(&m, "a.test");
    CHECK_EQ(dns_parse_response(m.b, m.len, &r), -1);
    /* A query (QR clear) is not a response. */
    dm_response(&m, "a.test", 1, 0);
    m.b[2] = 0;
    CHECK_EQ(dns_parse_response(m.b, m.len, &r), -1);
    /* An rdlength past the end. */
    dm_response(&m, "a.test", 1, 1);
    dm_ptr(&m, q);
    dm_rr(&m, 1, 1, 200);
    dm_a(&m, "198.19.0.1");
    CHECK_EQ(dns_parse_response(m.b, m.len, &r), -1);
    /* An A record with a wrong length is ignored, not misread. */
    dm_response(&m, "a.test", 1, 1);
    dm_ptr(&m, q);
    dm_rr(&m, 1, 1, 3);
    dm_u8(&m, 1);
    dm_u8(&m, 2);
    dm_u8(&m, 3);
    CHECK_EQ(dns_parse_response(m.b, m.len, &r), 0);
    CHECK_EQ(r.n_answers, 0);
}

static void test_cache_bounds_and_priority(void)
{
    struct namecache *c = namecache_new(64, &seed);
    struct namecache_stats st;
    enum name_source src;
    bool expired;
    struct netaddr a;

    for (unsigned i = 0; i < 10000; i++) {
        memset(&a, 0, sizeof(a));
        a.family = 4;
        a.bytes[0] = 198;
        a.bytes[1] = 19;
        a.bytes[2] = (uint8_t)(i >> 8);
        a.bytes[3] = (uint8_t)i;
        namecache_put(c, &a, "n.test", NAME_SOURCE_DNS, 100000 + i, 0);
    }
    namecache_get_stats(c, &st);
    CHECK(st.entries <= 64);
    CHECK(st.evictions > 9000);
    netaddr_parse("198.19.9.9", &a);
    namecache_put(c, &a, "ptr.test", NAME_SOURCE_PTR, 5000, 0);
    CHECK_STR(namecache_get(c, &a, 0, &src, &expired), "ptr.test");
    /* DNS beats PTR; PTR does not replace a live DNS name. */
    namecache_put(c, &a, "dns.test", NAME_SOURCE_DNS, 5000, 0);
    namecache_put(c, &a, "ptr2.test", NAME_SOURCE_PTR, 5000, 0);
    CHECK_STR(namecache_get(c, &a, 0, &src, &expired), "dns.test");
    CHECK_EQ(src, NAME_SOURCE_DNS);
    CHECK(!expired);
    /* Expired: still returned, flagged; then replaceable by anything. */
    CHECK_STR(namecache_get(c, &a, 6000, &src, &expired), "dns.test");
    CHECK(expired);
    namecache_put(c, &a, "ptr3.test", NAME_SOURCE_PTR, 9000, 6000);
    CHECK_STR(namecache_get(c, &a, 6000, &src, &expired), "ptr3.test");
    /* Negative entries: fresh, but no name. */
    netaddr_parse("2001:db8::77", &a);
    namecache_put(c, &a, NULL, NAME_SOURCE_PTR, 5000, 0);
    CHECK(namecache_get(c, &a, 0, &src, &expired) == NULL);
    CHECK(namecache_fresh(c, &a, 0));
    CHECK(!namecache_fresh(c, &a, 5000));
    namecache_free(c);
}

static void test_labels_and_facade(void)
{
    static struct netlabels l;
    char err[256];
    struct names *n;
    struct name_info ni;
    struct netaddr a;
    struct dnsmsg m;
    size_t q;

    netlabels_init(&l);
    CHECK_EQ(netlabels_add(&l, "0.0.0.0/0=internet", err, sizeof(err)), 0);
    CHECK_EQ(netlabels_add(&l, "198.18.0.0/15=lab", err, sizeof(err)), 0);
    CHECK_EQ(netlabels_add(&l, "198.19.1.0/24=db", err, sizeof(err)), 0);
    CHECK_EQ(netlabels_add(&l, "2001:db8::/32=lab6", err, sizeof(err)), 0);
    CHECK_EQ(netlabels_add(&l, "10.0.0.1/8=x", err, sizeof(err)), -1);
    CHECK_EQ(netlabels_add(&l, "10.0.0.0/8", err, sizeof(err)), -1);
    CHECK_EQ(netlabels_add(&l, "=x", err, sizeof(err)), -1);
    netaddr_parse("198.19.1.7", &a);
    CHECK_STR(netlabels_find(&l, &a), "db");
    netaddr_parse("198.19.2.7", &a);
    CHECK_STR(netlabels_find(&l, &a), "lab");
    netaddr_parse("8.8.8.8", &a);
    CHECK_STR(netlabels_find(&l, &a), "internet");
    netaddr_parse("2001:db9::1", &a);
    CHECK(netlabels_find(&l, &a) == NULL);

    n = names_new(128, 3600000, &l, &seed);
    netaddr_parse("198.19.1.7", &a);
    names_lookup(n, &a, NULL, 0, &ni);
    CHECK_STR(ni.name, "db");
    CHECK_STR(ni.source, "net");
    q = dm_response(&m, "db.prod.test", 1, 1);
    dm_ptr(&m, q);
    dm_rr(&m, 1, 5, 4);
    dm_a(&m, "198.19.1.7");
    names_dns_message(n, m.b, m.len, false, 1000);
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
        names_dns_message(n, t.b, t.len, true, 1000);
        names_dns_message(n, t.b, t.len - 1, true, 1000); /* split: rejected */
    }
    {
        struct names_stats st;

        names_get_stats(n, &st);
        CHECK_EQ(st.dns_responses, 2);
        CHECK_EQ(st.dns_rejected, 1);
    }
    names_free(n);
}

static void test_ptr_names_and_negative_rule(void)
{
    struct namecache *c = namecache_new(64, &seed);
    enum name_source src;
    bool expired;
    struct netaddr a;
    char buf[80];

    netaddr_parse("198.18.0.12", &a);
    rdns_ptr_name(&a, buf, sizeof(buf));
    CHECK_STR(buf, "12.0.18.198.in-addr.arpa");
    netaddr_parse("2001:db8::567:89ab", &a);
    rdns_ptr_name(&a, buf, sizeof(buf));
    CHECK_STR(buf, "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");

    /* A PTR "no answer" after a DNS name's expiry keeps the name and postpones the question. */
    netaddr_parse("198.19.3.3", &a);
    namecache_put(c, &a, "db.test", NAME_SOURCE_DNS, 1000, 0);
    CHECK(!namecache_fresh(c, &a, 2000));
    namecache_put(c, &a, NULL, NAME_SOURCE_PTR, 9000, 2000);
    CHECK(namecache_fresh(c, &a, 2000));
    CHECK_STR(namecache_get(c, &a, 2000, &src, &expired), "db.test");
    CHECK_EQ(src, NAME_SOURCE_DNS);
    namecache_free(c);
}

int main(void)
{
    RUN(test_a_with_compression);
    RUN(test_cname_chain_and_aaaa);
    RUN(test_malicious);
    RUN(test_cache_bounds_and_priority);
    RUN(test_labels_and_facade);
    RUN(test_ptr_names_and_negative_rule);
    return test_report();
}
