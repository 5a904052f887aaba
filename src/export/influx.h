/* The InfluxDB sink: line protocol in batches, delivered by a push sink (export/push.h). */
#ifndef NSTATS_INFLUX_H
#define NSTATS_INFLUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export/push.h"
#include "io/loop.h"

struct influx_config {
    const char *url;  /* base URL, e.g. http://influxdb:8086 */
    const char *db;   /* v1: database; selects /write */
    const char *rp;   /* v1: retention policy, may be NULL */
    const char *user; /* v1: basic auth, may be NULL */
    const char *password;
    const char *org; /* v2: selects /api/v2/write together with bucket */
    const char *bucket;
    const char *token;   /* v2: Authorization: Token */
    const char *ca_file; /* may be NULL */
    bool insecure;       /* skip TLS verification */
    bool gzip;
    size_t batch_bytes;     /* uncompressed line protocol per request, at most */
    size_t queue_bytes;     /* pending batches, at most */
    uint64_t timeout_ms;    /* per request */
    uint64_t retry_base_ms; /* first backoff before jitter; 0 for PUSH_DEFAULT_RETRY_BASE_MS */
    uint64_t retry_max_ms;  /* backoff cap */
    const char *spool_dir;  /* may be NULL */
};

struct influx_sink;

/* Checks what influx_sink_new would reject from the configuration alone (the URL's scheme,
 * host and port, database or bucket). Pure. Returns 0, or -1 with a one-line reason in errbuf. */
int influx_config_check(const struct influx_config *cfg, char *errbuf, size_t errlen);

/* Returns NULL with a one-line reason in errbuf for a bad configuration. Loads spooled
 * batches. The loop must outlive the sink. */
struct influx_sink *influx_sink_new(const struct influx_config *cfg, struct loop *loop,
                                    char *errbuf, size_t errlen);
/* Cancels any request in flight; batches still pending stay in the spool, if there is one. */
void influx_sink_free(struct influx_sink *s);

/* Queues len bytes of whole lines stamped ts_ms, split into batches. Returns 0, or -1 if some
 * lines could not be batched (counted in lines_dropped). */
int influx_sink_enqueue(struct influx_sink *s, const char *lines, size_t len, uint64_t ts_ms);
/* The push sink delivering the batches: its counters, its queue, its endpoint. */
struct push_sink *influx_sink_push(struct influx_sink *s);

#endif
