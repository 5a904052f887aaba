/* The stdout sink: writes each interval's line protocol to a file descriptor, whole. */
#ifndef NSTATS_STDOUT_SINK_H
#define NSTATS_STDOUT_SINK_H

#include <stddef.h>

/* Writes all len bytes to fd, retrying short writes, EINTR and EAGAIN (waiting with poll).
 * Returns 0, or -1 with errno set (EPIPE when the reader went away). */
int stdout_sink_write(int fd, const char *data, size_t len);

#endif
