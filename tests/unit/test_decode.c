/* Decoder tests: every link type, network layer and failure the decoder knows. */
#include <pcap/dlt.h>

#include "capture/decode.h"
#include "pktbuild.h"
#include "test.h"

static struct pktsummary s;

static enum decode_status dec(int dlt, const struct pkt *p)
{
    return decode_packet(dlt, p->b, p->len, &s);
}

static void check_addr(const struct netaddr *a, const char *want)
{
    char buf[NETADDR_STRLEN];

    CHECK_STR(netaddr_format(a, buf, sizeof(buf)), want);
}

static void ipv4_tcp_frame(struct pkt *p)
{
    p->len = 0;
    eth(p, 0x0800);
    ipv4(p, "198.18.0.1", "198.19.1.2", 6, 20, 0, 5);
    tcp(p, 40000, 443, 0x02);
}

static void test_ethernet_ipv4_tcp(void)
{
    struct pkt p;

    ipv4_tcp_frame(&p);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    check_addr(&s.src, "198.18.0.1");
    check_addr(&s.dst, "198.19.1.2");
    CHECK_EQ(s.proto, 6);
    CHECK(s.has_ports);
    CHECK(!s.fragment);
    CHECK_EQ(s.sport, 40000);
    CHECK_EQ(s.dport, 443);
    CHECK_EQ(s.tcp_flags, 0x02);
    CHECK_EQ(s.payload_offset, 34 + 20);
    CHECK(!s.dns_answer);
    CHECK(!s.dns_query);
    CHECK_EQ(s.ethertype, 0x0800);
}

static void test_every_truncation_is_malformed(void)
{
    struct pkt p;
    unsigned full;

    /* Up to the ports, every shorter capture must fail cleanly (ASan checks the reads). */
    ipv4_tcp_frame(&p);
    full = p.len;
    for (unsigned n = 0; n < 14 + 20 + 4; n++)
        CHECK_EQ(decode_packet(DLT_EN10MB, p.b, n, &s), DECODE_MALFORMED);
    /* Ports present, flags cut off: still decodable, flags unknown. */
    CHECK_EQ(decode_packet(DLT_EN10MB, p.b, 14 + 20 + 4, &s), DECODE_OK);
    CHECK_EQ(s.tcp_flags, 0);
    CHECK_EQ(decode_packet(DLT_EN10MB, p.b, full, &s), DECODE_OK);
}

static void test_vlan_and_qinq(void)
{
    struct pkt p = {.len = 0};

    eth(&p, 0x8100);
    vlan(&p, 0x0800);
    ipv4(&p, "198.18.0.1", "198.19.0.9", 17, 8, 0, 5);
    udp(&p, 53, 40000, 0);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    CHECK_EQ(s.dport, 40000);
    check_addr(&s.dst, "198.19.0.9");

    p.len = 0;
    eth(&p, 0x88a8);
    vlan(&p, 0x8100);
    vlan(&p, 0x86dd);
    ipv6(&p, "2001:db8::1", "2001:db8:1::5", 6, 20);
    tcp(&p, 443, 50000, 0x10);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    check_addr(&s.src, "2001:db8::1");
    check_addr(&s.dst, "2001:db8:1::5");
    CHECK_EQ(s.sport, 443);
    CHECK_EQ(s.ethertype, 0x86dd);

    /* Nine stacked tags are more than any real network uses. */
    p.len = 0;
    eth(&p, 0x8100);
    for (int i = 0; i < 9; i++)
        vlan(&p, 0x8100);
    vlan(&p, 0x0800);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_MALFORMED);
}

static void test_non_ip(void)
{
    struct pkt p = {.len = 0};

    eth(&p, 0x0806); /* ARP */
    zeros(&p, 28);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_NON_IP);
    CHECK_EQ(s.ethertype, 0x0806);

    p.len = 0;
    eth(&p, 0x0026); /* an 802.3 length field: LLC follows */
    zeros(&p, 38);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_NON_IP);
}

static void test_sll_and_sll2(void)
{
    struct pkt p = {.len = 0};

    put16(&p, 4); /* outgoing */
    put16(&p, 1); /* ARPHRD_ETHER */
    put16(&p, 6);
    zeros(&p, 8);
    put16(&p, 0x0800);
    ipv4(&p, "198.18.0.1", "198.19.0.2", 17, 8, 0, 5);
    udp(&p, 33000, 53, 0);
    CHECK_EQ(dec(DLT_LINUX_SLL, &p), DECODE_OK);
    CHECK_EQ(s.dport, 53);
    CHECK_EQ(decode_packet(DLT_LINUX_SLL, p.b, 15, &s), DECODE_MALFORMED);

    p.len = 0;
    put16(&p, 0x86dd); /* protocol */
    put16(&p, 0);
    put32(&p, 2); /* ifindex */
    put16(&p, 1);
    put8(&p, 0);
    put8(&p, 6);
    zeros(&p, 8);
    ipv6(&p, "2001:db8::1", "2001:db8::2", 58, 8);
    put8(&p, 128);
    zeros(&p, 7);
    CHECK_EQ(dec(DLT_LINUX_SLL2, &p), DECODE_OK);
    CHECK_EQ(s.proto, 58);
    CHECK(!s.has_ports);
    CHECK_EQ(decode_packet(DLT_LINUX_SLL2, p.b, 19, &s), DECODE_MALFORMED);
}

static void test_raw_null_loop(void)
{
    struct pkt p = {.len = 0};

    ipv4(&p, "198.18.0.1", "198.19.0.2", 1, 8, 0, 5);
    zeros(&p, 8);
    CHECK_EQ(dec(DLT_RAW, &p), DECODE_OK);
    CHECK_EQ(s.proto, 1);
    CHECK_EQ(dec(DLT_IPV4, &p), DECODE_OK);
    CHECK_EQ(dec(DLT_IPV6, &p), DECODE_MALFORMED);

    p.len = 0;
    ipv6(&p, "2001:db8::1", "2001:db8::2", 17, 8);
    udp(&p, 5353, 5353, 0);
    CHECK_EQ(dec(DLT_RAW, &p), DECODE_OK);
    CHECK_EQ(dec(DLT_IPV6, &p), DECODE_OK);

    /* DLT_NULL in either byte order, DLT_LOOP in network order; BSD AF_INET6 values. */
    for (unsigned fam = 0; fam < 4; fam++) {
        static const uint32_t v6fam[4] = {10, 24, 28, 30};
        uint32_t host = v6fam[fam], swapped = __builtin_bswap32(v6fam[fam]);

        p.len = 0;
        putn(&p, &host, 4);
        ipv6(&p, "2001:db8::1", "2001:db8::2", 6, 20);
        tcp(&p, 1, 2, 0);
        CHECK_EQ(dec(DLT_NULL, &p), DECODE_OK);
        memcpy(p.b, &swapped, 4);
        CHECK_EQ(dec(DLT_NULL, &p), DECODE_OK);
        CHECK_EQ(dec(DLT_LOOP, &p), DECODE_OK);
    }
    p.len = 0;
    put32(&p, 0x02000000); /* AF_INET, little-endian host */
    ipv4(&p, "127.0.0.1", "127.0.0.1", 17, 8, 0, 5);
    udp(&p, 1, 2, 0);
    CHECK_EQ(dec(DLT_NULL, &p), DECODE_OK);
    p.b[0] = 7; /* an unknown family */
    CHECK_EQ(dec(DLT_NULL, &p), DECODE_NON_IP);
    CHECK_EQ(decode_packet(DLT_NULL, p.b, 3, &s), DECODE_MALFORMED);
    CHECK_EQ(dec(12345, &p), DECODE_MALFORMED);
    CHECK(!decode_linktype_supported(12345));
    CHECK(decode_linktype_supported(DLT_LINUX_SLL2));
}

static void test_ipv4_options_fragments_and_bad_headers(void)
{
    struct pkt p = {.len = 0};

    eth(&p, 0x0800);
    ipv4(&p, "198.18.0.1", "198.19.0.2", 6, 20, 0, 8); /* 12 bytes of options */
    tcp(&p, 22, 50000, 0x18);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    CHECK_EQ(s.sport, 22);
    CHECK_EQ(s.payload_offset, 14 + 32 + 20);

    /* First fragment (MF set, offset 0) has ports. */
    p.len = 0;
    eth(&p, 0x0800);
    ipv4(&p, "198.18.0.1", "198.19.0.2", 17, 8, 0x2000, 5);
    udp(&p, 5000, 6000, 0);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    CHECK(!s.fragment);
    CHECK(s.has_ports);

    /* A later fragment has none. */
    p.len = 0;
    eth(&p, 0x0800);
    ipv4(&p, "198.18.0.1", "198.19.0.2", 17, 100, 0x0010, 5);
    zeros(&p, 100);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    CHECK(s.fragment);
    CHECK(!s.has_ports);
    CHECK_EQ(s.proto, 17);

    /* IHL below 5, total length below IHL, wrong version, TCP without room for ports. */
    p.len = 0;
    eth(&p, 0x0800);
    ipv4(&p, "198.18.0.1", "198.19.0.2", 6, 20, 0, 5);
    tcp(&p, 1, 2, 0);
    p.b[14] = 0x44;
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_MALFORMED);
    p.b[14] = 0x45;
    p.b[16] = 0;
    p.b[17] = 10;
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_MALFORMED);
    p.b[17] = 22; /* total 22: two bytes of TCP */
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_MALFORMED);
    p.b[17] = 0; /* total 0: TSO, trust the capture */
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    p.b[14] = 0x75;
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_MALFORMED);
    /* IPv6 ethertype carrying an IPv4 header */
    p.b[14] = 0x45;
    p.b[12] = 0x86;
    p.b[13] = 0xdd;
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_MALFORMED);
}

static void test_ipv6_extension_headers(void)
{
    struct pkt p = {.len = 0};

    /* hop-by-hop (8) → destination options (16) → routing (8) → TCP */
    eth(&p, 0x86dd);
    ipv6(&p, "2001:db8::1", "2001:db8::2", 0, 8 + 16 + 8 + 20);
    put8(&p, 60);
    put8(&p, 0);
    zeros(&p, 6);
    put8(&p, 43);
    put8(&p, 1);
    zeros(&p, 14);
    put8(&p, 6);
    put8(&p, 0);
    zeros(&p, 6);
    tcp(&p, 50000, 8080, 0x02);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    CHECK_EQ(s.proto, 6);
    CHECK_EQ(s.dport, 8080);
    CHECK_EQ(s.payload_offset, 14 + 40 + 32 + 20);
    for (unsigned n = 14 + 40; n < 14 + 40 + 32 + 4; n++)
        CHECK_EQ(decode_packet(DLT_EN10MB, p.b, n, &s), DECODE_MALFORMED);

    /* AH counts in 4-byte units: length 4 means (4+2)*4 = 24 bytes. */
    p.len = 0;
    eth(&p, 0x86dd);
    ipv6(&p, "2001:db8::1", "2001:db8::2", 51, 24 + 8);
    put8(&p, 17);
    put8(&p, 4);
    zeros(&p, 22);
    udp(&p, 500, 500, 0);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    CHECK_EQ(s.proto, 17);
    CHECK_EQ(s.sport, 500);

    /* Fragment header: offset 0 continues to the ports, offset > 0 stops. */
    p.len = 0;
    eth(&p, 0x86dd);
    ipv6(&p, "2001:db8::1", "2001:db8::2", 44, 8 + 8);
    put8(&p, 17);
    put8(&p, 0);
    put16(&p, 0x0001); /* offset 0, M set */
    put32(&p, 77);
    udp(&p, 4000, 4001, 0);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    CHECK(!s.fragment);
    CHECK_EQ(s.dport, 4001);
    p.b[14 + 40 + 2] = 0x05; /* offset 0x05 << 3 */
    p.b[14 + 40 + 3] = 0x00;
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    CHECK(s.fragment);
    CHECK(!s.has_ports);
    CHECK_EQ(s.proto, 17);

    /* ESP and "no next header" end the chain without ports; SCTP has ports. */
    p.len = 0;
    eth(&p, 0x86dd);
    ipv6(&p, "2001:db8::1", "2001:db8::2", 50, 16);
    zeros(&p, 16);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    CHECK_EQ(s.proto, 50);
    CHECK(!s.has_ports);
    p.b[14 + 6] = 132;
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    CHECK(s.has_ports);

    /* An endless chain of destination options. */
    p.len = 0;
    eth(&p, 0x86dd);
    ipv6(&p, "2001:db8::1", "2001:db8::2", 60, 8 * 20);
    for (int i = 0; i < 20; i++) {
        put8(&p, 60);
        put8(&p, 0);
        zeros(&p, 6);
    }
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_MALFORMED);

    /* An extension header longer than the payload length claims. */
    p.len = 0;
    eth(&p, 0x86dd);
    ipv6(&p, "2001:db8::1", "2001:db8::2", 0, 8);
    put8(&p, 6);
    put8(&p, 3); /* 32 bytes */
    zeros(&p, 30);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_MALFORMED);
}

static void test_other_protocols(void)
{
    struct pkt p = {.len = 0};

    eth(&p, 0x0800);
    ipv4(&p, "198.18.0.1", "198.19.0.2", 47, 4, 0, 5); /* GRE */
    zeros(&p, 4);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    CHECK_EQ(s.proto, 47);
    CHECK(!s.has_ports);
}

/* The decoder flags DNS answers (TCP or UDP from port 53), queries (to port 53), and where
 * their message starts. */
static void test_dns_answers_and_payload_offset(void)
{
    struct pkt p = {.len = 0};

    eth(&p, 0x0800);
    ipv4(&p, "198.19.0.53", "198.18.0.1", IPPROTO_UDP, 8 + 12, 0, 5);
    udp(&p, DECODE_DNS_PORT, 40000, 12);
    zeros(&p, 12);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    CHECK(s.dns_answer);
    CHECK(!s.dns_query);
    CHECK_EQ(s.payload_offset, 14 + 20 + 8);

    /* A query is not an answer. */
    p.len = 0;
    eth(&p, 0x0800);
    ipv4(&p, "198.18.0.1", "198.19.0.53", IPPROTO_UDP, 8, 0, 5);
    udp(&p, 40000, DECODE_DNS_PORT, 0);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    CHECK(!s.dns_answer);
    CHECK(s.dns_query);
    CHECK_EQ(s.payload_offset, 14 + 20 + 8);

    /* TCP: the payload starts after the header's data offset. */
    p.len = 0;
    eth(&p, 0x0800);
    ipv4(&p, "198.19.0.53", "198.18.0.1", IPPROTO_TCP, 20, 0, 5);
    tcp(&p, DECODE_DNS_PORT, 40000, 0x18);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    CHECK(s.dns_answer);
    CHECK_EQ(s.payload_offset, 14 + 20 + 20);
    /* A TCP query: to port 53. */
    p.b[14 + 20] = 40000 >> 8;
    p.b[14 + 20 + 1] = 40000 & 0xff;
    p.b[14 + 20 + 2] = 0;
    p.b[14 + 20 + 3] = DECODE_DNS_PORT;
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    CHECK(!s.dns_answer);
    CHECK(s.dns_query);
    /* A data offset below the header's own size gives no payload. */
    p.b[14 + 20 + 12] = 0x40;
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    CHECK(!s.dns_answer);
    CHECK(!s.dns_query);
    CHECK_EQ(s.payload_offset, 0);
    /* Cut before the data offset: ports, but no payload offset. */
    CHECK_EQ(decode_packet(DLT_EN10MB, p.b, 14 + 20 + 12, &s), DECODE_OK);
    CHECK(s.has_ports);
    CHECK(!s.dns_answer);
    CHECK(!s.dns_query);

    /* SCTP from port 53 has ports but is not DNS. */
    p.len = 0;
    eth(&p, 0x0800);
    ipv4(&p, "198.19.0.53", "198.18.0.1", IPPROTO_SCTP, 12, 0, 5);
    put16(&p, DECODE_DNS_PORT);
    put16(&p, 40000);
    zeros(&p, 8);
    CHECK_EQ(dec(DLT_EN10MB, &p), DECODE_OK);
    CHECK(s.has_ports);
    CHECK(!s.dns_answer);
    CHECK_EQ(s.payload_offset, 0);
}

int main(void)
{
    RUN(test_ethernet_ipv4_tcp);
    RUN(test_every_truncation_is_malformed);
    RUN(test_vlan_and_qinq);
    RUN(test_non_ip);
    RUN(test_sll_and_sll2);
    RUN(test_raw_null_loop);
    RUN(test_ipv4_options_fragments_and_bad_headers);
    RUN(test_ipv6_extension_headers);
    RUN(test_other_protocols);
    RUN(test_dns_answers_and_payload_offset);
    return test_report();
}
