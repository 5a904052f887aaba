/* Keyed hashing for the flow table. A wyhash-style multiply-mix: fast enough for every packet,
 * and seeded per process from getrandom, so which keys collide cannot be known from outside. */
#include "hash.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void hash_key_random(struct hash_key *key)
{
    uint64_t buf[2];

    if (getrandom(buf, sizeof(buf), GRND_NONBLOCK) != (ssize_t)sizeof(buf)) {
        struct timespec ts;

        /* Weak, but only reached on kernels without getrandom or before the pool is ready. */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        buf[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
        buf[1] = (uint64_t)ts.tv_sec * 0xbf58476d1ce4e5b9ULL ^ (uint64_t)(uintptr_t)key;
    }
    /* Odd keys: a zero or even multiplier would discard bits. */
    key->k0 = buf[0] | 1;
    key->k1 = buf[1] | 1;
}

uint64_t hash_bytes(const struct hash_key *key, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = key->k0 ^ hash_mix(len ^ 0xa0761d6478bd642fULL, key->k1);
    uint64_t a, b;
    size_t i = 0;

    for (; i + 16 <= len; i += 16)
        h = hash_mix(hash_load64(p + i) ^ key->k1 ^ 0xe7037ed1a0b428dbULL,
                     hash_load64(p + i + 8) ^ h);
    if (len - i >= 8) {
        /* The last 8..15 bytes, as two possibly overlapping words. */
        a = hash_load64(p + i);
        b = hash_load64(p + len - 8);
    } else {
        a = 0;
        b = 0;
        for (size_t j = i; j < len; j++)
            a = a << 8 | p[j];
    }
    h = hash_mix(a ^ key->k0 ^ 0x8ebc6af09c88c6e3ULL, b ^ h);
    return hash_mix(h ^ key->k1, key->k0 ^ 0x589965cc75374cc3ULL);
}
