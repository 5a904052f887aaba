/* nstats top's own capture: nstats started as a child process (iftop-like standalone mode),
 * serving its API on a loopback port it picks and reports on stderr. The child captures on
 * its own, so capture never waits for the screen. */
#ifndef NSTATS_TOP_DAEMON_H
#define NSTATS_TOP_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

struct top_daemon;

/* Called with each line the child writes to stderr (no newline, not yet escaped). */
typedef void top_daemon_line_fn(void *arg, const char *line);

/* Runs /proc/self/exe with args (nargs daemon flags) and, unless they hold --listen,
 * "--listen 127.0.0.1:0", in a process group of its own that gets SIGTERM if nstats top dies.
 * Its stdin and stdout are /dev/null; stderr comes to us. Returns NULL with the reason. */
struct top_daemon *top_daemon_start(char *const *args, size_t nargs, char *errbuf, size_t errlen);
/* Waits up to timeout_ms for the line "serving ... on ADDR (port N)" and writes the URL to
 * connect to into url. Other lines go to fn. Returns 0, or -1 with the reason (the child's
 * last line when it exited first). */
int top_daemon_wait_url(struct top_daemon *d, int timeout_ms, top_daemon_line_fn *fn, void *arg,
                        char *url, size_t urllen, char *errbuf, size_t errlen);
/* The descriptor to poll for the child's stderr. */
int top_daemon_fd(const struct top_daemon *d);
/* Reads whatever the child wrote and passes each whole line to fn. Returns 0, or -1 once the
 * child closed stderr (it exited or is exiting). Never blocks. */
int top_daemon_read(struct top_daemon *d, top_daemon_line_fn *fn, void *arg);
/* The last line the child wrote, "" for none. */
const char *top_daemon_last_line(const struct top_daemon *d);
/* Stops the child (SIGTERM; again after 3 s; SIGKILL after 5 s), reaps it and frees d. Returns
 * its exit status (128 + signal when killed by one), or -1 for a NULL d. */
int top_daemon_stop(struct top_daemon *d, top_daemon_line_fn *fn, void *arg);

/* Parses a "serving ... on ADDR (port N)" line into a URL on this host. Returns 0, or -1 when
 * line is not one. Pure. */
int top_daemon_parse_serving(const char *line, char *url, size_t urllen);

#endif
