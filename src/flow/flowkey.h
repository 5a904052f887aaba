/* The accounting key of a packet: (local, remote, protocol, service port) and a direction. */
#ifndef NSTATS_FLOWKEY_H
#define NSTATS_FLOWKEY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/netaddr.h"
#include "capture/decode.h"
#include "flow/listeners.h"
#include "flow/locality.h"

/* Rows that are not ordinary (local, remote, proto, port) keys. */
enum flow_kind {
    FLOW_KIND_NORMAL = 0,
    FLOW_KIND_FRAGMENT,  /* non-first IP fragments: addresses and protocol, no port */
    FLOW_KIND_OTHER,     /* keys folded because the table was full */
    FLOW_KIND_NON_IP,    /* frames that carry no IP */
    FLOW_KIND_MALFORMED, /* frames that could not be decoded */
};

/* Compared and hashed bytewise: always build keys from a zeroed struct. */
struct flow_key {
    struct netaddr local;
    struct netaddr remote;
    uint8_t proto;
    uint8_t kind; /* enum flow_kind */
    uint16_t port;
};

enum flow_dir { FLOW_DIR_IN, FLOW_DIR_OUT };

/* What the key holds; fields left out are zero in every key. */
#define FLOW_KEY_LOCAL 0x1u
#define FLOW_KEY_PORT 0x2u
#define FLOW_KEY_ALL (FLOW_KEY_LOCAL | FLOW_KEY_PORT)

struct flow_keyer;

/* loc must outlive the keyer; listeners may be NULL (capture files: the host's sockets say
 * nothing about them) and must then outlive it too. */
struct flow_keyer *flow_keyer_new(const struct locality *loc, const struct listeners *listeners,
                                  uint16_t ephemeral_min, unsigned key_fields);
void flow_keyer_free(struct flow_keyer *k);

/* Computes the key and direction of a decoded packet. now_ms ages learned service ports. */
void flow_keyer_classify(struct flow_keyer *k, const struct pktsummary *p, uint64_t now_ms,
                         struct flow_key *key, enum flow_dir *dir);

/* "tcp", "udp", ... or the decimal protocol number, into buf (at least 4 bytes). */
const char *flow_proto_name(uint8_t proto, char *buf, unsigned len);

#endif
