/* Capture drops made heard: the kernel's ring-full drops become a rate-limited warning on
 * stderr and a "degraded" /healthz, not only a counter nobody looks at. */
#ifndef NSTATS_DROPWATCH_H
#define NSTATS_DROPWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"
#include "capture/capture.h"

/* At most one warning a minute; /healthz stays degraded five minutes after the last drop. */
#define DROPWATCH_WARN_EVERY_MS 60000
#define DROPWATCH_DEGRADED_MS 300000

struct dropwatch {
    size_t ring_bytes;     /* --buffer-size, for the advice */
    uint64_t seen;         /* kernel drops at the last look */
    uint64_t unreported;   /* drops since the last warning */
    uint64_t last_drop_ms; /* when drops were last seen; 0: never */
    uint64_t last_warn_ms;
    bool warned;
};

void dropwatch_init(struct dropwatch *w, size_t ring_bytes);
/* Looks at the capture's cumulative counters (now_ms on the wall clock): warns on stderr when
 * the kernel dropped frames, at most once every DROPWATCH_WARN_EVERY_MS, with how many were
 * lost since the last warning. Interface drops (ps_ifdrop) are the NIC's, not the capture's:
 * they are counted in metrics, not warned about. Returns true if it warned. */
bool dropwatch_update(struct dropwatch *w, const struct capture_stats *now, uint64_t now_ms);
/* True while the last drop is less than DROPWATCH_DEGRADED_MS old; out gets the reason. */
bool dropwatch_degraded(const struct dropwatch *w, uint64_t now_ms, char *out, size_t len);

#endif
