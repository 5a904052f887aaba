/* Network label tests: CIDR=LABEL entries, refused entries, longest-prefix lookup. */
#include <stdlib.h>
#include <unistd.h>

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

static void write_file(const char *path, const char *text, size_t repeat)
{
    FILE *f = fopen(path, "w");

    CHECK(f != NULL);
    if (f == NULL)
        return;
    for (size_t i = 0; i < repeat; i++)
        fputs(text, f);
    fclose(f);
}

/* A label file is read with bounds: a device that never ends, a huge file, a binary file or
 * an endless line is refused with the line it failed at, not read forever. */
static void test_label_file_bounds(void)
{
    static struct netlabels l;
    char path[] = "/tmp/nstats-labels-XXXXXX", err[256] = "", line[600];
    int fd = mkstemp(path);
    struct netaddr a;

    CHECK(fd != -1);
    close(fd);
    netlabels_init(&l);
    write_file(path, "# classes\r\n  10.0.0.0/8=cluster \r\n\n198.18.0.0/15=lab", 1);
    CHECK_EQ(netlabels_load_file(&l, path, err, sizeof(err)), 0);
    CHECK_EQ(l.n, 2);
    netaddr_parse("198.18.3.4", &a);
    CHECK_STR(netlabels_find(&l, &a), "lab");

    netlabels_init(&l);
    CHECK_EQ(netlabels_load_file(&l, "/dev/zero", err, sizeof(err)), -1);
    CHECK_STR(err, "/dev/zero:1: a NUL byte: not a text file");

    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    write_file(path, "# ok\n", 1);
    {
        FILE *f = fopen(path, "a");

        fputs(line, f);
        fclose(f);
    }
    CHECK_EQ(netlabels_load_file(&l, path, err, sizeof(err)), -1);
    CHECK(strstr(err, ":2: the line is longer than 511 bytes") != NULL);

    /* 17 MiB of comments. */
    write_file(path, "# a comment line of exactly sixty-four bytes, to fill the file.\n",
               17u << 14);
    CHECK_EQ(netlabels_load_file(&l, path, err, sizeof(err)), -1);
    CHECK(strstr(err, "the file is over 16 MiB") != NULL);
    unlink(path);
}

int main(void)
{
    RUN(test_labels);
    RUN(test_label_file_bounds);
    return test_report();
}
