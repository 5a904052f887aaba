/* Fuzz target for the Kubernetes JSON handling: lists and watch events (pods, services, nodes,
 * ReplicaSets, EndpointSlices) into one map seen from a node, then a lookup, which resolves
 * places and traffic classes. */
#include <stdint.h>
#include <stdlib.h>

#include "names/k8smap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct k8smap *m;
    struct k8s_meta meta;
    struct netaddr a;
    char rv[64], cont[64];
    enum k8s_kind kind;

    if (m == NULL) {
        m = k8smap_new(256);
        k8smap_set_self(m, &(struct k8s_self){.namespace_ = "shop",
                                              .pod = "web-1",
                                              .node = (data != NULL && size > 0 && data[0] & 1)
                                                          ? "node-1"
                                                          : NULL});
    }
    if (size < 1)
        return 0;
    kind = (enum k8s_kind)(data[0] % K8S_KINDS);
    if (data[0] & 0x80)
        k8smap_apply_list(m, kind, (const char *)data + 1, size - 1, (data[0] & 0x40) != 0, rv,
                          sizeof(rv), cont, sizeof(cont));
    else
        k8smap_apply_event(m, kind, (const char *)data + 1, size - 1, rv, sizeof(rv));
    if (k8smap_size(m) > 256)
        abort();
    netaddr_parse("198.18.0.50", &a);
    if (k8smap_find(m, &a, &meta) &&
        (meta.name == NULL || meta.workload == NULL || meta.cls >= TC_CLASSES ||
         (meta.endpoints != NULL && endpoints_class(meta.endpoints) != meta.cls)))
        abort();
    return 0;
}
