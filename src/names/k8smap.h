/* What the Kubernetes API says about addresses: pods, services and nodes by IP, and the
 * ReplicaSet → Deployment links that name a pod's workload. Fed from list and watch JSON. */
#ifndef NSTATS_K8SMAP_H
#define NSTATS_K8SMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/netaddr.h"

#define K8S_STR_MAX 128

enum k8s_kind { K8S_POD, K8S_SERVICE, K8S_NODE, K8S_REPLICASET, K8S_KINDS };

/* One address's Kubernetes identity, valid until the map changes. */
struct k8s_meta {
    const char *kind;       /* "pod", "service", "node" */
    const char *namespace_; /* "" for nodes */
    const char *name;
    const char *workload; /* "Deployment/web", "StatefulSet/db", ... or "" */
};

enum k8s_result { K8S_OK, K8S_GONE, K8S_BAD };

struct k8smap;

/* Holds at most max_addresses addresses and as many ReplicaSets; memory is allocated here. */
struct k8smap *k8smap_new(size_t max_addresses);
void k8smap_free(struct k8smap *m);

/* Applies one page of a list response (a JSON object with "items", "metadata.resourceVersion"
 * and, when more pages follow, "metadata.continue"). The list replaces everything known of
 * kind once its last page is in; until then the old entries still answer lookups (and give
 * way when the map is full), so a list that fails halfway loses no names. rv receives the
 * list's resourceVersion, cont the token for the next page ("" after the last). Pure. */
enum k8s_result k8smap_apply_list(struct k8smap *m, enum k8s_kind kind, const char *json,
                                  size_t len, bool first, char *rv, size_t rvlen, char *cont,
                                  size_t contlen);
/* Applies one watch event line ({"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object"}).
 * rv is updated to the object's resourceVersion. K8S_GONE: the server said 410 Gone, list
 * again. Pure. */
enum k8s_result k8smap_apply_event(struct k8smap *m, enum k8s_kind kind, const char *json,
                                   size_t len, char *rv, size_t rvlen);
/* Fills out for a, or returns false. */
bool k8smap_find(struct k8smap *m, const struct netaddr *a, struct k8s_meta *out);
size_t k8smap_size(const struct k8smap *m);
/* Addresses not kept because the map was full (its max_addresses), since it was made. */
uint64_t k8smap_dropped(const struct k8smap *m);
const char *k8s_kind_path(enum k8s_kind kind); /* "pods", "services", ... */

#endif
