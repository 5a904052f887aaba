/* Reads a capture file with libpcap on a thread of its own, decodes each packet there, and
 * hands the summaries over in chunks: the loop thread never blocks on the file, and reading
 * and decoding overlap counting. */
#ifndef NSTATS_FILEREADER_H
#define NSTATS_FILEREADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/capture.h"

/* libpcap's handle, opaque here. */
struct pcap;

struct filereader;

/* Opens path ("-" is stdin) as a stream that filereader_free can interrupt even while a read
 * blocks (an idle pipe). Returns NULL with errno set. */
FILE *filereader_fopen(const char *path, struct filereader **out);
/* Starts the reading thread on pcap, opened with pcap_fopen_offline on the stream from
 * filereader_fopen; r is what that call returned. Records keep their captured bytes only for
 * the packets the decoder flags as DNS answers, if keep_dns. The thread reads up to about
 * readahead_bytes ahead (at least 2 MiB). It owns pcap until filereader_free, which the
 * caller must call before pcap_close. */
int filereader_start(struct filereader *r, struct pcap *pcap, int linktype, bool keep_dns,
                     size_t readahead_bytes, char *errbuf, size_t errlen);
/* Passes up to max_packets ready packets (0: those read ahead when the call began) to fn, in
 * file order. Waits up to wait_ms for the first. Returns the number passed (0 if none was ready in
 * time), or -1 with a reason in errbuf once every packet before a read error has been passed. *eof
 * becomes true once the whole file has been passed. */
int filereader_dispatch(struct filereader *r, int max_packets, unsigned wait_ms,
                        capture_packet_fn *fn, void *arg, bool *eof, char *errbuf, size_t errlen);
/* Stops reading (interrupting a read blocked on a pipe) and joins the thread. What it read
 * before is still handed over by filereader_dispatch, then the end. */
void filereader_stop(struct filereader *r);
/* Stops the thread if it runs and frees r. Call before pcap_close. NULL is fine. */
void filereader_free(struct filereader *r);

#endif
