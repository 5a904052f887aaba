/* Interface tests: finding the default route's interface in /proc/net/route text. */
#include "capture/iface.h"
#include "test.h"

static void test_default_route(void)
{
    char name[32] = "";

    CHECK_EQ(iface_parse_route_v4("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n"
                                  "eth1\t0012A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n"
                                  "eth0\t00000000\t010012AC\t0003\t0\t0\t0\t00000000\n",
                                  name, sizeof(name)),
             0);
    CHECK_STR(name, "eth0");
    CHECK_EQ(iface_parse_route_v4("Iface\tDestination\tGateway\n"
                                  "eth1\t0012A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n",
                                  name, sizeof(name)),
             -1);
}

int main(void)
{
    RUN(test_default_route);
    return test_report();
}
