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
    char dir[] = "/tmp/nstats-spool-XXXXXX", err[256], lock_path[64];
    struct loaded l = {0};
    char *p1, *p2, *p3;
    unsigned removed = 99;
    int lock;

    CHECK(mkdtemp(dir) != NULL);
    lock = spool_prepare(dir, &removed, err, sizeof(err));
    CHECK(lock != -1);
    CHECK_EQ(removed, 0);
    p2 = spool_write(dir, NULL, 2000, 1, false, "second\n", 7);
    p1 = spool_write(dir, NULL, 1000, 7, true, "first", 5);
    p3 = spool_write(dir, NULL, 2000, 2, false, "third\n", 6);
    CHECK(p1 != NULL && p2 != NULL && p3 != NULL);
    CHECK_EQ(spool_load(dir, NULL, 1 << 20, on_load, &l, err, sizeof(err)), 3);
    CHECK_EQ(l.n, 3);
    CHECK_EQ(l.ts[0], 1000);
    CHECK_STR(l.body[0], "first");
    CHECK(l.gz[0]);
    CHECK_STR(l.body[1], "second\n");
    CHECK_STR(l.body[2], "third\n");
    CHECK(!l.gz[2]);
    l.n = 0;
    CHECK_EQ(spool_load(dir, NULL, 1 << 20, on_load, &l, err, sizeof(err)), 0);
    free(p1);
    free(p2);
    free(p3);
    spool_release(lock);
    snprintf(lock_path, sizeof(lock_path), "%s/.lock", dir);
    unlink(lock_path);
    rmdir(dir);
    CHECK_EQ(spool_load("/nonexistent/nstats", NULL, 1 << 20, on_load, &l, err, sizeof(err)), -1);
    CHECK(strstr(err, "/nonexistent/nstats") != NULL);
}

static void touch(const char *dir, const char *name)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs("partial", f);
        fclose(f);
    }
}

static bool exists(const char *dir, const char *name)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* A run that died between a spool file's open and its rename left .tmp-* behind: the next
 * start removes them and says how many; a second nstats on the same directory is refused. */
static void test_spool_leftovers_and_lock(void)
{
    char dir[] = "/tmp/nstats-spool-XXXXXX", err[256] = "", path[256];
    unsigned removed = 0;
    struct loaded l = {0};
    int lock, second;

    CHECK(mkdtemp(dir) != NULL);
    touch(dir, ".tmp-00000000001700000000-000001");
    touch(dir, ".tmp-00000000001700000010-000002");
    touch(dir, "00000000001700000000-000000.lp");
    lock = spool_prepare(dir, &removed, err, sizeof(err));
    CHECK(lock != -1);
    CHECK_EQ(removed, 2);
    CHECK(!exists(dir, ".tmp-00000000001700000000-000001"));
    CHECK(!exists(dir, ".tmp-00000000001700000010-000002"));
    CHECK(exists(dir, "00000000001700000000-000000.lp"));
    second = spool_prepare(dir, &removed, err, sizeof(err));
    CHECK_EQ(second, -1);
    CHECK(strstr(err, "in use by another nstats") != NULL);
    CHECK_EQ(spool_load(dir, NULL, 1 << 20, on_load, &l, err, sizeof(err)), 1);
    spool_release(lock);
    /* Once released, the directory can be taken again. */
    lock = spool_prepare(dir, &removed, err, sizeof(err));
    CHECK(lock != -1);
    spool_release(lock);
    snprintf(path, sizeof(path), "%s/.lock", dir);
    unlink(path);
    CHECK_EQ(rmdir(dir), 0);
}

int main(void)
{
    RUN(test_spool_round_trip);
    RUN(test_spool_leftovers_and_lock);
    return test_report();
}
