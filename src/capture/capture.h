/* libpcap handling: a live interface (memory-mapped ring, non-blocking) or a capture file. */
#ifndef NSTATS_CAPTURE_H
#define NSTATS_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/decode.h"

struct capture;

/* A live ring hands a block of frames over when it fills or after a 100 ms timeout; by this
 * long after a moment, every frame captured before it has been handed over. */
#define CAPTURE_BLOCK_TIMEOUT_MS 100
#define CAPTURE_HANDOVER_MS 150

struct capture_stats {
    uint64_t received;
    uint64_t drops;   /* no room in the ring (ps_drop) */
    uint64_t ifdrops; /* dropped by the interface or driver (ps_ifdrop) */
};

/* One captured frame, decoded where it was read. */
struct capture_packet {
    uint64_t ts_us;
    uint32_t len;                 /* bytes on the wire: what is counted */
    const struct pktsummary *sum; /* decode_packet's summary of the captured bytes */
    /* The captured bytes: from a live capture read on the loop thread; from a file only for the
     * DNS messages capture_keep_dns asked for, else NULL with caplen 0. */
    const uint8_t *data;
    uint32_t caplen;
};

typedef void capture_packet_fn(void *arg, const struct capture_packet *pkt);

/* Opens a live capture on ifname whose ring hands a block of frames over when it fills or
 * block_ms after its first frame (CAPTURE_BLOCK_TIMEOUT_MS for counting; less for a trickle
 * whose every frame matters soon: the DNS snoop). Returns NULL with a one-line reason in
 * errbuf. */
struct capture *capture_open_live(const char *ifname, unsigned snaplen, unsigned buffer_bytes,
                                  unsigned block_ms, char *errbuf, size_t errlen);
/* Live: reads the ring on a thread of its own from now on, about readahead_bytes ahead of the
 * consumer, so that nothing the loop thread does (a scrape, a Kubernetes list) delays reading
 * it; capture_fd then polls readable when packets were handed over. The captured bytes are not
 * kept (pkt->data is NULL). Returns 0, or -1 with a reason in errbuf. */
int capture_start_reader(struct capture *c, size_t readahead_bytes, char *errbuf, size_t errlen);

/* Live: true when the interface no longer exists (a pod's veth deleted). */
bool capture_interface_gone(const struct capture *c);
/* Live, after the interface went away: opens it again (with a reading thread if there was
 * one), keeping the counters of capture_get_stats cumulative. capture_fd changes. Returns 0,
 * or -1 with a reason in errbuf while it is still gone. */
int capture_reopen_live(struct capture *c, char *errbuf, size_t errlen);

/* Opens a pcap or pcapng file ("-" is stdin). A regular file's header is read at once; a
 * pipe's when capture_read_header is called. Returns NULL with a reason in errbuf. */
struct capture *capture_open_file(const char *path, char *errbuf, size_t errlen);
/* A pipe whose header has not been read: a descriptor that polls readable once there is data
 * (or the writer is gone), so the caller can wait on its loop. Else -1. */
int capture_wait_fd(const struct capture *c);
/* A pipe's header may never come: waits for it on l (its timers, signals and HTTP go on) until
 * there is something to read. Returns 0 then (at once for a regular file), or -1 if the loop
 * stopped first with *stopping set, or fails. */
struct loop;
int capture_await_header(struct capture *c, struct loop *l, const bool *stopping);
/* Reads the file header if it has not been read. Returns 0, or -1 with a reason in errbuf. */
int capture_read_header(struct capture *c, char *errbuf, size_t errlen);
/* Files, before the first dispatch: waits up to wait_ms until max_packets packets are read
 * ahead, the read-ahead is full or the file has ended. Returns 1 then, 0 on time out, -1 with
 * a reason in errbuf if reading cannot start. */
int capture_wait_ahead(struct capture *c, unsigned max_packets, unsigned wait_ms, char *errbuf,
                       size_t errlen);
/* Files, before the first dispatch: passes up to max_packets of the packets read ahead to fn
 * (without their bytes), leaving them to be dispatched. Returns how many. */
unsigned capture_peek(struct capture *c, unsigned max_packets, capture_packet_fn *fn, void *arg);
void capture_close(struct capture *c);
/* Installs a BPF filter. Returns 0, or -1 with a reason in errbuf. */
int capture_set_filter(struct capture *c, const char *expr, char *errbuf, size_t errlen);

/* Files: besides its summary, keep the captured bytes of every packet the decoder flags as
 * a DNS query or answer (pktsummary.dns_query, dns_answer), for the names. Call before the
 * first dispatch. */
void capture_keep_dns(struct capture *c);

/* Files: how far the reading thread may read ahead of the consumer (at least 2 MiB). Call
 * before the first dispatch. */
void capture_set_readahead(struct capture *c, size_t bytes);

/* The pcap DLT_* link type. */
int capture_linktype(const struct capture *c);
/* A descriptor that polls readable when packets may be waiting (live only), else -1. */
int capture_fd(const struct capture *c);

/* Delivers up to max_packets waiting frames (0: all that are waiting) to fn. Live captures
 * never block; files are read ahead on a thread of their own, and a dispatch waits at most
 * 100 ms for it. Returns the number delivered, 0 at end of file or when none are waiting, or
 * -1 with a reason in errbuf (a truncated or corrupt file, a vanished interface). */
int capture_dispatch(struct capture *c, int max_packets, capture_packet_fn *fn, void *arg,
                     char *errbuf, size_t errlen);
/* Files and a live capture on its own thread: stops reading. Dispatches then deliver what was
 * already read, then report the end (capture_at_eof). */
void capture_stop_reading(struct capture *c);
/* True once a file has been read to its end. */
int capture_at_eof(const struct capture *c);
/* Cumulative kernel counters (live; with a reading thread, as of its last read); zeros for
 * files. Returns 0 or -1. */
int capture_get_stats(struct capture *c, struct capture_stats *out);

#endif
