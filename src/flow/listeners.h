/* Local listening ports: asked of the kernel through sock_diag netlink, for listening
 * sockets only, or read from /proc/net/{tcp,tcp6,udp,udp6} where netlink is refused. */
#ifndef NSTATS_LISTENERS_H
#define NSTATS_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct listeners {
    uint8_t tcp[65536 / 8];
    uint8_t udp[65536 / 8];
    /* How listeners_read got its answers, cumulative (listeners_clear keeps them). */
    uint64_t reads_netlink;
    uint64_t reads_proc;
};

/* Forgets every port. */
void listeners_clear(struct listeners *l);
/* Parses the text of one /proc/net table. TCP sockets count when in LISTEN; UDP sockets
 * count when unconnected and bound below ephemeral_min, because clients' unconnected
 * sockets sit on ephemeral ports. Malformed lines are skipped. Pure. */
void listeners_parse_proc(struct listeners *l, const char *text, bool tcp, uint16_t ephemeral_min);
/* Parses one sock_diag answer (a run of netlink messages), as listeners_parse_proc does a
 * table. Returns 1 when the dump is done (NLMSG_DONE), 0 when more follows, -1 on an error
 * message or a malformed answer. Pure. */
int listeners_parse_diag(struct listeners *l, const void *msgs, size_t len, bool tcp,
                         uint16_t ephemeral_min);
/* Replaces l with the network namespace's current listeners: through sock_diag, asking for
 * TCP sockets in LISTEN and unconnected UDP sockets only, so the cost follows the listeners,
 * not every connection on the host; through /proc where netlink is refused. Returns 0, or -1
 * if neither answered. */
int listeners_read(struct listeners *l, uint16_t ephemeral_min);
bool listeners_has(const struct listeners *l, uint8_t proto, uint16_t port);

#endif
