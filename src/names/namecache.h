/* A bounded cache of names for addresses, with the source that named each and an expiry;
 * names in use are kept over names never looked up. */
#ifndef NSTATS_NAMECACHE_H
#define NSTATS_NAMECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hash.h"
#include "base/netaddr.h"

#define NAMECACHE_NAME_MAX 128 /* longer names are cut; DNS names rarely come close */

/* Where a name came from, best first. */
enum name_source { NAME_SOURCE_NONE = 0, NAME_SOURCE_K8S, NAME_SOURCE_DNS, NAME_SOURCE_PTR };

struct namecache_stats {
    uint64_t entries;
    uint64_t inserts;
    uint64_t evictions; /* live entries pushed out by a full neighbourhood (unused first) */
    uint64_t hits;
    uint64_t misses;
};

struct namecache;

/* Holds at most max_entries names; all memory is allocated here. */
struct namecache *namecache_new(size_t max_entries, const struct hash_key *seed);
void namecache_free(struct namecache *c);
/* Records a name for a; a better or equal source replaces the current name, a worse one only
 * an expired name. A negative entry (name NULL) remembers that a source found nothing; over
 * an existing name it only postpones the next question, the name stays. */
void namecache_put(struct namecache *c, const struct netaddr *a, const char *name,
                   enum name_source source, uint64_t expires_ms, uint64_t now_ms);
/* The name for a, or NULL. An expired name is still returned (the last name known is better
 * than none) and *expired says so; *source is set either way. A name found is marked used,
 * which shields it from eviction by names never looked up. */
const char *namecache_get(struct namecache *c, const struct netaddr *a, uint64_t now_ms,
                          enum name_source *source, bool *expired);
/* True if a has an entry (negative ones included) that has not expired. */
bool namecache_fresh(struct namecache *c, const struct netaddr *a, uint64_t now_ms);
void namecache_get_stats(const struct namecache *c, struct namecache_stats *out);
/* Grows whenever what namecache_get answers for some address changes (a new or different name,
 * source or negative entry, an address evicted); a refresh of the same answer leaves it. */
uint64_t namecache_version(const struct namecache *c);
const char *name_source_str(enum name_source s);

#endif
