/* The version nstats reports: the build sets NSTATS_VERSION from CMake's project version. */
#ifndef NSTATS_VERSION_H
#define NSTATS_VERSION_H

#ifndef NSTATS_VERSION
#define NSTATS_VERSION "0.0.0"
#endif

#endif
