/* Reads a capture (a file, or a live interface's ring) with libpcap on a thread of its own,
 * decodes each packet there, and hands the summaries over in chunks: the loop thread never
 * blocks on the file, nothing the loop does delays reading the ring, and reading and decoding
 * overlap counting. */
#ifndef NSTATS_READER_H
#define NSTATS_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/capture.h"

/* libpcap's handle, opaque here. */
struct pcap;

struct reader;

/* A reader, not started. Returns NULL with errno set. */
struct reader *reader_new(void);
/* Opens path ("-" is stdin) as a stream that reader_free can interrupt even while a read blocks
 * (an idle pipe). A named pipe is opened without waiting for a writer. Returns NULL with errno
 * set. */
FILE *reader_fopen(struct reader *r, const char *path);
/* For a stream that is not a regular file (a pipe): its descriptor, which polls readable once
 * there is something to read (the capture file header, say); else -1. */
int reader_wait_fd(const struct reader *r);

/* Starts the reading thread on pcap, opened with pcap_fopen_offline on the stream from
 * reader_fopen. A regular file in the classic pcap format has its records read by the thread
 * itself, with pread into a 4 MiB window past the header libpcap read (libpcap's two freads a
 * record cost more than decoding it; a file that shrinks meanwhile ends where it was cut, a
 * record cut short being reported as a truncated file); anything else goes through pcap_loop.
 * Records keep their captured bytes only for the packets the decoder flags as DNS queries or
 * answers, if keep_dns. The thread reads up to about readahead_bytes ahead (at least 2 MiB). It
 * owns pcap until reader_free, which the caller must call before pcap_close. */
int reader_start(struct reader *r, struct pcap *pcap, int linktype, bool keep_dns,
                 size_t readahead_bytes, char *errbuf, size_t errlen);
/* Starts the reading thread on an activated live pcap: it reads the ring's blocks as the kernel
 * hands them over, decodes them, and publishes its records when a chunk is full or the ring is
 * empty; reader_notify_fd polls readable then. When the read-ahead is full it stops reading
 * and the kernel's ring holds what comes. */
int reader_start_live(struct reader *r, struct pcap *pcap, int linktype, size_t readahead_bytes,
                      char *errbuf, size_t errlen);
/* Live: readable when records were published since the last reader_dispatch; else -1. */
int reader_notify_fd(const struct reader *r);
/* Live: the kernel's counters as of the reading thread's last dispatch. Returns 0. */
int reader_live_stats(struct reader *r, struct capture_stats *out);

/* Passes up to max_packets ready packets (0: those read ahead when the call began) to fn, in
 * order. Waits up to wait_ms for the first. Returns the number passed (0 if none was ready in
 * time), or -1 with a reason in errbuf once every packet before a read error has been passed. *eof
 * becomes true once the whole file has been passed (for live, once the thread has stopped). */
int reader_dispatch(struct reader *r, int max_packets, unsigned wait_ms, capture_packet_fn *fn,
                    void *arg, bool *eof, char *errbuf, size_t errlen);

/* Before the first dispatch: waits up to wait_ms until max_packets records are read ahead, the
 * read-ahead is full, or the file has ended. Returns 1 then, 0 on time out. */
int reader_wait_ahead(struct reader *r, unsigned max_packets, unsigned wait_ms);
/* Before the first dispatch: passes up to max_packets of the records read ahead to fn, in
 * order, without their bytes, and leaves them to be dispatched. Returns how many. */
unsigned reader_peek(struct reader *r, unsigned max_packets, capture_packet_fn *fn, void *arg);

/* Stops reading (interrupting a read blocked on a pipe or a ring) and joins the thread. What it
 * read before is still handed over by reader_dispatch, then the end. */
void reader_stop(struct reader *r);
/* Stops the thread if it runs and frees r. Call before pcap_close. NULL is fine. */
void reader_free(struct reader *r);

#endif
