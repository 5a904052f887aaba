/* Guessing the local host of a capture file: the address seen in the most packets. */
#ifndef NSTATS_LOCALGUESS_H
#define NSTATS_LOCALGUESS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/netaddr.h"
#include "capture/capture.h"
#include "capture/decode.h"
#include "flow/locality.h"

struct localguess;

struct localguess *localguess_new(void);
void localguess_free(struct localguess *g);
/* Counts the packet's source and destination. Addresses past the table's fixed size are not
 * tracked; the heavy hitter is seen early in any real capture. */
void localguess_add(struct localguess *g, const struct pktsummary *p);
/* The address seen in the most packets and that count. Returns 0, or -1 if no IP was seen. */
int localguess_best(const struct localguess *g, struct netaddr *out, uint64_t *packets);

/* Reading a file without --local-net: makes the busiest address of the first max_packets
 * packets read ahead (capture_peek: the file, or pipe, is read once) local in loc, and says
 * so on stderr. Waits up to wait_ms for them, running l, unless *stopping. */
struct loop;
void localguess_apply(struct capture *c, struct loop *l, const bool *stopping, unsigned max_packets,
                      unsigned wait_ms, struct locality *loc);

#endif
