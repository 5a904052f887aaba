/* Local listening ports, read from /proc/net/{tcp,tcp6,udp,udp6}. */
#ifndef NSTATS_LISTENERS_H
#define NSTATS_LISTENERS_H

#include <stdbool.h>
#include <stdint.h>

struct listeners {
    uint8_t tcp[65536 / 8];
    uint8_t udp[65536 / 8];
};

void listeners_clear(struct listeners *l);
/* Parses the text of one /proc/net table. TCP sockets count when in LISTEN; UDP sockets
 * count when unconnected and bound below ephemeral_min, because clients' unconnected
 * sockets sit on ephemeral ports. Malformed lines are skipped. Pure. */
void listeners_parse_proc(struct listeners *l, const char *text, bool tcp, uint16_t ephemeral_min);
/* Replaces l with the host's current listeners. Returns 0, or -1 if no table could be read. */
int listeners_read(struct listeners *l, uint16_t ephemeral_min);
bool listeners_has(const struct listeners *l, uint8_t proto, uint16_t port);

#endif
