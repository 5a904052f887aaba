/* Prometheus rendering, listen-address parsing and route-table parsing tests. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "capture/iface.h"
#include "io/httpd.h"
#include "export/prom.h"
#include "test.h"

static void test_render(void)
{
    struct buf b;
    struct prom_label l[2] = {{"direction", "in"}, {"name", "a\"b\\c\nd"}};

    buf_init(&b, 4096);
    CHECK_EQ(prom_family(&b, "x_total", "counter", "Help with \\ and\nnewline."), 0);
    CHECK_EQ(prom_sample_u64(&b, "x_total", l, 2, 18446744073709551615ULL), 0);
    CHECK_EQ(prom_sample_u64(&b, "x_total", NULL, 0, 0), 0);
    CHECK_EQ(prom_sample_double(&b, "y", NULL, 0, 0.25), 0);
    CHECK_EQ(prom_sample_double(&b, "y", NULL, 0, 1.0 / 0.0), 0);
    CHECK_STR(b.data, "# HELP x_total Help with \\\\ and\\nnewline.\n"
                      "# TYPE x_total counter\n"
                      "x_total{direction=\"in\",name=\"a\\\"b\\\\c\\nd\"} 18446744073709551615\n"
                      "x_total 0\n"
                      "y 0.25\n"
                      "y +Inf\n");
    buf_free(&b);
}

static void test_listen_addresses(void)
{
    struct sockaddr_storage ss;
    size_t len;
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

    CHECK_EQ(httpd_parse_listen(":9781", &ss, &len), 0);
    CHECK_EQ(sin6->sin6_family, AF_INET6); /* all addresses: dual-stack wildcard */
    CHECK_EQ(ntohs(sin6->sin6_port), 9781);
    CHECK_EQ(httpd_parse_listen("0.0.0.0:9781", &ss, &len), 0);
    CHECK_EQ(sin->sin_family, AF_INET);
    CHECK_EQ(sin->sin_addr.s_addr, htonl(INADDR_ANY));
    CHECK_EQ(httpd_parse_listen("127.0.0.1:80", &ss, &len), 0);
    CHECK_EQ(sin->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    CHECK_EQ(httpd_parse_listen("[::1]:9781", &ss, &len), 0);
    CHECK_EQ(sin6->sin6_family, AF_INET6);
    CHECK_EQ(len, sizeof(struct sockaddr_in6));
    CHECK_EQ(httpd_parse_listen("[::]:0", &ss, &len), 0);
    CHECK_EQ(httpd_parse_listen("9781", &ss, &len), -1);
    CHECK_EQ(httpd_parse_listen("localhost:9781", &ss, &len), -1);
    CHECK_EQ(httpd_parse_listen("1.2.3.4:65536", &ss, &len), -1);
    CHECK_EQ(httpd_parse_listen("1.2.3.4:", &ss, &len), -1);
    CHECK_EQ(httpd_parse_listen("[::1]9781", &ss, &len), -1);
}

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
    RUN(test_render);
    RUN(test_listen_addresses);
    RUN(test_default_route);
    return test_report();
}
