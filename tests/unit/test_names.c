/* Naming facade tests: labels, DNS answers seen on the wire and addresses, in that order of
 * preference; TCP framing; the counters. */
#include "dnsbuild.h"
#include "names/names.h"
#include "test.h"

static struct hash_key seed = {5, 6};

static void test_facade(void)
{
    static struct netlabels l;
    char err[256];
    struct names *n;
    struct name_info ni;
    struct netaddr a;
    struct dnsmsg m;
    size_t q;

    /* The labels test_netlabels checks, as the facade's last resort. */
    netlabels_init(&l);
    CHECK_EQ(netlabels_add(&l, "0.0.0.0/0=internet", err, sizeof(err)), 0);
    CHECK_EQ(netlabels_add(&l, "198.18.0.0/15=lab", err, sizeof(err)), 0);
    CHECK_EQ(netlabels_add(&l, "198.19.1.0/24=db", err, sizeof(err)), 0);
    CHECK_EQ(netlabels_add(&l, "2001:db8::/32=lab6", err, sizeof(err)), 0);

    n = names_new(128, 3600000, &l, &seed);
    netaddr_parse("198.19.1.7", &a);
    names_lookup(n, &a, NULL, 0, &ni);
    CHECK_STR(ni.name, "db");
    CHECK_STR(ni.source, "net");
    q = dm_response(&m, "db.prod.test", 1, 1);
    dm_ptr(&m, q);
    dm_rr(&m, 1, 5, 4);
    dm_a(&m, "198.19.1.7");
    names_dns_message(n, m.b, m.len, false, 1000);
    names_lookup(n, &a, NULL, 2000, &ni);
    CHECK_STR(ni.name, "db.prod.test");
    CHECK_STR(ni.source, "dns");
    CHECK_STR(ni.net, "db");
    /* A TTL of 5 s is kept for the minimum of an hour. */
    names_lookup(n, &a, NULL, 1000 + 3599000, &ni);
    CHECK_STR(ni.source, "dns");
    netaddr_parse("2001:db9::1", &a);
    names_lookup(n, &a, NULL, 0, &ni);
    CHECK_STR(ni.name, "2001:db9::1");
    CHECK_STR(ni.source, "addr");
    CHECK_STR(ni.net, "");
    /* TCP framing: a whole message with its length prefix. */
    {
        struct dnsmsg t;

        t.len = 0;
        dm_u16(&t, (unsigned)m.len);
        memcpy(t.b + 2, m.b, m.len);
        t.len = m.len + 2;
        names_dns_message(n, t.b, t.len, true, 1000);
        names_dns_message(n, t.b, t.len - 1, true, 1000); /* split: rejected */
    }
    {
        struct names_stats st;

        names_get_stats(n, &st);
        CHECK_EQ(st.dns_responses, 2);
        CHECK_EQ(st.dns_rejected, 1);
    }
    names_free(n);
}

int main(void)
{
    RUN(test_facade);
    return test_report();
}
