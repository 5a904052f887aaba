/* Fuzz target for the packet decoder: the first byte picks the link type, the rest is a frame. */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>

#include "capture/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int linktypes[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
                                    DLT_IPV4,   DLT_IPV6,      DLT_NULL,       DLT_LOOP};
    struct pktsummary s;
    int dlt;

    if (size < 1)
        return 0;
    dlt = linktypes[data[0] % (sizeof(linktypes) / sizeof(linktypes[0]))];
    decode_packet(dlt, data + 1, (uint32_t)(size - 1), &s);
    /* Invariants every caller relies on. */
    if (s.status == DECODE_OK) {
        if (s.src.family != 4 && s.src.family != 6)
            abort();
        if (s.src.family != s.dst.family)
            abort();
        if (s.has_ports && s.fragment)
            abort();
        /* A DNS message's payload starts after its ports, and only TCP and UDP carry one. */
        if ((s.dns_answer || s.dns_query) &&
            (s.payload_offset < 8 || (s.proto != IPPROTO_TCP && s.proto != IPPROTO_UDP)))
            abort();
        if ((s.dns_answer && s.sport != DECODE_DNS_PORT) ||
            (s.dns_query && s.dport != DECODE_DNS_PORT))
            abort();
    }
    return 0;
}
