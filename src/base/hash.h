/* Keyed hashing with a per-process random key, so remote peers cannot choose colliding keys. */
#ifndef NSTATS_HASH_H
#define NSTATS_HASH_H

#include <stddef.h>
#include <stdint.h>

struct hash_key {
    uint64_t k0;
    uint64_t k1;
};

/* Fills key from getrandom(2); falls back to time and pid mixing if that fails. */
void hash_key_random(struct hash_key *key);

/* A keyed multiply-mix hash (wyhash-style) of len bytes at data. Pure. */
uint64_t hash_bytes(const struct hash_key *key, const void *data, size_t len);

#endif
