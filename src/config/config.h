/* One option table drives flags, NSTATS_* environment variables, --help and --check-config. */
#ifndef NSTATS_CONFIG_H
#define NSTATS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/netaddr.h"
#include "export/prices.h"
#include "export/schema.h"
#include "names/netlabels.h"

#define CONFIG_MAX_LOCAL_NETS 64
#define CONFIG_MAX_OPTIONS 96
#define CONFIG_MAX_LIST 256

/* A repeatable string option. */
struct config_list {
    char *items[CONFIG_MAX_LIST];
    size_t n;
};

/* The effective configuration; immutable once config_parse returns. Strings are owned. */
struct config {
    char *interface; /* as given; NULL: the default-route interface */
    char *ifname;    /* the interface a live run captures on; NULL with -r or --probe */
    char *read_file; /* -r: a capture file, or "-" for stdin */
    struct netprefix local_nets[CONFIG_MAX_LOCAL_NETS];
    size_t n_local_nets;
    uint64_t interval_ms;
    uint64_t flow_timeout_ms;
    uint64_t max_flows;
    uint64_t snaplen;
    uint64_t buffer_bytes;
    uint64_t ephemeral_min;
    unsigned key_fields; /* FLOW_KEY_* */
    char *host;          /* --host, else POD_NAME, else the hostname; set for every run */
    char *namespace_;    /* --namespace, else POD_NAMESPACE; NULL for none */
    char *node;          /* --node, else NODE_NAME; NULL for none */
    char *workload;      /* --workload; NULL for none */
    char *influx_url;
    char *influx_db;
    char *influx_rp;
    char *influx_user;
    char *influx_password;
    char *influx_password_file;
    char *influx_org;
    char *influx_bucket;
    char *influx_token;
    char *influx_token_file;
    char *influx_ca_file;
    bool influx_insecure;
    bool influx_gzip;
    uint64_t influx_batch_bytes;
    uint64_t influx_queue_bytes;
    uint64_t influx_timeout_ms;
    uint64_t influx_retry_max_ms;
    char *remote_write_url;
    struct config_list remote_write_headers;
    char *remote_write_user;
    char *remote_write_password; /* from remote_write_password_file */
    char *remote_write_password_file;
    char *remote_write_token; /* from remote_write_token_file */
    char *remote_write_token_file;
    char *remote_write_ca_file;
    bool remote_write_insecure;
    char *otlp_url;
    struct config_list otlp_headers;
    char *otlp_ca_file;
    bool otlp_insecure;
    uint64_t push_queue_bytes;
    uint64_t push_timeout_ms;
    uint64_t push_retry_max_ms;
    char *spool_dir;
    uint64_t shutdown_timeout_ms;
    enum schema_kind schema;
    bool also_stdout;
    char *listen;                  /* HTTP endpoint ADDR:PORT, NULL for none */
    char *probe;                   /* --probe URL: check an endpoint and exit */
    struct config_list label_nets; /* CIDR=LABEL, each checked by netlabels_parse_entry */
    struct netlabels *labels;      /* label_nets and label_file's lines, built by config_parse */
    char *label_file;
    bool dns_snoop;
    uint64_t name_cache_size;
    uint64_t name_min_keep_ms;
    bool rdns;
    char *dns_server;
    uint64_t rdns_rate;
    uint64_t rdns_max_in_flight;
    bool k8s;
    char *k8s_api; /* --k8s-api, else the in-cluster URL from the next two; NULL for none */
    char *k8s_service_host; /* KUBERNETES_SERVICE_HOST (environment only) */
    char *k8s_service_port; /* KUBERNETES_SERVICE_PORT (environment only) */
    char *k8s_token_file;
    char *k8s_ca_file;
    char *k8s_namespace;
    char *k8s_label_selector;
    char *k8s_field_selector;
    bool conntrack; /* --conntrack: NAT-exact attribution where the table can be read */
    char *zone;     /* --zone: the own zone, when nodes cannot be read; NULL */
    char *region;   /* --region; NULL */
    struct config_list price_specs; /* --price CLASS[:in|:out]=USD_PER_GB */
    struct prices *prices;          /* built by config_parse from price_specs */
    bool verbose;
    bool quiet;
    bool check_config;
    bool help;
    bool version;
    /* Where each option's value came from: "default", "flag" or a variable's name. */
    const char *sources[CONFIG_MAX_OPTIONS];
};

/* Facts of the host config_parse reads besides the environment; tests pass their own. */
struct config_host {
    /* Finds the default-route interface, as iface_default_route does. */
    int (*default_route)(char *name, size_t len, char *errbuf, size_t errlen);
};

/* Parses argv over the environment over the defaults, then resolves what a run would (the
 * capture interface, the host name, the Kubernetes API URL) and checks every setting against
 * the others, so that --check-config rejects exactly what a run rejects. Returns 0, or -1 with
 * a one-line message naming the bad flag or variable in errbuf (the caller exits with status
 * 2). With --help or --version only the values themselves are checked. */
int config_parse(struct config *cfg, int argc, char **argv, char *errbuf, size_t errlen);
/* config_parse with the host's facts from host. */
int config_parse_with(struct config *cfg, int argc, char **argv, const struct config_host *host,
                      char *errbuf, size_t errlen);
void config_free(struct config *cfg);
/* The --help text. */
void config_usage(FILE *out);
/* The --check-config text: every option, its resolved value (durations and sizes as they are
 * written, secrets and URL credentials redacted) and where it came from. */
void config_print(const struct config *cfg, FILE *out);

#endif
