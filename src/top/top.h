/* nstats top: an iftop-like live view, a client of the daemon's /api/v1 (docs/API.md). */
#ifndef NSTATS_TOP_TOP_H
#define NSTATS_TOP_TOP_H

/* Runs "nstats top" with its own argv (argv[0] is "top"). Returns the exit status: 0, 1 for
 * trouble while running, 2 for bad options. */
int top_main(int argc, char **argv);

#endif
