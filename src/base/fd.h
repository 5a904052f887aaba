/* Descriptor helpers that know about short writes, EINTR and non-blocking descriptors. */
#ifndef NSTATS_FD_H
#define NSTATS_FD_H

#include <stddef.h>

/* Writes all len bytes to fd, retrying short writes and EINTR, and waiting with poll on EAGAIN
 * (a non-blocking pipe). Blocks until done. Returns 0, or -1 with errno set (EPIPE when the
 * reader went away, ENOSPC for a full disk). */
int fd_write_all(int fd, const void *data, size_t len);

#endif
