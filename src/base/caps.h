/* Capabilities the image's binary holds as permitted file capabilities (deploy/rootfs.sh:
 * setcap cap_net_raw,cap_net_admin+p), raised to effective when they are needed. Permitted,
 * not effective: the kernel then runs the binary even where the bounding set lacks them (a
 * restricted pod), and nstats says what it cannot do instead of the exec failing. */
#ifndef NSTATS_CAPS_H
#define NSTATS_CAPS_H

/* Makes capability cap (CAP_NET_RAW, ...) effective if it is permitted; otherwise nothing. */
void caps_raise(int cap);

#endif
