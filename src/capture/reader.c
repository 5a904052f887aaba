/* Capture reading on its own thread: libpcap (a live ring, pcapng, a pipe) or a plain pcap
 * file's own reader reads, the decoder summarizes into fixed chunks, the loop thread drains
 * them. */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* libpcap's headers use the BSD u_char / u_int types. */
#include <pcap/pcap.h>

#include "base/xalloc.h"
#include "capture/decode.h"

/* How often a read on the loop thread (the capture file header) looks for a stop signal. */
#define STOP_CHECK_MS 100
/* Chunks of 512 KiB, each able to hold the bytes of a packet at libpcap's largest snap length
 * (256 KiB); how many is the caller's read-ahead (at least MIN_CHUNKS). */
#define MIN_CHUNKS 4
#define CHUNK_BYTES ((size_t)512 * 1024)
#define CHUNK_EXTRAS 1024u

/* A packet in a chunk: one cache line, at a fixed stride, so the loop thread reads them in
 * a stream the hardware prefetches instead of chasing variable lengths. */
struct record {
    uint64_t ts_us;
    uint32_t len;
    struct pktsummary sum;
};
_Static_assert(sizeof(struct record) == 64, "a record is one cache line");

/* The captured bytes kept for a record, in the chunk's data from the end down. */
struct extra {
    uint32_t record;
    uint32_t caplen;
    uint32_t offset;
};

struct chunk {
    uint32_t n_records; /* from the front of data */
    uint32_t n_extras;
    uint32_t extra_bytes; /* from the back of data */
    struct extra extras[CHUNK_EXTRAS];
    _Alignas(64) uint8_t data[CHUNK_BYTES];
};

static struct record *record_at(struct chunk *c, uint32_t i)
{
    return (struct record *)(void *)(c->data + (size_t)i * sizeof(struct record));
}

static size_t chunk_room(const struct chunk *c)
{
    return CHUNK_BYTES - (size_t)c->n_records * sizeof(struct record) - c->extra_bytes;
}

/* The cookie of a pipe's or terminal's FILE: the descriptor, a duplicate of the reader's stop
 * eventfd that wakes a read blocked there, and the reader, to hand over what it has before
 * waiting for more. Owned by the FILE (libpcap fcloses it). */
struct stream {
    int fd;
    int stop_fd;
    struct reader *reader;
};

struct reader {
    pcap_t *pcap;
    int linktype;
    bool keep_dns;
    bool live;
    bool file_swapped; /* a plain pcap file read here: its byte order, */
    bool file_nsec;    /* and whether its stamps are in nanoseconds */
    int stop_fd;
    bool thread_reads; /* set before the thread starts: reads are no longer the loop thread's */
    int notify_fd;     /* live: counts published chunks, for the loop to poll */
    int wait_fd;       /* a pipe's descriptor (owned by the stream), else -1 */
    atomic_bool stop;
    bool started;
    bool joined;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t n_chunks;
    /* Under mu. Chunk i % n_chunks is published when filled > i and released when taken > i. */
    uint64_t filled;
    uint64_t taken;
    bool done;                  /* the reader has published its last chunk */
    int status;                 /* then: 0 end of file, -1 error */
    struct capture_stats stats; /* live: the kernel's counters after the last dispatch */
    char err[PCAP_ERRBUF_SIZE + 32];
    struct chunk *chunks;
    /* Reader thread only, on a cache line of its own. */
    _Alignas(64) struct chunk *fill;
    uint8_t *buf;  /* a plain pcap file's window (FILE_WINDOW bytes): buf_len bytes read at */
    off_t buf_off; /* buf_off in the file */
    size_t buf_len;
    /* Loop thread only, on a cache line of its own: the chunk being drained, its next record
     * and next extra. The struct is cache-line aligned too, so no neighbour on the heap (the
     * reader's FILE, written on every fread) shares these lines. */
    _Alignas(64) struct chunk *drain;
    uint32_t pos;
    uint32_t pos_extra;
    bool reported; /* the error or end was returned */
};

static void publish_partial(struct reader *r);

/* True if SIGINT or SIGTERM waits to be taken (signals are blocked; the loop's signalfd takes
 * them). */
static bool stop_pending(void)
{
    sigset_t pending;

    return sigpending(&pending) == 0 &&
           (sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1);
}

static ssize_t stream_read(void *cookie, char *buf, size_t size)
{
    struct stream *s = cookie;

    for (;;) {
        struct pollfd p[2] = {{s->fd, POLLIN, 0}, {s->stop_fd, POLLIN, 0}};
        ssize_t n;
        int ready = poll(p, 2, 0);

        /* Nothing to read yet (a live pipe gone quiet): hand over the records read so far
         * instead of holding them until a chunk fills. */
        if (ready == 0) {
            bool on_loop = !s->reader->thread_reads;

            publish_partial(s->reader);
            /* The header is read on the loop thread, before the reading thread starts: there a
             * stop signal (pending for the loop's signalfd) ends a wait for a pipe that sends
             * nothing more. */
            ready = poll(p, 2, on_loop ? STOP_CHECK_MS : -1);
            if (ready == 0) {
                if (stop_pending()) {
                    errno = EINTR;
                    return -1;
                }
                continue;
            }
        }
        if (ready == -1) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (p[1].revents != 0) {
            errno = ECANCELED;
            return -1;
        }
        n = read(s->fd, buf, size);
        if (n >= 0 || (errno != EINTR && errno != EAGAIN))
            return n;
    }
}

static int stream_close(void *cookie)
{
    struct stream *s = cookie;

    close(s->fd);
    close(s->stop_fd);
    free(s);
    return 0;
}

/* A stream whose reads wait on r's stop eventfd too, for pipes and terminals, where a read
 * can block for good. Takes fd. */
static FILE *interruptible_stream(int fd, struct reader *r)
{
    cookie_io_functions_t io = {stream_read, NULL, NULL, stream_close};
    struct stream *s = xcalloc(1, sizeof(*s));
    FILE *f;

    s->fd = fd;
    s->reader = r;
    s->stop_fd = fcntl(r->stop_fd, F_DUPFD_CLOEXEC, 0);
    if (s->stop_fd == -1 || (f = fopencookie(s, "r", io)) == NULL) {
        int saved = errno;

        if (s->stop_fd != -1)
            close(s->stop_fd);
        close(fd);
        free(s);
        errno = saved;
        return NULL;
    }
    return f;
}

struct reader *reader_new(void)
{
    struct reader *r = aligned_alloc(64, sizeof(*r));
    pthread_condattr_t ca;

    if (r == NULL)
        return NULL;
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->mu, NULL);
    /* Waits are timed on the monotonic clock: wall clock steps do not stretch them. */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    r->notify_fd = -1;
    r->wait_fd = -1;
    r->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (r->stop_fd == -1) {
        int saved = errno;

        reader_free(r);
        errno = saved;
        return NULL;
    }
    return r;
}

FILE *reader_fopen(struct reader *r, const char *path)
{
    struct stat st;
    FILE *f = NULL;
    int fd;

    /* stdin too gets a descriptor of our own, which the stream closes. A named pipe is
     * opened without waiting for a writer: reads poll first, so that wait can be stopped. */
    fd = strcmp(path, "-") == 0 ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0)
                                : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd == -1)
        return NULL;
    /* A regular file's reads do not block for long: plain stdio is faster there. */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        f = fdopen(fd, "r");
        if (f == NULL)
            close(fd);
    } else {
        f = interruptible_stream(fd, r);
        if (f != NULL)
            r->wait_fd = fd;
    }
    if (f == NULL)
        return NULL;
    /* libpcap reads each record with two small freads: large reads keep the system calls
     * few, and since only the reading thread touches the stream, stdio's lock (an atomic
     * operation on every fread) is skipped. */
    setvbuf(f, NULL, _IOFBF, 1u << 20);
    __fsetlocking(f, FSETLOCKING_BYCALLER);
    return f;
}

int reader_wait_fd(const struct reader *r)
{
    return r->wait_fd;
}

/* Live: wakes the loop thread, which polls notify_fd. */
static void notify(struct reader *r)
{
    uint64_t one = 1;

    if (r->notify_fd != -1 && write(r->notify_fd, &one, sizeof(one)) == -1) {
        /* at its maximum count an eventfd is readable already */
    }
}

/* Publishes the chunk being filled (if any) and waits for a free one. Returns it, or NULL
 * when asked to stop. */
static struct chunk *next_chunk(struct reader *r, bool publish)
{
    struct chunk *c = NULL;

    pthread_mutex_lock(&r->mu);
    if (publish) {
        r->filled++;
        pthread_cond_broadcast(&r->cv);
        notify(r);
    }
    while (!atomic_load(&r->stop) && r->filled - r->taken >= r->n_chunks)
        pthread_cond_wait(&r->cv, &r->mu);
    if (!atomic_load(&r->stop)) {
        c = &r->chunks[r->filled % r->n_chunks];
        c->n_records = 0;
        c->n_extras = 0;
        c->extra_bytes = 0;
    }
    pthread_mutex_unlock(&r->mu);
    return c;
}

/* Reader thread, between records: publishes the chunk being filled if it holds any. Also
 * called while libpcap reads the file header on the loop thread, before there is a chunk. */
static void publish_partial(struct reader *r)
{
    if (r->fill != NULL && r->fill->n_records > 0)
        r->fill = next_chunk(r, true);
}

/* True for the packets whose bytes the loop thread asked to keep. */
static bool wanted(const struct reader *r, const struct pktsummary *sum)
{
    return r->keep_dns && sum->status == DECODE_OK && (sum->dns_answer || sum->dns_query);
}

/* Copies the captured bytes of the record being added to the end of c's data. */
static void keep_bytes(struct chunk *c, const uint8_t *bytes, uint32_t keep)
{
    struct extra *x = &c->extras[c->n_extras++];

    c->extra_bytes += (keep + 7u) & ~7u;
    x->record = c->n_records;
    x->caplen = keep;
    x->offset = CHUNK_BYTES - c->extra_bytes;
    memcpy(c->data + x->offset, bytes, keep);
}

/* Decodes one packet into the chunk being filled, keeping its bytes if wanted. Returns false
 * when asked to stop. */
static bool add_record(struct reader *r, uint64_t ts_us, uint32_t len, const uint8_t *bytes,
                       uint32_t caplen)
{
    struct record *rec;
    uint32_t keep = 0;
    size_t need;

    if (r->fill == NULL) /* asked to stop while handing over a partial chunk */
        return false;
    if (chunk_room(r->fill) < sizeof(*rec)) {
        r->fill = next_chunk(r, true);
        if (r->fill == NULL)
            return false;
    }
    /* Decoded in place: the summary is written once, where the loop thread reads it. */
    rec = record_at(r->fill, r->fill->n_records);
    decode_packet(r->linktype, bytes, caplen, &rec->sum);
    rec->ts_us = ts_us;
    rec->len = len;
    if (__builtin_expect(wanted(r, &rec->sum), 0)) {
        /* libpcap refuses records over its largest snap length; clip anyway, so the bytes
         * always fit an empty chunk. len, which is what is counted, stays whole. */
        keep = caplen;
        if (keep > CHUNK_BYTES / 2)
            keep = CHUNK_BYTES / 2;
        need = sizeof(*rec) + ((keep + 7u) & ~7u);
        if (chunk_room(r->fill) < need || r->fill->n_extras == CHUNK_EXTRAS) {
            struct record moved = *rec;

            r->fill = next_chunk(r, true);
            if (r->fill == NULL)
                return false;
            rec = record_at(r->fill, r->fill->n_records);
            *rec = moved;
        }
        keep_bytes(r->fill, bytes, keep);
    }
    r->fill->n_records++;
    return true;
}

static void on_record(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct reader *r = (struct reader *)(void *)user;

    if (!add_record(r, (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec, h->len, bytes,
                    h->caplen))
        pcap_breakloop(r->pcap);
}

/* Reader thread, at the end: publishes the last records and says why it stopped (error is
 * NULL at the end of the file or on a stop). */
static void finish(struct reader *r, const char *error)
{
    pthread_mutex_lock(&r->mu);
    if (r->fill != NULL && r->fill->n_records > 0)
        r->filled++;
    r->done = true;
    /* A read cut short by a stop is the end, not an error. */
    r->status = error != NULL && !atomic_load(&r->stop) ? -1 : 0;
    if (r->status == -1)
        snprintf(r->err, sizeof(r->err), "%s", error);
    pthread_cond_broadcast(&r->cv);
    notify(r);
    pthread_mutex_unlock(&r->mu);
}

/* The classic pcap format's file header and record header. */
#define PCAP_FILE_HEADER 24u
#define PCAP_RECORD_HEADER 16u
#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
/* libpcap's largest captured length for the link types the decoder knows (MAXIMUM_SNAPLEN). */
#define PCAP_MAX_CAPLEN 262144u

static uint32_t file_u32(const uint8_t *p, bool swapped)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return swapped ? __builtin_bswap32(v) : v;
}

/* True if the records of r's file can be read here rather than by pcap_loop: a regular file in
 * the classic format (version 2.4, either byte order, micro- or nanosecond stamps) whose header
 * libpcap has just read. Sets the byte order and stamp precision. Anything else (pcapng, a pipe,
 * the formats of patched libpcaps) is left to libpcap. */
static bool plain_pcap_file(struct reader *r)
{
    FILE *f = pcap_file(r->pcap);
    uint8_t h[PCAP_FILE_HEADER];
    struct stat st;
    uint32_t magic;

    if (f == NULL || !decode_linktype_supported(r->linktype) || fstat(fileno(f), &st) == -1 ||
        !S_ISREG(st.st_mode) || ftello(f) != (off_t)PCAP_FILE_HEADER ||
        pread(fileno(f), h, sizeof(h), 0) != (ssize_t)sizeof(h))
        return false;
    memcpy(&magic, h, sizeof(magic));
    r->file_swapped =
        magic == __builtin_bswap32(PCAP_MAGIC_US) || magic == __builtin_bswap32(PCAP_MAGIC_NS);
    magic = file_u32(h, r->file_swapped);
    r->file_nsec = magic == PCAP_MAGIC_NS;
    return (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS) &&
           r->file_swapped == (pcap_is_swapped(r->pcap) == 1) && pcap_major_version(r->pcap) == 2 &&
           pcap_minor_version(r->pcap) == 4;
}

/* The file is read a window at a time into one buffer (memory stays bounded); a record that
 * crosses a window's end starts the next window. A window holds the largest record many times
 * over, so a record never needs more than one. */
#define FILE_WINDOW ((size_t)4 << 20)

/* Reads as much of the file as the window holds from offset at into r's buffer, until it is
 * full or the file ends (a file that shrank simply ends sooner). Returns 0, or -1 with errno. */
static int read_window(struct reader *r, int fd, off_t at)
{
    size_t got = 0;

    r->buf_off = at;
    r->buf_len = 0;
    while (got < FILE_WINDOW) {
        ssize_t n = pread(fd, r->buf + got, FILE_WINDOW - got, at + (off_t)got);

        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    r->buf_len = got;
    return 0;
}

/* The bytes of the window from the file offset pos on, or 0 if pos is outside it. */
static size_t window_avail(const struct reader *r, off_t pos)
{
    off_t end = r->buf_off + (off_t)r->buf_len;

    return pos >= r->buf_off && pos < end ? (size_t)(end - pos) : 0;
}

/* The bytes a record needs in the window before it is looked at: its header, and its data
 * unless the length is one refused anyway. */
static size_t record_need(const struct reader *r, off_t pos)
{
    size_t avail = window_avail(r, pos);
    uint32_t caplen;

    if (avail < PCAP_RECORD_HEADER)
        return PCAP_RECORD_HEADER;
    caplen = file_u32(r->buf + (pos - r->buf_off) + 8, r->file_swapped);
    return PCAP_RECORD_HEADER + (caplen <= PCAP_MAX_CAPLEN ? caplen : 0);
}

/* The error for a record at the end of the file with only avail bytes of it there, in
 * libpcap's words: the header cut short, or the data (of which libpcap reads at most the snap
 * length first). */
static void truncated(const struct reader *r, off_t pos, size_t avail, char *err, size_t errlen)
{
    uint32_t snaplen = (uint32_t)pcap_snapshot(r->pcap);
    uint32_t caplen;
    size_t got;

    if (avail < PCAP_RECORD_HEADER) {
        snprintf(err, errlen, "truncated dump file; tried to read %u header bytes, only got %zu",
                 PCAP_RECORD_HEADER, avail);
        return;
    }
    caplen = file_u32(r->buf + (pos - r->buf_off) + 8, r->file_swapped);
    got = avail - PCAP_RECORD_HEADER;
    snprintf(err, errlen, "truncated dump file; tried to read %u captured bytes, only got %zu",
             caplen > snaplen && got < snaplen ? snaplen : caplen, got);
}

/* A record's stamp in microseconds. libpcap reads the stamp as signed 32-bit fields into a
 * struct timeval, and truncates nanoseconds to microseconds. */
static uint64_t record_ts_us(const struct reader *r, const uint8_t *p)
{
    int64_t sec = (int32_t)file_u32(p, r->file_swapped);
    int64_t frac = (int32_t)file_u32(p + 4, r->file_swapped);

    if (r->file_nsec)
        frac /= 1000;
    return (uint64_t)sec * 1000000u + (uint64_t)frac;
}

/* Reads the records of a plain_pcap_file with pread into a buffer and decodes them there:
 * libpcap would copy each record again out of stdio's buffer with two freads, which costs more
 * than decoding it. pread leaves the stream's offset alone, so libpcap can still take over if
 * the file cannot be read this way. What libpcap checks is checked the same way, with its
 * messages. Returns -1 if nothing could be read (libpcap can read it instead), else 0 with
 * *error NULL at the end (or on a stop) or the error. */
static int read_file_records(struct reader *r, const char **error, char *err, size_t errlen)
{
    int fd = fileno(pcap_file(r->pcap));
    uint32_t snaplen = (uint32_t)pcap_snapshot(r->pcap);
    off_t pos = PCAP_FILE_HEADER;

    *error = NULL;
    if (r->buf == NULL && (r->buf = malloc(FILE_WINDOW)) == NULL)
        return -1;
    if (read_window(r, fd, pos) == -1)
        return -1;
    for (;;) {
        size_t avail = window_avail(r, pos), need = record_need(r, pos);
        const uint8_t *p;
        uint32_t caplen, len;

        /* Not all of the record in the window: the next window starts at it, which also reads
         * what was added to a growing file. If it is still short, the file ends there. */
        if (avail < need && r->buf_off != pos) {
            if (read_window(r, fd, pos) == -1) {
                snprintf(err, errlen, "error reading dump file: %s", strerror(errno));
                *error = err;
                break;
            }
            continue;
        }
        if (avail == 0)
            break;
        if (avail < need) {
            truncated(r, pos, avail, err, errlen);
            *error = err;
            break;
        }
        p = r->buf + (pos - r->buf_off);
        caplen = file_u32(p + 8, r->file_swapped);
        len = file_u32(p + 12, r->file_swapped);
        if (caplen > PCAP_MAX_CAPLEN) {
            if (caplen > snaplen)
                snprintf(err, errlen, "invalid packet capture length %u, bigger than snaplen of %u",
                         caplen, snaplen);
            else
                snprintf(err, errlen, "invalid packet capture length %u, bigger than maximum of %u",
                         caplen, PCAP_MAX_CAPLEN);
            *error = err;
            break;
        }
        /* As libpcap: a record longer than the file's snap length is cut to it. */
        if (!add_record(r, record_ts_us(r, p), len, p + PCAP_RECORD_HEADER,
                        caplen > snaplen ? snaplen : caplen))
            break;
        pos += PCAP_RECORD_HEADER + caplen;
    }
    return 0;
}

static void *file_main(void *arg)
{
    struct reader *r = arg;
    char err[sizeof(r->err)];
    const char *error = NULL;

    r->fill = next_chunk(r, false);
    /* Stopped before the first record: nothing to read. A plain pcap file is read here;
     * anything else (or a file that cannot be read here after all) by libpcap. */
    if (r->fill != NULL &&
        !(plain_pcap_file(r) && read_file_records(r, &error, err, sizeof(err)) == 0) &&
        pcap_loop(r->pcap, -1, on_record, (u_char *)r) == PCAP_ERROR)
        error = pcap_geterr(r->pcap);
    finish(r, error);
    return NULL;
}

/* Live, reader thread: the kernel's counters as of now, for the loop thread. */
static void read_live_stats(struct reader *r)
{
    struct pcap_stat ps;

    if (pcap_stats(r->pcap, &ps) == 0) {
        pthread_mutex_lock(&r->mu);
        r->stats.received = ps.ps_recv;
        r->stats.drops = ps.ps_drop;
        r->stats.ifdrops = ps.ps_ifdrop;
        pthread_mutex_unlock(&r->mu);
    }
}

/* Live: how long to wait for the ring. -1 (for its next block) unless libpcap asks to be
 * called again sooner: after the interface went down, whether it is gone can only be told by
 * looking again, and a socket unhooked from a downed interface wakes no poll() when it is
 * deleted. */
static int ring_wait_ms(pcap_t *p)
{
    const struct timeval *tv = pcap_get_required_select_timeout(p);
    long ms;

    if (tv == NULL)
        return -1;
    ms = (long)tv->tv_sec * 1000L + (long)tv->tv_usec / 1000L;
    return ms < 1 ? 1 : ms > 1000 ? 1000 : (int)ms;
}

/* Live: reads the ring in batches. The capture is non-blocking, so the blocks the kernel has
 * handed over are read one after another without waiting; what they held goes to the loop
 * thread when a chunk is full or the ring is empty, so the loop thread wakes once a batch
 * rather than once a ring block (a block of small packets holds about twenty). With the ring
 * empty, the thread waits in poll() for the kernel's next block (it hands one over within the
 * block timeout) or for the stop eventfd. */
static void *live_main(void *arg)
{
    struct reader *r = arg;
    struct pollfd p[2] = {{.fd = pcap_get_selectable_fd(r->pcap), .events = POLLIN},
                          {.fd = r->stop_fd, .events = POLLIN}};
    const char *error = NULL;
    char why[128];
    uint64_t published = 0;
    int rc;

    r->fill = next_chunk(r, false);
    while (r->fill != NULL && !atomic_load(&r->stop)) {
        rc = pcap_dispatch(r->pcap, -1, on_record, (u_char *)r);
        if (rc < 0) {
            error = rc == PCAP_ERROR_BREAK ? NULL : pcap_geterr(r->pcap);
            break;
        }
        if (rc > 0) {
            /* The counters follow each chunk a full ring publishes, not each block. */
            if (r->filled != published) { /* the reader thread is its only writer */
                published = r->filled;
                read_live_stats(r);
            }
            continue;
        }
        read_live_stats(r);
        publish_partial(r);
        if (poll(p, 2, ring_wait_ms(r->pcap)) == -1 && errno != EINTR) {
            snprintf(why, sizeof(why), "cannot wait for the capture ring: %s", strerror(errno));
            error = why;
            break;
        }
    }
    read_live_stats(r);
    finish(r, error);
    return NULL;
}

static int start(struct reader *r, void *(*main_fn)(void *), size_t readahead_bytes, char *errbuf,
                 size_t errlen)
{
    sigset_t all, old;
    int rc;

    r->n_chunks = readahead_bytes / CHUNK_BYTES;
    if (r->n_chunks < MIN_CHUNKS)
        r->n_chunks = MIN_CHUNKS;
    r->chunks = aligned_alloc(64, r->n_chunks * sizeof(*r->chunks));
    if (r->chunks == NULL) {
        snprintf(errbuf, errlen, "cannot allocate the reading buffers");
        return -1;
    }
    /* Signals stay with the loop thread (its signalfd). */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    r->thread_reads = true;
    rc = pthread_create(&r->thread, NULL, main_fn, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(errbuf, errlen, "cannot start the reading thread: %s", strerror(rc));
        return -1;
    }
    r->started = true;
    return 0;
}

int reader_start(struct reader *r, struct pcap *pcap, int linktype, bool keep_dns,
                 size_t readahead_bytes, char *errbuf, size_t errlen)
{
    r->pcap = pcap;
    r->linktype = linktype;
    r->keep_dns = keep_dns;
    return start(r, file_main, readahead_bytes, errbuf, errlen);
}

int reader_start_live(struct reader *r, struct pcap *pcap, int linktype, size_t readahead_bytes,
                      char *errbuf, size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE];

    r->pcap = pcap;
    r->linktype = linktype;
    r->live = true;
    r->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (r->notify_fd == -1) {
        snprintf(errbuf, errlen, "cannot make an eventfd: %s", strerror(errno));
        return -1;
    }
    /* The thread reads what the ring holds without waiting, and waits in its own poll. */
    if (pcap_setnonblock(pcap, 1, pcap_err) == -1) {
        snprintf(errbuf, errlen, "%s", pcap_err);
        return -1;
    }
    return start(r, live_main, readahead_bytes, errbuf, errlen);
}

int reader_notify_fd(const struct reader *r)
{
    return r->notify_fd;
}

int reader_live_stats(struct reader *r, struct capture_stats *out)
{
    pthread_mutex_lock(&r->mu);
    *out = r->stats;
    pthread_mutex_unlock(&r->mu);
    return 0;
}

/* Waits until a chunk is published or the reader is done, for at most wait_ms. Under mu. */
static void wait_for_chunk(struct reader *r, unsigned wait_ms)
{
    struct timespec until;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += wait_ms / 1000u;
    until.tv_nsec += (long)(wait_ms % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (r->taken == r->filled && !r->done)
        if (pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT)
            break;
}

int reader_dispatch(struct reader *r, int max_packets, unsigned wait_ms, capture_packet_fn *fn,
                    void *arg, bool *eof, char *errbuf, size_t errlen)
{
    uint64_t last = UINT64_MAX; /* with max_packets <= 0: the chunks published at the start */
    int n = 0;

    *eof = false;
    if (r->notify_fd != -1) {
        uint64_t count;

        /* Emptied before looking, so a chunk published after the look polls readable. */
        if (read(r->notify_fd, &count, sizeof(count)) == -1) {
            /* nothing published since the last drain */
        }
    }
    while (max_packets <= 0 || n < max_packets) {
        const struct record *rec;
        struct capture_packet pkt;

        if (r->drain == NULL) {
            pthread_mutex_lock(&r->mu);
            if (n == 0)
                wait_for_chunk(r, wait_ms);
            if (last == UINT64_MAX && max_packets <= 0)
                last = r->filled;
            if (r->taken < r->filled && r->taken < last) {
                r->drain = &r->chunks[r->taken % r->n_chunks];
                r->pos = 0;
                r->pos_extra = 0;
            } else if (n > 0 || r->taken < r->filled) {
                /* What was passed first; the end or an error on the next call. */
            } else if (r->done && !r->reported) {
                r->reported = true;
                *eof = r->status == 0;
                if (r->status == -1) {
                    snprintf(errbuf, errlen, "%s", r->err);
                    n = -1;
                }
            } else {
                *eof = r->done;
            }
            pthread_mutex_unlock(&r->mu);
            if (r->drain == NULL)
                return n;
        }
        rec = record_at(r->drain, r->pos);
        pkt.ts_us = rec->ts_us;
        pkt.len = rec->len;
        pkt.sum = &rec->sum;
        pkt.data = NULL;
        pkt.caplen = 0;
        if (r->pos_extra < r->drain->n_extras && r->drain->extras[r->pos_extra].record == r->pos) {
            const struct extra *x = &r->drain->extras[r->pos_extra++];

            pkt.data = r->drain->data + x->offset;
            pkt.caplen = x->caplen;
            /* The kept bytes were written on the other core, away from the records' stream:
             * the next message is a dozen packets away, time enough to ask for its bytes
             * (reading them once cost the DNS snoop a cache miss a message). */
            if (r->pos_extra < r->drain->n_extras) {
                const uint8_t *next = r->drain->data + x[1].offset;

                __builtin_prefetch(next);
                __builtin_prefetch(next + 64);
            }
        }
        fn(arg, &pkt);
        r->pos++;
        n++;
        if (r->pos == r->drain->n_records) {
            r->drain = NULL;
            pthread_mutex_lock(&r->mu);
            r->taken++;
            pthread_cond_broadcast(&r->cv);
            pthread_mutex_unlock(&r->mu);
        }
    }
    return n;
}

/* Records published and not yet taken. Under mu. */
static uint64_t published_records(const struct reader *r)
{
    uint64_t n = 0;

    for (uint64_t i = r->taken; i < r->filled; i++)
        n += r->chunks[i % r->n_chunks].n_records;
    return n;
}

int reader_wait_ahead(struct reader *r, unsigned max_packets, unsigned wait_ms)
{
    struct timespec until;
    bool ready;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += wait_ms / 1000u;
    until.tv_nsec += (long)(wait_ms % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->mu);
    for (;;) {
        ready =
            r->done || r->filled - r->taken >= r->n_chunks || published_records(r) >= max_packets;
        if (ready || pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&r->mu);
    return ready ? 1 : 0;
}

unsigned reader_peek(struct reader *r, unsigned max_packets, capture_packet_fn *fn, void *arg)
{
    uint64_t first, last;
    unsigned n = 0;

    pthread_mutex_lock(&r->mu);
    first = r->taken;
    last = r->filled;
    pthread_mutex_unlock(&r->mu);
    /* Published chunks stay put until taken, and only this thread takes them. */
    for (uint64_t i = first; i < last && n < max_packets; i++) {
        struct chunk *c = &r->chunks[i % r->n_chunks];

        for (uint32_t j = 0; j < c->n_records && n < max_packets; j++, n++) {
            const struct record *rec = record_at(c, j);
            struct capture_packet pkt = {rec->ts_us, rec->len, &rec->sum, NULL, 0};

            fn(arg, &pkt);
        }
    }
    return n;
}

void reader_stop(struct reader *r)
{
    uint64_t one = 1;

    if (!r->started || r->joined)
        return;
    pthread_mutex_lock(&r->mu);
    atomic_store(&r->stop, true);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    /* Wakes a read blocked on an idle pipe, or the live thread's wait for a ring block. */
    if (write(r->stop_fd, &one, sizeof(one)) == -1) {
        /* an eventfd only fails to take a write at its maximum count: already signalled */
    }
    if (r->live)
        pcap_breakloop(r->pcap);
    pthread_join(r->thread, NULL);
    r->joined = true;
}

void reader_free(struct reader *r)
{
    if (r == NULL)
        return;
    reader_stop(r);
    if (r->stop_fd != -1)
        close(r->stop_fd);
    if (r->notify_fd != -1)
        close(r->notify_fd);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r->chunks);
    free(r->buf);
    free(r);
}
