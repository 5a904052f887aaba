/* Listening sockets: /proc/net text shaped like the kernel's, sock_diag answers, and this
 * namespace's own sockets read both ways. */
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flow/listeners.h"
#include "test.h"

static const char *tcp_text =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 "
    "1 0000000000000000 100 0 0 10 0\n"
    "   1: 0100007F:9C41 0100007F:01BB 01 00000000:00000000 00:00000000 00000000     0        0 2 "
    "1 0000000000000000 20 4 30 10 -1\n"
    "garbage line\n";

static const char *udp6_text =
    "  sl  local_address                         remote_address                        st\n"
    "   0: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 07 0\n"
    "   1: 00000000000000000000000000000000:A000 00000000000000000000000000000000:0000 07 0\n"
    "   2: 00000000000000000000000001000000:1388 0000000000000000000000000100007F:0035 01 0\n";

static void test_parse(void)
{
    static struct listeners l;

    listeners_clear(&l);
    listeners_parse_proc(&l, tcp_text, true, 32768);
    listeners_parse_proc(&l, udp6_text, false, 32768);
    CHECK(listeners_has(&l, 6, 8080));
    CHECK(!listeners_has(&l, 6, 40001)); /* established, not listening */
    CHECK(listeners_has(&l, 17, 53));
    CHECK(!listeners_has(&l, 17, 40960)); /* unconnected but ephemeral: a client */
    CHECK(!listeners_has(&l, 17, 5000));  /* connected */
    CHECK(!listeners_has(&l, 1, 8080));
}

static uint16_t bound_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);

    getsockname(fd, (struct sockaddr *)&a, &len);
    return ntohs(a.sin_port);
}

static int socket_on_lo(int type, bool do_listen, bool do_connect)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, type, 0);

    bind(fd, (struct sockaddr *)&a, sizeof(a));
    if (do_listen)
        listen(fd, 1);
    if (do_connect) {
        a.sin_port = htons(9); /* discard: never sent to, only connected */
        connect(fd, (struct sockaddr *)&a, sizeof(a));
    }
    return fd;
}

static void read_proc_tables(struct listeners *l, uint16_t ephemeral_min)
{
    static const char *const tables[4] = {"/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp",
                                          "/proc/net/udp6"};
    static char text[1 << 22];

    listeners_clear(l);
    for (int i = 0; i < 4; i++) {
        FILE *f = fopen(tables[i], "r");
        size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

        text[n] = '\0';
        if (f)
            fclose(f);
        listeners_parse_proc(l, text, i < 2, ephemeral_min);
    }
}

/* This namespace's own sockets: sock_diag finds the listening TCP socket and the unconnected
 * UDP one, not the connected UDP one, and agrees with /proc port for port. */
static void test_read_host(void)
{
    static struct listeners l, proc;
    int tcp = socket_on_lo(SOCK_STREAM, true, false);
    int udp = socket_on_lo(SOCK_DGRAM, false, false);
    int udp_connected = socket_on_lo(SOCK_DGRAM, false, true);

    memset(&l, 0, sizeof(l));
    CHECK_EQ(listeners_read(&l, 65535), 0);
    CHECK_EQ(l.reads_netlink, 1);
    CHECK_EQ(l.reads_proc, 0);
    CHECK(listeners_has(&l, 6, bound_port(tcp)));
    CHECK(listeners_has(&l, 17, bound_port(udp)));
    CHECK(!listeners_has(&l, 17, bound_port(udp_connected)));
    read_proc_tables(&proc, 65535);
    CHECK(memcmp(l.tcp, proc.tcp, sizeof(l.tcp)) == 0);
    CHECK(memcmp(l.udp, proc.udp, sizeof(l.udp)) == 0);
    close(tcp);
    close(udp);
    close(udp_connected);
}

/* Answers that are cut short or carry an error are refused, not half used. */
static void test_parse_diag(void)
{
    static struct listeners l;
    struct {
        struct nlmsghdr h;
        struct inet_diag_msg m;
        struct nlmsghdr done;
        int done_value;
    } msg;

    memset(&msg, 0, sizeof(msg));
    msg.h.nlmsg_len = NLMSG_LENGTH(sizeof(msg.m));
    msg.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.m.idiag_state = 10;
    msg.m.id.idiag_sport = htons(8443);
    msg.done.nlmsg_len = NLMSG_LENGTH(sizeof(int));
    msg.done.nlmsg_type = NLMSG_DONE;
    listeners_clear(&l);
    CHECK_EQ(listeners_parse_diag(&l, &msg, sizeof(msg), true, 32768), 1);
    CHECK(listeners_has(&l, 6, 8443));
    /* Without the DONE: more follows. */
    CHECK_EQ(listeners_parse_diag(&l, &msg, NLMSG_LENGTH(sizeof(msg.m)), true, 32768), 0);
    /* Cut inside the message. */
    CHECK_EQ(listeners_parse_diag(&l, &msg, NLMSG_LENGTH(sizeof(msg.m)) - 4, true, 32768), -1);
    /* A length too short for the diag message it claims to be. */
    msg.h.nlmsg_len = NLMSG_LENGTH(4);
    CHECK_EQ(listeners_parse_diag(&l, &msg, sizeof(msg), true, 32768), -1);
    msg.h.nlmsg_len = NLMSG_LENGTH(sizeof(msg.m));
    msg.h.nlmsg_type = NLMSG_ERROR;
    CHECK_EQ(listeners_parse_diag(&l, &msg, sizeof(msg), true, 32768), -1);
    /* UDP: unconnected (CLOSE) and below the ephemeral range only. */
    msg.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.m.idiag_state = 7;
    msg.m.id.idiag_sport = htons(5353);
    listeners_clear(&l);
    CHECK_EQ(listeners_parse_diag(&l, &msg, sizeof(msg), false, 32768), 1);
    CHECK(listeners_has(&l, 17, 5353));
    msg.m.id.idiag_sport = htons(40000);
    listeners_clear(&l);
    CHECK_EQ(listeners_parse_diag(&l, &msg, sizeof(msg), false, 32768), 1);
    CHECK(!listeners_has(&l, 17, 40000));
}

int main(void)
{
    RUN(test_parse);
    RUN(test_read_host);
    RUN(test_parse_diag);
    return test_report();
}
