/* Address and prefix tests. */
#include <arpa/inet.h>

#include "base/netaddr.h"
#include "test.h"

static void test_parse_format(void)
{
    struct netaddr a, b;
    char buf[NETADDR_STRLEN];

    CHECK_EQ(netaddr_parse("198.18.0.1", &a), 0);
    CHECK_EQ(a.family, 4);
    CHECK_STR(netaddr_format(&a, buf, sizeof(buf)), "198.18.0.1");
    CHECK_EQ(netaddr_parse("2001:DB8:0::1", &b), 0);
    CHECK_STR(netaddr_format(&b, buf, sizeof(buf)), "2001:db8::1");
    CHECK(netaddr_compare(&a, &b) < 0);
    CHECK_EQ(netaddr_parse("198.18.0.256", &a), -1);
    CHECK_EQ(netaddr_parse("", &a), -1);
    memset(&a, 0, sizeof(a));
    CHECK_STR(netaddr_format(&a, buf, sizeof(buf)), "none");
}

static void test_prefixes(void)
{
    struct netprefix p;
    struct netaddr a;
    char buf[64];

    CHECK_EQ(netprefix_parse("198.18.0.0/15", &p), 0);
    netaddr_parse("198.19.255.255", &a);
    CHECK(netprefix_contains(&p, &a));
    netaddr_parse("198.20.0.0", &a);
    CHECK(!netprefix_contains(&p, &a));
    netaddr_parse("2001:db8::1", &a);
    CHECK(!netprefix_contains(&p, &a));
    CHECK_STR(netprefix_format(&p, buf, sizeof(buf)), "198.18.0.0/15");
    CHECK_EQ(netprefix_parse("2001:db8::/32", &p), 0);
    CHECK(netprefix_contains(&p, &a));
    CHECK_EQ(netprefix_parse("0.0.0.0/0", &p), 0);
    netaddr_parse("8.8.8.8", &a);
    CHECK(netprefix_contains(&p, &a));
    CHECK_EQ(netprefix_parse("10.0.0.1", &p), 0);
    CHECK_EQ(p.bits, 32);
    CHECK_EQ(netprefix_parse("10.0.0.1/8", &p), -1); /* host bits set */
    CHECK_EQ(netprefix_parse("10.0.0.0/33", &p), -1);
    CHECK_EQ(netprefix_parse("10.0.0.0/", &p), -1);
    CHECK_EQ(netprefix_parse("10.0.0.0/-1", &p), -1);
    CHECK_EQ(netprefix_parse("/8", &p), -1);
    CHECK_EQ(netprefix_parse("2001:db8::/129", &p), -1);
}

/* The formatter against inet_ntop, over every pattern of zero groups (where "::" goes) with
 * random and 0xffff fillers, so the compressed, mapped and compatible forms all come up. */
static void test_format_matches_inet_ntop(void)
{
    unsigned seed = 12345;
    int mismatches = 0;

    for (unsigned zeros = 0; zeros < 256; zeros++) {
        for (unsigned fill = 0; fill < 24; fill++) {
            struct netaddr a = {.family = 6};
            char ours[NETADDR_STRLEN], libc[INET6_ADDRSTRLEN];

            for (int w = 0; w < 8; w++) {
                unsigned v;

                seed = seed * 1103515245u + 12345u;
                v = fill < 4 ? 0xffffu >> (fill * 4) : (seed >> 8) & (fill % 3 ? 0xffffu : 0x00ffu);
                if (v == 0)
                    v = 1;
                if (zeros >> w & 1)
                    v = 0;
                if (fill == 5 && w == 5)
                    v = 0xffff;
                a.bytes[2 * w] = (uint8_t)(v >> 8);
                a.bytes[2 * w + 1] = (uint8_t)v;
            }
            netaddr_format(&a, ours, sizeof(ours));
            inet_ntop(AF_INET6, a.bytes, libc, sizeof(libc));
            if (strcmp(ours, libc) != 0 && mismatches++ < 5)
                fprintf(stderr, "format %s, inet_ntop %s\n", ours, libc);
        }
    }
    CHECK_EQ(mismatches, 0);
}

int main(void)
{
    RUN(test_parse_format);
    RUN(test_format_matches_inet_ntop);
    RUN(test_prefixes);
    return test_report();
}
