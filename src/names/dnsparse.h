/* A strict DNS parser: which addresses a response gives for the name asked, and what a query
 * asked. Pure. */
#ifndef NSTATS_DNSPARSE_H
#define NSTATS_DNSPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "base/netaddr.h"

#define DNS_NAME_MAX 256 /* a presentation-form name, with its NUL */
#define DNS_MAX_ANSWERS 32

struct dns_answer {
    struct netaddr addr;
    uint32_t ttl_s;
};

struct dns_response {
    uint16_t id;              /* the query's ID, which the response repeats */
    char qname[DNS_NAME_MAX]; /* the name the application asked for, lower case */
    uint16_t qtype;
    uint8_t rcode;
    size_t n_answers;
    struct dns_answer answers[DNS_MAX_ANSWERS]; /* A/AAAA records reached from qname */
    char ptr_name[DNS_NAME_MAX];                /* for PTR questions: the answer, else "" */
    uint32_t ptr_ttl_s;
};

/* Parses a DNS message (as carried in UDP, or TCP without its length prefix). Only answers
 * that belong to the question count: A/AAAA records whose owner is qname or the end of a
 * CNAME chain starting at it. Compression pointers must point backwards, so loops cannot
 * occur. Returns 0, or -1 if the message is not a well-formed response. */
int dns_parse_response(const uint8_t *msg, size_t len, struct dns_response *out);

/* A standard query's question: what a response to it must repeat. */
struct dns_question {
    uint16_t id;
    uint16_t qtype;
    char qname[DNS_NAME_MAX]; /* lower case, as dns_parse_response writes it */
};

/* Parses a DNS query (QR clear, opcode QUERY, one question; framed as for
 * dns_parse_response). Returns 0, or -1 if the message is not such a query. */
int dns_parse_query(const uint8_t *msg, size_t len, struct dns_question *out);

#endif
