/* Spool tests: batches written to disk come back oldest first, with their flags, and a missing
 * directory is reported by name. */
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "export/spool.h"
#include "test.h"

struct loaded {
    int n;
    uint64_t ts[4];
    char body[4][32];
    bool gz[4];
};

static void on_load(void *arg, char *path, char *body, size_t len, bool gzipped, uint64_t ts_ms)
{
    struct loaded *l = arg;

    if (l->n < 4) {
        l->ts[l->n] = ts_ms;
        snprintf(l->body[l->n], sizeof(l->body[0]), "%.*s", (int)len, body);
        l->gz[l->n] = gzipped;
    }
    l->n++;
    spool_remove(path);
    free(path);
    free(body);
}

static void test_spool_round_trip(void)
{
    char dir[] = "/tmp/nstats-spool-XXXXXX", err[256];
    struct loaded l = {0};
    char *p1, *p2, *p3;

    CHECK(mkdtemp(dir) != NULL);
    CHECK_EQ(spool_prepare(dir, err, sizeof(err)), 0);
    p2 = spool_write(dir, 2000, 1, false, "second\n", 7);
    p1 = spool_write(dir, 1000, 7, true, "first", 5);
    p3 = spool_write(dir, 2000, 2, false, "third\n", 6);
    CHECK(p1 != NULL && p2 != NULL && p3 != NULL);
    CHECK_EQ(spool_load(dir, 1 << 20, on_load, &l, err, sizeof(err)), 3);
    CHECK_EQ(l.n, 3);
    CHECK_EQ(l.ts[0], 1000);
    CHECK_STR(l.body[0], "first");
    CHECK(l.gz[0]);
    CHECK_STR(l.body[1], "second\n");
    CHECK_STR(l.body[2], "third\n");
    CHECK(!l.gz[2]);
    l.n = 0;
    CHECK_EQ(spool_load(dir, 1 << 20, on_load, &l, err, sizeof(err)), 0);
    free(p1);
    free(p2);
    free(p3);
    rmdir(dir);
    CHECK_EQ(spool_load("/nonexistent/nstats", 1 << 20, on_load, &l, err, sizeof(err)), -1);
    CHECK(strstr(err, "/nonexistent/nstats") != NULL);
}

int main(void)
{
    RUN(test_spool_round_trip);
    return test_report();
}
