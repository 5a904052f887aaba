/* Key tests: who is local, which port is the service, and how rows are oriented. */
#include "flow/flowkey.h"
#include "test.h"

static struct locality loc;

static struct pktsummary pkt(const char *src, uint16_t sport, const char *dst, uint16_t dport,
                             uint8_t proto, uint8_t flags)
{
    struct pktsummary p;

    memset(&p, 0, sizeof(p));
    p.status = DECODE_OK;
    netaddr_parse(src, &p.src);
    netaddr_parse(dst, &p.dst);
    p.proto = proto;
    p.sport = sport;
    p.dport = dport;
    p.has_ports = proto == 6 || proto == 17 || proto == 132;
    p.tcp_flags = flags;
    return p;
}

static void check_key(struct flow_keyer *k, struct pktsummary p, const char *local,
                      const char *remote, uint16_t port, enum flow_dir want_dir)
{
    struct flow_key key;
    enum flow_dir dir;
    char a[NETADDR_STRLEN], b[NETADDR_STRLEN];

    flow_keyer_classify(k, &p, 1000, &key, &dir);
    CHECK_STR(netaddr_format(&key.local, a, sizeof(a)), local);
    CHECK_STR(netaddr_format(&key.remote, b, sizeof(b)), remote);
    CHECK_EQ(key.port, port);
    CHECK_EQ(dir, want_dir);
    CHECK_EQ(key.proto, p.proto);
}

static void setup(void)
{
    struct netprefix net;

    locality_init(&loc);
    netprefix_parse("198.18.0.1", &net);
    locality_add_net(&loc, &net);
    netprefix_parse("2001:db8::/64", &net);
    locality_add_net(&loc, &net);
}

static void test_client_and_server_ports(void)
{
    struct flow_keyer *k = flow_keyer_new(&loc, NULL, 32768, FLOW_KEY_ALL);

    /* Outbound to a well-known port, both directions. */
    check_key(k, pkt("198.18.0.1", 40000, "198.19.0.5", 443, 6, 0x10), "198.18.0.1", "198.19.0.5",
              443, FLOW_DIR_OUT);
    check_key(k, pkt("198.19.0.5", 443, "198.18.0.1", 40000, 6, 0x10), "198.18.0.1", "198.19.0.5",
              443, FLOW_DIR_IN);
    /* Inbound to a local service. */
    check_key(k, pkt("198.19.0.7", 51000, "198.18.0.1", 8080, 6, 0x10), "198.18.0.1", "198.19.0.7",
              8080, FLOW_DIR_IN);
    /* Both ports below the ephemeral range: the lower one is the service. */
    check_key(k, pkt("198.18.0.1", 1025, "198.19.0.5", 22, 6, 0x10), "198.18.0.1", "198.19.0.5", 22,
              FLOW_DIR_OUT);
    check_key(k, pkt("198.18.0.1", 53, "198.19.0.5", 53, 17, 0), "198.18.0.1", "198.19.0.5", 53,
              FLOW_DIR_OUT);
    /* Both ephemeral: no port. */
    check_key(k, pkt("198.18.0.1", 40000, "198.19.0.5", 50000, 17, 0), "198.18.0.1", "198.19.0.5",
              0, FLOW_DIR_OUT);
    /* IPv6 through a local prefix; ICMPv6 has no port. */
    check_key(k, pkt("2001:db8:1::9", 0, "2001:db8::1", 0, 58, 0), "2001:db8::1", "2001:db8:1::9",
              0, FLOW_DIR_IN);
    flow_keyer_free(k);
}

static void test_syn_teaches_the_service_port(void)
{
    struct flow_keyer *k = flow_keyer_new(&loc, NULL, 32768, FLOW_KEY_ALL);

    /* Before any SYN, both ports are ephemeral: no port. */
    check_key(k, pkt("198.19.0.5", 45000, "198.18.0.1", 40000, 6, 0x10), "198.18.0.1", "198.19.0.5",
              0, FLOW_DIR_IN);
    /* A SYN to 198.18.0.1:40000 makes it a server port, for both directions. */
    check_key(k, pkt("198.19.0.5", 45000, "198.18.0.1", 40000, 6, 0x02), "198.18.0.1", "198.19.0.5",
              40000, FLOW_DIR_IN);
    check_key(k, pkt("198.18.0.1", 40000, "198.19.0.5", 45000, 6, 0x12), "198.18.0.1", "198.19.0.5",
              40000, FLOW_DIR_OUT);
    /* A SYN wins over the port-range rule: a client on port 1000 talking to port 5000. */
    check_key(k, pkt("198.18.0.1", 1000, "198.19.0.6", 5000, 6, 0x02), "198.18.0.1", "198.19.0.6",
              5000, FLOW_DIR_OUT);
    flow_keyer_free(k);
}

static void test_listeners_win(void)
{
    static struct listeners l;
    struct flow_keyer *k;

    listeners_clear(&l);
    listeners_parse_proc(&l,
                         "  sl  local_address rem_address   st\n"
                         "   0: 00000000:9C40 00000000:0000 0A 0 0\n",
                         true, 32768);
    k = flow_keyer_new(&loc, &l, 32768, FLOW_KEY_ALL);
    /* Local port 40000 is listening, so the remote's 443 is the client side here. */
    check_key(k, pkt("198.19.0.5", 443, "198.18.0.1", 40000, 6, 0x10), "198.18.0.1", "198.19.0.5",
              40000, FLOW_DIR_IN);
    flow_keyer_free(k);
}

static void test_no_local_side_and_both_local(void)
{
    struct flow_keyer *k = flow_keyer_new(&loc, NULL, 32768, FLOW_KEY_ALL);

    /* Transit traffic: the client is "local", whichever direction the packet goes. */
    check_key(k, pkt("198.19.0.9", 50000, "198.19.0.2", 443, 6, 0x10), "198.19.0.9", "198.19.0.2",
              443, FLOW_DIR_OUT);
    check_key(k, pkt("198.19.0.2", 443, "198.19.0.9", 50000, 6, 0x10), "198.19.0.9", "198.19.0.2",
              443, FLOW_DIR_IN);
    /* No service side: the lower address is "local". */
    check_key(k, pkt("198.19.0.9", 0, "198.19.0.2", 0, 1, 0), "198.19.0.2", "198.19.0.9", 0,
              FLOW_DIR_IN);
    /* Loopback-like: both local, same address. */
    check_key(k, pkt("198.18.0.1", 40000, "198.18.0.1", 8080, 6, 0x10), "198.18.0.1", "198.18.0.1",
              8080, FLOW_DIR_OUT);
    check_key(k, pkt("198.18.0.1", 8080, "198.18.0.1", 40000, 6, 0x10), "198.18.0.1", "198.18.0.1",
              8080, FLOW_DIR_IN);
    flow_keyer_free(k);
}

static void test_special_kinds_and_key_fields(void)
{
    struct flow_keyer *k = flow_keyer_new(&loc, NULL, 32768, FLOW_KEY_ALL);
    struct pktsummary p;
    struct flow_key key;
    enum flow_dir dir;

    memset(&p, 0, sizeof(p));
    p.status = DECODE_NON_IP;
    flow_keyer_classify(k, &p, 1, &key, &dir);
    CHECK_EQ(key.kind, FLOW_KIND_NON_IP);
    CHECK_EQ(key.local.family, 0);
    p.status = DECODE_MALFORMED;
    flow_keyer_classify(k, &p, 1, &key, &dir);
    CHECK_EQ(key.kind, FLOW_KIND_MALFORMED);
    CHECK_EQ(dir, FLOW_DIR_IN);

    p = pkt("198.19.0.5", 0, "198.18.0.1", 0, 17, 0);
    p.fragment = true;
    p.has_ports = false;
    flow_keyer_classify(k, &p, 1, &key, &dir);
    CHECK_EQ(key.kind, FLOW_KIND_FRAGMENT);
    CHECK_EQ(dir, FLOW_DIR_IN);
    CHECK_EQ(key.port, 0);
    flow_keyer_free(k);

    k = flow_keyer_new(&loc, NULL, 32768, 0);
    p = pkt("198.18.0.1", 40000, "198.19.0.5", 443, 6, 0x10);
    flow_keyer_classify(k, &p, 1, &key, &dir);
    CHECK_EQ(key.port, 0);
    CHECK_EQ(key.local.family, 0);
    CHECK_EQ(key.remote.family, 4);
    CHECK_EQ(dir, FLOW_DIR_OUT);
    flow_keyer_free(k);
}

static void test_proto_names(void)
{
    char buf[8];

    CHECK_STR(flow_proto_name(6, buf, sizeof(buf)), "tcp");
    CHECK_STR(flow_proto_name(58, buf, sizeof(buf)), "icmpv6");
    CHECK_STR(flow_proto_name(253, buf, sizeof(buf)), "253");
}

int main(void)
{
    setup();
    RUN(test_client_and_server_ports);
    RUN(test_syn_teaches_the_service_port);
    RUN(test_listeners_win);
    RUN(test_no_local_side_and_both_local);
    RUN(test_special_kinds_and_key_fields);
    RUN(test_proto_names);
    return test_report();
}
