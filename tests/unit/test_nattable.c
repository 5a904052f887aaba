/* The NAT table: every form a translated connection's packets take, on either side of the
 * translation, is counted for its true ends. */
#include <netinet/in.h>

#include "flow/nattable.h"
#include "test.h"

static const struct hash_key seed = {1, 2};

static struct nat_tuple tuple(const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
    struct nat_tuple t = {.sport = sport, .dport = dport, .proto = IPPROTO_TCP};

    netaddr_parse(src, &t.src);
    netaddr_parse(dst, &t.dst);
    return t;
}

static struct pktsummary packet(const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
    struct pktsummary p = {.status = DECODE_OK, .proto = IPPROTO_TCP, .has_ports = true};

    netaddr_parse(src, &p.src);
    netaddr_parse(dst, &p.dst);
    p.sport = sport;
    p.dport = dport;
    return p;
}

/* Translates a packet and checks the result. */
static void check(struct nattable *t, const char *src, uint16_t sport, const char *dst,
                  uint16_t dport, bool rewritten, const char *want_src, uint16_t want_sport,
                  const char *want_dst, uint16_t want_dport)
{
    struct pktsummary p = packet(src, sport, dst, dport);
    char a[NETADDR_STRLEN], b[NETADDR_STRLEN];

    CHECK_EQ(nattable_translate(t, &p), rewritten);
    CHECK_STR(netaddr_format(&p.src, a, sizeof(a)), want_src);
    CHECK_EQ(p.sport, want_sport);
    CHECK_STR(netaddr_format(&p.dst, b, sizeof(b)), want_dst);
    CHECK_EQ(p.dport, want_dport);
}

static void test_forms(void)
{
    struct nattable *t = nattable_new(8, &seed);
    /* A pod behind a masquerade, to a Service VIP translated to a backend on another port. */
    struct nat_conn both = {tuple("198.18.1.2", 40000, "198.18.100.1", 80),
                            tuple("198.18.10.2", 8000, "198.18.0.1", 61000)};
    /* Only a masquerade: pod to the internet host. */
    struct nat_conn snat = {tuple("198.18.1.2", 40001, "198.19.5.2", 8000),
                            tuple("198.19.5.2", 8000, "198.18.0.1", 40001)};
    /* Untranslated: not kept. */
    struct nat_conn plain = {tuple("198.18.1.2", 40002, "198.18.10.2", 8000),
                             tuple("198.18.10.2", 8000, "198.18.1.2", 40002)};
    struct nattable_stats st;

    CHECK(nattable_empty(t));
    CHECK(nattable_add(t, &both));
    CHECK(nattable_add(t, &snat));
    CHECK(!nattable_add(t, &plain));
    /* Before translation (the pod's veth): to the VIP, and back from it. */
    check(t, "198.18.1.2", 40000, "198.18.100.1", 80, true, "198.18.1.2", 40000, "198.18.10.2",
          8000);
    check(t, "198.18.100.1", 80, "198.18.1.2", 40000, true, "198.18.10.2", 8000, "198.18.1.2",
          40000);
    /* After it (the uplink): from the node's address, and back to it. */
    check(t, "198.18.0.1", 61000, "198.18.10.2", 8000, true, "198.18.1.2", 40000, "198.18.10.2",
          8000);
    check(t, "198.18.10.2", 8000, "198.18.0.1", 61000, true, "198.18.10.2", 8000, "198.18.1.2",
          40000);
    /* A masquerade alone: the uplink's packets belong to the pod. */
    check(t, "198.18.0.1", 40001, "198.19.5.2", 8000, true, "198.18.1.2", 40001, "198.19.5.2",
          8000);
    check(t, "198.19.5.2", 8000, "198.18.0.1", 40001, true, "198.19.5.2", 8000, "198.18.1.2",
          40001);
    /* Before the masquerade the packet is already the pod's; other packets pass. */
    check(t, "198.18.1.2", 40001, "198.19.5.2", 8000, false, "198.18.1.2", 40001, "198.19.5.2",
          8000);
    check(t, "198.18.1.2", 40002, "198.18.10.2", 8000, false, "198.18.1.2", 40002, "198.18.10.2",
          8000);
    nattable_get_stats(t, &st);
    CHECK_EQ(st.size, 2);
    CHECK_EQ(st.translated, 6);

    /* An end keeps the translation for the grace period, for packets still in the ring. */
    nattable_end(t, &snat, 1000);
    nattable_expire(t, 1000 + NATTABLE_GRACE_MS - 1);
    check(t, "198.18.0.1", 40001, "198.19.5.2", 8000, true, "198.18.1.2", 40001, "198.19.5.2",
          8000);
    nattable_expire(t, 1000 + NATTABLE_GRACE_MS);
    check(t, "198.18.0.1", 40001, "198.19.5.2", 8000, false, "198.18.0.1", 40001, "198.19.5.2",
          8000);
    check(t, "198.18.0.1", 61000, "198.18.10.2", 8000, true, "198.18.1.2", 40000, "198.18.10.2",
          8000);
    /* The same connection again (a dump after events) replaces, never doubles. */
    CHECK(nattable_add(t, &both));
    nattable_get_stats(t, &st);
    CHECK_EQ(st.size, 1);
    nattable_clear(t);
    CHECK(nattable_empty(t));
    nattable_free(t);
}

static void test_full(void)
{
    struct nattable *t = nattable_new(2, &seed);
    struct nattable_stats st;

    for (uint16_t i = 0; i < 5; i++) {
        struct nat_conn c = {tuple("198.18.1.2", (uint16_t)(1000 + i), "198.19.5.2", 80),
                             tuple("198.19.5.2", 80, "198.18.0.1", (uint16_t)(2000 + i))};

        CHECK_EQ(nattable_add(t, &c), i < 2);
    }
    nattable_get_stats(t, &st);
    CHECK_EQ(st.full, 3);
    CHECK_EQ(st.size, 2);
    /* Room comes back when connections end. */
    struct nat_conn first = {tuple("198.18.1.2", 1000, "198.19.5.2", 80),
                             tuple("198.19.5.2", 80, "198.18.0.1", 2000)};
    nattable_end(t, &first, 0);
    nattable_expire(t, NATTABLE_GRACE_MS);
    CHECK(nattable_add(t, &first));
    nattable_free(t);
}

/* Ended connections go in the order they ended, and one taken in again leaves the list. */
static void test_ending(void)
{
    struct nattable *t = nattable_new(8, &seed);
    struct nat_conn c[4];
    struct nattable_stats st;

    for (uint16_t i = 0; i < 4; i++) {
        c[i] = (struct nat_conn){tuple("198.18.1.2", (uint16_t)(1000 + i), "198.19.5.2", 80),
                                 tuple("198.19.5.2", 80, "198.18.0.1", (uint16_t)(2000 + i))};
        CHECK(nattable_add(t, &c[i]));
    }
    nattable_end(t, &c[0], 0);
    nattable_end(t, &c[1], 1);
    nattable_end(t, &c[2], 2);
    nattable_end(t, &c[2], 3);     /* a second DESTROY changes nothing */
    CHECK(nattable_add(t, &c[1])); /* back (a dump): alive, out of the list */
    nattable_expire(t, NATTABLE_GRACE_MS + 1);
    nattable_get_stats(t, &st);
    CHECK_EQ(st.size, 3);
    CHECK_EQ(st.removed, 1);
    nattable_expire(t, NATTABLE_GRACE_MS + 2);
    nattable_get_stats(t, &st);
    CHECK_EQ(st.size, 2);
    check(t, "198.18.0.1", 2001, "198.19.5.2", 80, true, "198.18.1.2", 1001, "198.19.5.2", 80);
    check(t, "198.18.0.1", 2003, "198.19.5.2", 80, true, "198.18.1.2", 1003, "198.19.5.2", 80);
    nattable_end(t, &c[3], 10);
    nattable_expire(t, 1000000);
    nattable_get_stats(t, &st);
    CHECK_EQ(st.size, 1);
    nattable_free(t);
}

int main(void)
{
    RUN(test_forms);
    RUN(test_full);
    RUN(test_ending);
    return test_report();
}
