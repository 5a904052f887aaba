/* DNS seen on the wire, for the names: a second, full-length live capture of DNS queries and
 * answers only, and the ones a capture file kept. */
#ifndef NSTATS_SNOOP_H
#define NSTATS_SNOOP_H

#include <stddef.h>

#include "capture/capture.h"
#include "io/loop.h"
#include "names/names.h"

struct snoop;

/* Captures DNS queries and answers on ifname at full length (the accounting capture keeps its
 * small snap length) and feeds them to names as the loop reports them. Returns NULL with a reason
 * in errbuf; names and loop must outlive the snoop. */
struct snoop *snoop_start(const char *ifname, struct loop *loop, struct names *names, char *errbuf,
                          size_t errlen);
/* Feeds every message captured so far to the names. After a capture failure (logged once) it
 * does nothing: names from answers stop, counting goes on. */
void snoop_drain(struct snoop *s);
/* Safe on NULL. */
void snoop_stop(struct snoop *s);

/* Hands the DNS message of a packet the decoder flagged as a DNS answer or query
 * (sum->dns_answer, sum->dns_query) to names, with its addresses and ports, which names
 * needs to pair answers with queries; packets without their captured bytes, or other
 * packets, are ignored. */
void snoop_packet(struct names *names, const struct capture_packet *pkt);

#endif
