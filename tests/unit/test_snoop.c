/* DNS snooping tests: frames from the wire, decoded, through snoop_packet to the names; an
 * answer names addresses only after its query went the other way. */
#include <pcap/dlt.h>

#include "capture/decode.h"
#include "dnsbuild.h"
#include "names/snoop.h"
#include "pktbuild.h"
#include "test.h"

static struct hash_key seed = {7, 8};

/* A DNS message for qname (type qtype) with id: a query, or a response carrying one record
 * of rrtype with rdlen bytes from rdata. */
static void message(struct dnsmsg *m, const char *qname, unsigned qtype, unsigned id, bool response,
                    const uint8_t *rdata, unsigned rdlen)
{
    size_t q = dm_response(m, qname, qtype, response ? 1 : 0);

    m->b[0] = (uint8_t)(id >> 8);
    m->b[1] = (uint8_t)id;
    if (!response) {
        m->b[2] = 0x01;
        m->b[3] = 0x00;
        return;
    }
    dm_ptr(m, q);
    dm_rr(m, qtype, 60, rdlen);
    memcpy(m->b + m->len, rdata, rdlen);
    m->len += rdlen;
}

/* Decodes frame p and hands it to snoop_packet, with or without its bytes. */
static void feed(struct names *n, const struct pkt *p, bool with_bytes, uint64_t ts_ms)
{
    struct pktsummary sum;
    struct capture_packet cp = {.ts_us = ts_ms * 1000u, .len = p->len, .sum = &sum};

    CHECK_EQ(decode_packet(DLT_EN10MB, p->b, p->len, &sum), DECODE_OK);
    if (with_bytes) {
        cp.data = p->b;
        cp.caplen = p->len;
    }
    snoop_packet(n, &cp);
}

static void udp4(struct pkt *p, const char *src, unsigned sport, const char *dst, unsigned dport,
                 const struct dnsmsg *m)
{
    p->len = 0;
    eth(p, 0x0800);
    ipv4(p, src, dst, IPPROTO_UDP, (uint16_t)(8 + m->len), 0, 5);
    udp(p, (uint16_t)sport, (uint16_t)dport, (uint16_t)m->len);
    putn(p, m->b, (unsigned)m->len);
}

/* TCP over IPv6, the message with its length prefix. */
static void tcp6(struct pkt *p, const char *src, unsigned sport, const char *dst, unsigned dport,
                 const struct dnsmsg *m)
{
    p->len = 0;
    eth(p, 0x86dd);
    ipv6(p, src, dst, IPPROTO_TCP, (uint16_t)(20 + 2 + m->len));
    tcp(p, (uint16_t)sport, (uint16_t)dport, 0x18);
    put16(p, (uint16_t)m->len);
    putn(p, m->b, (unsigned)m->len);
}

static const char *source_of(struct names *n, const char *addr)
{
    static struct name_info ni;
    struct netaddr a;

    netaddr_parse(addr, &a);
    names_lookup(n, &a, NULL, 2000, &ni);
    return ni.source;
}

static void test_udp_answers_need_their_query(void)
{
    struct names *n = names_new(64, 3600000, NULL, &seed);
    static const uint8_t web[4] = {198, 19, 0, 80}, evil[4] = {198, 19, 0, 66};
    struct dnsmsg q, a;
    struct pkt p;
    struct names_stats st;

    /* Unsolicited: nothing asked. */
    message(&a, "evil.test", 1, 0x5151, true, evil, 4);
    udp4(&p, "198.18.0.53", 53, "198.18.0.1", 40000, &a);
    feed(n, &p, true, 1000);
    CHECK_STR(source_of(n, "198.19.0.66"), "addr");
    /* A query without its bytes (a capture file that did not keep them) is not seen. */
    message(&q, "web.test", 1, 0x2222, false, NULL, 0);
    udp4(&p, "198.18.0.1", 40000, "198.18.0.53", 53, &q);
    feed(n, &p, false, 1000);
    message(&a, "web.test", 1, 0x2222, true, web, 4);
    udp4(&p, "198.18.0.53", 53, "198.18.0.1", 40000, &a);
    feed(n, &p, true, 1001);
    CHECK_STR(source_of(n, "198.19.0.80"), "addr");
    /* The query, then its answer. */
    udp4(&p, "198.18.0.1", 40000, "198.18.0.53", 53, &q);
    feed(n, &p, true, 1002);
    udp4(&p, "198.18.0.53", 53, "198.18.0.1", 40000, &a);
    feed(n, &p, true, 1003);
    CHECK_STR(source_of(n, "198.19.0.80"), "dns");
    names_get_stats(n, &st);
    CHECK_EQ(st.dns_queries, 1);
    CHECK_EQ(st.dns_unsolicited, 2);
    names_free(n);
}

static void test_tcp_v6(void)
{
    struct names *n = names_new(64, 3600000, NULL, &seed);
    uint8_t v6[16];
    struct dnsmsg q, a;
    struct pkt p;

    inet_pton(AF_INET6, "2001:db8::80", v6);
    message(&q, "web6.test", 28, 0x0606, false, NULL, 0);
    message(&a, "web6.test", 28, 0x0606, true, v6, 16);
    /* From another port of the right server it is not DNS, to the snoop. */
    tcp6(&p, "2001:db8::1", 41000, "2001:db8::53", 53, &q);
    feed(n, &p, true, 1000);
    tcp6(&p, "2001:db8::53", 5353, "2001:db8::1", 41000, &a);
    feed(n, &p, true, 1001);
    CHECK_STR(source_of(n, "2001:db8::80"), "addr");
    tcp6(&p, "2001:db8::53", 53, "2001:db8::1", 41000, &a);
    feed(n, &p, true, 1002);
    CHECK_STR(source_of(n, "2001:db8::80"), "dns");
    names_free(n);
}

int main(void)
{
    RUN(test_udp_answers_need_their_query);
    RUN(test_tcp_v6);
    return test_report();
}
