/* pcapgen: writes a deterministic synthetic pcap capture and a CSV ledger of its expected totals.
 */

/*
 * The generator writes the pcap file format by hand with stdio rather than
 * through pcap_dump(): that keeps it fast enough for multi-million packet
 * captures and free of any library beyond libc, and the format is tiny
 * (a 24-byte global header, then a 16-byte header per record, all
 * little-endian with the microsecond magic 0xa1b2c3d4).
 *
 * The ledger is the independent truth that tests compare nstats against,
 * so it is computed here from the generator's own model of each packet,
 * never by decoding the frames that were written.
 */

#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define PG_ERRBUF_SIZE 256

/* 198.18.0.1 and 2001:db8::1 are the capture's local host. */
#define PG_V4_LOCAL 0xC6120001u

/*
 * Remote IPv4 peers fill 198.19.0.1-198.19.255.254 first, then
 * 198.18.128.1-198.18.255.254; peers past that capacity speak IPv6 only,
 * because the benchmarking range has no more room that stays clear of the
 * local host's half.
 */
#define PG_V4_PEER_BASE_A 0xC6130001u
#define PG_V4_PEER_COUNT_A 65534u
#define PG_V4_PEER_BASE_B 0xC6128001u
#define PG_V4_PEER_COUNT_B 32766u
#define PG_V4_PEER_CAP (PG_V4_PEER_COUNT_A + PG_V4_PEER_COUNT_B)

/* Peer indices are packed into 24 bits of a ledger key. */
#define PG_MAX_PEERS 16777215u

#define PG_ETH_HDR_LEN 14u
#define PG_VLAN_TAG_LEN 4u
#define PG_SLL_HDR_LEN 16u
#define PG_SLL2_HDR_LEN 20u
#define PG_NULL_HDR_LEN 4u
#define PG_IPV4_HDR_LEN 20u
#define PG_IPV6_HDR_LEN 40u
#define PG_TCP_HDR_LEN 20u
#define PG_UDP_HDR_LEN 8u
#define PG_ICMP_HDR_LEN 8u
#define PG_DNS_HDR_LEN 12u
#define PG_TCP_MIN_PAYLOAD 8u
#define PG_ARP_LEN 28u

/* IP lengths run 46..1500 so an Ethernet II frame spans the classic 60..1514. */
#define PG_IP_LEN_MIN 46u
#define PG_IP_LEN_MAX 1500u

/* Large enough for a QinQ Ethernet header plus a full-size IP packet. */
#define PG_FRAME_MAX 2048u

#define PG_ETHERTYPE_IPV4 0x0800u
#define PG_ETHERTYPE_IPV6 0x86DDu
#define PG_ETHERTYPE_ARP 0x0806u
#define PG_ETHERTYPE_VLAN 0x8100u
#define PG_ETHERTYPE_QINQ 0x88A8u

#define PG_IPPROTO_ICMP 1u
#define PG_IPPROTO_TCP 6u
#define PG_IPPROTO_UDP 17u
#define PG_IPPROTO_ICMPV6 58u

/* Linux packet types used in the cooked (SLL) headers. */
#define PG_SLL_HOST 0u
#define PG_SLL_BROADCAST 1u
#define PG_SLL_OTHERHOST 3u
#define PG_SLL_OUTGOING 4u

/* BSD address families of DLT_NULL; 24 is the IPv6 value NetBSD and OpenBSD write. */
#define PG_NULL_AF_INET 2u
#define PG_NULL_AF_INET6 24u

/* Concurrent connections per (peer, service): few enough that flows repeat. */
#define PG_FLOW_SLOTS 8u

#define PG_OUTBUF_SIZE (4u * 1024u * 1024u)

enum pg_linktype { PG_LT_EN10MB, PG_LT_SLL, PG_LT_SLL2, PG_LT_RAW, PG_LT_NULL };

struct pg_linktype_info {
    const char *name;
    uint32_t pcap_linktype;
};

/* Indexed by enum pg_linktype; the numbers are the LINKTYPE_* values of the file header. */
static const struct pg_linktype_info pg_linktypes[] = {
    {"en10mb", 1}, {"sll", 113}, {"sll2", 276}, {"raw", 101}, {"null", 0},
};

/* Ledger key kinds; zero is kept free so an all-zero key marks an empty hash slot. */
enum pg_kind {
    PG_KIND_NORMAL = 1,
    PG_KIND_FRAG,
    PG_KIND_TRANSIT,
    PG_KIND_NONIP,
    PG_KIND_MALFORMED
};

enum pg_proto { PG_PROTO_TCP, PG_PROTO_UDP, PG_PROTO_ICMP, PG_PROTO_NONE };

/* Service ports are stored in keys by index into this table. */
static const uint16_t pg_service_ports[] = {0, 443, 80, 53, 5201, 22, 8443, 8080, 9000};
enum pg_service {
    PG_SVC_NONE,
    PG_SVC_443,
    PG_SVC_80,
    PG_SVC_53,
    PG_SVC_5201,
    PG_SVC_22,
    PG_SVC_8443,
    PG_SVC_8080,
    PG_SVC_9000
};

struct pg_config {
    const char *out_path;
    const char *ledger_path;
    const char *linktype_name;
    uint64_t packets;
    uint64_t peers;
    uint64_t seed;
    uint64_t snaplen;
    uint64_t duration_s;
    uint64_t start_epoch;
    double vlan_frac;
    double qinq_frac;
    double ipv6_frac;
    double udp_frac;
    double inbound_frac;
    double icmp_frac;
    double nonip_frac;
    double frag_frac;
    double corrupt_frac;
    double truncate_frac;
    double transit_frac;
    bool uniform;
    bool help;
    enum pg_linktype linktype;
};

enum pg_opt_kind { PG_OPT_STRING, PG_OPT_U64, PG_OPT_FRAC, PG_OPT_FLAG };

/* One table describes every option: parsing, defaults and --help all come from it. */
struct pg_option {
    const char *name;
    const char *metavar;
    enum pg_opt_kind kind;
    size_t offset;
    const char *default_value;
    uint64_t min;
    uint64_t max;
    const char *help;
};

#define PG_OPT(field) offsetof(struct pg_config, field)

static const struct pg_option pg_options[] = {
    {"out", "FILE", PG_OPT_STRING, PG_OPT(out_path), NULL, 0, 0, "pcap file to write (required)"},
    {"ledger", "FILE", PG_OPT_STRING, PG_OPT(ledger_path), NULL, 0, 0,
     "CSV ledger of expected totals to write (required)"},
    {"packets", "N", PG_OPT_U64, PG_OPT(packets), "100000", 0, UINT64_C(1000000000000),
     "number of packets"},
    {"peers", "P", PG_OPT_U64, PG_OPT(peers), "1000", 1, PG_MAX_PEERS,
     "number of distinct remote peers"},
    {"seed", "S", PG_OPT_U64, PG_OPT(seed), "1", 0, UINT64_MAX, "PRNG seed"},
    {"linktype", "TYPE", PG_OPT_STRING, PG_OPT(linktype_name), "en10mb", 0, 0,
     "en10mb, sll, sll2, raw or null"},
    {"vlan-frac", "F", PG_OPT_FRAC, PG_OPT(vlan_frac), "0", 0, 0,
     "en10mb frames with one 802.1Q tag"},
    {"qinq-frac", "F", PG_OPT_FRAC, PG_OPT(qinq_frac), "0", 0, 0,
     "en10mb frames with 802.1ad + 802.1Q tags"},
    {"ipv6-frac", "F", PG_OPT_FRAC, PG_OPT(ipv6_frac), "0.3", 0, 0, "IPv6 share of IP packets"},
    {"udp-frac", "F", PG_OPT_FRAC, PG_OPT(udp_frac), "0.3", 0, 0, "UDP share of normal packets"},
    {"inbound-frac", "F", PG_OPT_FRAC, PG_OPT(inbound_frac), "0.3", 0, 0,
     "share of flows initiated by the remote side"},
    {"icmp-frac", "F", PG_OPT_FRAC, PG_OPT(icmp_frac), "0.01", 0, 0,
     "ICMP echo share of normal packets"},
    {"nonip-frac", "F", PG_OPT_FRAC, PG_OPT(nonip_frac), "0", 0, 0,
     "ARP frames (not for raw/null link types)"},
    {"frag-frac", "F", PG_OPT_FRAC, PG_OPT(frag_frac), "0", 0, 0, "IPv4 non-first fragments"},
    {"corrupt-frac", "F", PG_OPT_FRAC, PG_OPT(corrupt_frac), "0", 0, 0,
     "IPv4 frames with an undecodable IP header"},
    {"truncate-frac", "F", PG_OPT_FRAC, PG_OPT(truncate_frac), "0", 0, 0,
     "frames captured only 10 bytes into the IP header"},
    {"transit-frac", "F", PG_OPT_FRAC, PG_OPT(transit_frac), "0", 0, 0,
     "TCP packets between two remote peers"},
    {"snaplen", "N", PG_OPT_U64, PG_OPT(snaplen), "128", 1, 262144, "capture length limit"},
    {"duration", "SECONDS", PG_OPT_U64, PG_OPT(duration_s), "60", 0, 31536000,
     "time span of the capture"},
    {"start", "EPOCH", PG_OPT_U64, PG_OPT(start_epoch), "1700000000", 0, UINT32_MAX,
     "timestamp of the first packet"},
    {"uniform", NULL, PG_OPT_FLAG, PG_OPT(uniform), NULL, 0, 0,
     "equal packet share per peer (scrambled round robin) instead of Zipf s=1.1"},
    {"help", NULL, PG_OPT_FLAG, PG_OPT(help), NULL, 0, 0, "show this help"},
};

#define PG_NOPTIONS (sizeof(pg_options) / sizeof(pg_options[0]))

/* ---- Pseudo-random numbers ---------------------------------------------------------------- */

/*
 * xoshiro256** seeded through splitmix64: fast, well distributed, and the
 * same sequence on every platform, which rand() does not promise.
 */
struct pg_rng {
    uint64_t s[4];
};

static uint64_t pg_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

static uint64_t pg_splitmix64(uint64_t *state)
{
    *state += UINT64_C(0x9e3779b97f4a7c15);
    return pg_mix64(*state);
}

static void pg_rng_seed(struct pg_rng *rng, uint64_t seed)
{
    uint64_t state = seed;
    for (size_t i = 0; i < 4; i++) {
        rng->s[i] = pg_splitmix64(&state);
    }
}

static uint64_t pg_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t pg_rng_next(struct pg_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = pg_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = pg_rotl(s[3], 45);
    return result;
}

/* Uniform double in [0, 1) from the top 53 bits. */
static double pg_rng_unit(struct pg_rng *rng)
{
    return (double)(pg_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n); the multiply-shift bias (n / 2^32) is far below what matters here. */
static uint32_t pg_rng_below(struct pg_rng *rng, uint32_t n)
{
    return (uint32_t)(((pg_rng_next(rng) >> 32) * (uint64_t)n) >> 32);
}

/* ---- Tiny math, so the generator needs no libm --------------------------------------------- */

#define PG_LN2 0.69314718055994530942

/* Natural logarithm of a positive, normal x. */
static double pg_ln(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof(bits));
    int exponent = (int)((bits >> 52) & 0x7ff) - 1023;
    bits = (bits & UINT64_C(0x000fffffffffffff)) | UINT64_C(0x3ff0000000000000);
    double m;
    memcpy(&m, &bits, sizeof(m));
    /* With m in [1, 2), z stays below 1/3 and the atanh series converges in a few terms. */
    double z = (m - 1.0) / (m + 1.0);
    double z2 = z * z;
    double term = z;
    double sum = 0.0;
    for (int k = 1; k < 40; k += 2) {
        sum += term / k;
        term *= z2;
    }
    return 2.0 * sum + exponent * PG_LN2;
}

/* e^y for y in a modest range (|y| < 700). */
static double pg_exp(double y)
{
    /* Reducing to y = k ln2 + r with |r| <= ln2 / 2 keeps the Taylor series short. */
    double kf = y / PG_LN2;
    long k = (long)(kf < 0 ? kf - 0.5 : kf + 0.5);
    double r = y - (double)k * PG_LN2;
    double term = 1.0;
    double sum = 1.0;
    for (int n = 1; n < 20; n++) {
        term *= r / n;
        sum += term;
    }
    uint64_t bits = (uint64_t)(k + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof(scale));
    return sum * scale;
}

/* ---- Peer sampling ------------------------------------------------------------------------ */

/*
 * Zipf-like peer choice uses Walker's alias method so each draw costs one
 * random number and two table reads, whatever the number of peers. The
 * uniform mode walks the peers in a scrambled round robin instead, which
 * guarantees every peer appears once the packet count reaches the peer
 * count (that is what a "one million distinct peers" test needs).
 */
struct pg_sampler {
    uint32_t n;
    bool uniform;
    uint64_t stride;
    double *prob;
    uint32_t *alias;
};

static uint64_t pg_gcd(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int pg_sampler_init(struct pg_sampler *sp, uint32_t n, bool uniform, char *errbuf)
{
    memset(sp, 0, sizeof(*sp));
    sp->n = n;
    sp->uniform = uniform;
    if (uniform) {
        /* Any stride coprime with n visits every peer once per n packets. */
        sp->stride = UINT64_C(2654435761) % n;
        if (sp->stride == 0) {
            sp->stride = 1;
        }
        while (pg_gcd(sp->stride, n) != 1) {
            sp->stride++;
        }
        return 0;
    }

    double *scaled = malloc((size_t)n * sizeof(*scaled));
    uint32_t *small = malloc((size_t)n * sizeof(*small));
    uint32_t *large = malloc((size_t)n * sizeof(*large));
    sp->prob = malloc((size_t)n * sizeof(*sp->prob));
    sp->alias = malloc((size_t)n * sizeof(*sp->alias));
    int ret = -1;
    if (scaled == NULL || small == NULL || large == NULL || sp->prob == NULL || sp->alias == NULL) {
        snprintf(errbuf, PG_ERRBUF_SIZE, "out of memory for %" PRIu32 " peers", n);
        goto out;
    }

    double total = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        scaled[i] = pg_exp(-1.1 * pg_ln((double)i + 1.0));
        total += scaled[i];
    }
    uint32_t nsmall = 0;
    uint32_t nlarge = 0;
    for (uint32_t i = 0; i < n; i++) {
        scaled[i] = scaled[i] * n / total;
        if (scaled[i] < 1.0) {
            small[nsmall++] = i;
        } else {
            large[nlarge++] = i;
        }
    }
    while (nsmall > 0 && nlarge > 0) {
        uint32_t s = small[--nsmall];
        uint32_t l = large[--nlarge];
        sp->prob[s] = scaled[s];
        sp->alias[s] = l;
        scaled[l] = (scaled[l] + scaled[s]) - 1.0;
        if (scaled[l] < 1.0) {
            small[nsmall++] = l;
        } else {
            large[nlarge++] = l;
        }
    }
    /* Whatever is left is 1.0 up to rounding error. */
    while (nlarge > 0) {
        uint32_t l = large[--nlarge];
        sp->prob[l] = 1.0;
        sp->alias[l] = l;
    }
    while (nsmall > 0) {
        uint32_t s = small[--nsmall];
        sp->prob[s] = 1.0;
        sp->alias[s] = s;
    }
    ret = 0;
out:
    free(scaled);
    free(small);
    free(large);
    if (ret != 0) {
        free(sp->prob);
        free(sp->alias);
        sp->prob = NULL;
        sp->alias = NULL;
    }
    return ret;
}

static void pg_sampler_free(struct pg_sampler *sp)
{
    free(sp->prob);
    free(sp->alias);
}

/* The peer for packet number seq; uniform mode ignores the rng so the walk stays exact. */
static uint32_t pg_sampler_draw(const struct pg_sampler *sp, struct pg_rng *rng, uint64_t seq)
{
    if (sp->uniform) {
        return (uint32_t)(((seq % sp->n) * sp->stride) % sp->n);
    }
    uint64_t r = pg_rng_next(rng);
    uint32_t column = (uint32_t)(((r >> 32) * (uint64_t)sp->n) >> 32);
    double coin = (double)(r & 0xffffffffu) * 0x1.0p-32;
    return coin < sp->prob[column] ? column : sp->alias[column];
}

/* A second, independent peer, e.g. the server of a transit flow. */
static uint32_t pg_sampler_draw_random(const struct pg_sampler *sp, struct pg_rng *rng)
{
    if (sp->uniform) {
        return pg_rng_below(rng, sp->n);
    }
    return pg_sampler_draw(sp, rng, 0);
}

/* ---- Ledger ------------------------------------------------------------------------------- */

/*
 * Key layout (64 bits): kind:3 | v6:1 | proto:2 | service:4 | a:24 | b:24.
 * For normal and fragment keys b is the remote peer and a is unused; for
 * transit keys a is the client peer and b the server peer.
 */
static uint64_t pg_key(enum pg_kind kind, bool v6, enum pg_proto proto, enum pg_service svc,
                       uint32_t a, uint32_t b)
{
    return ((uint64_t)kind << 56) | ((uint64_t)v6 << 55) | ((uint64_t)proto << 53) |
           ((uint64_t)svc << 48) | ((uint64_t)a << 24) | (uint64_t)b;
}

static enum pg_kind pg_key_kind(uint64_t key)
{
    return (enum pg_kind)((key >> 56) & 0x7);
}

static bool pg_key_v6(uint64_t key)
{
    return ((key >> 55) & 0x1) != 0;
}

static enum pg_proto pg_key_proto(uint64_t key)
{
    return (enum pg_proto)((key >> 53) & 0x3);
}

static enum pg_service pg_key_service(uint64_t key)
{
    return (enum pg_service)((key >> 48) & 0xf);
}

static uint32_t pg_key_a(uint64_t key)
{
    return (uint32_t)((key >> 24) & 0xffffff);
}

static uint32_t pg_key_b(uint64_t key)
{
    return (uint32_t)(key & 0xffffff);
}

struct pg_ledger_row {
    uint64_t key;
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t packets_in;
    uint64_t packets_out;
};

/* Open addressing with linear probing; a zero key marks an empty slot. */
struct pg_ledger {
    struct pg_ledger_row *rows;
    size_t capacity;
    size_t count;
};

static int pg_ledger_init(struct pg_ledger *ledger, size_t capacity)
{
    ledger->rows = calloc(capacity, sizeof(*ledger->rows));
    ledger->capacity = capacity;
    ledger->count = 0;
    return ledger->rows == NULL ? -1 : 0;
}

static struct pg_ledger_row *pg_ledger_slot(struct pg_ledger_row *rows, size_t capacity,
                                            uint64_t key)
{
    size_t mask = capacity - 1;
    size_t i = (size_t)pg_mix64(key) & mask;
    while (rows[i].key != 0 && rows[i].key != key) {
        i = (i + 1) & mask;
    }
    return &rows[i];
}

static int pg_ledger_grow(struct pg_ledger *ledger)
{
    size_t capacity = ledger->capacity * 2;
    struct pg_ledger_row *rows = calloc(capacity, sizeof(*rows));
    if (rows == NULL) {
        return -1;
    }
    for (size_t i = 0; i < ledger->capacity; i++) {
        if (ledger->rows[i].key != 0) {
            *pg_ledger_slot(rows, capacity, ledger->rows[i].key) = ledger->rows[i];
        }
    }
    free(ledger->rows);
    ledger->rows = rows;
    ledger->capacity = capacity;
    return 0;
}

/* Counts one frame of len_bytes under key; outward means local (or client) to remote. */
static int pg_ledger_add(struct pg_ledger *ledger, uint64_t key, bool outward, uint32_t len_bytes)
{
    if ((ledger->count + 1) * 4 > ledger->capacity * 3 && pg_ledger_grow(ledger) != 0) {
        return -1;
    }
    struct pg_ledger_row *row = pg_ledger_slot(ledger->rows, ledger->capacity, key);
    if (row->key == 0) {
        row->key = key;
        ledger->count++;
    }
    if (outward) {
        row->bytes_out += len_bytes;
        row->packets_out++;
    } else {
        row->bytes_in += len_bytes;
        row->packets_in++;
    }
    return 0;
}

static void pg_ledger_free(struct pg_ledger *ledger)
{
    free(ledger->rows);
}

/* Biggest rows first so a person reading the ledger sees the top talkers. */
static int pg_row_cmp(const void *pa, const void *pb)
{
    const struct pg_ledger_row *a = pa;
    const struct pg_ledger_row *b = pb;
    uint64_t ta = a->bytes_in + a->bytes_out;
    uint64_t tb = b->bytes_in + b->bytes_out;
    if (ta != tb) {
        return ta > tb ? -1 : 1;
    }
    if (a->key != b->key) {
        return a->key < b->key ? -1 : 1;
    }
    return 0;
}

/* ---- Addresses ---------------------------------------------------------------------------- */

static bool pg_peer_has_v4(uint32_t peer)
{
    return peer < PG_V4_PEER_CAP;
}

static uint32_t pg_peer_v4(uint32_t peer)
{
    if (peer < PG_V4_PEER_COUNT_A) {
        return PG_V4_PEER_BASE_A + peer;
    }
    return PG_V4_PEER_BASE_B + (peer - PG_V4_PEER_COUNT_A);
}

/*
 * Peer i lives at 2001:db8:1:<i mod 2^16>:<IID>, where the interface
 * identifier is a bijective scramble of i. Real IPv6 peers (SLAAC privacy
 * addresses) differ in all 64 IID bits; a counter in the low bits instead
 * would make simple XOR-folding address hashes, like darkstat's, collide.
 */
static void pg_peer_v6(uint32_t peer, uint8_t out[16])
{
    static const uint8_t prefix[6] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01};
    uint64_t iid = pg_mix64(UINT64_C(0x6a09e667f3bcc909) + peer);
    memcpy(out, prefix, sizeof(prefix));
    out[6] = (uint8_t)(peer >> 8);
    out[7] = (uint8_t)peer;
    for (int i = 0; i < 8; i++) {
        out[8 + i] = (uint8_t)(iid >> (56 - 8 * i));
    }
}

static void pg_local_v6(uint8_t out[16])
{
    static const uint8_t local[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    memcpy(out, local, 16);
}

/* Writes an address in its 16-byte form (IPv4 in the first four bytes). */
static void pg_addr(bool v6, bool local, uint32_t peer, uint8_t out[16])
{
    if (v6) {
        if (local) {
            pg_local_v6(out);
        } else {
            pg_peer_v6(peer, out);
        }
        return;
    }
    uint32_t v4 = local ? PG_V4_LOCAL : pg_peer_v4(peer);
    memset(out, 0, 16);
    out[0] = (uint8_t)(v4 >> 24);
    out[1] = (uint8_t)(v4 >> 16);
    out[2] = (uint8_t)(v4 >> 8);
    out[3] = (uint8_t)v4;
}

static void pg_format_addr(bool v6, bool local, uint32_t peer, char *out, size_t outlen)
{
    uint8_t bytes[16];
    pg_addr(v6, local, peer, bytes);
    if (inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, out, (socklen_t)outlen) == NULL) {
        snprintf(out, outlen, "?");
    }
}

/* ---- Frame rendering ---------------------------------------------------------------------- */

static void pg_put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void pg_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void pg_put32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t pg_sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    }
    if (n & 1) {
        sum += (uint32_t)p[n - 1] << 8;
    }
    return sum;
}

static uint16_t pg_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* How the link layer of one frame looks. */
struct pg_link {
    uint16_t ethertype;
    unsigned ntags;
    uint16_t vid[2];
    uint8_t sll_pkttype;
    uint8_t src_mac[6];
    uint8_t dst_mac[6];
};

static size_t pg_put_link(uint8_t *p, enum pg_linktype lt, const struct pg_link *link)
{
    switch (lt) {
    case PG_LT_EN10MB: {
        memcpy(p, link->dst_mac, 6);
        memcpy(p + 6, link->src_mac, 6);
        size_t off = 12;
        if (link->ntags == 2) {
            pg_put16(p + off, PG_ETHERTYPE_QINQ);
            pg_put16(p + off + 2, link->vid[0]);
            off += 4;
        }
        if (link->ntags >= 1) {
            pg_put16(p + off, PG_ETHERTYPE_VLAN);
            pg_put16(p + off + 2, link->vid[link->ntags - 1]);
            off += 4;
        }
        pg_put16(p + off, link->ethertype);
        return off + 2;
    }
    case PG_LT_SLL:
        pg_put16(p, link->sll_pkttype);
        pg_put16(p + 2, 1); /* ARPHRD_ETHER */
        pg_put16(p + 4, 6);
        memcpy(p + 6, link->src_mac, 6);
        pg_put16(p + 12, 0);
        pg_put16(p + 14, link->ethertype);
        return PG_SLL_HDR_LEN;
    case PG_LT_SLL2:
        pg_put16(p, link->ethertype);
        pg_put16(p + 2, 0);
        pg_put32(p + 4, 2); /* interface index */
        pg_put16(p + 8, 1); /* ARPHRD_ETHER */
        p[10] = link->sll_pkttype;
        p[11] = 6;
        memcpy(p + 12, link->src_mac, 6);
        pg_put16(p + 18, 0);
        return PG_SLL2_HDR_LEN;
    case PG_LT_RAW:
        return 0;
    case PG_LT_NULL:
        /* The family is in the writer's byte order, which is the file's: little-endian. */
        pg_put32le(p, link->ethertype == PG_ETHERTYPE_IPV6 ? PG_NULL_AF_INET6 : PG_NULL_AF_INET);
        return PG_NULL_HDR_LEN;
    }
    return 0;
}

/* One IP packet to render; payload bytes past the headers are zero. */
struct pg_ip {
    bool v6;
    uint8_t src[16];
    uint8_t dst[16];
    uint8_t proto;
    uint16_t sport;
    uint16_t dport;
    uint8_t icmp_type;
    uint32_t ip_len;
    uint16_t ip_id;
    /* IPv4 flags and fragment offset; a non-zero offset means no L4 header follows. */
    uint16_t frag_field;
    uint32_t seq;
};

static uint32_t pg_pseudo_sum(const struct pg_ip *ip, uint32_t l4_len)
{
    uint32_t sum = 0;
    if (ip->v6) {
        sum = pg_sum16(ip->src, 16, sum);
        sum = pg_sum16(ip->dst, 16, sum);
    } else {
        sum = pg_sum16(ip->src, 4, sum);
        sum = pg_sum16(ip->dst, 4, sum);
    }
    return sum + ip->proto + (l4_len & 0xffff) + (l4_len >> 16);
}

/* Writes IP and L4 headers at p; checksums are correct because the payload is all zeros. */
static void pg_put_ip(uint8_t *p, const struct pg_ip *ip)
{
    size_t hlen;
    if (ip->v6) {
        hlen = PG_IPV6_HDR_LEN;
        pg_put32(p, 0x60000000u);
        pg_put16(p + 4, ip->ip_len - PG_IPV6_HDR_LEN);
        p[6] = ip->proto;
        p[7] = 64;
        memcpy(p + 8, ip->src, 16);
        memcpy(p + 24, ip->dst, 16);
    } else {
        hlen = PG_IPV4_HDR_LEN;
        p[0] = 0x45;
        p[1] = 0;
        pg_put16(p + 2, ip->ip_len);
        pg_put16(p + 4, ip->ip_id);
        pg_put16(p + 6, ip->frag_field);
        p[8] = 64;
        p[9] = ip->proto;
        pg_put16(p + 10, 0);
        memcpy(p + 12, ip->src, 4);
        memcpy(p + 16, ip->dst, 4);
        pg_put16(p + 10, pg_fold(pg_sum16(p, PG_IPV4_HDR_LEN, 0)));
        if ((ip->frag_field & 0x1fff) != 0) {
            return;
        }
    }

    uint8_t *l4 = p + hlen;
    uint32_t l4_len = ip->ip_len - (uint32_t)hlen;
    switch (ip->proto) {
    case PG_IPPROTO_TCP:
        pg_put16(l4, ip->sport);
        pg_put16(l4 + 2, ip->dport);
        pg_put32(l4 + 4, ip->seq);
        pg_put32(l4 + 8, ip->seq ^ 0x5a5a5a5au);
        l4[12] = (PG_TCP_HDR_LEN / 4) << 4;
        l4[13] = 0x10; /* ACK */
        pg_put16(l4 + 14, 502);
        pg_put16(l4 + 16, 0);
        pg_put16(l4 + 18, 0);
        pg_put16(l4 + 16, pg_fold(pg_sum16(l4, PG_TCP_HDR_LEN, pg_pseudo_sum(ip, l4_len))));
        break;
    case PG_IPPROTO_UDP: {
        pg_put16(l4, ip->sport);
        pg_put16(l4 + 2, ip->dport);
        pg_put16(l4 + 4, l4_len);
        pg_put16(l4 + 6, 0);
        uint16_t csum = pg_fold(pg_sum16(l4, PG_UDP_HDR_LEN, pg_pseudo_sum(ip, l4_len)));
        /* Zero means "no checksum" in UDP, so a computed zero is sent as all ones. */
        pg_put16(l4 + 6, csum == 0 ? 0xffff : csum);
        break;
    }
    case PG_IPPROTO_ICMP:
    case PG_IPPROTO_ICMPV6: {
        l4[0] = ip->icmp_type;
        l4[1] = 0;
        pg_put16(l4 + 2, 0);
        pg_put16(l4 + 4, ip->sport); /* echo identifier */
        pg_put16(l4 + 6, (uint16_t)ip->seq);
        uint32_t sum = ip->v6 ? pg_pseudo_sum(ip, l4_len) : 0;
        pg_put16(l4 + 2, pg_fold(pg_sum16(l4, PG_ICMP_HDR_LEN, sum)));
        break;
    }
    default:
        break;
    }
}

/* ---- Packet model ------------------------------------------------------------------------- */

struct pg_gen {
    const struct pg_config *cfg;
    struct pg_rng rng;
    struct pg_sampler sampler;
    struct pg_ledger ledger;
    /* Cumulative thresholds over one uniform draw, so the special kinds never overlap. */
    double t_nonip;
    double t_frag;
    double t_corrupt;
    double t_truncate;
    double t_transit;
    uint8_t frame[PG_FRAME_MAX];
    uint64_t total_packets;
    uint64_t total_bytes;
};

/* The rendered frame and how the ledger counts it. */
struct pg_result {
    uint32_t link_len;
    uint32_t len;
    uint32_t caplen;
    uint64_t key;
    bool outward;
};

static const uint8_t pg_mac_local[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t pg_mac_gateway[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xfe};
static const uint8_t pg_mac_broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void pg_link_defaults(struct pg_gen *g, struct pg_link *link, uint16_t ethertype,
                             bool outgoing)
{
    memset(link, 0, sizeof(*link));
    link->ethertype = ethertype;
    link->sll_pkttype = outgoing ? PG_SLL_OUTGOING : PG_SLL_HOST;
    memcpy(link->src_mac, outgoing ? pg_mac_local : pg_mac_gateway, 6);
    memcpy(link->dst_mac, outgoing ? pg_mac_gateway : pg_mac_local, 6);
    if (g->cfg->linktype == PG_LT_EN10MB) {
        double u = pg_rng_unit(&g->rng);
        if (u < g->cfg->qinq_frac) {
            link->ntags = 2;
            link->vid[0] = (uint16_t)(1 + pg_rng_below(&g->rng, 4094));
            link->vid[1] = (uint16_t)(1 + pg_rng_below(&g->rng, 4094));
        } else if (u < g->cfg->qinq_frac + g->cfg->vlan_frac) {
            link->ntags = 1;
            link->vid[0] = (uint16_t)(1 + pg_rng_below(&g->rng, 4094));
        }
    }
}

/* A random IP length between the header minimum and 1500, consistent with the frame. */
static uint32_t pg_ip_len(struct pg_gen *g, uint32_t min_len)
{
    if (min_len < PG_IP_LEN_MIN) {
        min_len = PG_IP_LEN_MIN;
    }
    return min_len + pg_rng_below(&g->rng, PG_IP_LEN_MAX - min_len + 1);
}

/* Frame length and capture length for a frame whose link header is link_len bytes. */
static void pg_finish(struct pg_gen *g, struct pg_result *res, size_t link_len, uint32_t ip_len)
{
    res->link_len = (uint32_t)link_len;
    res->len = (uint32_t)link_len + ip_len;
    res->caplen = res->len < g->cfg->snaplen ? res->len : (uint32_t)g->cfg->snaplen;
}

/* An ephemeral port that stays the same for one connection slot of one flow. */
static uint16_t pg_ephemeral(const struct pg_gen *g, uint64_t flow, bool remote_client)
{
    uint64_t h = pg_mix64(flow ^ pg_mix64(g->cfg->seed + UINT64_C(0x51ed270b27b4a1c3)));
    /* Linux's default ip_local_port_range is 32768-60999; other clients use up to 65535. */
    uint16_t port =
        remote_client ? (uint16_t)(32768 + h % 32768) : (uint16_t)(32768 + h % (60999 - 32768 + 1));
    /* tshark decodes UDP 54328 as Elasticsearch discovery and calls zero payloads malformed. */
    return port == 54328 ? 54329 : port;
}

static enum pg_service pg_pick_outbound_service(struct pg_gen *g, enum pg_proto proto)
{
    uint32_t r = pg_rng_below(&g->rng, 100);
    if (proto == PG_PROTO_UDP) {
        return r < 50 ? PG_SVC_53 : (r < 85 ? PG_SVC_443 : PG_SVC_5201);
    }
    if (r < 50) {
        return PG_SVC_443;
    }
    if (r < 70) {
        return PG_SVC_80;
    }
    if (r < 80) {
        return PG_SVC_8443;
    }
    return r < 90 ? PG_SVC_22 : PG_SVC_5201;
}

static uint8_t pg_ipproto(enum pg_proto proto, bool v6)
{
    switch (proto) {
    case PG_PROTO_TCP:
        return PG_IPPROTO_TCP;
    case PG_PROTO_UDP:
        return PG_IPPROTO_UDP;
    case PG_PROTO_ICMP:
        return v6 ? PG_IPPROTO_ICMPV6 : PG_IPPROTO_ICMP;
    case PG_PROTO_NONE:
        break;
    }
    return 0;
}

static size_t pg_min_ip_len(bool v6, enum pg_proto proto)
{
    size_t hlen = v6 ? PG_IPV6_HDR_LEN : PG_IPV4_HDR_LEN;
    switch (proto) {
    case PG_PROTO_TCP:
        /* Application decoders (SSH on port 22) reject zero-filled payloads of 1-4 bytes. */
        return hlen + PG_TCP_HDR_LEN + PG_TCP_MIN_PAYLOAD;
    case PG_PROTO_UDP:
        /* Room for a DNS header, so decoders do not call port 53 datagrams malformed. */
        return hlen + PG_UDP_HDR_LEN + PG_DNS_HDR_LEN;
    case PG_PROTO_ICMP:
        return hlen + PG_ICMP_HDR_LEN;
    case PG_PROTO_NONE:
        break;
    }
    return hlen;
}

/* A packet of a flow between the local host and a remote peer, in either direction. */
static void pg_make_normal(struct pg_gen *g, uint64_t seq, struct pg_result *res)
{
    const struct pg_config *cfg = g->cfg;
    uint32_t peer = pg_sampler_draw(&g->sampler, &g->rng, seq);
    bool v6 = pg_rng_unit(&g->rng) < cfg->ipv6_frac || !pg_peer_has_v4(peer);
    double u = pg_rng_unit(&g->rng);
    enum pg_proto proto = u < cfg->icmp_frac                   ? PG_PROTO_ICMP
                          : u < cfg->icmp_frac + cfg->udp_frac ? PG_PROTO_UDP
                                                               : PG_PROTO_TCP;
    bool remote_client = pg_rng_unit(&g->rng) < cfg->inbound_frac;
    bool outward = (pg_rng_next(&g->rng) & 1) != 0;

    enum pg_service svc = PG_SVC_NONE;
    if (proto != PG_PROTO_ICMP) {
        if (remote_client) {
            svc = proto == PG_PROTO_TCP ? PG_SVC_8080 : PG_SVC_9000;
        } else {
            svc = pg_pick_outbound_service(g, proto);
        }
    }
    uint32_t slot = pg_rng_below(&g->rng, PG_FLOW_SLOTS);
    uint64_t flow =
        pg_key(PG_KIND_NORMAL, v6, proto, svc, slot, peer) ^ ((uint64_t)remote_client << 63);
    uint16_t eph = pg_ephemeral(g, flow, remote_client);
    uint16_t svc_port = pg_service_ports[svc];

    struct pg_ip ip;
    memset(&ip, 0, sizeof(ip));
    ip.v6 = v6;
    ip.proto = pg_ipproto(proto, v6);
    pg_addr(v6, outward, peer, ip.src);
    pg_addr(v6, !outward, peer, ip.dst);
    /* The server side of the flow carries the service port. */
    bool local_is_server = remote_client;
    bool src_is_server = outward == local_is_server;
    ip.sport = src_is_server ? svc_port : eph;
    ip.dport = src_is_server ? eph : svc_port;
    if (proto == PG_PROTO_ICMP) {
        /* The flow's initiator sends echo requests, the other side replies. */
        bool request = !src_is_server;
        ip.icmp_type = v6 ? (request ? 128 : 129) : (request ? 8 : 0);
        ip.sport = eph;
    }
    ip.ip_len = pg_ip_len(g, (uint32_t)pg_min_ip_len(v6, proto));
    ip.ip_id = (uint16_t)pg_rng_next(&g->rng);
    ip.frag_field = 0x4000; /* DF */
    ip.seq = (uint32_t)pg_rng_next(&g->rng);

    struct pg_link link;
    pg_link_defaults(g, &link, v6 ? PG_ETHERTYPE_IPV6 : PG_ETHERTYPE_IPV4, outward);
    size_t link_len = pg_put_link(g->frame, cfg->linktype, &link);
    pg_put_ip(g->frame + link_len, &ip);
    pg_finish(g, res, link_len, ip.ip_len);
    res->key = pg_key(PG_KIND_NORMAL, v6, proto, svc, 0, peer);
    res->outward = outward;
}

/* A non-first IPv4 fragment: it carries no L4 header, so it has no ports. */
static void pg_make_frag(struct pg_gen *g, uint64_t seq, struct pg_result *res)
{
    const struct pg_config *cfg = g->cfg;
    uint32_t peer = pg_sampler_draw(&g->sampler, &g->rng, seq) % PG_V4_PEER_CAP;
    enum pg_proto proto = pg_rng_unit(&g->rng) < cfg->udp_frac ? PG_PROTO_UDP : PG_PROTO_TCP;
    bool outward = (pg_rng_next(&g->rng) & 1) != 0;

    struct pg_ip ip;
    memset(&ip, 0, sizeof(ip));
    ip.proto = pg_ipproto(proto, false);
    pg_addr(false, outward, peer, ip.src);
    pg_addr(false, !outward, peer, ip.dst);
    ip.ip_len = pg_ip_len(g, PG_IP_LEN_MIN);
    ip.ip_id = (uint16_t)pg_rng_next(&g->rng);
    /* Offsets up to 7000 * 8 bytes keep offset + length under 65535. */
    bool more = (pg_rng_next(&g->rng) & 1) != 0;
    ip.frag_field = (uint16_t)((more ? 0x2000 : 0) | (1 + pg_rng_below(&g->rng, 7000)));
    if (more) {
        /* Every fragment but the last carries a multiple of 8 payload bytes. */
        ip.ip_len = PG_IPV4_HDR_LEN + ((ip.ip_len - PG_IPV4_HDR_LEN) & ~7u);
    }

    struct pg_link link;
    pg_link_defaults(g, &link, PG_ETHERTYPE_IPV4, outward);
    size_t link_len = pg_put_link(g->frame, cfg->linktype, &link);
    pg_put_ip(g->frame + link_len, &ip);
    pg_finish(g, res, link_len, ip.ip_len);
    res->key = pg_key(PG_KIND_FRAG, false, proto, PG_SVC_NONE, 0, peer);
    res->outward = outward;
}

/* TCP between two remote peers, e.g. seen on a bridge or in promiscuous mode. */
static void pg_make_transit(struct pg_gen *g, uint64_t seq, struct pg_result *res)
{
    const struct pg_config *cfg = g->cfg;
    uint32_t client = pg_sampler_draw(&g->sampler, &g->rng, seq);
    uint32_t server = pg_sampler_draw_random(&g->sampler, &g->rng);
    if (server == client) {
        server = (server + 1) % g->sampler.n;
    }
    bool v6 =
        pg_rng_unit(&g->rng) < cfg->ipv6_frac || !pg_peer_has_v4(client) || !pg_peer_has_v4(server);
    bool outward = (pg_rng_next(&g->rng) & 1) != 0;
    uint32_t slot = pg_rng_below(&g->rng, PG_FLOW_SLOTS);
    uint64_t flow = pg_key(PG_KIND_TRANSIT, v6, PG_PROTO_TCP, PG_SVC_443, client, server) ^
                    ((uint64_t)slot << 59);
    uint16_t eph = pg_ephemeral(g, flow, true);

    struct pg_ip ip;
    memset(&ip, 0, sizeof(ip));
    ip.v6 = v6;
    ip.proto = PG_IPPROTO_TCP;
    pg_addr(v6, false, outward ? client : server, ip.src);
    pg_addr(v6, false, outward ? server : client, ip.dst);
    ip.sport = outward ? eph : 443;
    ip.dport = outward ? 443 : eph;
    ip.ip_len = pg_ip_len(g, (uint32_t)pg_min_ip_len(v6, PG_PROTO_TCP));
    ip.ip_id = (uint16_t)pg_rng_next(&g->rng);
    ip.frag_field = 0x4000;
    ip.seq = (uint32_t)pg_rng_next(&g->rng);

    struct pg_link link;
    pg_link_defaults(g, &link, v6 ? PG_ETHERTYPE_IPV6 : PG_ETHERTYPE_IPV4, false);
    static const uint8_t mac_a[6] = {0x02, 0x00, 0x00, 0x00, 0x01, 0x0a};
    static const uint8_t mac_b[6] = {0x02, 0x00, 0x00, 0x00, 0x01, 0x0b};
    memcpy(link.src_mac, outward ? mac_a : mac_b, 6);
    memcpy(link.dst_mac, outward ? mac_b : mac_a, 6);
    link.sll_pkttype = PG_SLL_OTHERHOST;
    size_t link_len = pg_put_link(g->frame, cfg->linktype, &link);
    pg_put_ip(g->frame + link_len, &ip);
    pg_finish(g, res, link_len, ip.ip_len);
    res->key = pg_key(PG_KIND_TRANSIT, v6, PG_PROTO_TCP, PG_SVC_443, client, server);
    res->outward = outward;
}

/* An ARP request from the local host for a peer. */
static void pg_make_nonip(struct pg_gen *g, uint64_t seq, struct pg_result *res)
{
    uint32_t peer = pg_sampler_draw(&g->sampler, &g->rng, seq) % PG_V4_PEER_CAP;
    struct pg_link link;
    pg_link_defaults(g, &link, PG_ETHERTYPE_ARP, true);
    memcpy(link.dst_mac, pg_mac_broadcast, 6);
    link.sll_pkttype = PG_SLL_BROADCAST;
    size_t link_len = pg_put_link(g->frame, g->cfg->linktype, &link);

    uint8_t *arp = g->frame + link_len;
    uint8_t addr[16];
    pg_put16(arp, 1);                     /* hardware: Ethernet */
    pg_put16(arp + 2, PG_ETHERTYPE_IPV4); /* protocol: IPv4 */
    arp[4] = 6;
    arp[5] = 4;
    pg_put16(arp + 6, 1); /* request */
    memcpy(arp + 8, pg_mac_local, 6);
    pg_addr(false, true, 0, addr);
    memcpy(arp + 14, addr, 4);
    memset(arp + 18, 0, 6);
    pg_addr(false, false, peer, addr);
    memcpy(arp + 24, addr, 4);

    pg_finish(g, res, link_len, PG_ARP_LEN);
    res->key = pg_key(PG_KIND_NONIP, false, PG_PROTO_NONE, PG_SVC_NONE, 0, 0);
    res->outward = false;
}

/* An IPv4-labelled frame whose IP header cannot be decoded: IHL below 5 or version 7. */
static void pg_make_corrupt(struct pg_gen *g, struct pg_result *res)
{
    bool outward = (pg_rng_next(&g->rng) & 1) != 0;
    struct pg_link link;
    pg_link_defaults(g, &link, PG_ETHERTYPE_IPV4, outward);
    size_t link_len = pg_put_link(g->frame, g->cfg->linktype, &link);
    uint32_t ip_len = pg_ip_len(g, PG_IP_LEN_MIN);
    pg_finish(g, res, link_len, ip_len);

    uint8_t *ip = g->frame + link_len;
    size_t garbage = res->caplen > link_len ? res->caplen - link_len : 0;
    for (size_t i = 0; i < garbage; i += 8) {
        uint64_t r = pg_rng_next(&g->rng);
        for (size_t j = 0; j < 8 && i + j < garbage; j++) {
            ip[i + j] = (uint8_t)(r >> (8 * j));
        }
    }
    if (garbage > 0) {
        if (pg_rng_next(&g->rng) & 1) {
            ip[0] = (uint8_t)(0x40 | pg_rng_below(&g->rng, 5));
        } else {
            ip[0] = (uint8_t)(0x70 | (ip[0] & 0x0f));
        }
    }
    res->key = pg_key(PG_KIND_MALFORMED, false, PG_PROTO_NONE, PG_SVC_NONE, 0, 0);
    res->outward = false;
}

/* A normal packet whose capture stops 10 bytes into the IP header; len stays whole. */
static void pg_make_truncated(struct pg_gen *g, uint64_t seq, struct pg_result *res)
{
    pg_make_normal(g, seq, res);
    uint32_t cut = res->link_len + 10;
    if (res->caplen > cut) {
        res->caplen = cut;
    }
    res->key = pg_key(PG_KIND_MALFORMED, false, PG_PROTO_NONE, PG_SVC_NONE, 0, 0);
    res->outward = false;
}

/* One packet: pick its kind, render it into g->frame and count it in the ledger. */
static int pg_generate(struct pg_gen *g, uint64_t seq, struct pg_result *res)
{
    double u = pg_rng_unit(&g->rng);
    if (u < g->t_nonip) {
        pg_make_nonip(g, seq, res);
    } else if (u < g->t_frag) {
        pg_make_frag(g, seq, res);
    } else if (u < g->t_corrupt) {
        pg_make_corrupt(g, res);
    } else if (u < g->t_truncate) {
        pg_make_truncated(g, seq, res);
    } else if (u < g->t_transit) {
        pg_make_transit(g, seq, res);
    } else {
        pg_make_normal(g, seq, res);
    }
    g->total_packets++;
    g->total_bytes += res->len;
    return pg_ledger_add(&g->ledger, res->key, res->outward, res->len);
}

/* ---- Output ------------------------------------------------------------------------------- */

/* A private output buffer: one fwrite per few megabytes instead of two per packet. */
struct pg_out {
    FILE *fp;
    uint8_t *buf;
    size_t used;
};

static int pg_out_flush(struct pg_out *out)
{
    if (out->used > 0 && fwrite(out->buf, 1, out->used, out->fp) != out->used) {
        return -1;
    }
    out->used = 0;
    return 0;
}

static int pg_out_write(struct pg_out *out, const void *data, size_t len)
{
    if (out->used + len > PG_OUTBUF_SIZE && pg_out_flush(out) != 0) {
        return -1;
    }
    memcpy(out->buf + out->used, data, len);
    out->used += len;
    return 0;
}

static int pg_write_file_header(struct pg_out *out, const struct pg_config *cfg)
{
    uint8_t h[24];
    pg_put32le(h, 0xa1b2c3d4u);
    h[4] = 2; /* version 2.4, little-endian */
    h[5] = 0;
    h[6] = 4;
    h[7] = 0;
    pg_put32le(h + 8, 0);  /* thiszone */
    pg_put32le(h + 12, 0); /* sigfigs */
    pg_put32le(h + 16, (uint32_t)cfg->snaplen);
    pg_put32le(h + 20, pg_linktypes[cfg->linktype].pcap_linktype);
    return pg_out_write(out, h, sizeof(h));
}

static int pg_write_record(struct pg_out *out, uint64_t ts_us, const uint8_t *frame,
                           const struct pg_result *res)
{
    uint8_t h[16];
    pg_put32le(h, (uint32_t)(ts_us / 1000000u));
    pg_put32le(h + 4, (uint32_t)(ts_us % 1000000u));
    pg_put32le(h + 8, res->caplen);
    pg_put32le(h + 12, res->len);
    if (pg_out_write(out, h, sizeof(h)) != 0) {
        return -1;
    }
    return pg_out_write(out, frame, res->caplen);
}

static const char *pg_proto_name(enum pg_kind kind, enum pg_proto proto, bool v6)
{
    if (kind == PG_KIND_NONIP) {
        return "non-ip";
    }
    if (kind == PG_KIND_MALFORMED) {
        return "malformed";
    }
    switch (proto) {
    case PG_PROTO_TCP:
        return "tcp";
    case PG_PROTO_UDP:
        return "udp";
    case PG_PROTO_ICMP:
        return v6 ? "icmpv6" : "icmp";
    case PG_PROTO_NONE:
        break;
    }
    return "?";
}

static int pg_write_ledger(const struct pg_ledger *ledger, const char *path, char *errbuf)
{
    struct pg_ledger_row *rows = malloc((ledger->count + 1) * sizeof(*rows));
    FILE *fp = NULL;
    int ret = -1;
    if (rows == NULL) {
        snprintf(errbuf, PG_ERRBUF_SIZE, "out of memory sorting %zu ledger rows", ledger->count);
        goto out;
    }
    size_t n = 0;
    for (size_t i = 0; i < ledger->capacity; i++) {
        if (ledger->rows[i].key != 0) {
            rows[n++] = ledger->rows[i];
        }
    }
    qsort(rows, n, sizeof(*rows), pg_row_cmp);

    fp = fopen(path, "w");
    if (fp == NULL) {
        snprintf(errbuf, PG_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        goto out;
    }
    fputs("local,remote,proto,port,bytes_in,bytes_out,packets_in,packets_out\n", fp);
    for (size_t i = 0; i < n; i++) {
        uint64_t key = rows[i].key;
        enum pg_kind kind = pg_key_kind(key);
        bool v6 = pg_key_v6(key);
        char local[INET6_ADDRSTRLEN] = "none";
        char remote[INET6_ADDRSTRLEN] = "none";
        char port[8] = "0";
        switch (kind) {
        case PG_KIND_NORMAL:
        case PG_KIND_FRAG:
            pg_format_addr(v6, true, 0, local, sizeof(local));
            pg_format_addr(v6, false, pg_key_b(key), remote, sizeof(remote));
            break;
        case PG_KIND_TRANSIT:
            pg_format_addr(v6, false, pg_key_a(key), local, sizeof(local));
            pg_format_addr(v6, false, pg_key_b(key), remote, sizeof(remote));
            break;
        case PG_KIND_NONIP:
        case PG_KIND_MALFORMED:
            break;
        }
        if (kind == PG_KIND_FRAG) {
            snprintf(port, sizeof(port), "frag");
        } else {
            snprintf(port, sizeof(port), "%u", (unsigned)pg_service_ports[pg_key_service(key)]);
        }
        fprintf(fp, "%s,%s,%s,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", local, remote,
                pg_proto_name(kind, pg_key_proto(key), v6), port, rows[i].bytes_in,
                rows[i].bytes_out, rows[i].packets_in, rows[i].packets_out);
    }
    if (ferror(fp)) {
        snprintf(errbuf, PG_ERRBUF_SIZE, "%s: write error", path);
        goto out;
    }
    ret = 0;
out:
    if (fp != NULL && fclose(fp) != 0 && ret == 0) {
        snprintf(errbuf, PG_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        ret = -1;
    }
    free(rows);
    return ret;
}

/* ---- Command line ------------------------------------------------------------------------- */

static void pg_usage(FILE *fp)
{
    fprintf(fp, "usage: pcapgen --out FILE --ledger FILE [options]\n\n"
                "Writes a deterministic synthetic pcap capture and a CSV ledger of the\n"
                "per-key totals (local,remote,proto,port) a traffic accountant must report.\n\n");
    for (size_t i = 0; i < PG_NOPTIONS; i++) {
        const struct pg_option *opt = &pg_options[i];
        char left[40];
        snprintf(left, sizeof(left), "--%s%s%s", opt->name, opt->metavar ? " " : "",
                 opt->metavar ? opt->metavar : "");
        fprintf(fp, "  %-24s %s", left, opt->help);
        if (opt->default_value != NULL) {
            fprintf(fp, " [%s]", opt->default_value);
        }
        fputc('\n', fp);
    }
}

static int pg_parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9') {
        return -1;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') {
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

static int pg_set_option(struct pg_config *cfg, const struct pg_option *opt, const char *value,
                         char *errbuf)
{
    void *field = (char *)cfg + opt->offset;
    switch (opt->kind) {
    case PG_OPT_STRING:
        *(const char **)field = value;
        return 0;
    case PG_OPT_U64: {
        uint64_t v;
        if (pg_parse_u64(value, &v) != 0 || v < opt->min || v > opt->max) {
            snprintf(errbuf, PG_ERRBUF_SIZE,
                     "--%s: expected an integer in %" PRIu64 "..%" PRIu64 ", got '%s'", opt->name,
                     opt->min, opt->max, value);
            return -1;
        }
        *(uint64_t *)field = v;
        return 0;
    }
    case PG_OPT_FRAC: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (errno != 0 || end == value || *end != '\0' || !(v >= 0.0 && v <= 1.0)) {
            snprintf(errbuf, PG_ERRBUF_SIZE, "--%s: expected a fraction in 0..1, got '%s'",
                     opt->name, value);
            return -1;
        }
        *(double *)field = v;
        return 0;
    }
    case PG_OPT_FLAG:
        *(bool *)field = true;
        return 0;
    }
    return -1;
}

static int pg_parse_args(struct pg_config *cfg, int argc, char **argv, char *errbuf)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < PG_NOPTIONS; i++) {
        if (pg_options[i].default_value != NULL &&
            pg_set_option(cfg, &pg_options[i], pg_options[i].default_value, errbuf) != 0) {
            return -1;
        }
    }

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0) {
            snprintf(errbuf, PG_ERRBUF_SIZE, "unexpected argument '%s'", arg);
            return -1;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        const struct pg_option *opt = NULL;
        for (size_t j = 0; j < PG_NOPTIONS; j++) {
            if (strlen(pg_options[j].name) == name_len &&
                strncmp(pg_options[j].name, name, name_len) == 0) {
                opt = &pg_options[j];
                break;
            }
        }
        if (opt == NULL) {
            snprintf(errbuf, PG_ERRBUF_SIZE, "unknown option '%s'", arg);
            return -1;
        }
        /* Flags get an empty value so every option goes through one setter. */
        const char *value = "";
        if (opt->kind == PG_OPT_FLAG) {
            if (eq != NULL) {
                snprintf(errbuf, PG_ERRBUF_SIZE, "--%s takes no value", opt->name);
                return -1;
            }
        } else if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            snprintf(errbuf, PG_ERRBUF_SIZE, "--%s needs a value", opt->name);
            return -1;
        }
        if (pg_set_option(cfg, opt, value, errbuf) != 0) {
            return -1;
        }
    }
    if (cfg->help) {
        return 0;
    }

    if (cfg->out_path == NULL || cfg->ledger_path == NULL) {
        snprintf(errbuf, PG_ERRBUF_SIZE, "--out and --ledger are required");
        return -1;
    }
    size_t lt;
    for (lt = 0; lt < sizeof(pg_linktypes) / sizeof(pg_linktypes[0]); lt++) {
        if (strcmp(pg_linktypes[lt].name, cfg->linktype_name) == 0) {
            break;
        }
    }
    if (lt == sizeof(pg_linktypes) / sizeof(pg_linktypes[0])) {
        snprintf(errbuf, PG_ERRBUF_SIZE, "--linktype: unknown link type '%s'", cfg->linktype_name);
        return -1;
    }
    cfg->linktype = (enum pg_linktype)lt;
    if (cfg->vlan_frac + cfg->qinq_frac > 1.0) {
        snprintf(errbuf, PG_ERRBUF_SIZE, "--vlan-frac + --qinq-frac must not exceed 1");
        return -1;
    }
    if (cfg->icmp_frac + cfg->udp_frac > 1.0) {
        snprintf(errbuf, PG_ERRBUF_SIZE, "--icmp-frac + --udp-frac must not exceed 1");
        return -1;
    }
    if (cfg->nonip_frac + cfg->frag_frac + cfg->corrupt_frac + cfg->truncate_frac +
            cfg->transit_frac >
        1.0) {
        snprintf(errbuf, PG_ERRBUF_SIZE,
                 "--nonip/frag/corrupt/truncate/transit fractions must not add up past 1");
        return -1;
    }
    if (cfg->transit_frac > 0 && cfg->peers < 2) {
        snprintf(errbuf, PG_ERRBUF_SIZE, "--transit-frac needs at least 2 peers");
        return -1;
    }
    if (cfg->start_epoch + cfg->duration_s > UINT32_MAX) {
        snprintf(errbuf, PG_ERRBUF_SIZE, "--start + --duration must fit a 32-bit timestamp");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    char errbuf[PG_ERRBUF_SIZE] = "";
    struct pg_config cfg;
    if (pg_parse_args(&cfg, argc, argv, errbuf) != 0) {
        fprintf(stderr, "pcapgen: %s\n", errbuf);
        pg_usage(stderr);
        return 2;
    }
    if (cfg.help) {
        pg_usage(stdout);
        return 0;
    }
    if (cfg.snaplen < 96) {
        fprintf(stderr,
                "pcapgen: warning: snaplen %" PRIu64
                " may cut L4 headers; the ledger still counts those packets normally\n",
                cfg.snaplen);
    }

    int ret = 1;
    struct pg_gen *g = calloc(1, sizeof(*g));
    struct pg_out out = {NULL, NULL, 0};
    if (g == NULL) {
        fprintf(stderr, "pcapgen: out of memory\n");
        return 1;
    }
    g->cfg = &cfg;
    pg_rng_seed(&g->rng, cfg.seed);
    if (pg_sampler_init(&g->sampler, (uint32_t)cfg.peers, cfg.uniform, errbuf) != 0) {
        fprintf(stderr, "pcapgen: %s\n", errbuf);
        free(g);
        return 1;
    }
    if (pg_ledger_init(&g->ledger, 1024) != 0) {
        fprintf(stderr, "pcapgen: out of memory\n");
        goto out;
    }
    /* Raw IP and DLT_NULL have no ethertype to say "not IP", so they carry no ARP. */
    bool nonip_ok = cfg.linktype != PG_LT_RAW && cfg.linktype != PG_LT_NULL;
    g->t_nonip = nonip_ok ? cfg.nonip_frac : 0.0;
    g->t_frag = g->t_nonip + cfg.frag_frac;
    g->t_corrupt = g->t_frag + cfg.corrupt_frac;
    g->t_truncate = g->t_corrupt + cfg.truncate_frac;
    g->t_transit = g->t_truncate + cfg.transit_frac;

    out.buf = malloc(PG_OUTBUF_SIZE);
    out.fp = fopen(cfg.out_path, "wb");
    if (out.buf == NULL || out.fp == NULL) {
        fprintf(stderr, "pcapgen: %s: %s\n", cfg.out_path,
                out.buf == NULL ? "out of memory" : strerror(errno));
        goto out;
    }
    if (pg_write_file_header(&out, &cfg) != 0) {
        goto write_error;
    }

    uint64_t start_us = cfg.start_epoch * UINT64_C(1000000);
    double step_us = cfg.packets > 0 ? (double)cfg.duration_s * 1e6 / (double)cfg.packets : 0.0;
    for (uint64_t i = 0; i < cfg.packets; i++) {
        struct pg_result res;
        /* Only the captured bytes are written, so only those need clearing. */
        memset(g->frame, 0, cfg.snaplen < PG_FRAME_MAX ? cfg.snaplen : PG_FRAME_MAX);
        if (pg_generate(g, i, &res) != 0) {
            fprintf(stderr, "pcapgen: out of memory for the ledger\n");
            goto out;
        }
        uint64_t ts_us = start_us + (uint64_t)((double)i * step_us);
        if (pg_write_record(&out, ts_us, g->frame, &res) != 0) {
            goto write_error;
        }
    }
    if (pg_out_flush(&out) != 0 || fflush(out.fp) != 0) {
        goto write_error;
    }
    if (pg_write_ledger(&g->ledger, cfg.ledger_path, errbuf) != 0) {
        fprintf(stderr, "pcapgen: %s\n", errbuf);
        goto out;
    }
    fprintf(stderr, "pcapgen: %" PRIu64 " packets, %" PRIu64 " bytes (sum of len), %zu keys\n",
            g->total_packets, g->total_bytes, g->ledger.count);
    ret = 0;
    goto out;

write_error:
    fprintf(stderr, "pcapgen: %s: %s\n", cfg.out_path, strerror(errno));
out:
    if (out.fp != NULL && fclose(out.fp) != 0 && ret == 0) {
        fprintf(stderr, "pcapgen: %s: %s\n", cfg.out_path, strerror(errno));
        ret = 1;
    }
    free(out.buf);
    pg_ledger_free(&g->ledger);
    pg_sampler_free(&g->sampler);
    free(g);
    return ret;
}
