/* Network label tests: CIDR=LABEL entries, refused entries, longest-prefix lookup. */
#include "names/netlabels.h"
#include "test.h"

static void test_labels(void)
{
    static struct netlabels l;
    char err[256];
    struct netaddr a;

    netlabels_init(&l);
    CHECK_EQ(netlabels_add(&l, "0.0.0.0/0=internet", err, sizeof(err)), 0);
    CHECK_EQ(netlabels_add(&l, "198.18.0.0/15=lab", err, sizeof(err)), 0);
    CHECK_EQ(netlabels_add(&l, "198.19.1.0/24=db", err, sizeof(err)), 0);
    CHECK_EQ(netlabels_add(&l, "2001:db8::/32=lab6", err, sizeof(err)), 0);
    CHECK_EQ(netlabels_add(&l, "10.0.0.1/8=x", err, sizeof(err)), -1);
    CHECK_EQ(netlabels_add(&l, "10.0.0.0/8", err, sizeof(err)), -1);
    CHECK_EQ(netlabels_add(&l, "=x", err, sizeof(err)), -1);
    netaddr_parse("198.19.1.7", &a);
    CHECK_STR(netlabels_find(&l, &a), "db");
    netaddr_parse("198.19.2.7", &a);
    CHECK_STR(netlabels_find(&l, &a), "lab");
    netaddr_parse("8.8.8.8", &a);
    CHECK_STR(netlabels_find(&l, &a), "internet");
    netaddr_parse("2001:db9::1", &a);
    CHECK(netlabels_find(&l, &a) == NULL);
}

int main(void)
{
    RUN(test_labels);
    return test_report();
}
