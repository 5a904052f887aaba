/* The process's own CPU, memory and descriptor use, from procfs, for process_* metrics. */
#ifndef NSTATS_PROCSTAT_H
#define NSTATS_PROCSTAT_H

#include <stdint.h>

struct procstat {
    double cpu_seconds;
    double start_time_seconds; /* since the epoch */
    uint64_t resident_bytes;
    uint64_t virtual_bytes;
    uint64_t open_fds;
    uint64_t max_fds;
};

/* Returns 0, or -1 if /proc/self cannot be read. */
int procstat_read(struct procstat *out);

#endif
