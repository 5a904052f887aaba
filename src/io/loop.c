/* Event loop: epoll for descriptors, a short list of timers for deadlines. */
#include "loop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "base/xalloc.h"

/* Events taken from the kernel per epoll_wait. */
#define BATCH_EVENTS 16
/* The watch table's first size; it doubles until a larger fd fits. */
#define MIN_WATCHES 64

/* A watched descriptor; the table is indexed by fd, and fn == NULL marks a free entry. */
struct watch {
    loop_fd_fn *fn;
    void *arg;
};

/* The events of one loop turn not yet dispatched, so that loop_unwatch can drop those of a
 * descriptor it stops watching. Turns nest when a handler calls loop_run_once. */
struct batch {
    struct epoll_event *events;
    int n;
    struct batch *outer;
};

struct loop_timer {
    struct loop *loop;
    loop_timer_fn *fn;
    void *arg;
    bool armed;
    bool due;  /* armed and past its deadline when the running turn looked */
    bool dead; /* freed while timers were running; released when they return */
    uint64_t deadline_ms;
    uint64_t armed_seq;
    struct loop_timer *next;
};

struct loop {
    int epfd;
    bool stop;
    struct watch *watches;
    size_t watches_len;
    struct batch *batch;
    struct loop_timer *timers;
    unsigned timers_running; /* depth of run_timers, which nests through loop_run_once */
    bool timers_dead;
    uint64_t arm_seq;
};

uint64_t loop_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t loop_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct loop *loop_new(void)
{
    struct loop *l;
    int fd = epoll_create1(EPOLL_CLOEXEC);

    if (fd == -1)
        return NULL;
    l = xcalloc(1, sizeof(*l));
    l->epfd = fd;
    l->watches = xcalloc(MIN_WATCHES, sizeof(*l->watches));
    l->watches_len = MIN_WATCHES;
    return l;
}

void loop_free(struct loop *l)
{
    if (l == NULL)
        return;
    while (l->timers != NULL) {
        struct loop_timer *t = l->timers;

        l->timers = t->next;
        free(t);
    }
    close(l->epfd);
    free(l->watches);
    free(l);
}

/* Makes room in the table for fd. */
static void watches_reserve(struct loop *l, int fd)
{
    size_t len = l->watches_len;

    if ((size_t)fd < len)
        return;
    while (len <= (size_t)fd)
        len *= 2;
    l->watches = xreallocarray(l->watches, len, sizeof(*l->watches));
    memset(l->watches + l->watches_len, 0, (len - l->watches_len) * sizeof(*l->watches));
    l->watches_len = len;
}

static struct watch *watch_find(struct loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->watches_len || l->watches[fd].fn == NULL)
        return NULL;
    return &l->watches[fd];
}

int loop_watch(struct loop *l, int fd, uint32_t events, loop_fd_fn *fn, void *arg)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};

    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if (fn == NULL) {
        errno = EINVAL;
        return -1;
    }
    watches_reserve(l, fd);
    /* epoll decides whether fd is already watched: a descriptor closed without loop_unwatch has
     * left the kernel's set, and its number may be watched again. */
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
        return -1;
    l->watches[fd] = (struct watch){fn, arg};
    return 0;
}

int loop_modify(struct loop *l, int fd, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};

    if (watch_find(l, fd) == NULL) {
        errno = ENOENT;
        return -1;
    }
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void loop_unwatch(struct loop *l, int fd)
{
    struct watch *w = watch_find(l, fd);

    if (w == NULL)
        return;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    *w = (struct watch){NULL, NULL};
    for (struct batch *b = l->batch; b != NULL; b = b->outer)
        for (int i = 0; i < b->n; i++)
            if (b->events[i].data.fd == fd)
                b->events[i].data.fd = -1;
}

struct loop_timer *loop_timer_new(struct loop *l, loop_timer_fn *fn, void *arg)
{
    struct loop_timer *t = xcalloc(1, sizeof(*t));

    t->loop = l;
    t->fn = fn;
    t->arg = arg;
    t->next = l->timers;
    l->timers = t;
    return t;
}

void loop_timer_arm(struct loop_timer *t, uint64_t after_ms)
{
    t->armed = true;
    t->due = false;
    t->deadline_ms = loop_now_ms() + after_ms;
    t->armed_seq = t->loop->arm_seq++;
}

void loop_timer_disarm(struct loop_timer *t)
{
    t->armed = false;
    t->due = false;
}

static void timer_unlink(struct loop *l, struct loop_timer *t)
{
    for (struct loop_timer **p = &l->timers; *p != NULL; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            return;
        }
    }
}

void loop_timer_free(struct loop_timer *t)
{
    struct loop *l;

    if (t == NULL)
        return;
    l = t->loop;
    loop_timer_disarm(t);
    /* A running turn may hold t, or the timer after it, so the list keeps it until then. */
    if (l->timers_running > 0) {
        t->dead = true;
        l->timers_dead = true;
        return;
    }
    timer_unlink(l, t);
    free(t);
}

void loop_stop(struct loop *l)
{
    l->stop = true;
}

static int next_timeout_ms(const struct loop *l)
{
    uint64_t now = loop_now_ms(), best = UINT64_MAX;

    for (const struct loop_timer *t = l->timers; t != NULL; t = t->next)
        if (t->armed && t->deadline_ms < best)
            best = t->deadline_ms;
    if (best == UINT64_MAX)
        return -1;
    if (best <= now)
        return 0;
    return best - now > 60000 ? 60000 : (int)(best - now);
}

static void free_dead_timers(struct loop *l)
{
    struct loop_timer **p = &l->timers;

    while (*p != NULL) {
        struct loop_timer *t = *p;

        if (t->dead) {
            *p = t->next;
            free(t);
        } else {
            p = &t->next;
        }
    }
    l->timers_dead = false;
}

/* Earlier deadline first; of equal deadlines, the one armed first. */
static bool fires_before(const struct loop_timer *a, const struct loop_timer *b)
{
    if (a->deadline_ms != b->deadline_ms)
        return a->deadline_ms < b->deadline_ms;
    return a->armed_seq < b->armed_seq;
}

/* Fires the timers due now, earliest deadline first. A timer re-armed by a callback waits for
 * the next turn even when its new deadline has passed, so a turn always ends. */
static void run_timers(struct loop *l)
{
    uint64_t now = loop_now_ms();

    for (struct loop_timer *t = l->timers; t != NULL; t = t->next)
        t->due = t->armed && t->deadline_ms <= now;
    l->timers_running++;
    while (!l->stop) {
        struct loop_timer *first = NULL;

        for (struct loop_timer *t = l->timers; t != NULL; t = t->next)
            if (t->due && (first == NULL || fires_before(t, first)))
                first = t;
        if (first == NULL)
            break;
        first->armed = false;
        first->due = false;
        first->fn(first->arg);
    }
    if (--l->timers_running == 0 && l->timers_dead)
        free_dead_timers(l);
}

static int run_round(struct loop *l, int timeout_ms)
{
    struct epoll_event events[BATCH_EVENTS];
    struct batch b = {events, 0, l->batch};

    b.n = epoll_wait(l->epfd, events, BATCH_EVENTS, timeout_ms);
    if (b.n == -1)
        return errno == EINTR ? 0 : -1;
    /* The turn's events, for loop_unwatch to clear; restored to the outer turn's below. */
    // cppcheck-suppress autoVariables
    l->batch = &b;
    for (int i = 0; i < b.n && !l->stop; i++) {
        int fd = events[i].data.fd;
        struct watch *w;

        /* -1: unwatched by an earlier handler of this turn. */
        if (fd < 0)
            continue;
        w = &l->watches[fd];
        if (w->fn != NULL)
            w->fn(w->arg, fd, events[i].events);
    }
    l->batch = b.outer;
    if (!l->stop)
        run_timers(l);
    return 0;
}

int loop_run(struct loop *l)
{
    l->stop = false;
    while (!l->stop)
        if (run_round(l, next_timeout_ms(l)) == -1)
            return -1;
    return 0;
}

int loop_run_once(struct loop *l, int max_wait_ms)
{
    int t = next_timeout_ms(l);

    l->stop = false;
    if (t < 0 || t > max_wait_ms)
        t = max_wait_ms;
    return run_round(l, t);
}
