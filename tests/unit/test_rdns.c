/* Reverse DNS tests: the PTR query name of IPv4 and IPv6 addresses. */
#include "names/rdns.h"
#include "test.h"

static void test_ptr_names(void)
{
    struct netaddr a;
    char buf[80];

    netaddr_parse("198.18.0.12", &a);
    rdns_ptr_name(&a, buf, sizeof(buf));
    CHECK_STR(buf, "12.0.18.198.in-addr.arpa");
    netaddr_parse("2001:db8::567:89ab", &a);
    rdns_ptr_name(&a, buf, sizeof(buf));
    CHECK_STR(buf, "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
}

int main(void)
{
    RUN(test_ptr_names);
    return test_report();
}
