/* The InfluxDB sink: batches of line protocol delivered through libcurl's multi interface on
 * the event loop, with retries, a bounded queue and an optional disk spool. */
#ifndef NSTATS_INFLUX_H
#define NSTATS_INFLUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
    uint64_t retry_base_ms; /* first backoff before jitter; 0 for INFLUX_DEFAULT_RETRY_BASE_MS */
    uint64_t retry_max_ms;  /* backoff cap */
    const char *spool_dir;  /* may be NULL */
};

/* The first retry waits 250-500 ms (equal jitter), doubling from there. */
#define INFLUX_DEFAULT_RETRY_BASE_MS 500

struct influx_stats {
    uint64_t batches_sent;
    uint64_t batches_retried; /* failed attempts that will be tried again */
    uint64_t batches_dropped; /* refused by the server, or pushed out of a full queue */
    uint64_t lines_dropped;   /* lines of batches that could not be queued at all */
    uint64_t bytes_sent;      /* request bodies, as sent */
    uint64_t queue_bytes;
    uint64_t queue_batches;
    long last_status;           /* last HTTP status, 0 for a transport error */
    char last_error[256];       /* the last failed attempt's error; empty once one succeeds */
    char last_drop[256];        /* why the last dropped batch was dropped; empty if none was */
    uint64_t sent_at_last_drop; /* batches_sent then: later deliveries succeeded if less */
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
/* True when nothing is queued or in flight. */
bool influx_sink_idle(const struct influx_sink *s);
void influx_sink_get_stats(const struct influx_sink *s, struct influx_stats *out);
/* The write endpoint without credentials, for logs. */
const char *influx_sink_endpoint(const struct influx_sink *s);

#endif
