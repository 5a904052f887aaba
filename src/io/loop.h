/* A small epoll event loop: descriptor watchers and one-shot timers on the monotonic clock. */
#ifndef NSTATS_LOOP_H
#define NSTATS_LOOP_H

#include <stdint.h>

struct loop;
struct loop_timer;

typedef void loop_fd_fn(void *arg, int fd, uint32_t events);
typedef void loop_timer_fn(void *arg);

/* Returns NULL with errno set if epoll cannot be created. */
struct loop *loop_new(void);
/* Frees the loop and every timer not yet freed with loop_timer_free; watched descriptors are
 * not closed. Not to be called from a callback of l. */
void loop_free(struct loop *l);

/* Watches fd for EPOLL* events; there is no fixed limit on how many. Returns 0, or -1 with errno
 * set (EEXIST if fd is already watched, EBADF if fd is negative). */
int loop_watch(struct loop *l, int fd, uint32_t events, loop_fd_fn *fn, void *arg);
/* Changes the events of a watched fd. Returns 0, or -1 with errno set (ENOENT if not watched). */
int loop_modify(struct loop *l, int fd, uint32_t events);
/* Stops watching fd (a no-op if it is not watched); events for fd already collected in the
 * current loop turn are dropped, so the caller may close fd and reuse its number at once. */
void loop_unwatch(struct loop *l, int fd);

/* A disarmed timer owned by l; never NULL. */
struct loop_timer *loop_timer_new(struct loop *l, loop_timer_fn *fn, void *arg);
/* Fires once, after_ms from now; re-arming replaces the previous deadline. Timers due in the same
 * turn fire earliest deadline first, equal deadlines in the order they were armed. */
void loop_timer_arm(struct loop_timer *t, uint64_t after_ms);
void loop_timer_disarm(struct loop_timer *t);
/* Disarms and frees t; NULL is a no-op. Safe from any callback, including t's own: while timers
 * are running the memory is released when they return. t must not be used afterwards. */
void loop_timer_free(struct loop_timer *t);

/* Runs until loop_stop is called. Returns 0, or -1 with errno set if epoll fails. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);
/* Waits at most max_wait_ms (or the next timer) for events, runs their handlers and any due
 * timers, and returns. Returns 0, or -1 with errno set if epoll fails. */
int loop_run_once(struct loop *l, int max_wait_ms);

/* Milliseconds on the monotonic clock. */
uint64_t loop_now_ms(void);
/* Milliseconds since the epoch on the real-time clock: interval ends and row timestamps. */
uint64_t loop_wall_ms(void);

#endif
