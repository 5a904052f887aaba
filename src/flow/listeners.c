/* Listening sockets, the authoritative answer to "which side is the server": from the
 * kernel's sock_diag (as ss(8) asks), else from procfs. */
#include "listeners.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"

#define TCP_STATE_LISTEN 0x0a
#define UDP_STATE_UNCONN 0x07

void listeners_clear(struct listeners *l)
{
    memset(l->tcp, 0, sizeof(l->tcp));
    memset(l->udp, 0, sizeof(l->udp));
}

static void set_port(uint8_t *map, unsigned port)
{
    map[port / 8] |= (uint8_t)(1u << (port % 8));
}

static bool all_zero_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != '0')
            return false;
    return true;
}

/* Handles one line: "  sl  local_address rem_address   st ...", addresses as HEX:PORT. */
static void parse_line(struct listeners *l, const char *line, bool tcp, uint16_t ephemeral_min)
{
    char local[64], remote[64];
    unsigned state;
    const char *colon;
    char *end;
    unsigned long port;

    if (sscanf(line, " %*[0-9]: %63s %63s %x", local, remote, &state) != 3)
        return;
    colon = strrchr(local, ':');
    if (colon == NULL)
        return;
    port = strtoul(colon + 1, &end, 16);
    if (*end != '\0' || port == 0 || port > 65535)
        return;
    if (tcp) {
        if (state == TCP_STATE_LISTEN)
            set_port(l->tcp, (unsigned)port);
        return;
    }
    colon = strrchr(remote, ':');
    if (state == UDP_STATE_UNCONN && port < ephemeral_min && colon != NULL &&
        all_zero_hex(remote, (size_t)(colon - remote)))
        set_port(l->udp, (unsigned)port);
}

void listeners_parse_proc(struct listeners *l, const char *text, bool tcp, uint16_t ephemeral_min)
{
    const char *line = strchr(text, '\n'); /* the first line is a header */

    while (line != NULL && *line != '\0') {
        char copy[512];
        const char *next = strchr(line + 1, '\n');
        size_t len = next ? (size_t)(next - line - 1) : strlen(line + 1);

        if (len < sizeof(copy)) {
            memcpy(copy, line + 1, len);
            copy[len] = '\0';
            parse_line(l, copy, tcp, ephemeral_min);
        }
        line = next;
    }
}

static int read_table(struct listeners *l, const char *path, bool tcp, uint16_t ephemeral_min)
{
    FILE *f = fopen(path, "r");
    struct buf text;
    char chunk[4096];
    size_t n;

    if (f == NULL)
        return -1;
    buf_init(&text, 64u << 20);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (buf_append(&text, chunk, n) == -1)
            break;
    fclose(f);
    if (text.data != NULL)
        listeners_parse_proc(l, text.data, tcp, ephemeral_min);
    buf_free(&text);
    return 0;
}

/* The kernel's socket states, as sock_diag filters them (include/net/tcp_states.h). */
#define DIAG_STATE_LISTEN 10
#define DIAG_STATE_CLOSE 7 /* an unconnected UDP socket */

int listeners_parse_diag(struct listeners *l, const void *msgs, size_t len, bool tcp,
                         uint16_t ephemeral_min)
{
    const uint8_t *p = msgs;
    size_t left = len;

    /* Walked by hand rather than with NLMSG_OK/NLMSG_NEXT, which cast const away and compare
     * signed with unsigned; every header is copied out, so nothing relies on alignment. */
    while (left > 0) {
        struct nlmsghdr h;
        struct inet_diag_msg m;
        size_t step;
        unsigned port;

        if (left < sizeof(h))
            return -1;
        memcpy(&h, p, sizeof(h));
        if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > left)
            return -1;
        if (h.nlmsg_type == NLMSG_DONE)
            return 1;
        if (h.nlmsg_type == NLMSG_ERROR || h.nlmsg_len < NLMSG_LENGTH(sizeof(m)))
            return -1;
        if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY) {
            memcpy(&m, p + NLMSG_HDRLEN, sizeof(m));
            port = ntohs(m.id.idiag_sport);
            if (port != 0 && tcp && m.idiag_state == DIAG_STATE_LISTEN)
                set_port(l->tcp, port);
            else if (port != 0 && !tcp && m.idiag_state == DIAG_STATE_CLOSE &&
                     port < ephemeral_min && m.id.idiag_dport == 0)
                set_port(l->udp, port);
        }
        step = NLMSG_ALIGN(h.nlmsg_len);
        if (step > left)
            step = left; /* the last message, unpadded */
        p += step;
        left -= step;
    }
    return 0;
}

/* One dump: every socket of family and protocol in the given states. */
static int diag_dump(int fd, struct listeners *l, uint8_t family, uint8_t protocol, uint32_t states,
                     uint16_t ephemeral_min)
{
    struct {
        struct nlmsghdr h;
        struct inet_diag_req_v2 r;
    } req;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    /* 32 KiB: the most the kernel puts in one dump message; aligned for its headers. */
    uint32_t answer[8192];

    memset(&req, 0, sizeof(req));
    req.h.nlmsg_len = sizeof(req);
    req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.r.sdiag_family = family;
    req.r.sdiag_protocol = protocol;
    req.r.idiag_states = states;
    if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) == -1)
        return -1;
    for (;;) {
        ssize_t n = recv(fd, answer, sizeof(answer), 0);
        int rc;

        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        rc = listeners_parse_diag(l, answer, (size_t)n, protocol == IPPROTO_TCP, ephemeral_min);
        if (rc != 0)
            return rc == 1 ? 0 : -1;
    }
}

static int read_netlink(struct listeners *l, uint16_t ephemeral_min)
{
    static const uint8_t families[2] = {AF_INET, AF_INET6};
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    int rc = 0;

    if (fd == -1)
        return -1;
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        rc = diag_dump(fd, l, families[i], IPPROTO_TCP, 1u << DIAG_STATE_LISTEN, ephemeral_min);
        if (rc == 0)
            rc = diag_dump(fd, l, families[i], IPPROTO_UDP, 1u << DIAG_STATE_CLOSE, ephemeral_min);
    }
    close(fd);
    return rc;
}

static int read_proc(struct listeners *l, uint16_t ephemeral_min)
{
    int ok = 0;

    ok += read_table(l, "/proc/net/tcp", true, ephemeral_min) == 0;
    ok += read_table(l, "/proc/net/tcp6", true, ephemeral_min) == 0;
    ok += read_table(l, "/proc/net/udp", false, ephemeral_min) == 0;
    ok += read_table(l, "/proc/net/udp6", false, ephemeral_min) == 0;
    return ok > 0 ? 0 : -1;
}

int listeners_read(struct listeners *l, uint16_t ephemeral_min)
{
    listeners_clear(l);
    if (read_netlink(l, ephemeral_min) == 0) {
        l->reads_netlink++;
        return 0;
    }
    /* A half-read answer is not mixed with the tables'. */
    listeners_clear(l);
    if (read_proc(l, ephemeral_min) == -1)
        return -1;
    l->reads_proc++;
    return 0;
}

bool listeners_has(const struct listeners *l, uint8_t proto, uint16_t port)
{
    const uint8_t *map;

    if (proto == IPPROTO_TCP)
        map = l->tcp;
    else if (proto == IPPROTO_UDP)
        map = l->udp;
    else
        return false;
    return (map[port / 8] >> (port % 8)) & 1;
}
