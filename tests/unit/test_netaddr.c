/* Address and prefix tests. */
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

int main(void)
{
    RUN(test_parse_format);
    RUN(test_prefixes);
    return test_report();
}
