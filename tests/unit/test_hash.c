/* Hash tests: the same key gives the same hash, another key another hash, and small keys
 * spread evenly over a power-of-two table, as the flow table and the name cache use it. */
#include <stdlib.h>

#include "base/hash.h"
#include "test.h"

#define N_KEYS 65536
#define N_BUCKETS 1024

static const struct hash_key key_a = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};
static const struct hash_key key_b = {0x0123456789abcdefULL, 0xfedcba9876543212ULL};

/* A 36-byte key shaped like a flow key: two IPv6 addresses and a port, i varying in the
 * bytes where addresses and ports usually differ. */
struct small_key {
    uint8_t local[16];
    uint8_t remote[16];
    uint16_t port;
    uint8_t proto;
    uint8_t kind;
};

static struct small_key small_key(uint32_t i)
{
    struct small_key k;

    memset(&k, 0, sizeof(k));
    k.local[0] = 0x20;
    k.local[1] = 0x01;
    k.local[15] = 1;
    k.remote[0] = 0x20;
    k.remote[1] = 0x01;
    k.remote[14] = (uint8_t)(i >> 8);
    k.remote[15] = (uint8_t)i;
    k.port = (uint16_t)(i >> 16);
    k.proto = 6;
    return k;
}

static void test_deterministic(void)
{
    const char text[] = "the quick brown fox jumps over the lazy dog, twice or more";
    struct small_key k = small_key(7);
    struct hash_key copy = key_a;

    for (size_t len = 0; len <= sizeof(text); len++)
        CHECK_EQ(hash_bytes(&key_a, text, len), hash_bytes(&copy, text, len));
    CHECK_EQ(hash_small(&key_a, &k, sizeof(k)), hash_small(&copy, &k, sizeof(k)));
    /* Every length from 16 to 48 reads inside the key and gives a stable answer. */
    for (size_t len = 16; len <= 48; len++)
        CHECK_EQ(hash_small(&key_a, text, len), hash_small(&key_a, text, len));
}

static void test_seeds_differ(void)
{
    int same_bytes = 0, same_small = 0;
    struct hash_key r1, r2;

    for (uint32_t i = 0; i < 1000; i++) {
        struct small_key k = small_key(i);

        same_bytes += hash_bytes(&key_a, &i, sizeof(i)) == hash_bytes(&key_b, &i, sizeof(i));
        same_small += hash_small(&key_a, &k, sizeof(k)) == hash_small(&key_b, &k, sizeof(k));
    }
    CHECK_EQ(same_bytes, 0);
    CHECK_EQ(same_small, 0);
    /* Random keys are odd (a multiplier must keep its bits) and differ between calls. */
    hash_key_random(&r1);
    hash_key_random(&r2);
    CHECK_EQ(r1.k0 & 1, 1);
    CHECK_EQ(r1.k1 & 1, 1);
    CHECK(r1.k0 != r2.k0 || r1.k1 != r2.k1);
}

static void test_lengths_differ(void)
{
    uint8_t zeros[64] = {0};
    uint64_t h[65];
    int collisions = 0;

    /* Keys of zero bytes differ only in length; the length is part of the hash. */
    for (size_t len = 0; len <= 64; len++)
        h[len] = hash_bytes(&key_a, zeros, len);
    for (size_t i = 0; i <= 64; i++)
        for (size_t j = i + 1; j <= 64; j++)
            collisions += h[i] == h[j];
    CHECK_EQ(collisions, 0);
}

/* The chi-square statistic of counts over N_BUCKETS buckets holding N_KEYS keys. */
static double chi_square(const unsigned counts[N_BUCKETS])
{
    double expected = (double)N_KEYS / N_BUCKETS, sum = 0;

    for (int i = 0; i < N_BUCKETS; i++)
        sum += (counts[i] - expected) * (counts[i] - expected) / expected;
    return sum;
}

static unsigned max_count(const unsigned counts[N_BUCKETS])
{
    unsigned m = 0;

    for (int i = 0; i < N_BUCKETS; i++)
        if (counts[i] > m)
            m = counts[i];
    return m;
}

static void test_spread(void)
{
    static unsigned by_bytes[N_BUCKETS], by_small[N_BUCKETS], by_random[N_BUCKETS];
    struct hash_key r;
    double chi_bytes, chi_small, chi_random;

    hash_key_random(&r);
    for (uint32_t i = 0; i < N_KEYS; i++) {
        struct small_key k = small_key(i);

        /* Consecutive integers, as the name cache sees IPv4 addresses of one subnet. */
        by_bytes[hash_bytes(&key_a, &i, sizeof(i)) & (N_BUCKETS - 1)]++;
        by_small[hash_small(&key_a, &k, sizeof(k)) & (N_BUCKETS - 1)]++;
        by_random[hash_small(&r, &k, sizeof(k)) & (N_BUCKETS - 1)]++;
    }
    /* A uniform spread gives about N_BUCKETS - 1 (standard deviation about 45), 64 keys per
     * bucket with no bucket past about 100; the bounds are six deviations out. */
    chi_bytes = chi_square(by_bytes);
    chi_small = chi_square(by_small);
    chi_random = chi_square(by_random);
    if (chi_bytes > 1300 || chi_small > 1300 || chi_random > 1300)
        fprintf(stderr, "chi-square: bytes %.0f, small %.0f, random key %.0f\n", chi_bytes,
                chi_small, chi_random);
    CHECK(chi_bytes < 1300);
    CHECK(chi_small < 1300);
    CHECK(chi_random < 1300);
    CHECK(max_count(by_bytes) < 128);
    CHECK(max_count(by_small) < 128);
    CHECK(max_count(by_random) < 128);
}

int main(void)
{
    RUN(test_deterministic);
    RUN(test_seeds_differ);
    RUN(test_lengths_differ);
    RUN(test_spread);
    return test_report();
}
