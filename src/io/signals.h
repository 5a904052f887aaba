/* SIGINT and SIGTERM as events on the loop (a signalfd), not as asynchronous handlers. */
#ifndef NSTATS_SIGNALS_H
#define NSTATS_SIGNALS_H

#include "io/loop.h"

typedef void signals_fn(void *arg, unsigned signo);

struct signals;

/* Blocks SIGINT and SIGTERM and calls fn on the loop's thread for each one that arrives.
 * Returns NULL with errno set. The loop must outlive the watcher. */
struct signals *signals_watch(struct loop *loop, signals_fn *fn, void *arg);
/* Safe on NULL. The signals stay blocked. */
void signals_stop(struct signals *s);

#endif
