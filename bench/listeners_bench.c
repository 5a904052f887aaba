/* What reading the local listening sockets costs as the host's connections grow: sock_diag
 * (listening sockets only) against /proc/net (every socket), in CPU time (user + kernel).
 *
 * Usage: listeners_bench [CONNECTIONS...]   (default 0 1000 9000; each is two sockets) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "benchtime.h"
#include "flow/listeners.h"

enum { ROUNDS = 15 };

static char text[64 << 20];

static void read_proc(struct listeners *l)
{
    static const char *const tables[4] = {"/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp",
                                          "/proc/net/udp6"};

    listeners_clear(l);
    for (int i = 0; i < 4; i++) {
        FILE *f = fopen(tables[i], "r");
        size_t n = f != NULL ? fread(text, 1, sizeof(text) - 1, f) : 0;

        text[n] = '\0';
        if (f != NULL)
            fclose(f);
        listeners_parse_proc(l, text, i < 2, 32768);
    }
}

/* n established loopback connections (2n sockets) behind one listener; returns it. */
static int connect_many(int n, int *fds)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);

    if (lfd == -1 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) == -1 || listen(lfd, 4096) ||
        getsockname(lfd, (struct sockaddr *)&a, &len) == -1) {
        perror("listener");
        exit(1);
    }
    for (int i = 0; i < n; i++) {
        fds[2 * i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[2 * i] == -1 || connect(fds[2 * i], (struct sockaddr *)&a, sizeof(a)) == -1 ||
            (fds[2 * i + 1] = accept(lfd, NULL, NULL)) == -1) {
            perror("connection");
            exit(1);
        }
    }
    return lfd;
}

int main(int argc, char **argv)
{
    static const int defaults[3] = {0, 1000, 9000};
    struct rlimit rl;
    static struct listeners l;
    int n_sizes = argc > 1 ? argc - 1 : 3;

    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    printf("listening sockets read (median of %d, CPU time incl. kernel):\n", ROUNDS);
    printf("%12s %14s %14s %8s\n", "connections", "sock_diag us", "/proc/net us", "ratio");
    for (int s = 0; s < n_sizes; s++) {
        int n = argc > 1 ? atoi(argv[s + 1]) : defaults[s];

        if ((rlim_t)(2 * n + 16) > rl.rlim_cur) {
            fprintf(stderr, "listeners_bench: %d connections need %d descriptors; %lu allowed\n", n,
                    2 * n + 16, (unsigned long)rl.rlim_cur);
            return 1;
        }
        int *fds = calloc((size_t)(2 * n + 1), sizeof(int));
        int lfd = connect_many(n, fds);
        double nl[ROUNDS], proc[ROUNDS];

        for (int r = 0; r < ROUNDS; r++) {
            double t0 = bench_now(CLOCK_PROCESS_CPUTIME_ID);

            if (listeners_read(&l, 32768) == -1 || l.reads_proc != 0) {
                fprintf(stderr, "listeners_bench: sock_diag refused\n");
                return 1;
            }
            nl[r] = bench_now(CLOCK_PROCESS_CPUTIME_ID) - t0;
            t0 = bench_now(CLOCK_PROCESS_CPUTIME_ID);
            read_proc(&l);
            proc[r] = bench_now(CLOCK_PROCESS_CPUTIME_ID) - t0;
        }
        double a = bench_median(nl, ROUNDS) * 1e6, b = bench_median(proc, ROUNDS) * 1e6;

        printf("%12d %14.0f %14.0f %7.1fx\n", n, a, b, b / a);
        for (int i = 0; i < 2 * n; i++)
            close(fds[i]);
        close(lfd);
        free(fds);
    }
    return 0;
}
