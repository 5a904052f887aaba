/* HTTP server tests: listen-address parsing. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "io/httpd.h"
#include "test.h"

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

int main(void)
{
    RUN(test_listen_addresses);
    return test_report();
}
