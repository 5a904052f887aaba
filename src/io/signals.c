/* Signals through a signalfd watched by the loop. */
#include "signals.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "base/xalloc.h"

struct signals {
    struct loop *loop;
    int fd;
    signals_fn *fn;
    void *arg;
};

static void on_readable(void *arg, int fd, uint32_t events)
{
    struct signals *s = arg;
    struct signalfd_siginfo si;

    (void)events;
    if (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        s->fn(s->arg, si.ssi_signo);
}

struct signals *signals_watch(struct loop *loop, signals_fn *fn, void *arg)
{
    struct signals *s = xcalloc(1, sizeof(*s));
    sigset_t mask;

    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    s->loop = loop;
    s->fn = fn;
    s->arg = arg;
    s->fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (s->fd == -1 || loop_watch(loop, s->fd, EPOLLIN, on_readable, s) == -1) {
        if (s->fd != -1)
            close(s->fd);
        free(s);
        return NULL;
    }
    return s;
}

void signals_stop(struct signals *s)
{
    if (s == NULL)
        return;
    loop_unwatch(s->loop, s->fd);
    close(s->fd);
    free(s);
}
