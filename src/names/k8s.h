/* The Kubernetes API client: list, then watch pods, services, nodes and ReplicaSets, keeping
 * a k8smap current. Runs on the event loop through libcurl; never blocks capture. */
#ifndef NSTATS_K8S_H
#define NSTATS_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/loop.h"
#include "names/k8smap.h"

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
    uint64_t watches; /* watch requests started, the first ones included */
    uint64_t relists; /* lists after a 410 Gone */
    uint64_t events;
    uint64_t errors; /* failed requests and malformed answers */
};

struct k8s;

/* Starts listing; cfg's strings are copied. map and loop must outlive the client. Returns
 * NULL with errbuf filled. */
struct k8s *k8s_start(const struct k8s_config *cfg, struct k8smap *map, struct loop *loop,
                      char *errbuf, size_t errlen);
void k8s_stop(struct k8s *k);
/* True once every kind has been listed at least once. */
bool k8s_synced(const struct k8s *k);
void k8s_get_stats(const struct k8s *k, struct k8s_stats *out);

/* The in-cluster API URL from KUBERNETES_SERVICE_HOST and _PORT, into buf. Returns 0 or -1. */
int k8s_incluster_url(char *buf, size_t len);

#endif
