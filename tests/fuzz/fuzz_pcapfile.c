/* Fuzz target for capture file reading: the input is a whole capture file, read through the
 * capture API to its end or an error, so the plain pcap record reader (and libpcap, for what it
 * leaves to libpcap) runs on arbitrary bytes. Every packet is within libpcap's limits, and an
 * error says why. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_packet(void *arg, const struct capture_packet *pkt)
{
    unsigned *n = arg;

    /* Bytes are kept only when asked (capture_keep_dns): here, never. */
    if (pkt->sum == NULL || pkt->data != NULL || pkt->caplen != 0)
        abort();
    (*n)++;
}

/* Writes the input to an anonymous in-memory file: a regular file, as a capture on disk is. */
static int memory_file(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_pcapfile", MFD_CLOEXEC);
    size_t done = 0;

    if (fd == -1)
        abort();
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);

        if (n <= 0)
            abort();
        done += (size_t)n;
    }
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[512];
    struct capture *c;
    unsigned n = 0;
    int fd = memory_file(data, size), rc = 0, rounds = 0;

    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    err[0] = '\0';
    c = capture_open_file(path, err, sizeof(err));
    if (c == NULL) {
        if (err[0] == '\0')
            abort(); /* a refusal says why */
        close(fd);
        return 0;
    }
    while (rc != -1 && !capture_at_eof(c) && rounds++ < 100000)
        rc = capture_dispatch(c, 0, on_packet, &n, err, sizeof(err));
    /* A file of size bytes holds at most one record per 16-byte record header. */
    if ((rc == -1 && err[0] == '\0') || (rc != -1 && !capture_at_eof(c)) || n > size / 16)
        abort();
    capture_close(c);
    close(fd);
    return 0;
}
