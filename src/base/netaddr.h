/* IPv4/IPv6 addresses and prefixes as plain values, with strict parsing and formatting. */
#ifndef NSTATS_NETADDR_H
#define NSTATS_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An address; IPv4 uses bytes[0..3] and leaves the rest zero so keys compare bytewise. */
struct netaddr {
    uint8_t family; /* 4 or 6; 0 means "no address" */
    uint8_t bytes[16];
};

struct netprefix {
    struct netaddr addr; /* host bits are cleared */
    uint8_t bits;
};

/* Longest text netaddr_format writes, with the terminating NUL. */
#define NETADDR_STRLEN 46

/* Parses "198.18.0.1" or "2001:db8::1". Returns 0, or -1 if s is not an address. */
int netaddr_parse(const char *s, struct netaddr *out);
/* Writes the inet_ntop form into buf (at least NETADDR_STRLEN bytes). Returns buf. */
char *netaddr_format(const struct netaddr *a, char *buf, size_t len);
bool netaddr_equal(const struct netaddr *a, const struct netaddr *b);
/* A fast, unkeyed 64-bit mix of family and bytes, seeded with salt, for small internal tables
 * whose collisions cost a hint, not memory. Use the keyed hash_bytes where peers choose keys. */
uint64_t netaddr_mix(const struct netaddr *a, uint64_t salt);
/* Orders addresses by family, then bytes; a total order used to orient keys. */
int netaddr_compare(const struct netaddr *a, const struct netaddr *b);

/* Parses "10.0.0.0/8", "2001:db8::/32" or a bare address (a host prefix). Host bits set in
 * the address are an error, since they usually mean a typo. Returns 0 or -1. */
int netprefix_parse(const char *s, struct netprefix *out);
bool netprefix_contains(const struct netprefix *p, const struct netaddr *a);
char *netprefix_format(const struct netprefix *p, char *buf, size_t len);

#endif
