/* The Kubernetes API client: list, then watch pods, services, nodes, ReplicaSets and
 * EndpointSlices, keeping a k8smap current. Runs on the event loop through libcurl; never
 * blocks capture. */
#ifndef NSTATS_K8S_H
#define NSTATS_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/loop.h"
#include "names/k8smap.h"

/* Addresses the map given to k8s_start should hold by default (k8smap_new). */
#define K8S_DEFAULT_MAP_ENTRIES 65536
/* Objects per list page (the API server's limit parameter). */
#define K8S_PAGE_ITEMS 250
/* How long a replay (-r) waits for the first lists by default (k8s_wait_synced). */
#define K8S_DEFAULT_SYNC_WAIT_MS 10000
/* Backoff after a failure: equal jitter from 1 s, doubling up to 30 s (retry_backoff_ms). */
#define K8S_BACKOFF_BASE_MS 1000
#define K8S_BACKOFF_MAX_MS 30000
/* Watches that end sooner than this after they started count as failures. */
#define K8S_QUICK_END_MS 1000

struct k8s_config {
    const char *api_url;    /* https://HOST:PORT */
    const char *token_file; /* re-read for every request, so rotated tokens are used */
    const char *ca_file;
    const char *namespace_; /* limits pods, services and ReplicaSets; NULL for all */
    const char *label_selector;
    const char *field_selector; /* pods only */
};

struct k8s_stats {
    uint64_t lists;
    uint64_t list_pages; /* list requests: a list is read in pages of K8S_PAGE_ITEMS */
    uint64_t watches;    /* watch requests started, the first ones included */
    uint64_t relists;    /* lists after a 410 Gone */
    uint64_t events;
    uint64_t errors;  /* failed requests and malformed answers */
    uint64_t objects; /* addresses known now */
    uint64_t dropped; /* addresses not kept: past K8S_DEFAULT_MAP_ENTRIES */
};

struct k8s;

/* Starts listing; cfg's strings are copied. map and loop must outlive the client. Returns
 * NULL with errbuf filled. */
struct k8s *k8s_start(const struct k8s_config *cfg, struct k8smap *map, struct loop *loop,
                      char *errbuf, size_t errlen);
void k8s_stop(struct k8s *k);
/* True once every kind has been listed at least once. */
bool k8s_synced(const struct k8s *k);
/* Runs the client's loop until k8s_synced, timeout_ms has passed, or *stop (may be NULL; a
 * flag the loop's signal handling sets) is true. Returns 0 if synced, -1 if not. */
int k8s_wait_synced(struct k8s *k, uint64_t timeout_ms, const bool *stop);
void k8s_get_stats(const struct k8s *k, struct k8s_stats *out);

/* The watch state machine of one kind, pure so that every transition can be tested without a
 * server: IDLE --start--> LISTING --listed--> WATCHING --ended--> WATCHING again, or LISTING
 * after 410 Gone or an unreadable line; any failure, and a watch that ends at once, goes to
 * IDLE, where a backoff timer (retry) starts LISTING, or WATCHING when the last list is still
 * good. */
enum k8s_state { K8S_IDLE, K8S_LISTING, K8S_WATCHING };

enum k8s_event {
    K8S_EV_START,     /* the client starts */
    K8S_EV_RETRY,     /* the backoff timer fired */
    K8S_EV_FAILED,    /* the request failed: transport, HTTP status, token, malformed list */
    K8S_EV_LISTED,    /* a list answer was applied to the map */
    K8S_EV_WATCH_END, /* a watch ended with HTTP 200 or 410 */
};

/* What the watcher knows of itself when an event arrives. */
struct k8s_watch_flags {
    bool synced; /* listed at least once */
    bool gone;   /* 410 Gone: the watch's status, or an ERROR event in its stream */
    bool broken; /* a line of the watch stream could not be read */
    bool quick;  /* the request ended within K8S_QUICK_END_MS of its start */
};

struct k8s_step {
    enum k8s_state next; /* K8S_IDLE: count an error and back off, then K8S_EV_RETRY */
    bool relist;         /* count a re-list after 410 Gone */
    bool synced;         /* the kind is now listed */
    bool clear_failures; /* the backoff starts over */
    const char *why;     /* with K8S_IDLE: what failed, or NULL for the caller's reason */
};

/* The step for event ev in state; an event the state does not expect backs off with a reason
 * rather than stalling. Pure. */
struct k8s_step k8s_next_state(enum k8s_state state, enum k8s_event ev,
                               const struct k8s_watch_flags *f);

/* The in-cluster API URL from the values of KUBERNETES_SERVICE_HOST and _PORT (either may be
 * NULL), into buf. Pure. Returns 0, or -1 if either is missing or empty. */
int k8s_incluster_url(const char *host, const char *port, char *buf, size_t len);

#endif
