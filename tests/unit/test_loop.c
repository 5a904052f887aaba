/* Event loop tests: timer order, re-arming, disarming and freeing (also from a timer's own
 * callback), and hundreds of descriptors watched at once, each reaching its own handler. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "io/loop.h"
#include "test.h"

#define N_PIPES 200

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* What timer callbacks write down: the order they fired in. */
struct fired {
    char order[16];
    int n;
};

struct named_timer {
    struct fired *log;
    char name;
    struct loop_timer *t;
    struct loop_timer *victim; /* freed by this timer's callback, if set */
    int rearm_ms;              /* re-armed by its callback, if >= 0 */
};

static void on_named(void *arg)
{
    struct named_timer *nt = arg;

    if (nt->log->n < (int)sizeof(nt->log->order) - 1)
        nt->log->order[nt->log->n++] = nt->name;
    if (nt->victim != NULL) {
        loop_timer_free(nt->victim);
        nt->victim = NULL;
    }
    if (nt->rearm_ms >= 0) {
        loop_timer_arm(nt->t, (uint64_t)nt->rearm_ms);
        nt->rearm_ms = -1;
    }
}

static void named(struct loop *l, struct named_timer *nt, struct fired *log, char name)
{
    *nt = (struct named_timer){log, name, NULL, NULL, -1};
    nt->t = loop_timer_new(l, on_named, nt);
}

static void test_fire_order(void)
{
    struct loop *l = loop_new();
    struct fired log = {"", 0};
    struct named_timer a, b, c, d;

    named(l, &a, &log, 'a');
    named(l, &b, &log, 'b');
    named(l, &c, &log, 'c');
    named(l, &d, &log, 'd');
    loop_timer_arm(a.t, 30);
    loop_timer_arm(c.t, 10);
    loop_timer_arm(b.t, 20);
    loop_timer_arm(d.t, 10); /* the same deadline as c, or a millisecond later: after c */
    /* All four are due in the same turn: earliest deadline first, not creation order. */
    sleep_ms(40);
    CHECK_EQ(loop_run_once(l, 0), 0);
    CHECK_STR(log.order, "cdba");
    /* Nothing is left to fire. */
    CHECK_EQ(loop_run_once(l, 0), 0);
    CHECK_EQ(log.n, 4);
    loop_free(l);
}

static void test_fire_order_over_time(void)
{
    struct loop *l = loop_new();
    struct fired log = {"", 0};
    struct named_timer a, b, c;
    uint64_t start = loop_now_ms();

    named(l, &a, &log, 'a');
    named(l, &b, &log, 'b');
    named(l, &c, &log, 'c');
    loop_timer_arm(a.t, 60);
    loop_timer_arm(b.t, 5);
    loop_timer_arm(c.t, 30);
    while (log.n < 3 && loop_now_ms() - start < 5000)
        CHECK_EQ(loop_run_once(l, 1000), 0);
    CHECK_STR(log.order, "bca");
    /* The loop slept until the deadlines rather than returning early or oversleeping. */
    CHECK(loop_now_ms() - start >= 60);
    CHECK(loop_now_ms() - start < 2000);
    loop_free(l);
}

static void test_rearm_replaces_deadline(void)
{
    struct loop *l = loop_new();
    struct fired log = {"", 0};
    struct named_timer a;
    uint64_t start;

    named(l, &a, &log, 'a');
    /* Later: the first deadline no longer counts. */
    loop_timer_arm(a.t, 5);
    loop_timer_arm(a.t, 10000);
    sleep_ms(15);
    CHECK_EQ(loop_run_once(l, 0), 0);
    CHECK_EQ(log.n, 0);
    /* Earlier: the loop wakes for the new deadline, not the old one. */
    start = loop_now_ms();
    loop_timer_arm(a.t, 20);
    while (log.n == 0 && loop_now_ms() - start < 5000)
        CHECK_EQ(loop_run_once(l, 5000), 0);
    CHECK_EQ(log.n, 1);
    CHECK(loop_now_ms() - start >= 20);
    CHECK(loop_now_ms() - start < 2000);
    /* One shot: it does not fire again unless re-armed. */
    CHECK_EQ(loop_run_once(l, 30), 0);
    CHECK_EQ(log.n, 1);
    loop_free(l);
}

static void test_rearm_from_callback(void)
{
    struct loop *l = loop_new();
    struct fired log = {"", 0};
    struct named_timer a;

    named(l, &a, &log, 'a');
    a.rearm_ms = 0;
    loop_timer_arm(a.t, 0);
    /* Re-armed with 0 ms from its own callback, it waits for the next turn: a turn ends. */
    CHECK_EQ(loop_run_once(l, 0), 0);
    CHECK_EQ(log.n, 1);
    CHECK_EQ(loop_run_once(l, 100), 0);
    CHECK_STR(log.order, "aa");
    loop_free(l);
}

static void test_disarm(void)
{
    struct loop *l = loop_new();
    struct fired log = {"", 0};
    struct named_timer a, b;
    uint64_t start;

    named(l, &a, &log, 'a');
    named(l, &b, &log, 'b');
    loop_timer_arm(a.t, 0);
    loop_timer_arm(b.t, 0);
    loop_timer_disarm(a.t);
    sleep_ms(2);
    CHECK_EQ(loop_run_once(l, 0), 0);
    CHECK_STR(log.order, "b");
    /* With every timer disarmed the loop waits the caller's full time, not a stale deadline. */
    loop_timer_arm(a.t, 0);
    loop_timer_disarm(a.t);
    start = loop_now_ms();
    CHECK_EQ(loop_run_once(l, 30), 0);
    CHECK(loop_now_ms() - start >= 25);
    CHECK_STR(log.order, "b");
    /* A disarmed timer can be armed again. */
    loop_timer_arm(a.t, 0);
    CHECK_EQ(loop_run_once(l, 100), 0);
    CHECK_STR(log.order, "ba");
    loop_free(l);
}

static void test_free_armed(void)
{
    struct loop *l = loop_new();
    struct fired log = {"", 0};
    struct named_timer a, b, c;

    loop_timer_free(NULL);
    named(l, &a, &log, 'a');
    named(l, &b, &log, 'b');
    named(l, &c, &log, 'c');
    loop_timer_arm(a.t, 0);
    loop_timer_arm(b.t, 0);
    loop_timer_arm(c.t, 0);
    loop_timer_free(b.t); /* armed, in the middle of the list */
    loop_timer_free(a.t);
    sleep_ms(2);
    CHECK_EQ(loop_run_once(l, 0), 0);
    CHECK_STR(log.order, "c");
    /* Freed before a turn, it no longer sets the wait either. */
    loop_timer_free(c.t);
    named(l, &a, &log, 'x');
    loop_timer_arm(a.t, 10);
    loop_timer_free(a.t);
    CHECK_EQ(loop_run_once(l, 30), 0);
    CHECK_STR(log.order, "c");
    loop_free(l);
}

static void test_free_from_callbacks(void)
{
    struct loop *l = loop_new();
    struct fired log = {"", 0};
    struct named_timer a, b, c, d;

    named(l, &a, &log, 'a');
    named(l, &b, &log, 'b');
    named(l, &c, &log, 'c');
    named(l, &d, &log, 'd');
    a.victim = a.t; /* frees itself */
    b.victim = c.t; /* frees c, due in the same turn but not yet fired */
    loop_timer_arm(a.t, 0);
    loop_timer_arm(b.t, 1);
    loop_timer_arm(c.t, 2);
    loop_timer_arm(d.t, 3);
    sleep_ms(10);
    CHECK_EQ(loop_run_once(l, 0), 0);
    CHECK_STR(log.order, "abd");
    /* d frees b, which is disarmed, on its next firing; then d is freed outside a turn. */
    d.victim = b.t;
    loop_timer_arm(d.t, 0);
    CHECK_EQ(loop_run_once(l, 100), 0);
    CHECK_STR(log.order, "abdd");
    loop_timer_free(d.t);
    CHECK_EQ(loop_run_once(l, 0), 0);
    CHECK_EQ(log.n, 4);
    loop_free(l);
}

static void on_stop(void *arg)
{
    loop_stop(arg);
}

static void test_stop_and_free_remaining(void)
{
    struct loop *l = loop_new();
    struct loop_timer *stop = loop_timer_new(l, on_stop, l);
    struct fired log = {"", 0};
    struct named_timer a, b;

    named(l, &a, &log, 'a');
    named(l, &b, &log, 'b');
    loop_timer_arm(a.t, 5);
    loop_timer_arm(stop, 20);
    loop_timer_arm(b.t, 60000); /* still armed when the loop is freed */
    CHECK_EQ(loop_run(l), 0);
    CHECK_STR(log.order, "a");
    /* loop_free frees every timer left, armed or not (the sanitizers check). */
    loop_free(l);
    loop_free(NULL);
}

/* One watched pipe: its handler checks it was called for its own descriptor. */
struct pipe_watch {
    int rfd, wfd;
    int calls;
    int wrong_fd;
};

static void on_pipe(void *arg, int fd, uint32_t events)
{
    struct pipe_watch *p = arg;
    char c;

    p->calls++;
    if (fd != p->rfd || !(events & EPOLLIN))
        p->wrong_fd++;
    while (read(fd, &c, 1) == 1) {
    }
}

static int open_pipe(struct pipe_watch *p)
{
    int fds[2];

    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1)
        return -1;
    *p = (struct pipe_watch){fds[0], fds[1], 0, 0};
    return 0;
}

static int sum_calls(const struct pipe_watch *p, int n, int *wrong)
{
    int calls = 0;

    *wrong = 0;
    for (int i = 0; i < n; i++) {
        calls += p[i].calls;
        *wrong += p[i].wrong_fd;
    }
    return calls;
}

static void run_until_calls(struct loop *l, const struct pipe_watch *p, int n, int want)
{
    int wrong;

    for (int round = 0; round < 100 && sum_calls(p, n, &wrong) < want; round++)
        CHECK_EQ(loop_run_once(l, 100), 0);
}

static void test_many_descriptors(void)
{
    struct loop *l = loop_new();
    struct pipe_watch *p = calloc(N_PIPES, sizeof(*p));
    int opened = 0, wrong, max_fd = 0, unwatched = 0;

    for (; opened < N_PIPES; opened++) {
        if (open_pipe(&p[opened]) == -1)
            break;
        if (p[opened].rfd > max_fd)
            max_fd = p[opened].rfd;
        CHECK_EQ(loop_watch(l, p[opened].rfd, EPOLLIN, on_pipe, &p[opened]), 0);
    }
    CHECK_EQ(opened, N_PIPES);
    CHECK(max_fd > 64 * 2); /* far past the old fixed table */
    /* Every pipe readable at once: each handler runs once, for its own descriptor. */
    for (int i = 0; i < opened; i++)
        CHECK_EQ(write(p[i].wfd, "x", 1), 1);
    run_until_calls(l, p, opened, opened);
    CHECK_EQ(sum_calls(p, opened, &wrong), opened);
    CHECK_EQ(wrong, 0);
    for (int i = 0; i < opened; i++)
        if (p[i].calls != 1)
            CHECK_EQ(p[i].calls, 1);
    /* Unwatched descriptors are quiet; the others still reach their handlers. */
    for (int i = 0; i < opened; i += 2, unwatched++)
        loop_unwatch(l, p[i].rfd);
    loop_unwatch(l, p[0].rfd); /* twice: a no-op */
    for (int i = 0; i < opened; i++)
        CHECK_EQ(write(p[i].wfd, "y", 1), 1);
    run_until_calls(l, p, opened, opened + (opened - unwatched));
    CHECK_EQ(loop_run_once(l, 20), 0); /* time for strays */
    for (int i = 0; i < opened; i++)
        if (p[i].calls != (i % 2 == 0 ? 1 : 2))
            CHECK_EQ(p[i].calls, (i % 2 == 0 ? 1 : 2));
    CHECK_EQ(sum_calls(p, opened, &wrong), opened + (opened - unwatched));
    CHECK_EQ(wrong, 0);
    /* Watched again, its pending byte reaches the handler. */
    CHECK_EQ(loop_watch(l, p[0].rfd, EPOLLIN, on_pipe, &p[0]), 0);
    run_until_calls(l, p, 1, 2);
    CHECK_EQ(p[0].calls, 2);
    for (int i = 0; i < opened; i++) {
        loop_unwatch(l, p[i].rfd);
        close(p[i].rfd);
        close(p[i].wfd);
    }
    free(p);
    loop_free(l);
}

static void test_watch_errors(void)
{
    struct loop *l = loop_new();
    struct pipe_watch p;

    CHECK_EQ(open_pipe(&p), 0);
    CHECK_EQ(loop_watch(l, p.rfd, EPOLLIN, on_pipe, &p), 0);
    errno = 0;
    CHECK_EQ(loop_watch(l, p.rfd, EPOLLIN, on_pipe, &p), -1);
    CHECK_EQ(errno, EEXIST);
    errno = 0;
    CHECK_EQ(loop_watch(l, -1, EPOLLIN, on_pipe, &p), -1);
    CHECK_EQ(errno, EBADF);
    errno = 0;
    CHECK_EQ(loop_modify(l, p.wfd, EPOLLOUT), -1);
    CHECK_EQ(errno, ENOENT);
    CHECK_EQ(loop_modify(l, 100000, EPOLLOUT), -1);
    /* Modified to events that never come, the pipe stays quiet. */
    CHECK_EQ(loop_modify(l, p.rfd, EPOLLPRI), 0);
    CHECK_EQ(write(p.wfd, "x", 1), 1);
    CHECK_EQ(loop_run_once(l, 10), 0);
    CHECK_EQ(p.calls, 0);
    CHECK_EQ(loop_modify(l, p.rfd, EPOLLIN), 0);
    CHECK_EQ(loop_run_once(l, 100), 0);
    CHECK_EQ(p.calls, 1);
    loop_unwatch(l, p.rfd);
    loop_unwatch(l, 100000); /* never watched: a no-op */
    CHECK_EQ(loop_modify(l, p.rfd, EPOLLIN), -1);
    close(p.rfd);
    close(p.wfd);
    loop_free(l);
}

/* Two pipes ready in the same turn; whichever handler runs first unwatches and closes the
 * other and watches a new, empty pipe that may get the same descriptor number. */
struct rivals {
    struct loop *l;
    struct pipe_watch a, b, fresh;
    int first_calls;
};

static void on_rival(void *arg, int fd, uint32_t events);

static void on_fresh(void *arg, int fd, uint32_t events)
{
    struct rivals *r = arg;

    (void)fd;
    (void)events;
    r->fresh.calls++;
}

static void on_rival(void *arg, int fd, uint32_t events)
{
    struct rivals *r = arg;
    struct pipe_watch *self = fd == r->a.rfd ? &r->a : &r->b;
    struct pipe_watch *other = self == &r->a ? &r->b : &r->a;
    char c;

    (void)events;
    r->first_calls++;
    self->calls++;
    while (read(fd, &c, 1) == 1) {
    }
    if (other->rfd == -1)
        return;
    loop_unwatch(r->l, other->rfd);
    close(other->rfd);
    close(other->wfd);
    other->rfd = other->wfd = -1;
    if (open_pipe(&r->fresh) == 0)
        loop_watch(r->l, r->fresh.rfd, EPOLLIN, on_fresh, r);
}

static void test_unwatch_in_same_turn(void)
{
    struct rivals r;

    memset(&r, 0, sizeof(r));
    r.l = loop_new();
    r.fresh.rfd = r.fresh.wfd = -1;
    CHECK_EQ(open_pipe(&r.a), 0);
    CHECK_EQ(open_pipe(&r.b), 0);
    CHECK_EQ(loop_watch(r.l, r.a.rfd, EPOLLIN, on_rival, &r), 0);
    CHECK_EQ(loop_watch(r.l, r.b.rfd, EPOLLIN, on_rival, &r), 0);
    CHECK_EQ(write(r.a.wfd, "x", 1), 1);
    CHECK_EQ(write(r.b.wfd, "x", 1), 1);
    CHECK_EQ(loop_run_once(r.l, 100), 0);
    /* The event already collected for the unwatched pipe reached no one. */
    CHECK_EQ(r.first_calls, 1);
    CHECK_EQ(r.fresh.calls, 0);
    CHECK(r.fresh.rfd >= 0);
    CHECK_EQ(loop_run_once(r.l, 10), 0);
    CHECK_EQ(r.first_calls, 1);
    CHECK_EQ(r.fresh.calls, 0);
    {
        struct pipe_watch *all[3] = {&r.a, &r.b, &r.fresh};

        for (int i = 0; i < 3; i++) {
            if (all[i]->rfd >= 0) {
                loop_unwatch(r.l, all[i]->rfd);
                close(all[i]->rfd);
                close(all[i]->wfd);
            }
        }
    }
    loop_free(r.l);
}

int main(void)
{
    RUN(test_fire_order);
    RUN(test_fire_order_over_time);
    RUN(test_rearm_replaces_deadline);
    RUN(test_rearm_from_callback);
    RUN(test_disarm);
    RUN(test_free_armed);
    RUN(test_free_from_callbacks);
    RUN(test_stop_and_free_remaining);
    RUN(test_many_descriptors);
    RUN(test_watch_errors);
    RUN(test_unwatch_in_same_turn);
    return test_report();
}
