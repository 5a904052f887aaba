/* Reverse DNS (PTR) through c-ares on the event loop: rate-limited, capped in flight, results
 * and failures cached in the name cache. Never on the packet path. */
#ifndef NSTATS_RDNS_H
#define NSTATS_RDNS_H

#include <stddef.h>
#include <stdint.h>

#include "base/netaddr.h"
#include "io/loop.h"
#include "names/names.h"

/* Defaults for rdns_config_init; the rate and in-flight cap match the command line's. */
#define RDNS_DEFAULT_MAX_IN_FLIGHT 32
#define RDNS_DEFAULT_PER_SECOND 20
#define RDNS_DEFAULT_NEGATIVE_TTL_MS 300000
#define RDNS_DEFAULT_FAILURE_TTL_MS 60000
#define RDNS_DEFAULT_TIMEOUT_MS 2000

struct rdns_config {
    const char *server;       /* "ADDR[:PORT],..." or NULL for /etc/resolv.conf */
    unsigned max_in_flight;   /* queries outstanding at most */
    unsigned per_second;      /* queries started per second at most */
    uint64_t negative_ttl_ms; /* how long "no name" is remembered */
    uint64_t failure_ttl_ms;  /* how long a timeout or server failure is remembered */
    unsigned timeout_ms;      /* per try */
};

struct rdns_stats {
    uint64_t queries;
    uint64_t answered; /* a PTR name came back */
    uint64_t negative; /* NXDOMAIN or no PTR record */
    uint64_t timeouts; /* no answer in time */
    uint64_t failed;   /* server failures and refusals */
    uint64_t limited;  /* wanted but not asked: rate or in-flight cap */
    uint64_t in_flight;
};

struct rdns;

/* Fills cfg with the defaults above and the system resolver (server NULL); callers then
 * override what their configuration sets. */
void rdns_config_init(struct rdns_config *cfg);

/* names and loop must outlive the resolver. Returns NULL with a reason in errbuf. */
struct rdns *rdns_new(const struct rdns_config *cfg, struct loop *loop, struct names *names,
                      char *errbuf, size_t errlen);
/* Cancels queries in flight. */
void rdns_free(struct rdns *r);
/* Asks for a's PTR name unless the cache has a fresh answer or a limit says not now (the
 * next interval asks again). */
void rdns_want(struct rdns *r, const struct netaddr *a, uint64_t now_ms);
void rdns_get_stats(const struct rdns *r, struct rdns_stats *out);

/* The PTR query name for a ("4.3.2.1.in-addr.arpa", nibbles under "ip6.arpa"). Pure. */
void rdns_ptr_name(const struct netaddr *a, char *buf, size_t len);
/* Checks a server list as rdns_new would take it, with rdns_new's message. Returns 0, or -1
 * with a reason in errbuf. Configuration calls it, so --check-config rejects what a run would. */
int rdns_check_server(const char *server, char *errbuf, size_t errlen);

#endif
