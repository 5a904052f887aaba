/* Key building: decides which side is local and which port is the service. */
#include "flowkey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* TCP servers learned from SYNs, in a small direct-mapped cache: a collision only loses a hint,
 * and the port-range rule still applies, so its memory is fixed. */
#define LEARNED_SLOTS 4096
#define LEARNED_TTL_MS (30ull * 60u * 1000u)

struct learned {
    struct netaddr addr;
    uint16_t port;
    uint64_t seen_ms;
};

struct flow_keyer {
    const struct locality *loc;
    const struct listeners *listeners;
    uint16_t ephemeral_min;
    unsigned key_fields;
    unsigned n_learned;
    struct learned learned[LEARNED_SLOTS];
};

struct flow_keyer *flow_keyer_new(const struct locality *loc, const struct listeners *listeners,
                                  uint16_t ephemeral_min, unsigned key_fields)
{
    struct flow_keyer *k = xcalloc(1, sizeof(*k));

    k->loc = loc;
    k->listeners = listeners;
    k->ephemeral_min = ephemeral_min;
    k->key_fields = key_fields;
    return k;
}

void flow_keyer_free(struct flow_keyer *k)
{
    free(k);
}

static unsigned learned_slot(const struct netaddr *a, uint16_t port)
{
    return (unsigned)(netaddr_mix(a, port) >> 52) % LEARNED_SLOTS;
}

static void learn(struct flow_keyer *k, const struct netaddr *a, uint16_t port, uint64_t now_ms)
{
    struct learned *l = &k->learned[learned_slot(a, port)];

    if (l->seen_ms == 0)
        k->n_learned++;
    l->addr = *a;
    l->port = port;
    l->seen_ms = now_ms ? now_ms : 1;
}

static bool is_learned(const struct flow_keyer *k, const struct netaddr *a, uint16_t port,
                       uint64_t now_ms)
{
    const struct learned *l = &k->learned[learned_slot(a, port)];

    return l->seen_ms != 0 && l->port == port && netaddr_equal(&l->addr, a) &&
           now_ms - l->seen_ms < LEARNED_TTL_MS;
}

enum side { SIDE_NONE, SIDE_SRC, SIDE_DST };

/* Which endpoint is the server. Symmetric in src and dst, so both directions of a
 * conversation pick the same side. */
static enum side service_side(struct flow_keyer *k, const struct pktsummary *p, bool src_local,
                              bool dst_local, uint64_t now_ms)
{
    bool tcp, s_ok, d_ok, src_wins, dst_wins;

    if (!p->has_ports)
        return SIDE_NONE;
    if (k->listeners != NULL) {
        if (dst_local && listeners_has(k->listeners, p->proto, p->dport))
            return SIDE_DST;
        if (src_local && listeners_has(k->listeners, p->proto, p->sport))
            return SIDE_SRC;
    }
    /* TCP or not is a coin toss packet to packet; a SYN and a learned server are rare. */
    tcp = p->proto == IPPROTO_TCP;
    if (tcp & ((p->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN))
        learn(k, &p->dst, p->dport, now_ms);
    if (tcp & (k->n_learned > 0)) {
        if (is_learned(k, &p->dst, p->dport, now_ms))
            return SIDE_DST;
        if (is_learned(k, &p->src, p->sport, now_ms))
            return SIDE_SRC;
    }
    /* Port 0 and ports from ephemeral_min up are no service; of two services, the lower port
     * is. Computed without branches: which side that is, is unpredictable packet to packet. */
    s_ok = (p->sport != 0) & (p->sport < k->ephemeral_min);
    d_ok = (p->dport != 0) & (p->dport < k->ephemeral_min);
    src_wins = s_ok & (!d_ok | (p->sport < p->dport));
    dst_wins = d_ok & !src_wins;
    return (enum side)(src_wins * SIDE_SRC + dst_wins * SIDE_DST);
}

static void special_key(struct flow_key *key, enum flow_kind kind, enum flow_dir *dir)
{
    memset(key, 0, sizeof(*key));
    key->kind = (uint8_t)kind;
    *dir = FLOW_DIR_IN;
}

void flow_keyer_classify(struct flow_keyer *k, const struct pktsummary *p, uint64_t now_ms,
                         struct flow_key *key, enum flow_dir *dir)
{
    bool src_local, dst_local, src_is_local_side;
    const struct netaddr *ends[2];
    uint16_t ports[3]; /* by enum side */
    enum side service;

    if (p->status != DECODE_OK) {
        special_key(key, p->status == DECODE_NON_IP ? FLOW_KIND_NON_IP : FLOW_KIND_MALFORMED, dir);
        return;
    }
    locality_test_pair(k->loc, &p->src, &p->dst, &src_local, &dst_local);
    service = p->fragment ? SIDE_NONE : service_side(k, p, src_local, dst_local, now_ms);

    if (src_local != dst_local)
        src_is_local_side = src_local;
    else if (service != SIDE_NONE)
        src_is_local_side = service == SIDE_DST; /* the client is the "local" side */
    else
        src_is_local_side = netaddr_compare(&p->src, &p->dst) <= 0;

    *dir = src_is_local_side ? FLOW_DIR_OUT : FLOW_DIR_IN;
    /* Pick by index, so the copies do not branch (a conditional pick compiled to one). */
    ends[0] = &p->dst;
    ends[1] = &p->src;
    key->local = *ends[src_is_local_side];
    key->remote = *ends[!src_is_local_side];
    key->proto = p->proto;
    key->kind = (uint8_t)(p->fragment ? FLOW_KIND_FRAGMENT : FLOW_KIND_NORMAL);
    /* Every byte of the key is written (it has no padding), so it needs no clearing. */
    _Static_assert(sizeof(*key) == 2 * sizeof(key->local) + 4, "flow_key has padding");
    ports[SIDE_NONE] = 0;
    ports[SIDE_SRC] = p->sport;
    ports[SIDE_DST] = p->dport;
    key->port = ports[service];
    if (!(k->key_fields & FLOW_KEY_PORT))
        key->port = 0;
    if (!(k->key_fields & FLOW_KEY_LOCAL))
        memset(&key->local, 0, sizeof(key->local));
}

const char *flow_proto_name(uint8_t proto, char *buf, unsigned len)
{
    switch (proto) {
    case 1:
        return "icmp";
    case 2:
        return "igmp";
    case 6:
        return "tcp";
    case 17:
        return "udp";
    case 47:
        return "gre";
    case 50:
        return "esp";
    case 51:
        return "ah";
    case 58:
        return "icmpv6";
    case 132:
        return "sctp";
    default:
        snprintf(buf, len, "%u", proto);
        return buf;
    }
}
