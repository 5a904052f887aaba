/* Traffic classes: places, Service endpoints, and addresses Kubernetes does not know. */
#include "names/topology.h"
#include "test.h"

static enum traffic_class between(const char *node, const char *zone, const char *region,
                                  const char *pnode, const char *pzone, const char *pregion)
{
    struct place self = {node, zone, region}, peer = {pnode, pzone, pregion};

    return place_class(&self, &peer);
}

static void test_places(void)
{
    CHECK_EQ(between("n1", "a", "r1", "n1", "", ""), TC_SAME_NODE);
    CHECK_EQ(between("n1", "a", "r1", "n2", "a", "r1"), TC_SAME_ZONE);
    CHECK_EQ(between("n1", "a", "r1", "n2", "b", "r1"), TC_CROSS_ZONE);
    CHECK_EQ(between("n1", "a", "r1", "n2", "c", "r2"), TC_CROSS_REGION);
    /* Regions that differ are enough, whatever is known of zones. */
    CHECK_EQ(between("n1", "", "r1", "n2", "", "r2"), TC_CROSS_REGION);
    /* A cluster that labels no region: zones that differ are cross-zone. */
    CHECK_EQ(between("n1", "a", "", "n2", "b", ""), TC_CROSS_ZONE);
    CHECK_EQ(between("n1", "a", "", "n2", "a", ""), TC_SAME_ZONE);
    /* Never guessed: an unknown zone, or another zone in a region only one end knows. */
    CHECK_EQ(between("n1", "", "", "n2", "b", ""), TC_UNKNOWN);
    CHECK_EQ(between("n1", "a", "r1", "n2", "", "r1"), TC_UNKNOWN);
    CHECK_EQ(between("n1", "a", "r1", "n2", "b", ""), TC_UNKNOWN);
    CHECK_EQ(between("", "", "", "", "", ""), TC_UNKNOWN);
    /* Two unknown nodes are not the same node. */
    CHECK_EQ(between("", "a", "", "", "a", ""), TC_SAME_ZONE);
}

static void test_endpoints(void)
{
    struct endpoint_counts c = {{0}};

    CHECK_EQ(endpoints_class(&c), TC_UNKNOWN);
    c.n[TC_SAME_ZONE] = 3;
    CHECK_EQ(endpoints_class(&c), TC_SAME_ZONE);
    c.n[TC_CROSS_ZONE] = 1;
    CHECK_EQ(endpoints_class(&c), TC_MIXED);
    c.n[TC_SAME_ZONE] = 0;
    CHECK_EQ(endpoints_class(&c), TC_CROSS_ZONE);
}

static enum traffic_class of(const char *text)
{
    struct netaddr a;

    CHECK_EQ(netaddr_parse(text, &a), 0);
    return address_class(&a);
}

static void test_addresses(void)
{
    static const char *const private_[] = {
        "10.1.2.3",        "172.16.0.1",        "172.31.255.255",
        "192.168.1.1",     "100.64.0.1",        "169.254.1.1",
        "198.18.0.1",      "198.19.255.255",    "192.0.2.1",
        "203.0.113.9",     "224.0.0.251",       "255.255.255.255",
        "0.0.0.0",         "fd00::1",           "fe80::1",
        "2001:db8::5",     "ff02::fb",          "::",
        "::ffff:10.1.2.3", "64:ff9b::c0a8:101", "64:ff9b:1::808:808",
    };
    static const char *const internet[] = {
        "8.8.8.8",         "1.1.1.1",        "172.32.0.1",       "172.15.255.255",
        "100.128.0.1",     "198.20.0.1",     "11.0.0.1",         "2a00:1450::1",
        "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808",
    };

    char want[64];

    /* The address is in the message when one fails. */
    for (size_t i = 0; i < sizeof(private_) / sizeof(private_[0]); i++) {
        snprintf(want, sizeof(want), "private %s", private_[i]);
        CHECK_STR(want + (of(private_[i]) == TC_PRIVATE ? 0 : 1), want);
    }
    for (size_t i = 0; i < sizeof(internet) / sizeof(internet[0]); i++) {
        snprintf(want, sizeof(want), "internet %s", internet[i]);
        CHECK_STR(want + (of(internet[i]) == TC_INTERNET ? 0 : 1), want);
    }
    CHECK_EQ(of("127.0.0.1"), TC_SAME_NODE);
    CHECK_EQ(of("::1"), TC_SAME_NODE);
}

static void test_names(void)
{
    for (int c = 0; c < TC_CLASSES; c++)
        CHECK_EQ(traffic_class_parse(traffic_class_name((enum traffic_class)c)), c);
    CHECK_STR(traffic_class_name(TC_CROSS_ZONE), "cross-zone");
    CHECK_EQ(traffic_class_parse("vpc"), TC_CLASSES);
}

int main(void)
{
    RUN(test_places);
    RUN(test_endpoints);
    RUN(test_addresses);
    RUN(test_names);
    return test_report();
}
