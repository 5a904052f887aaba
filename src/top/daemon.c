/* The standalone mode's child: fork and exec, a pipe for its stderr, a bounded stop. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/xalloc.h"

#define LINE_MAX_BYTES 2048
/* How long a stopping child may write its last interval before it is told again, then
 * killed. */
#define STOP_AGAIN_MS 3000
#define STOP_KILL_MS 5000

struct top_daemon {
    pid_t pid;
    int fd; /* read end of the child's stderr, non-blocking; -1 after EOF */
    char line[LINE_MAX_BYTES];
    size_t line_len;
    char last[LINE_MAX_BYTES];
};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool has_listen(char *const *args, size_t nargs)
{
    for (size_t i = 0; i < nargs; i++)
        if (strcmp(args[i], "--listen") == 0 || strncmp(args[i], "--listen=", 9) == 0)
            return true;
    return false;
}

/* In the child: never returns. */
static void exec_child(char *const *args, size_t nargs, int err_fd, pid_t parent)
{
    char **argv = xcalloc(nargs + 4, sizeof(*argv));
    size_t n = 0;
    int null_fd = open("/dev/null", O_RDWR);

    /* A group of its own: the terminal's ^C and ^Z are nstats top's to handle. */
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(1);
    if (null_fd == -1 || dup2(null_fd, STDIN_FILENO) == -1 || dup2(null_fd, STDOUT_FILENO) == -1 ||
        dup2(err_fd, STDERR_FILENO) == -1)
        _exit(127);
    /* The line nstats top reads is an info line, and nothing reads stdout. */
    unsetenv("NSTATS_QUIET");
    unsetenv("NSTATS_STDOUT");
    argv[n++] = (char *)"nstats";
    for (size_t i = 0; i < nargs; i++)
        argv[n++] = args[i];
    if (!has_listen(args, nargs)) {
        argv[n++] = (char *)"--listen";
        argv[n++] = (char *)"127.0.0.1:0";
    }
    argv[n] = NULL;
    execv("/proc/self/exe", argv);
    dprintf(STDERR_FILENO, "nstats top: cannot run /proc/self/exe: %s\n", strerror(errno));
    _exit(127);
}

struct top_daemon *top_daemon_start(char *const *args, size_t nargs, char *errbuf, size_t errlen)
{
    struct top_daemon *d;
    pid_t parent = getpid();
    int fds[2];

    for (size_t i = 0; i < nargs; i++) {
        if (strcmp(args[i], "-q") == 0 || strcmp(args[i], "--quiet") == 0) {
            snprintf(errbuf, errlen, "%s would hide the line nstats top reads its port from",
                     args[i]);
            return NULL;
        }
    }
    if (pipe2(fds, O_CLOEXEC) == -1) {
        snprintf(errbuf, errlen, "pipe: %s", strerror(errno));
        return NULL;
    }
    d = xcalloc(1, sizeof(*d));
    d->pid = fork();
    if (d->pid == -1) {
        snprintf(errbuf, errlen, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        free(d);
        return NULL;
    }
    if (d->pid == 0)
        exec_child(args, nargs, fds[1], parent);
    close(fds[1]);
    d->fd = fds[0];
    /* Only our end: the child's end stays blocking, so none of its lines is lost. */
    fcntl(d->fd, F_SETFL, fcntl(d->fd, F_GETFL) | O_NONBLOCK);
    return d;
}

int top_daemon_fd(const struct top_daemon *d)
{
    return d->fd;
}

const char *top_daemon_last_line(const struct top_daemon *d)
{
    return d->last;
}

static void take_line(struct top_daemon *d, top_daemon_line_fn *fn, void *arg)
{
    d->line[d->line_len] = '\0';
    d->line_len = 0;
    if (d->line[0] == '\0')
        return;
    snprintf(d->last, sizeof(d->last), "%s", d->line);
    if (fn != NULL)
        fn(arg, d->line);
}

int top_daemon_read(struct top_daemon *d, top_daemon_line_fn *fn, void *arg)
{
    char chunk[4096];
    ssize_t n;

    if (d->fd == -1)
        return -1;
    while ((n = read(d->fd, chunk, sizeof(chunk))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (chunk[i] == '\n')
                take_line(d, fn, arg);
            else if (d->line_len < sizeof(d->line) - 1)
                d->line[d->line_len++] = chunk[i];
        }
    }
    if (n == -1 && (errno == EAGAIN || errno == EINTR))
        return 0;
    /* End of file (or a broken pipe): what is left is the last line. */
    if (d->line_len > 0)
        take_line(d, fn, arg);
    close(d->fd);
    d->fd = -1;
    return -1;
}

int top_daemon_parse_serving(const char *line, char *url, size_t urllen)
{
    const char *serving = strstr(line, "serving "), *on, *port, *p;
    char host[128];
    unsigned long n;
    size_t hlen;
    char *end;

    if (serving == NULL || (port = strstr(serving, " (port ")) == NULL)
        return -1;
    on = NULL;
    for (p = strstr(serving, " on "); p != NULL && p < port; p = strstr(p + 1, " on "))
        on = p + 4;
    if (on == NULL)
        return -1;
    n = strtoul(port + 7, &end, 10);
    if (end == port + 7 || *end != ')' || n == 0 || n > 65535)
        return -1;
    /* ADDR is HOST:PORT, [V6]:PORT or :PORT; a wildcard address is reached on loopback. */
    p = port;
    while (p > on && p[-1] != ':')
        p--;
    if (p == on)
        return -1;
    hlen = (size_t)(p - 1 - on);
    if (hlen >= sizeof(host))
        return -1;
    memcpy(host, on, hlen);
    host[hlen] = '\0';
    if (hlen == 0 || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "*") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    else if (strcmp(host, "[::]") == 0)
        snprintf(host, sizeof(host), "[::1]");
    snprintf(url, urllen, "http://%s:%lu", host, n);
    return 0;
}

int top_daemon_wait_url(struct top_daemon *d, int timeout_ms, top_daemon_line_fn *fn, void *arg,
                        char *url, size_t urllen, char *errbuf, size_t errlen)
{
    uint64_t until = now_ms() + (uint64_t)timeout_ms;

    for (;;) {
        struct pollfd pfd = {.fd = d->fd, .events = POLLIN};
        uint64_t now = now_ms();
        char chunk[4096];
        ssize_t n;

        if (now >= until) {
            snprintf(errbuf, errlen, "nstats did not say which port it serves within %d s",
                     timeout_ms / 1000);
            return -1;
        }
        if (poll(&pfd, 1, (int)(until - now)) == -1) {
            if (errno == EINTR) {
                snprintf(errbuf, errlen, "interrupted");
                return -1;
            }
            continue;
        }
        n = read(d->fd, chunk, sizeof(chunk));
        if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
            if (d->line_len > 0)
                take_line(d, fn, arg);
            snprintf(errbuf, errlen, "the capture (nstats) exited before serving its API");
            return -1;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (chunk[i] != '\n') {
                if (d->line_len < sizeof(d->line) - 1)
                    d->line[d->line_len++] = chunk[i];
                continue;
            }
            d->line[d->line_len] = '\0';
            if (top_daemon_parse_serving(d->line, url, urllen) == 0) {
                d->line_len = 0;
                /* Whatever followed in this read is passed on as lines too. */
                for (ssize_t j = i + 1; j < n; j++) {
                    if (chunk[j] == '\n')
                        take_line(d, fn, arg);
                    else if (d->line_len < sizeof(d->line) - 1)
                        d->line[d->line_len++] = chunk[j];
                }
                return 0;
            }
            take_line(d, fn, arg);
        }
    }
}

static int exit_status(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}

int top_daemon_stop(struct top_daemon *d, top_daemon_line_fn *fn, void *arg)
{
    uint64_t start = now_ms();
    bool again = false, killed = false;
    int status = 0;

    if (d == NULL)
        return -1;
    kill(d->pid, SIGTERM);
    for (;;) {
        pid_t r = waitpid(d->pid, &status, WNOHANG);
        uint64_t waited = now_ms() - start;

        if (r == d->pid || (r == -1 && errno != EINTR))
            break;
        /* Its last words (the last interval, a warning) are passed on while it stops. */
        if (d->fd != -1) {
            struct pollfd pfd = {.fd = d->fd, .events = POLLIN};

            if (poll(&pfd, 1, 50) > 0)
                top_daemon_read(d, fn, arg);
        } else {
            usleep(20000);
        }
        if (!again && waited >= STOP_AGAIN_MS) {
            kill(d->pid, SIGTERM);
            again = true;
        } else if (!killed && waited >= STOP_KILL_MS) {
            kill(d->pid, SIGKILL);
            killed = true;
        }
    }
    if (d->fd != -1) {
        top_daemon_read(d, fn, arg);
        if (d->fd != -1)
            close(d->fd);
    }
    free(d);
    return exit_status(status);
}
