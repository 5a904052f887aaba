/* /proc/self/stat fields 14-15 (CPU ticks), 22 (start ticks since boot), 23-24 (vsize, rss). */
#include "procstat.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static double boot_time_seconds(void)
{
    FILE *f = fopen("/proc/stat", "r");
    char line[256];
    double btime = 0;

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "btime %lf", &btime) == 1)
            break;
    fclose(f);
    return btime;
}

int procstat_read(struct procstat *out)
{
    char buf[1024], *p;
    unsigned long long utime, stime, start, vsize, rss;
    long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    struct rlimit rl;
    FILE *f = fopen("/proc/self/stat", "r");
    DIR *d;
    size_t n;

    memset(out, 0, sizeof(*out));
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: fields start after the last ')'. */
    p = strrchr(buf, ')');
    if (p == NULL || ticks <= 0 ||
        sscanf(p + 2,
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
               "%llu %llu %llu",
               &utime, &stime, &start, &vsize, &rss) != 5)
        return -1;
    out->cpu_seconds = (double)(utime + stime) / (double)ticks;
    out->start_time_seconds = boot_time_seconds() + (double)start / (double)ticks;
    out->virtual_bytes = vsize;
    out->resident_bytes = rss * (unsigned long long)page;
    d = opendir("/proc/self/fd");
    if (d != NULL) {
        struct dirent *e;

        while ((e = readdir(d)) != NULL)
            out->open_fds += e->d_name[0] != '.';
        closedir(d);
        out->open_fds--; /* the directory stream itself */
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        out->max_fds = rl.rlim_cur;
    return 0;
}
