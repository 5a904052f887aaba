/* Interface facts from the host: the default-route interface and an interface's addresses. */
#ifndef NSTATS_IFACE_H
#define NSTATS_IFACE_H

#include <stddef.h>
#include <stdint.h>

#include "base/netaddr.h"

/* Writes the name of the interface carrying the IPv4 (else IPv6) default route into name.
 * Returns 0, or -1 with a reason in errbuf. */
int iface_default_route(char *name, size_t len, char *errbuf, size_t errlen);
/* Finds the interface of the default route in the text of /proc/net/route. Pure. */
int iface_parse_route_v4(const char *text, char *name, size_t len);
/* Fills out with up to max addresses of ifname ("any": of every interface). Returns the count,
 * or -1 with errno set. */
int iface_addresses(const char *ifname, struct netaddr *out, size_t max);

struct iface_counters {
    uint64_t rx_bytes;
    uint64_t tx_bytes;
    uint64_t rx_packets;
    uint64_t tx_packets;
};

/* Reads /sys/class/net/IFNAME/statistics. Returns 0, or -1 (no such interface, or "any"). */
int iface_counters_read(const char *ifname, struct iface_counters *out);

#endif
