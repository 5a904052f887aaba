/* Event loop: epoll for descriptors, a short list of timers for deadlines. */
#include "loop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "base/xalloc.h"

#define MAX_WATCHES 64

struct watch {
    int fd;
    loop_fd_fn *fn;
    void *arg;
};

struct loop_timer {
    struct loop *loop;
    loop_timer_fn *fn;
    void *arg;
    bool armed;
    uint64_t deadline_ms;
    struct loop_timer *next;
};

struct loop {
    int epfd;
    bool stop;
    struct watch watches[MAX_WATCHES];
    struct loop_timer *timers;
};

uint64_t loop_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
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
    for (int i = 0; i < MAX_WATCHES; i++)
        l->watches[i].fd = -1;
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
    free(l);
}

int loop_watch(struct loop *l, int fd, uint32_t events, loop_fd_fn *fn, void *arg)
{
    struct epoll_event ev = {.events = events};

    for (int i = 0; i < MAX_WATCHES; i++) {
        if (l->watches[i].fd != -1)
            continue;
        ev.data.u32 = (uint32_t)i;
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
            return -1;
        l->watches[i] = (struct watch){fd, fn, arg};
        return 0;
    }
    errno = ENOSPC;
    return -1;
}

int loop_modify(struct loop *l, int fd, uint32_t events)
{
    for (int i = 0; i < MAX_WATCHES; i++) {
        if (l->watches[i].fd == fd) {
            struct epoll_event ev = {.events = events};

            ev.data.u32 = (uint32_t)i;
            return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
        }
    }
    errno = ENOENT;
    return -1;
}

void loop_unwatch(struct loop *l, int fd)
{
    for (int i = 0; i < MAX_WATCHES; i++) {
        if (l->watches[i].fd == fd) {
            epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
            l->watches[i].fd = -1;
        }
    }
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
    t->deadline_ms = loop_now_ms() + after_ms;
}

void loop_timer_disarm(struct loop_timer *t)
{
    t->armed = false;
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

static void run_timers(struct loop *l)
{
    uint64_t now = loop_now_ms();

    for (struct loop_timer *t = l->timers; t != NULL && !l->stop; t = t->next) {
        if (t->armed && t->deadline_ms <= now) {
            t->armed = false;
            t->fn(t->arg);
        }
    }
}

static int run_round(struct loop *l, int timeout_ms)
{
    struct epoll_event events[16];
    int n = epoll_wait(l->epfd, events, 16, timeout_ms);

    if (n == -1)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n && !l->stop; i++) {
        struct watch *w = &l->watches[events[i].data.u32];

        if (w->fd != -1)
            w->fn(w->arg, w->fd, events[i].events);
    }
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
