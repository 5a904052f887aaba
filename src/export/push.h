/* An HTTP push sink: request bodies delivered in order through libcurl's multi interface on
 * the event loop, one in flight, with retries (capped backoff, jitter, Retry-After), a queue
 * bounded in bytes that drops the oldest, an optional disk spool, and counters. The InfluxDB,
 * remote write and OTLP sinks are this with their own URL, headers and bodies. */
#ifndef NSTATS_PUSH_H
#define NSTATS_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/retry.h"
#include "export/pushbody.h"
#include "export/spool.h"
#include "io/loop.h"

/* what, id, url_flag and the spool suffixes must outlive the sink (static names); the other
 * strings push_sink_new only: the sink copies what it keeps. */
struct push_config {
    const char *what;           /* "InfluxDB", "remote write", "OTLP": how logs name the sink */
    const char *id;             /* "influxdb", "remote_write", "otlp": the metrics' sink label */
    const char *url_flag;       /* the flag that gave the URL, for advice in messages */
    const char *url;            /* the endpoint; its user information becomes the credentials */
    const char *userinfo_url;   /* takes the credentials from this URL instead; may be NULL */
    const char *const *headers; /* "Name: value" sent with every request; NULL-terminated */
    const char *encoded_header; /* added for bodies queued as encoded ("Content-Encoding: gzip") */
    const char *user;           /* basic auth, over the URL's; may be NULL */
    const char *password;
    const char *ca_file;    /* may be NULL */
    bool insecure;          /* skip TLS verification */
    size_t queue_bytes;     /* pending bodies, at most */
    uint64_t timeout_ms;    /* per request */
    uint64_t retry_base_ms; /* first backoff before jitter; 0 for PUSH_DEFAULT_RETRY_BASE_MS */
    uint64_t retry_max_ms;  /* backoff cap */
    const char *spool_dir;  /* may be NULL */
    struct spool_suffixes spool_suffixes; /* how its spool files end; {NULL}: InfluxDB's */
    /* Which answers are final: NULL for retry_classify (4xx but 408 and 429 dropped). */
    enum retry_verdict (*classify)(long status);
};

/* Sinks at most: InfluxDB, remote write, OTLP. */
#define PUSH_MAX_SINKS 3

/* The first retry waits 250-500 ms (equal jitter), doubling from there. */
#define PUSH_DEFAULT_RETRY_BASE_MS 500

struct push_stats {
    uint64_t batches_sent;
    uint64_t batches_retried; /* failed attempts that will be tried again */
    uint64_t batches_dropped; /* refused by the server, or pushed out of a full queue */
    uint64_t lines_dropped;  /* data that could not be made into a batch at all (the sink's unit) */
    uint64_t series_dropped; /* series an encoder left out (remote write, OTLP) */
    uint64_t bytes_sent;     /* request bodies, as sent */
    uint64_t queue_bytes;
    uint64_t queue_batches;
    uint64_t queue_limit;       /* the queue's cap in bytes */
    uint64_t queue_unspooled;   /* batches waiting that are not on disk (no spool, or it failed) */
    uint64_t last_success_ms;   /* wall clock of the last delivery, or 0 */
    long last_status;           /* last HTTP status, 0 for a transport error */
    char last_error[256];       /* the last failed attempt's error; empty once one succeeds */
    char last_drop[256];        /* why the last dropped batch was dropped; empty if none was */
    uint64_t sent_at_last_drop; /* batches_sent then: later deliveries succeeded if less */
};

struct push_sink;

/* Checks the URL (scheme, host, port). Pure. Returns 0, or -1 with a one-line reason. */
int push_url_check(const char *what, const char *url, char *errbuf, size_t errlen);

/* Returns NULL with a one-line reason in errbuf for a bad configuration or spool directory.
 * Loads spooled bodies first. The loop must outlive the sink. */
struct push_sink *push_sink_new(const struct push_config *cfg, struct loop *loop, char *errbuf,
                                size_t errlen);
/* Cancels any request in flight; bodies still pending stay in the spool, if there is one. */
void push_sink_free(struct push_sink *s);

/* Queues body (malloc'd; the sink owns it now) of len bytes for the interval ending ts_ms,
 * spooling it first if there is a spool; encoded adds cfg.encoded_header. */
void push_sink_enqueue(struct push_sink *s, char *body, size_t len, bool encoded, uint64_t ts_ms);
/* Counts data that could not be made into a batch (compression failed). */
void push_sink_count_lost(struct push_sink *s, uint64_t n);
/* True when nothing is queued or in flight. */
bool push_sink_idle(const struct push_sink *s);
void push_sink_get_stats(const struct push_sink *s, struct push_stats *out);
/* The endpoint without credentials, for logs. */
const char *push_sink_endpoint(const struct push_sink *s);
/* The name logs use ("InfluxDB"). */
const char *push_sink_what(const struct push_sink *s);
/* The sink label of its metrics ("influxdb"). */
const char *push_sink_id(const struct push_sink *s);
/* Where its batches are spooled, or NULL. */
const char *push_sink_spool_dir(const struct push_sink *s);
/* Counts series an encoder left out of a batch (written twice in one interval). */
void push_sink_count_series_dropped(struct push_sink *s, uint64_t n);

#endif
