/* The live JSON API (/api/v1/flows, /api/v1/summary; docs/API.md): rates and totals per key
 * or group, for people watching (nstats top, the page). */
#ifndef NSTATS_API_H
#define NSTATS_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/netaddr.h"
#include "capture/capture.h"
#include "capture/iface.h"
#include "export/prices.h"
#include "export/push.h"
#include "flow/meter.h"
#include "flow/rates.h"
#include "names/names.h"

enum api_group {
    API_GROUP_PAIR,
    API_GROUP_REMOTE,
    API_GROUP_NAME,
    API_GROUP_PORT,
    API_GROUP_WORKLOAD,
    API_GROUP_NAMESPACE,
    API_GROUP_NET,
    API_GROUP_CLASS,
};

enum api_sort {
    API_SORT_R2,
    API_SORT_R10,
    API_SORT_R40,
    API_SORT_IN,
    API_SORT_OUT,
    API_SORT_TOTAL,
    API_SORT_PEAK,
    API_SORT_NAME,
};

#define API_FILTER_MAX 128
#define API_LIMIT_MAX 10000

struct api_query {
    enum api_group group;
    enum api_sort sort;
    bool ascending;
    char filter[API_FILTER_MAX]; /* as given, decoded */
    unsigned limit;
};

/* Parses a query string ("group=remote&sort=r2&limit=20", percent-encoded) into q, with the
 * defaults for what it leaves out. Pure. Returns 0, or -1 with the reason in errbuf. */
int api_parse_query(const char *query, struct api_query *q, char *errbuf, size_t errlen);

struct api_sources {
    const char *source; /* the interface or file */
    const char *host;
    uint64_t now_ms;
    struct meter *meter;
    struct rates *rates;
    struct names *names;         /* may be NULL */
    const struct prices *prices; /* may be NULL: no cost in the rows */
    uint64_t max_flows;
    bool have_capture;
    struct capture_stats capture;
    bool have_iface;
    struct iface_counters iface;    /* since nstats started */
    const struct push_stats *sinks; /* every push sink's queue and drops summed; may be NULL */
    bool have_process;
    double cpu_seconds;
    uint64_t rss_bytes;
};

/* Appends the JSON of /api/v1/flows for q. Returns 0, or -1 if b's cap was reached. */
int api_flows(struct buf *b, const struct api_sources *src, const struct api_query *q);
/* Appends the JSON of /api/v1/summary. Returns 0, or -1 if b's cap was reached. */
int api_summary(struct buf *b, const struct api_sources *src);

#endif
