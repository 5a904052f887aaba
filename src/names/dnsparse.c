/* DNS message parsing (RFC 1035 §4). Every read is bounds-checked; names are decoded into a
 * fixed buffer; a name may follow at most 32 compression pointers, each strictly backwards. */
#include "dnsparse.h"

#include <stdbool.h>
#include <string.h>

#define TYPE_A 1
#define TYPE_CNAME 5
#define TYPE_PTR 12
#define TYPE_AAAA 28
#define CLASS_IN 1
#define MAX_POINTERS 32
#define MAX_CNAMES 8

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static char lower(uint8_t c)
{
    return (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

/* Decodes the name at *off into out (dotted, lower case; "." for the root) and advances *off
 * past it in the message. Returns 0 or -1. */
static int read_name(const uint8_t *msg, size_t len, size_t *off, char *out)
{
    size_t pos = *off, n = 0, end = 0;
    unsigned pointers = 0;
    bool jumped = false;

    for (;;) {
        uint8_t l;

        if (pos >= len)
            return -1;
        l = msg[pos];
        if ((l & 0xc0) == 0xc0) {
            size_t target;

            if (pos + 1 >= len || ++pointers > MAX_POINTERS)
                return -1;
            target = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
            if (target >= pos) /* forward or self pointers could loop */
                return -1;
            if (!jumped)
                end = pos + 2;
            jumped = true;
            pos = target;
            continue;
        }
        if ((l & 0xc0) != 0)
            return -1; /* extended label types are not used in responses we read */
        if (l == 0) {
            if (!jumped)
                end = pos + 1;
            break;
        }
        if (pos + 1 + l > len || n + l + 2 > DNS_NAME_MAX)
            return -1;
        if (n > 0)
            out[n++] = '.';
        for (size_t i = 0; i < l; i++) {
            uint8_t c = msg[pos + 1 + i];
            char shown = '?';

            /* Keep names printable; they end up in tags and labels. */
            if (c > 0x20 && c < 0x7f && c != '.')
                shown = lower(c);
            out[n++] = shown;
        }
        pos += 1 + l;
    }
    if (n == 0)
        out[n++] = '.';
    out[n] = '\0';
    *off = end;
    return 0;
}

struct rr {
    char owner[DNS_NAME_MAX];
    uint16_t type;
    uint16_t class_;
    uint32_t ttl;
    size_t rdata;
    uint16_t rdlen;
};

static int read_rr(const uint8_t *msg, size_t len, size_t *off, struct rr *rr)
{
    if (read_name(msg, len, off, rr->owner) == -1 || *off + 10 > len)
        return -1;
    rr->type = rd16(msg + *off);
    rr->class_ = rd16(msg + *off + 2);
    rr->ttl = rd32(msg + *off + 4);
    rr->rdlen = rd16(msg + *off + 8);
    rr->rdata = *off + 10;
    if (rr->rdata + rr->rdlen > len)
        return -1;
    *off = rr->rdata + rr->rdlen;
    return 0;
}

int dns_parse_response(const uint8_t *msg, size_t len, struct dns_response *out)
{
    char chain[MAX_CNAMES + 1][DNS_NAME_MAX];
    unsigned n_chain = 1;
    uint16_t qdcount, ancount;
    size_t off = 12;

    /* The header fields only: clearing all 1.3 KB of out cost more than parsing most
     * messages, which are rejected in the next lines. Answers past n_answers are undefined. */
    out->id = 0;
    out->qname[0] = '\0';
    out->qtype = 0;
    out->rcode = 0;
    out->n_answers = 0;
    out->ptr_name[0] = '\0';
    out->ptr_ttl_s = 0;
    if (len < 12 || !(msg[2] & 0x80)) /* too short, or a query */
        return -1;
    out->id = rd16(msg);
    out->rcode = msg[3] & 0x0f;
    qdcount = rd16(msg + 4);
    ancount = rd16(msg + 6);
    if (qdcount != 1)
        return -1;
    if (read_name(msg, len, &off, out->qname) == -1 || off + 4 > len)
        return -1;
    out->qtype = rd16(msg + off);
    off += 4;
    memcpy(chain[0], out->qname, DNS_NAME_MAX);
    /* Records are usually in chain order, but not always: two passes cover reordering of
     * a CNAME behind its target. */
    for (int pass = 0; pass < 2; pass++) {
        size_t p = off;

        for (unsigned i = 0; i < ancount; i++) {
            struct rr rr;
            bool owned = false;

            if (read_rr(msg, len, &p, &rr) == -1)
                return pass == 0 ? -1 : 0;
            if (rr.class_ != CLASS_IN)
                continue;
            for (unsigned c = 0; c < n_chain && !owned; c++)
                owned = strcmp(rr.owner, chain[c]) == 0;
            if (!owned)
                continue;
            if (rr.type == TYPE_CNAME && n_chain <= MAX_CNAMES) {
                size_t t = rr.rdata;
                char target[DNS_NAME_MAX];
                bool seen = false;

                if (read_name(msg, len, &t, target) == -1)
                    return -1;
                for (unsigned c = 0; c < n_chain; c++)
                    seen |= strcmp(target, chain[c]) == 0;
                if (!seen)
                    memcpy(chain[n_chain++], target, DNS_NAME_MAX);
            } else if (pass == 1 && (rr.type == TYPE_A || rr.type == TYPE_AAAA) &&
                       out->n_answers < DNS_MAX_ANSWERS) {
                struct dns_answer *a = &out->answers[out->n_answers];

                memset(&a->addr, 0, sizeof(a->addr));
                if (rr.type == TYPE_A && rr.rdlen == 4) {
                    a->addr.family = 4;
                    memcpy(a->addr.bytes, msg + rr.rdata, 4);
                } else if (rr.type == TYPE_AAAA && rr.rdlen == 16) {
                    a->addr.family = 6;
                    memcpy(a->addr.bytes, msg + rr.rdata, 16);
                } else {
                    continue;
                }
                a->ttl_s = rr.ttl;
                out->n_answers++;
            } else if (pass == 1 && rr.type == TYPE_PTR && out->ptr_name[0] == '\0') {
                size_t t = rr.rdata;

                if (read_name(msg, len, &t, out->ptr_name) == -1)
                    return -1;
                out->ptr_ttl_s = rr.ttl;
            }
        }
    }
    return 0;
}

int dns_parse_query(const uint8_t *msg, size_t len, struct dns_question *out)
{
    size_t off = 12;

    out->id = 0;
    out->qtype = 0;
    out->qname[0] = '\0';
    /* QR clear and opcode 0 (QUERY): notifies, updates and responses ask nothing to answer. */
    if (len < 12 || (msg[2] & 0xf8) != 0 || rd16(msg + 4) != 1)
        return -1;
    if (read_name(msg, len, &off, out->qname) == -1 || off + 4 > len)
        return -1;
    out->id = rd16(msg);
    out->qtype = rd16(msg + off);
    return 0;
}
