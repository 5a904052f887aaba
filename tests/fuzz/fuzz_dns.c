/* Fuzz target for the DNS parsers, fed straight and through the names facade: the input as a
 * query, then as the answer to it (the same bytes with QR set), then as itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names/dnsparse.h"
#include "names/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct names *names;
    static uint64_t now_ms;
    static uint8_t msg[65536];
    struct dns_response r;
    struct dns_question q;
    struct hash_key seed = {1, 2};
    struct dns_endpoints ask = {.sport = 40000, .dport = 53}, answer;
    bool tcp = size > 0 && (data[0] & 1);
    size_t head = tcp ? 2 : 0;

    if (names == NULL)
        names = names_new(64, 1000, NULL, &seed);
    if (size > sizeof(msg))
        return 0;
    now_ms += 1000;
    if (dns_parse_response(data, size, &r) == 0) {
        if (strlen(r.qname) >= DNS_NAME_MAX || r.n_answers > DNS_MAX_ANSWERS)
            abort();
        for (size_t i = 0; i < r.n_answers; i++)
            if (r.answers[i].addr.family != 4 && r.answers[i].addr.family != 6)
                abort();
    }
    if (dns_parse_query(data, size, &q) == 0 && strlen(q.qname) >= DNS_NAME_MAX)
        abort();
    netaddr_parse("198.18.0.1", &ask.src);
    netaddr_parse("198.18.0.53", &ask.dst);
    answer = (struct dns_endpoints){.src = ask.dst, .dst = ask.src, .sport = 53, .dport = 40000};
    memcpy(msg, data, size);
    if (size > head + 2) {
        msg[head + 2] &= 0x07; /* a standard query */
        names_dns_message(names, msg, size, tcp, &ask, now_ms);
        msg[head + 2] |= 0x80;
        names_dns_message(names, msg, size, tcp, &answer, now_ms);
    }
    names_dns_message(names, data, size, tcp, &answer, now_ms);
    return 0;
}
