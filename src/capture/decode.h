/* Pure packet decoder: captured bytes in, a small summary out. No allocation, no I/O. */
#ifndef NSTATS_DECODE_H
#define NSTATS_DECODE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/netaddr.h"

enum decode_status {
    DECODE_OK,        /* an IP packet: addresses and protocol are valid */
    DECODE_NON_IP,    /* a well-formed frame that carries something other than IP */
    DECODE_MALFORMED, /* truncated or invalid headers; nothing in the summary is reliable */
};

struct pktsummary {
    enum decode_status status;
    struct netaddr src;
    struct netaddr dst;
    uint8_t proto;       /* IP protocol number (for IPv6, after the extension headers) */
    bool has_ports : 1;  /* sport and dport are valid (TCP, UDP, SCTP, UDP-Lite, DCCP) */
    bool fragment : 1;   /* a non-first fragment: protocol known, ports not */
    bool dns_answer : 1; /* TCP or UDP from DECODE_DNS_PORT with a known payload offset */
    bool dns_query : 1;  /* TCP or UDP to DECODE_DNS_PORT with a known payload offset */
    uint8_t tcp_flags;   /* TCP only, 0 if not captured */
    uint16_t sport;      /* host byte order */
    uint16_t dport;      /* host byte order */
    uint16_t ethertype;  /* the innermost ethertype, when the link layer has one */
    /* Offset of the TCP or UDP payload in the frame, 0 if not known (another protocol, or a
     * TCP header cut short). It may be at or past the captured length. */
    uint32_t payload_offset;
};

/* The port DNS servers listen on: how the decoder flags queries and answers, and how the
 * live DNS snoop filters its capture. */
#define DECODE_DNS_PORT 53

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10

/* Decodes caplen captured bytes of a frame of the given pcap DLT_* link type. Every read is
 * bounds-checked against caplen. Always fills out->status; returns it too. */
enum decode_status decode_packet(int linktype, const uint8_t *data, uint32_t caplen,
                                 struct pktsummary *out);

/* True if decode_packet knows the DLT_* link type. */
bool decode_linktype_supported(int linktype);

#endif
