/* Capture reading on its own thread: libpcap reads (a file, or a live ring) and the decoder
 * summarizes into fixed chunks, the loop thread drains them. */
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

static void on_record(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct reader *r = (struct reader *)(void *)user;
    struct pktsummary sum;
    struct record *rec;
    uint32_t keep = 0;
    size_t need;

    if (r->fill == NULL) { /* asked to stop while handing over a partial chunk */
        pcap_breakloop(r->pcap);
        return;
    }
    decode_packet(r->linktype, bytes, h->caplen, &sum);
    if (wanted(r, &sum)) {
        /* libpcap refuses records over its largest snap length; clip anyway, so the bytes
         * always fit an empty chunk. len, which is what is counted, stays whole. */
        keep = h->caplen;
        if (keep > CHUNK_BYTES / 2)
            keep = CHUNK_BYTES / 2;
    }
    need = sizeof(*rec) + ((keep + 7u) & ~7u);
    if (chunk_room(r->fill) < need || (keep > 0 && r->fill->n_extras == CHUNK_EXTRAS)) {
        r->fill = next_chunk(r, true);
        if (r->fill == NULL) {
            pcap_breakloop(r->pcap);
            return;
        }
    }
    if (keep > 0) {
        struct extra *x = &r->fill->extras[r->fill->n_extras++];

        r->fill->extra_bytes += (keep + 7u) & ~7u;
        x->record = r->fill->n_records;
        x->caplen = keep;
        x->offset = CHUNK_BYTES - r->fill->extra_bytes;
        memcpy(r->fill->data + x->offset, bytes, keep);
    }
    rec = record_at(r->fill, r->fill->n_records++);
    rec->ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
    rec->len = h->len;
    rec->sum = sum;
}

/* Reader thread, at the end: publishes the last records and says why it stopped. */
static void finish(struct reader *r, int rc)
{
    pthread_mutex_lock(&r->mu);
    if (r->fill != NULL && r->fill->n_records > 0)
        r->filled++;
    r->done = true;
    /* A read cut short by a stop is the end, not an error. */
    r->status = rc == PCAP_ERROR && !atomic_load(&r->stop) ? -1 : 0;
    if (r->status == -1)
        snprintf(r->err, sizeof(r->err), "%s", pcap_geterr(r->pcap));
    pthread_cond_broadcast(&r->cv);
    notify(r);
    pthread_mutex_unlock(&r->mu);
}

static void *file_main(void *arg)
{
    struct reader *r = arg;
    int rc = 0;

    r->fill = next_chunk(r, false);
    if (r->fill != NULL)
        rc = pcap_loop(r->pcap, -1, on_record, (u_char *)r);
    finish(r, rc);
    return NULL;
}

/* Live: reads the ring as the kernel hands blocks over, and publishes what each dispatch got
 * at once, so the loop thread counts it within a block timeout. */
static void *live_main(void *arg)
{
    struct reader *r = arg;
    struct pcap_stat ps;
    int rc = 0;

    r->fill = next_chunk(r, false);
    while (r->fill != NULL && !atomic_load(&r->stop)) {
        rc = pcap_dispatch(r->pcap, -1, on_record, (u_char *)r);
        if (rc == PCAP_ERROR || rc == PCAP_ERROR_BREAK)
            break;
        if (pcap_stats(r->pcap, &ps) == 0) {
            pthread_mutex_lock(&r->mu);
            r->stats.received = ps.ps_recv;
            r->stats.drops = ps.ps_drop;
            r->stats.ifdrops = ps.ps_ifdrop;
            pthread_mutex_unlock(&r->mu);
        }
        publish_partial(r);
    }
    finish(r, rc);
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
    /* The thread waits in libpcap's poll; pcap_breakloop wakes it. */
    if (pcap_setnonblock(pcap, 0, pcap_err) == -1) {
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
    /* Wakes a read blocked on an idle pipe, or libpcap's wait for a ring block. */
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
    free(r);
}
