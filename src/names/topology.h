/* Where the far end is, as a cloud bill sees it: the traffic class of a pair from the places
 * (node, zone, region) of its two ends, or from the address alone when Kubernetes does not
 * know it. Pure. */
#ifndef NSTATS_TOPOLOGY_H
#define NSTATS_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/netaddr.h"

/* The classes in the order they are exported. A user's --label-net class is not one of
 * these: it is that label's text. */
enum traffic_class {
    TC_UNKNOWN,
    TC_SAME_NODE,
    TC_SAME_ZONE,
    TC_CROSS_ZONE,
    TC_CROSS_REGION,
    TC_INTERNET,
    TC_PRIVATE,
    TC_MIXED, /* a Service whose ready endpoints are in more than one class */
    TC_CLASSES
};

/* "same-node", "cross-zone", ... */
const char *traffic_class_name(enum traffic_class c);
/* The class named s (as traffic_class_name gives it), or TC_CLASSES. */
enum traffic_class traffic_class_parse(const char *s);

/* Where one end runs; "" is unknown. */
struct place {
    const char *node;
    const char *zone;
    const char *region;
};

/* The class of traffic between self and peer. Unknown stays unknown: with either zone
 * unknown it is TC_UNKNOWN unless the nodes are the same or both regions are known and
 * differ; zones that differ are cross-zone only when the regions are the same, or when
 * neither end has a region at all (a cluster that does not label regions). */
enum traffic_class place_class(const struct place *self, const struct place *peer);

/* Service endpoints as seen from self: how many ready endpoints fall in each class. */
struct endpoint_counts {
    uint32_t n[TC_CLASSES];
};

/* The class of traffic to a Service with these endpoints: the class every ready endpoint
 * shares, TC_MIXED when they differ, TC_UNKNOWN when there is none. */
enum traffic_class endpoints_class(const struct endpoint_counts *c);

/* The class of an address Kubernetes does not name: loopback is the same node, a public
 * (globally routed) address the internet, anything else private. */
enum traffic_class address_class(const struct netaddr *a);

#endif
