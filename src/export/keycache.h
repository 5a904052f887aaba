/* The prepared labels of flow keys, kept from one /metrics render to the next, so that a
 * scrape formats only the keys new since the last one, or every key when some name changed
 * meanwhile (names_version). Each key has a record: the key, its labels in the writer's form,
 * and whether it is a Service row of class mixed. A render finds the last render's record of
 * a key by the key's place in the table, checks the key, and keeps it; records of keys gone
 * are garbage in the arena until it is compacted. Keeping is only for a writer whose
 * key_prepare has no effect besides appending (the text exposition), since a kept record is not
 * prepared again; a cache made not to keep (a push's) makes every record again in the memory
 * the last render used, which spares the fresh pages a render would otherwise fault in. A
 * render without a cache uses one of its own, for that render only. */
#ifndef NSTATS_KEYCACHE_H
#define NSTATS_KEYCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "flow/flowkey.h"

#define KEYCACHE_MIXED 0x1u

/* Records start at multiples of its alignment, so they are read in place. */
struct keycache_record {
    struct flow_key key;
    uint32_t len;   /* bytes of prepared labels right after the record */
    uint32_t flags; /* KEYCACHE_MIXED */
};

struct keycache;

/* keep: records are kept from one render to the next (else only the memory is). */
struct keycache *keycache_new(bool keep);
void keycache_free(struct keycache *c);
/* Starts a render by writer (its ops: the prepared form is the writer's) over a table whose
 * places are below capacity, under the names' version. The last render's records are found
 * only if all three are the same. */
void keycache_begin(struct keycache *c, const void *writer, size_t capacity,
                    uint64_t names_version);
/* Keeps the last render's record of key at place index for this render; false if there is
 * none (a new key, or the place's key changed). */
bool keycache_keep(struct keycache *c, uint32_t index, const struct flow_key *key);
/* Opens a new record for key at place index; the caller appends its labels to the returned
 * arena, then calls keycache_seal. NULL if the arena is full. */
struct buf *keycache_open(struct keycache *c, uint32_t index, const struct flow_key *key,
                          uint32_t flags);
/* Ends the record keycache_open began. Returns 0, or -1 if the arena is full. */
int keycache_seal(struct keycache *c);
/* This render's record at place index (kept or sealed), or NULL. Valid until the next open. */
const struct keycache_record *keycache_get(const struct keycache *c, uint32_t index);
/* Ends the render; compacts the arena when most of it is garbage. */
void keycache_end(struct keycache *c);
/* Bytes held between renders. */
size_t keycache_bytes(const struct keycache *c);

#endif
