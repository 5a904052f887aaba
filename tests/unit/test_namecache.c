/* Name cache tests: the entry bound, source priority, expiry, negative answers, and names in
 * use surviving a flood. */
#include "names/namecache.h"
#include "test.h"

static struct hash_key seed = {5, 6};

static void test_cache_bounds_and_priority(void)
{
    struct namecache *c = namecache_new(64, &seed);
    struct namecache_stats st;
    enum name_source src;
    bool expired;
    struct netaddr a;

    for (unsigned i = 0; i < 10000; i++) {
        memset(&a, 0, sizeof(a));
        a.family = 4;
        a.bytes[0] = 198;
        a.bytes[1] = 19;
        a.bytes[2] = (uint8_t)(i >> 8);
        a.bytes[3] = (uint8_t)i;
        namecache_put(c, &a, "n.test", NAME_SOURCE_DNS, 100000 + i, 0);
    }
    namecache_get_stats(c, &st);
    CHECK(st.entries <= 64);
    CHECK(st.evictions > 9000);
    netaddr_parse("198.19.9.9", &a);
    namecache_put(c, &a, "ptr.test", NAME_SOURCE_PTR, 5000, 0);
    CHECK_STR(namecache_get(c, &a, 0, &src, &expired), "ptr.test");
    /* DNS beats PTR; PTR does not replace a live DNS name. */
    namecache_put(c, &a, "dns.test", NAME_SOURCE_DNS, 5000, 0);
    namecache_put(c, &a, "ptr2.test", NAME_SOURCE_PTR, 5000, 0);
    CHECK_STR(namecache_get(c, &a, 0, &src, &expired), "dns.test");
    CHECK_EQ(src, NAME_SOURCE_DNS);
    CHECK(!expired);
    /* Expired: still returned, flagged; then replaceable by anything. */
    CHECK_STR(namecache_get(c, &a, 6000, &src, &expired), "dns.test");
    CHECK(expired);
    namecache_put(c, &a, "ptr3.test", NAME_SOURCE_PTR, 9000, 6000);
    CHECK_STR(namecache_get(c, &a, 6000, &src, &expired), "ptr3.test");
    /* Negative entries: fresh, but no name. */
    netaddr_parse("2001:db8::77", &a);
    namecache_put(c, &a, NULL, NAME_SOURCE_PTR, 5000, 0);
    CHECK(namecache_get(c, &a, 0, &src, &expired) == NULL);
    CHECK(namecache_fresh(c, &a, 0));
    CHECK(!namecache_fresh(c, &a, 5000));
    namecache_free(c);
}

static void test_negative_rule(void)
{
    struct namecache *c = namecache_new(64, &seed);
    enum name_source src;
    bool expired;
    struct netaddr a;

    /* A PTR "no answer" after a DNS name's expiry keeps the name and postpones the question. */
    netaddr_parse("198.19.3.3", &a);
    namecache_put(c, &a, "db.test", NAME_SOURCE_DNS, 1000, 0);
    CHECK(!namecache_fresh(c, &a, 2000));
    namecache_put(c, &a, NULL, NAME_SOURCE_PTR, 9000, 2000);
    CHECK(namecache_fresh(c, &a, 2000));
    CHECK_STR(namecache_get(c, &a, 2000, &src, &expired), "db.test");
    CHECK_EQ(src, NAME_SOURCE_DNS);
    namecache_free(c);
}

/* A flood of names nobody looks up pushes out its own kind, not the names in use. */
static void test_flood_spares_names_in_use(void)
{
    struct namecache *c = namecache_new(64, &seed);
    enum name_source src;
    bool expired;
    struct netaddr a;
    unsigned kept = 0;

    for (unsigned i = 0; i < 16; i++) {
        memset(&a, 0, sizeof(a));
        a.family = 4;
        a.bytes[0] = 198;
        a.bytes[1] = 18;
        a.bytes[3] = (uint8_t)i;
        namecache_put(c, &a, "real.test", NAME_SOURCE_DNS, 5000, 0);
        CHECK(namecache_get(c, &a, 0, &src, &expired) != NULL);
    }
    /* Later expiries than the real names', which used to decide. */
    for (unsigned i = 0; i < 10000; i++) {
        memset(&a, 0, sizeof(a));
        a.family = 6;
        a.bytes[0] = 0x20;
        a.bytes[1] = 0x01;
        a.bytes[14] = (uint8_t)(i >> 8);
        a.bytes[15] = (uint8_t)i;
        namecache_put(c, &a, "flood.test", NAME_SOURCE_DNS, 100000 + i, 1000);
    }
    for (unsigned i = 0; i < 16; i++) {
        const char *name;

        memset(&a, 0, sizeof(a));
        a.family = 4;
        a.bytes[0] = 198;
        a.bytes[1] = 18;
        a.bytes[3] = (uint8_t)i;
        name = namecache_get(c, &a, 1000, &src, &expired);
        kept += name != NULL && strcmp(name, "real.test") == 0;
    }
    CHECK_EQ(kept, 16);
    namecache_free(c);
}

/* The version moves exactly when an answer changes: a refresh of the same name leaves it. */
static void test_version(void)
{
    struct namecache *c = namecache_new(64, &seed);
    struct netaddr a, b;
    uint64_t v;

    netaddr_parse("198.19.0.1", &a);
    netaddr_parse("198.19.0.2", &b);
    v = namecache_version(c);
    namecache_put(c, &a, "one.example", NAME_SOURCE_DNS, 10000, 0);
    CHECK(namecache_version(c) != v);
    v = namecache_version(c);
    namecache_put(c, &a, "one.example", NAME_SOURCE_DNS, 20000, 1000); /* the same answer */
    CHECK_EQ(namecache_version(c), v);
    namecache_put(c, &a, NULL, NAME_SOURCE_PTR, 30000, 1000); /* "none" keeps the name */
    CHECK_EQ(namecache_version(c), v);
    namecache_put(c, &a, "uno.example", NAME_SOURCE_DNS, 30000, 2000);
    CHECK(namecache_version(c) != v);
    v = namecache_version(c);
    namecache_put(c, &a, "uno.example", NAME_SOURCE_K8S, 30000, 2000); /* another source */
    CHECK(namecache_version(c) != v);
    v = namecache_version(c);
    namecache_put(c, &b, NULL, NAME_SOURCE_PTR, 30000, 2000); /* a negative entry */
    CHECK(namecache_version(c) != v);
    namecache_free(c);
}

int main(void)
{
    RUN(test_cache_bounds_and_priority);
    RUN(test_negative_rule);
    RUN(test_version);
    RUN(test_flood_spares_names_in_use);
    return test_report();
}
