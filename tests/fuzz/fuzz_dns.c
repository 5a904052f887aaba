/* Fuzz target for the DNS response parser, fed straight and through the names facade. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names/dnsparse.h"
#include "names/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct names *names;
    struct dns_response r;
    struct hash_key seed = {1, 2};

    if (names == NULL)
        names = names_new(64, 1000, NULL, &seed);
    if (dns_parse_response(data, size, &r) == 0) {
        if (strlen(r.qname) >= DNS_NAME_MAX || r.n_answers > DNS_MAX_ANSWERS)
            abort();
        for (size_t i = 0; i < r.n_answers; i++)
            if (r.answers[i].addr.family != 4 && r.answers[i].addr.family != 6)
                abort();
    }
    names_dns_message(names, data, size, size > 0 && (data[0] & 1), 1000);
    return 0;
}
