/* DNS parser tests: compression, CNAME chains, AAAA, hostile messages, and queries. */
#include "dnsbuild.h"
#include "names/dnsparse.h"
#include "test.h"

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
    CHECK_EQ(r.id, 0x1234);
    CHECK_EQ(r.qtype, 1);
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

/* Queries: the ID and the question an answer must repeat; anything else is refused. */
static void test_queries(void)
{
    struct dnsmsg m;
    struct dns_question q;
    struct dns_response r;

    dm_response(&m, "API.Example.test", 28, 0);
    m.b[0] = 0xbe;
    m.b[1] = 0xef;
    m.b[2] = 0x01; /* RD */
    m.b[3] = 0x00;
    CHECK_EQ(dns_parse_query(m.b, m.len, &q), 0);
    CHECK_EQ(q.id, 0xbeef);
    CHECK_EQ(q.qtype, 28);
    CHECK_STR(q.qname, "api.example.test");
    CHECK_EQ(dns_parse_response(m.b, m.len, &r), -1);
    /* Every truncation fails cleanly. */
    for (size_t n = 0; n < m.len; n++)
        CHECK_EQ(dns_parse_query(m.b, n, &q), -1);
    /* A response, a NOTIFY (opcode 4) and two questions are not queries to answer. */
    m.b[2] = 0x81;
    CHECK_EQ(dns_parse_query(m.b, m.len, &q), -1);
    m.b[2] = 0x20;
    CHECK_EQ(dns_parse_query(m.b, m.len, &q), -1);
    m.b[2] = 0x01;
    m.b[5] = 2;
    CHECK_EQ(dns_parse_query(m.b, m.len, &q), -1);
    /* A pointer in the question may only point backwards: here there is nothing before. */
    m.len = 12;
    m.b[5] = 1;
    dm_ptr(&m, 12);
    dm_u16(&m, 1);
    dm_u16(&m, 1);
    CHECK_EQ(dns_parse_query(m.b, m.len, &q), -1);
}

int main(void)
{
    RUN(test_a_with_compression);
    RUN(test_cname_chain_and_aaaa);
    RUN(test_malicious);
    RUN(test_queries);
    return test_report();
}
