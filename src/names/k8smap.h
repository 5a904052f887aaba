/* What the Kubernetes API says about addresses: pods, services and nodes by IP, the
 * ReplicaSet → Deployment links that name a pod's workload, and where each runs: nodes'
 * zone and region labels, pods' nodes, and Services' ready endpoints from their
 * EndpointSlices, which give every address a traffic class as seen from nstats' own place.
 * Fed from list and watch JSON. */
#ifndef NSTATS_K8SMAP_H
#define NSTATS_K8SMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/netaddr.h"
#include "names/topology.h"

#define K8S_STR_MAX 128
/* Zone and region label values (a label value is at most 63 bytes). */
#define K8S_LABEL_MAX 64
/* Zones an endpoint's topology hints may name before the rest are ignored. */
#define K8S_HINTS_MAX 3

enum k8s_kind { K8S_POD, K8S_SERVICE, K8S_NODE, K8S_REPLICASET, K8S_ENDPOINTSLICE, K8S_KINDS };

/* One address's Kubernetes identity, valid until the map changes. */
struct k8s_meta {
    const char *kind;       /* "pod", "service", "node" */
    const char *namespace_; /* "" for nodes */
    const char *name;
    const char *workload;   /* "Deployment/web", "StatefulSet/db", ... or "" */
    enum traffic_class cls; /* as seen from the map's own place (k8smap_set_self) */
    const char *zone;       /* where it runs (a Service: where all it reaches runs), or "" */
    /* Services: the ready endpoints traffic to it may reach, by class; NULL otherwise. */
    const struct endpoint_counts *endpoints;
};

/* nstats' own place as it knows it before the API answers: its pod (POD_NAMESPACE,
 * POD_NAME), its node (NODE_NAME), and zone and region given by flags. Any may be NULL or
 * "". A zone or region given here wins; what is missing comes from the own node's labels,
 * then the own pod's (clusters that copy topology labels onto pods). */
struct k8s_self {
    const char *namespace_;
    const char *pod;
    const char *node;
    const char *zone;
    const char *region;
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
/* Sets the own place that classes are seen from; the strings are copied. */
void k8smap_set_self(struct k8smap *m, const struct k8s_self *self);
/* The own place as known now (node, zone, region; "" where unknown), valid until the map
 * changes. */
void k8smap_self_place(struct k8smap *m, struct place *out);
/* Fills out for a, or returns false. */
bool k8smap_find(struct k8smap *m, const struct netaddr *a, struct k8s_meta *out);
size_t k8smap_size(const struct k8smap *m);
/* Grows with every list page, event and own place applied: whatever k8smap_find answers
 * changes only when it does. */
uint64_t k8smap_version(const struct k8smap *m);
/* Addresses not kept because the map was full (its max_addresses), since it was made. */
uint64_t k8smap_dropped(const struct k8smap *m);
const char *k8s_kind_path(enum k8s_kind kind); /* "pods", "services", ... */
/* The API group path a kind is listed under: "/api/v1", "/apis/apps/v1", ... */
const char *k8s_kind_group(enum k8s_kind kind);

#endif
