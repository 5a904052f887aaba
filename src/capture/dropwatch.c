/* Drops heard: see dropwatch.h. */
#include "dropwatch.h"

#include <stdio.h>
#include <string.h>

void dropwatch_init(struct dropwatch *w, size_t ring_bytes)
{
    memset(w, 0, sizeof(*w));
    w->ring_bytes = ring_bytes;
}

bool dropwatch_update(struct dropwatch *w, const struct capture_stats *now, uint64_t now_ms)
{
    /* A capture reopened after its interface came back keeps its counters cumulative; a
     * smaller number is a counter that started again, and counts from there. */
    uint64_t fresh = now->drops >= w->seen ? now->drops - w->seen : now->drops;

    w->seen = now->drops;
    if (fresh == 0)
        return false;
    w->unreported += fresh;
    w->last_drop_ms = now_ms;
    if (w->warned && now_ms - w->last_warn_ms < DROPWATCH_WARN_EVERY_MS)
        return false;
    log_warnx("capture dropped %llu%s packets: the %zu KiB ring was full, so counts are short by "
              "them (raise --buffer-size; nstats_capture_drops_total counts every one)",
              (unsigned long long)w->unreported, w->warned ? " more" : "", w->ring_bytes / 1024);
    w->unreported = 0;
    w->last_warn_ms = now_ms;
    w->warned = true;
    return true;
}

bool dropwatch_degraded(const struct dropwatch *w, uint64_t now_ms, char *out, size_t len)
{
    if (w->last_drop_ms == 0 || now_ms - w->last_drop_ms >= DROPWATCH_DEGRADED_MS)
        return false;
    (void)snprintf(out, len,
                   "capture dropped %llu packets, the last %llu s ago: the %zu KiB ring was full "
                   "(raise --buffer-size)",
                   (unsigned long long)w->seen,
                   (unsigned long long)((now_ms - w->last_drop_ms) / 1000), w->ring_bytes / 1024);
    return true;
}
