/* The option table, and the three things made from it: parsing, --help and --check-config. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse.h"
#include "base/xalloc.h"
#include "flow/flowkey.h"

enum opt_type {
    OPT_STRING,
    OPT_UINT,
    OPT_DURATION,
    OPT_SIZE,
    OPT_BOOL,   /* a flag without a value; the environment takes true/false */
    OPT_ACTION, /* --help and friends: flags only */
    OPT_PREFIXES,
    OPT_KEY_FIELDS,
    OPT_LIST, /* repeatable strings; the environment takes a list */
};

struct option_def {
    const char *name;
    char short_name;
    const char *env;
    const char *legacy_env; /* the prototype's variable, if any */
    enum opt_type type;
    const char *metavar;
    const char *def; /* default as text; NULL for none */
    uint64_t min, max;
    bool secret;
    size_t offset;
    const char *help;
};

#define OFF(field) offsetof(struct config, field)

static const struct option_def options[] = {
    {"interface", 'i', "NSTATS_INTERFACE", "IFACE", OPT_STRING, "IFACE", NULL, 0, 0, false,
     OFF(interface), "capture live on IFACE (default: the interface of the default route)"},
    {"read", 'r', "NSTATS_READ", NULL, OPT_STRING, "FILE", NULL, 0, 0, false, OFF(read_file),
     "read a pcap or pcapng file ('-' for stdin) instead of capturing, then exit"},
    {"local-net", 0, "NSTATS_LOCAL_NET", NULL, OPT_PREFIXES, "CIDR", NULL, 0, 0, false,
     OFF(local_nets), "addresses in CIDR are local (repeatable; the environment takes a list)"},
    {"interval", 0, "NSTATS_INTERVAL", NULL, OPT_DURATION, "DURATION", "10s", 1, 86400000ULL, false,
     OFF(interval_ms), "export every DURATION (capture time with -r)"},
    {"max-flows", 0, "NSTATS_MAX_FLOWS", NULL, OPT_UINT, "N", "16384", 1, 10000000ULL, false,
     OFF(max_flows), "keep at most N keys; new keys past that are counted in 'other' rows"},
    {"flow-timeout", 0, "NSTATS_FLOW_TIMEOUT", NULL, OPT_DURATION, "DURATION", "5m", 1,
     86400000ULL * 30, false, OFF(flow_timeout_ms), "forget keys idle for DURATION"},
    {"key", 0, "NSTATS_KEY", NULL, OPT_KEY_FIELDS, "FIELDS", "local,remote,proto,port", 0, 0, false,
     OFF(key_fields), "what a key holds: remote,proto always, plus local and/or port"},
    {"ephemeral-min", 0, "NSTATS_EPHEMERAL_MIN", NULL, OPT_UINT, "PORT", "32768", 1, 65535, false,
     OFF(ephemeral_min), "ports from PORT up are client ports and never become keys"},
    {"snaplen", 0, "NSTATS_SNAPLEN", NULL, OPT_UINT, "BYTES", "128", 64, 262144, false,
     OFF(snaplen), "bytes captured per packet (headers only; counts use the full length)"},
    {"buffer-size", 0, "NSTATS_BUFFER_SIZE", NULL, OPT_SIZE, "SIZE", "4MiB", 65536, 1ULL << 31,
     false, OFF(buffer_bytes), "kernel capture ring size"},
    {"host", 0, "NSTATS_HOST", NULL, OPT_STRING, "NAME", NULL, 0, 0, false, OFF(host),
     "the host tag (default: $POD_NAME, else the hostname)"},
    {"schema", 0, "NSTATS_SCHEMA", NULL, OPT_STRING, "NAME", "default", 0, 0, false, OFF(schema),
     "row schema: default, or legacy (the prototype's nstat measurement)"},
    {"stdout", 0, "NSTATS_STDOUT", NULL, OPT_BOOL, NULL, "false", 0, 0, false, OFF(also_stdout),
     "also write line protocol to stdout when InfluxDB is configured"},
    {"listen", 0, "NSTATS_LISTEN", NULL, OPT_STRING, "ADDR:PORT", NULL, 0, 0, false, OFF(listen),
     "serve /metrics, /healthz and / over HTTP (nstats' port is 9781: --listen :9781)"},
    {"label-net", 0, "NSTATS_LABEL_NET", NULL, OPT_LIST, "CIDR=LABEL", NULL, 0, 0, false,
     OFF(label_nets), "name a network (repeatable): the row's net tag and a fallback name"},
    {"label-file", 0, "NSTATS_LABEL_FILE", NULL, OPT_STRING, "FILE", NULL, 0, 0, false,
     OFF(label_file), "read CIDR=LABEL lines from FILE"},
    {"dns-snoop", 0, "NSTATS_DNS_SNOOP", NULL, OPT_BOOL, NULL, "true", 0, 0, false, OFF(dns_snoop),
     "name addresses from DNS answers seen on the wire [true]"},
    {"name-cache-size", 0, "NSTATS_NAME_CACHE_SIZE", NULL, OPT_UINT, "N", "16384", 16, 4194304,
     false, OFF(name_cache_size), "names kept at most"},
    {"name-min-keep", 0, "NSTATS_NAME_MIN_KEEP", NULL, OPT_DURATION, "DURATION", "1h", 0,
     86400000ULL * 30, false, OFF(name_min_keep_ms),
     "keep a DNS-learned name at least this long, past its TTL"},
    {"rdns", 0, "NSTATS_RDNS", NULL, OPT_BOOL, NULL, "false", 0, 0, false, OFF(rdns),
     "name addresses by reverse DNS (PTR), asynchronously and rate-limited"},
    {"dns-server", 0, "NSTATS_DNS_SERVER", NULL, OPT_STRING, "ADDR[:PORT]", NULL, 0, 0, false,
     OFF(dns_server), "resolver for reverse DNS (default: /etc/resolv.conf)"},
    {"rdns-rate", 0, "NSTATS_RDNS_RATE", NULL, OPT_UINT, "N", "20", 1, 10000, false, OFF(rdns_rate),
     "reverse DNS queries per second, at most"},
    {"rdns-max-in-flight", 0, "NSTATS_RDNS_MAX_IN_FLIGHT", NULL, OPT_UINT, "N", "32", 1, 4096,
     false, OFF(rdns_max_in_flight), "reverse DNS queries outstanding, at most"},
    {"k8s", 0, "NSTATS_K8S", NULL, OPT_BOOL, NULL, "false", 0, 0, false, OFF(k8s),
     "name peers from the Kubernetes API (list and watch pods, services, nodes)"},
    {"k8s-api", 0, "NSTATS_K8S_API", NULL, OPT_STRING, "URL", NULL, 0, 0, false, OFF(k8s_api),
     "API server (default: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT)"},
    {"k8s-token-file", 0, "NSTATS_K8S_TOKEN_FILE", NULL, OPT_STRING, "FILE",
     "/var/run/secrets/kubernetes.io/serviceaccount/token", 0, 0, false, OFF(k8s_token_file),
     "service-account token, re-read on every request"},
    {"k8s-ca-file", 0, "NSTATS_K8S_CA_FILE", NULL, OPT_STRING, "FILE",
     "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", 0, 0, false, OFF(k8s_ca_file),
     "the API server's CA"},
    {"k8s-namespace", 0, "NSTATS_K8S_NAMESPACE", NULL, OPT_STRING, "NS", NULL, 0, 0, false,
     OFF(k8s_namespace), "watch pods, services and ReplicaSets of NS only"},
    {"k8s-label-selector", 0, "NSTATS_K8S_LABEL_SELECTOR", NULL, OPT_STRING, "SELECTOR", NULL, 0, 0,
     false, OFF(k8s_label_selector), "label selector for pods, services, ReplicaSets"},
    {"k8s-field-selector", 0, "NSTATS_K8S_FIELD_SELECTOR", NULL, OPT_STRING, "SELECTOR", NULL, 0, 0,
     false, OFF(k8s_field_selector), "field selector for pods (e.g. spec.nodeName=N)"},
    {"influx-url", 0, "NSTATS_INFLUX_URL", "INFLUX", OPT_STRING, "URL", NULL, 0, 0, false,
     OFF(influx_url), "InfluxDB base URL (the prototype's INFLUX=host:port means http://)"},
    {"influx-db", 0, "NSTATS_INFLUX_DB", "IDB", OPT_STRING, "DB", NULL, 0, 0, false, OFF(influx_db),
     "v1 API: database (selects /write)"},
    {"influx-rp", 0, "NSTATS_INFLUX_RP", NULL, OPT_STRING, "RP", NULL, 0, 0, false, OFF(influx_rp),
     "v1 API: retention policy"},
    {"influx-user", 0, "NSTATS_INFLUX_USER", NULL, OPT_STRING, "USER", NULL, 0, 0, false,
     OFF(influx_user), "v1 API: user name"},
    {"influx-password", 0, "NSTATS_INFLUX_PASSWORD", NULL, OPT_STRING, "PASSWORD", NULL, 0, 0, true,
     OFF(influx_password), "v1 API: password"},
    {"influx-password-file", 0, "NSTATS_INFLUX_PASSWORD_FILE", NULL, OPT_STRING, "FILE", NULL, 0, 0,
     false, OFF(influx_password_file), "v1 API: read the password from FILE"},
    {"influx-org", 0, "NSTATS_INFLUX_ORG", NULL, OPT_STRING, "ORG", NULL, 0, 0, false,
     OFF(influx_org), "v2 API: organisation"},
    {"influx-bucket", 0, "NSTATS_INFLUX_BUCKET", NULL, OPT_STRING, "BUCKET", NULL, 0, 0, false,
     OFF(influx_bucket), "v2 API: bucket (selects /api/v2/write)"},
    {"influx-token", 0, "NSTATS_INFLUX_TOKEN", NULL, OPT_STRING, "TOKEN", NULL, 0, 0, true,
     OFF(influx_token), "v2 API: token"},
    {"influx-token-file", 0, "NSTATS_INFLUX_TOKEN_FILE", NULL, OPT_STRING, "FILE", NULL, 0, 0,
     false, OFF(influx_token_file), "v2 API: read the token from FILE"},
    {"influx-ca-file", 0, "NSTATS_INFLUX_CA_FILE", NULL, OPT_STRING, "FILE", NULL, 0, 0, false,
     OFF(influx_ca_file), "CA certificates for https:// URLs"},
    {"influx-insecure", 0, "NSTATS_INFLUX_INSECURE", NULL, OPT_BOOL, NULL, "false", 0, 0, false,
     OFF(influx_insecure), "do not verify the server's TLS certificate"},
    {"influx-gzip", 0, "NSTATS_INFLUX_GZIP", NULL, OPT_BOOL, NULL, "true", 0, 0, false,
     OFF(influx_gzip), "gzip request bodies (--influx-gzip=false to turn off) [true]"},
    {"influx-batch-size", 0, "NSTATS_INFLUX_BATCH_SIZE", NULL, OPT_SIZE, "SIZE", "1MiB", 4096,
     1ULL << 30, false, OFF(influx_batch_bytes), "line protocol per request, at most"},
    {"influx-queue-size", 0, "NSTATS_INFLUX_QUEUE_SIZE", NULL, OPT_SIZE, "SIZE", "64MiB", 65536,
     1ULL << 34, false, OFF(influx_queue_bytes),
     "pending batches, at most; the oldest are dropped (and counted) past it"},
    {"influx-timeout", 0, "NSTATS_INFLUX_TIMEOUT", NULL, OPT_DURATION, "DURATION", "10s", 100,
     3600000, false, OFF(influx_timeout_ms), "per-request timeout"},
    {"influx-retry-max", 0, "NSTATS_INFLUX_RETRY_MAX", NULL, OPT_DURATION, "DURATION", "60s", 100,
     3600000, false, OFF(influx_retry_max_ms), "longest wait between retries"},
    {"spool-dir", 0, "NSTATS_SPOOL_DIR", NULL, OPT_STRING, "DIR", NULL, 0, 0, false, OFF(spool_dir),
     "keep pending batches on disk, and send them after a restart"},
    {"shutdown-timeout", 0, "NSTATS_SHUTDOWN_TIMEOUT", NULL, OPT_DURATION, "DURATION", "10s", 0,
     3600000, false, OFF(shutdown_timeout_ms),
     "on exit, keep delivering pending batches this long"},
    {"verbose", 'v', "NSTATS_VERBOSE", NULL, OPT_BOOL, NULL, "false", 0, 0, false, OFF(verbose),
     "log debug messages"},
    {"quiet", 'q', "NSTATS_QUIET", NULL, OPT_BOOL, NULL, "false", 0, 0, false, OFF(quiet),
     "log warnings and errors only"},
    {"probe", 0, NULL, NULL, OPT_STRING, "URL", NULL, 0, 0, false, OFF(probe),
     "GET URL (e.g. http://127.0.0.1:9781/healthz), exit 0 on a 2xx answer, else 1"},
    {"check-config", 0, NULL, NULL, OPT_ACTION, NULL, NULL, 0, 0, false, OFF(check_config),
     "print the effective configuration and exit"},
    {"help", 'h', NULL, NULL, OPT_ACTION, NULL, NULL, 0, 0, false, OFF(help),
     "print this help and exit"},
    {"version", 'V', NULL, NULL, OPT_ACTION, NULL, NULL, 0, 0, false, OFF(version),
     "print the version and exit"},
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))
_Static_assert(N_OPTIONS <= CONFIG_MAX_OPTIONS, "raise CONFIG_MAX_OPTIONS");

static void *field(struct config *cfg, const struct option_def *o)
{
    return (char *)cfg + o->offset;
}

static const void *cfield(const struct config *cfg, const struct option_def *o)
{
    return (const char *)cfg + o->offset;
}

static int parse_key_fields(const char *s, unsigned *out, char *errbuf, size_t errlen)
{
    char *copy = xstrdup(s), *save = NULL;
    unsigned fields = 0;
    int rc = 0;

    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (strcmp(tok, "local") == 0) {
            fields |= FLOW_KEY_LOCAL;
        } else if (strcmp(tok, "port") == 0) {
            fields |= FLOW_KEY_PORT;
        } else if (strcmp(tok, "remote") != 0 && strcmp(tok, "proto") != 0) {
            snprintf(errbuf, errlen, "'%s' is not a key field (local, remote, proto, port)", tok);
            rc = -1;
            break;
        }
    }
    free(copy);
    *out = fields;
    return rc;
}

static int add_prefix(struct config *cfg, const char *s, char *errbuf, size_t errlen)
{
    if (cfg->n_local_nets == CONFIG_MAX_LOCAL_NETS) {
        snprintf(errbuf, errlen, "more than %d networks", CONFIG_MAX_LOCAL_NETS);
        return -1;
    }
    if (netprefix_parse(s, &cfg->local_nets[cfg->n_local_nets]) == -1) {
        snprintf(errbuf, errlen, "'%s' is not a network (e.g. 10.0.0.0/8, 2001:db8::/32)", s);
        return -1;
    }
    cfg->n_local_nets++;
    return 0;
}

/* Stores one value for option o. Returns 0, or -1 with a reason in errbuf. */
static int set_value(struct config *cfg, const struct option_def *o, const char *value,
                     char *errbuf, size_t errlen)
{
    unsigned elen = (unsigned)errlen;
    uint64_t v;

    switch (o->type) {
    case OPT_STRING: {
        char **p = field(cfg, o);

        if (value[0] == '\0') {
            snprintf(errbuf, errlen, "the value is empty");
            return -1;
        }
        free(*p);
        *p = xstrdup(value);
        return 0;
    }
    case OPT_UINT:
        if (parse_u64(value, o->min, o->max, &v, errbuf, elen) == -1)
            return -1;
        *(uint64_t *)field(cfg, o) = v;
        return 0;
    case OPT_DURATION:
    case OPT_SIZE:
        if ((o->type == OPT_DURATION ? parse_duration_ms(value, &v, errbuf, elen)
                                     : parse_size_bytes(value, &v, errbuf, elen)) == -1)
            return -1;
        if (v < o->min || v > o->max) {
            snprintf(errbuf, errlen, "'%s' is out of range [%llu, %llu] %s", value,
                     (unsigned long long)o->min, (unsigned long long)o->max,
                     o->type == OPT_DURATION ? "ms" : "bytes");
            return -1;
        }
        *(uint64_t *)field(cfg, o) = v;
        return 0;
    case OPT_BOOL:
    case OPT_ACTION:
        return parse_bool(value, field(cfg, o), errbuf, elen);
    case OPT_PREFIXES: {
        char *copy = xstrdup(value), *save = NULL;
        int rc = 0;

        for (char *tok = strtok_r(copy, ", \t", &save); tok && rc == 0;
             tok = strtok_r(NULL, ", \t", &save))
            rc = add_prefix(cfg, tok, errbuf, errlen);
        free(copy);
        return rc;
    }
    case OPT_KEY_FIELDS:
        return parse_key_fields(value, field(cfg, o), errbuf, errlen);
    case OPT_LIST: {
        struct config_list *l = field(cfg, o);
        char *copy = xstrdup(value), *save = NULL;
        int rc = 0;

        for (char *tok = strtok_r(copy, ", \t", &save); tok && rc == 0;
             tok = strtok_r(NULL, ", \t", &save)) {
            if (l->n == CONFIG_MAX_LIST) {
                snprintf(errbuf, errlen, "more than %d values", CONFIG_MAX_LIST);
                rc = -1;
            } else {
                l->items[l->n++] = xstrdup(tok);
            }
        }
        free(copy);
        return rc;
    }
    }
    return -1;
}

static void clear_list(struct config_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    l->n = 0;
}

/* Empties a repeatable option, before the environment or the flags give its values. */
static void clear_values(struct config *cfg, const struct option_def *o)
{
    if (o->type == OPT_PREFIXES)
        cfg->n_local_nets = 0;
    else if (o->type == OPT_LIST)
        clear_list(field(cfg, o));
}

static int apply(struct config *cfg, size_t idx, const char *value, const char *source,
                 const char *what, char *errbuf, size_t errlen)
{
    char reason[256];

    if (set_value(cfg, &options[idx], value, reason, sizeof(reason)) == -1) {
        snprintf(errbuf, errlen, "bad value for %s: %s", what, reason);
        return -1;
    }
    cfg->sources[idx] = source;
    return 0;
}

static int apply_defaults(struct config *cfg, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        cfg->sources[i] = "default";
        if (options[i].def != NULL &&
            apply(cfg, i, options[i].def, "default", options[i].name, errbuf, errlen) == -1)
            return -1;
    }
    return 0;
}

static int apply_env(struct config *cfg, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *names[2] = {options[i].env, options[i].legacy_env};

        /* The NSTATS_ name wins over the prototype's, so check it last. */
        for (int n = 1; n >= 0; n--) {
            const char *value = names[n] ? getenv(names[n]) : NULL;

            if (value == NULL || value[0] == '\0')
                continue;
            clear_values(cfg, &options[i]);
            if (n == 1 && strcmp(names[n], "INFLUX") == 0 && strstr(value, "://") == NULL) {
                /* The prototype's INFLUX is host:port. */
                char url[512];

                snprintf(url, sizeof(url), "http://%s", value);
                if (apply(cfg, i, url, names[n], names[n], errbuf, errlen) == -1)
                    return -1;
                continue;
            }
            if (apply(cfg, i, value, names[n], names[n], errbuf, errlen) == -1)
                return -1;
        }
    }
    return 0;
}

static const struct option_def *find_long(const char *name, size_t len, size_t *idx)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0) {
            *idx = i;
            return &options[i];
        }
    }
    return NULL;
}

static const struct option_def *find_short(char c, size_t *idx)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (options[i].short_name == c) {
            *idx = i;
            return &options[i];
        }
    }
    return NULL;
}

static bool takes_value(const struct option_def *o)
{
    return o->type != OPT_BOOL && o->type != OPT_ACTION;
}

static int apply_args(struct config *cfg, int argc, char **argv, char *errbuf, size_t errlen)
{
    bool replaced[CONFIG_MAX_OPTIONS] = {false};

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        const struct option_def *o = NULL;
        char what[64];
        size_t idx = 0;

        if (strncmp(arg, "--", 2) == 0 && arg[2] != '\0') {
            const char *eq = strchr(arg + 2, '=');
            size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);

            o = find_long(arg + 2, len, &idx);
            if (o == NULL) {
                snprintf(errbuf, errlen, "unknown option '%.*s' (see --help)", (int)len + 2, arg);
                return -1;
            }
            if (eq != NULL)
                value = eq + 1;
            snprintf(what, sizeof(what), "--%s", o->name);
        } else if (arg[0] == '-' && arg[1] != '\0' && arg[1] != '-') {
            o = find_short(arg[1], &idx);
            if (o == NULL) {
                snprintf(errbuf, errlen, "unknown option '-%c' (see --help)", arg[1]);
                return -1;
            }
            if (arg[2] != '\0') {
                if (!takes_value(o)) {
                    snprintf(errbuf, errlen, "option -%c takes no value", arg[1]);
                    return -1;
                }
                value = arg + 2;
            }
            snprintf(what, sizeof(what), "-%c", o->short_name);
        } else {
            snprintf(errbuf, errlen, "unexpected argument '%s' (see --help)", arg);
            return -1;
        }
        if (!takes_value(o)) {
            if (value != NULL && o->type == OPT_ACTION) {
                snprintf(errbuf, errlen, "option %s takes no value", what);
                return -1;
            }
            if (apply(cfg, idx, value ? value : "true", "flag", what, errbuf, errlen) == -1)
                return -1;
            continue;
        }
        if (value == NULL) {
            if (i + 1 >= argc) {
                snprintf(errbuf, errlen, "option %s needs a value (%s)", what, o->metavar);
                return -1;
            }
            value = argv[++i];
        }
        /* Flags win over the environment, also for lists: the first flag replaces them. */
        if (!replaced[idx]) {
            clear_values(cfg, o);
            replaced[idx] = true;
        }
        if (apply(cfg, idx, value, "flag", what, errbuf, errlen) == -1)
            return -1;
    }
    return 0;
}

/* Reads a secret from a file (a mounted Kubernetes Secret), dropping a trailing newline. */
static int read_secret(char **dst, const char *path, const char *what, char *errbuf, size_t errlen)
{
    char value[4096];
    FILE *f;
    size_t n;

    if (path == NULL)
        return 0;
    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(errbuf, errlen, "%s: cannot read %s: %s", what, path, strerror(errno));
        return -1;
    }
    n = fread(value, 1, sizeof(value) - 1, f);
    fclose(f);
    value[n] = '\0';
    while (n > 0 && (value[n - 1] == '\n' || value[n - 1] == '\r'))
        value[--n] = '\0';
    if (n == 0) {
        snprintf(errbuf, errlen, "%s: %s is empty", what, path);
        return -1;
    }
    free(*dst);
    *dst = xstrdup(value);
    return 0;
}

int config_parse(struct config *cfg, int argc, char **argv, char *errbuf, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    if (apply_defaults(cfg, errbuf, errlen) == -1 || apply_env(cfg, errbuf, errlen) == -1 ||
        apply_args(cfg, argc, argv, errbuf, errlen) == -1)
        return -1;
    if (cfg->help || cfg->version)
        return 0;
    if (cfg->interface != NULL && cfg->read_file != NULL) {
        snprintf(errbuf, errlen, "--interface and --read cannot be used together");
        return -1;
    }
    if (strcmp(cfg->schema, "default") != 0 && strcmp(cfg->schema, "legacy") != 0) {
        snprintf(errbuf, errlen, "bad value for --schema: '%s' is not default or legacy",
                 cfg->schema);
        return -1;
    }
    if (read_secret(&cfg->influx_password, cfg->influx_password_file, "--influx-password-file",
                    errbuf, errlen) == -1 ||
        read_secret(&cfg->influx_token, cfg->influx_token_file, "--influx-token-file", errbuf,
                    errlen) == -1)
        return -1;
    if (cfg->verbose && cfg->quiet) {
        snprintf(errbuf, errlen, "--verbose and --quiet cannot be used together");
        return -1;
    }
    return 0;
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (options[i].type == OPT_STRING) {
            char **p = field(cfg, &options[i]);

            free(*p);
            *p = NULL;
        } else if (options[i].type == OPT_LIST) {
            clear_list(field(cfg, &options[i]));
        }
    }
}

void config_usage(FILE *out)
{
    fprintf(out, "usage: nstats [options]\n"
                 "Counts every packet on an interface by (local, remote, protocol, service port)\n"
                 "and writes InfluxDB line protocol to stdout every interval.\n\noptions:\n");
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct option_def *o = &options[i];
        char flag[64];

        if (o->short_name)
            snprintf(flag, sizeof(flag), "-%c, --%s%s%s", o->short_name, o->name,
                     o->metavar ? " " : "", o->metavar ? o->metavar : "");
        else
            snprintf(flag, sizeof(flag), "    --%s%s%s", o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
        fprintf(out, "  %-30s %s", flag, o->help);
        if (o->def != NULL && o->type != OPT_BOOL)
            fprintf(out, " [%s]", o->def);
        if (o->env != NULL)
            fprintf(out, "\n  %-30s env %s%s%s", "", o->env, o->legacy_env ? ", " : "",
                    o->legacy_env ? o->legacy_env : "");
        fputc('\n', out);
    }
    fprintf(out, "\nFlags win over environment variables. Durations: 500ms, 10s, 5m, 1h.\n"
                 "Sizes: 65536, 64KiB, 4MiB. Documentation: docs/METRICS.md, README.md.\n");
}

static void print_value(const struct config *cfg, const struct option_def *o, FILE *out)
{
    const void *p = cfield(cfg, o);

    switch (o->type) {
    case OPT_STRING: {
        const char *s = *(char *const *)p;

        const char *scheme = s ? strstr(s, "://") : NULL;
        const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
        const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;

        if (s == NULL)
            fputs("(unset)", out);
        else if (o->secret)
            fputs("(redacted)", out);
        else if (at != NULL && (slash == NULL || at < slash))
            fprintf(out, "%.*s(redacted)%s", (int)(scheme + 3 - s), s, at);
        else
            fputs(s, out);
        break;
    }
    case OPT_UINT:
    case OPT_SIZE:
        fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)p);
        break;
    case OPT_DURATION:
        fprintf(out, "%llums", (unsigned long long)*(const uint64_t *)p);
        break;
    case OPT_BOOL:
    case OPT_ACTION:
        fputs(*(const bool *)p ? "true" : "false", out);
        break;
    case OPT_PREFIXES:
        if (cfg->n_local_nets == 0)
            fputs("(none)", out);
        for (size_t i = 0; i < cfg->n_local_nets; i++) {
            char text[NETADDR_STRLEN + 8];

            fprintf(out, "%s%s", i ? "," : "",
                    netprefix_format(&cfg->local_nets[i], text, sizeof(text)));
        }
        break;
    case OPT_LIST: {
        const struct config_list *l = p;

        if (l->n == 0)
            fputs("(none)", out);
        for (size_t i = 0; i < l->n; i++)
            fprintf(out, "%s%s", i ? "," : "", l->items[i]);
        break;
    }
    case OPT_KEY_FIELDS: {
        unsigned f = *(const unsigned *)p;

        fprintf(out, "%sremote,proto%s", f & FLOW_KEY_LOCAL ? "local," : "",
                f & FLOW_KEY_PORT ? ",port" : "");
        break;
    }
    }
}

void config_print(const struct config *cfg, FILE *out)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (options[i].type == OPT_ACTION)
            continue;
        fprintf(out, "%-20s = ", options[i].name);
        print_value(cfg, &options[i], out);
        fprintf(out, "  (%s)\n", cfg->sources[i]);
    }
}
