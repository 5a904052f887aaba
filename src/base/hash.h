/* Keyed hashing with a per-process random key, so remote peers cannot choose colliding keys. */
#ifndef NSTATS_HASH_H
#define NSTATS_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct hash_key {
    uint64_t k0;
    uint64_t k1;
};

/* Fills key from getrandom(2); falls back to time and pid mixing if that fails. */
void hash_key_random(struct hash_key *key);

/* A keyed multiply-mix hash (wyhash-style) of len bytes at data. Pure. */
uint64_t hash_bytes(const struct hash_key *key, const void *data, size_t len);

/* The full 128-bit product folded to 64 bits: every input bit reaches every output bit. */
static inline uint64_t hash_mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;

    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t hash_load64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

/* hash_bytes' counterpart for fixed-size keys of 16 to 48 bytes on the per-packet path: three
 * independent lanes (the first, middle and last 16 bytes, overlapping when len < 48) whose
 * multiplies overlap in the pipeline, then one more to combine. Inline, so a constant len
 * folds away. Keyed the same way, so collisions cannot be chosen from outside. */
static inline uint64_t hash_small(const struct hash_key *key, const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t mid = len > 32 ? 16 : len - 16;
    uint64_t a = hash_mix(hash_load64(p) ^ key->k0, hash_load64(p + 8) ^ key->k1);
    uint64_t b = hash_mix(hash_load64(p + mid) ^ key->k1 ^ 0xe7037ed1a0b428dbULL,
                          hash_load64(p + mid + 8) ^ key->k0 ^ 0x8ebc6af09c88c6e3ULL);
    uint64_t c = hash_mix(hash_load64(p + len - 16) ^ key->k0 ^ 0x589965cc75374cc3ULL,
                          hash_load64(p + len - 8) ^ key->k1 ^ 0x1d8e4e27c47d124fULL);

    return hash_mix(a ^ b ^ key->k1 ^ len, c ^ key->k0 ^ 0xa0761d6478bd642fULL);
}

#endif
