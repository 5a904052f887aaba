/* The option table, and what is made from it: parsing, config_check, --help and --check-config. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/parse.h"
#include "base/url.h"
#include "base/utf8.h"
#include "base/xalloc.h"
#include "capture/iface.h"
#include "config/modules.h"
#include "export/push.h"
#include "flow/flowkey.h"
#include "io/httpd.h"
#include "names/k8s.h"
#include "names/rdns.h"
#include "names/topology.h"

enum opt_type {
    OPT_STRING,
    OPT_UINT,
    OPT_DURATION, /* milliseconds in a uint64_t; min and max in milliseconds */
    OPT_SIZE,     /* bytes in a uint64_t */
    OPT_BOOL,     /* a flag without a value; the environment takes true/false */
    OPT_ACTION,   /* --help and friends: flags only */
    OPT_ENUM,     /* one of .choices, stored as its index in an enum field */
    OPT_PREFIXES,
    OPT_KEY_FIELDS,
    OPT_LIST, /* repeatable strings; the environment takes a list */
};

/* Checks one value (one item of a list) beyond its type. Returns 0, or -1 with a reason. */
typedef int option_check_fn(const char *value, char *errbuf, size_t errlen);

struct option_def {
    const char *name; /* the long flag, and the name --check-config shows */
    char short_name;
    const char *env;
    /* Read when env is unset: the prototype's variable, or the Kubernetes Downward API's. */
    const char *alt_env;
    bool env_only; /* no flag: a variable the platform sets (KUBERNETES_SERVICE_HOST) */
    enum opt_type type;
    const char *metavar;
    const char *def; /* default as text; NULL for none */
    uint64_t min, max;
    const char *const *choices; /* OPT_ENUM: the names, NULL-terminated, in enum order */
    option_check_fn *check;     /* OPT_STRING and OPT_LIST: may be NULL */
    bool secret;          /* shown redacted; a list's "Name: value" items show the name only */
    const char *list_sep; /* OPT_LIST: what separates items; NULL: commas and blanks */
    size_t offset;
    const char *help;
};

#define OFF(field) offsetof(struct config, field)
#define DAY_MS 86400000ULL

/* In enum schema_kind order. */
static const char *const schema_names[] = {"default", "legacy", NULL};
_Static_assert(sizeof(enum schema_kind) == sizeof(int), "OPT_ENUM stores an int");

static int check_listen(const char *value, char *errbuf, size_t errlen)
{
    struct sockaddr_storage addr;
    size_t len = 0;

    /* The HTTP server's own parser: what passes here, httpd_start takes. */
    if (httpd_parse_listen(value, &addr, &len) == -1) {
        snprintf(errbuf, errlen, "'%s' is not ADDR:PORT, [V6ADDR]:PORT or :PORT", value);
        return -1;
    }
    return 0;
}

static int check_http_url(const char *value, char *errbuf, size_t errlen)
{
    return push_url_check("InfluxDB", value, errbuf, errlen);
}

static int check_remote_write_url(const char *value, char *errbuf, size_t errlen)
{
    return push_url_check("remote write", value, errbuf, errlen);
}

static int check_otlp_url(const char *value, char *errbuf, size_t errlen)
{
    return push_url_check("OTLP", value, errbuf, errlen);
}

/* "Name: value": a token, a colon, and a value without line breaks. */
static int check_header(const char *value, char *errbuf, size_t errlen)
{
    const char *colon = strchr(value, ':');
    size_t n = colon ? (size_t)(colon - value) : 0;

    if (n == 0 ||
        strspn(value, "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "abcdefghijklmnopqrstuvwxyz") != n ||
        strpbrk(value, "\r\n") != NULL) {
        snprintf(errbuf, errlen, "'%s' is not an HTTP header 'Name: value'", value);
        return -1;
    }
    return 0;
}

/* Identity values become tags and /metrics labels on every row: one stray byte would make
 * every line of a scrape invalid, so they must be UTF-8 text. The value is not echoed. */
static int check_identity(const char *value, char *errbuf, size_t errlen)
{
    if (!utf8_printable(value)) {
        snprintf(errbuf, errlen, "not UTF-8 text, or holds a control character");
        return -1;
    }
    return 0;
}

static int check_label_net(const char *value, char *errbuf, size_t errlen)
{
    struct netprefix prefix;
    char label[NETLABEL_MAX];

    return netlabels_parse_entry(value, &prefix, label, errbuf, errlen);
}

static int check_price(const char *value, char *errbuf, size_t errlen)
{
    struct price p;

    return prices_parse_entry(value, &p, errbuf, errlen);
}

static const struct option_def options[] = {
    {.name = "interface",
     .short_name = 'i',
     .env = "NSTATS_INTERFACE",
     .alt_env = "IFACE",
     .type = OPT_STRING,
     .metavar = "IFACE",
     .check = check_identity,
     .offset = OFF(interface),
     .help = "capture live on IFACE (default: the interface of the default route)"},
    {.name = "read",
     .short_name = 'r',
     .env = "NSTATS_READ",
     .type = OPT_STRING,
     .metavar = "FILE",
     .offset = OFF(read_file),
     .help = "read a pcap or pcapng file ('-' for stdin) instead of capturing, then exit"},
    {.name = "local-net",
     .env = "NSTATS_LOCAL_NET",
     .type = OPT_PREFIXES,
     .metavar = "CIDR",
     .offset = OFF(local_nets),
     .help = "addresses in CIDR are local (repeatable; the environment takes a list)"},
    {.name = "interval",
     .env = "NSTATS_INTERVAL",
     .type = OPT_DURATION,
     .metavar = "DURATION",
     .def = "10s",
     .min = 1,
     .max = DAY_MS,
     .offset = OFF(interval_ms),
     .help = "export every DURATION (capture time with -r)"},
    {.name = "max-flows",
     .env = "NSTATS_MAX_FLOWS",
     .type = OPT_UINT,
     .metavar = "N",
     .def = "16384",
     .min = 1,
     .max = 10000000,
     .offset = OFF(max_flows),
     .help = "keep at most N keys; new keys past that are counted in 'other' rows"},
    {.name = "flow-timeout",
     .env = "NSTATS_FLOW_TIMEOUT",
     .type = OPT_DURATION,
     .metavar = "DURATION",
     .def = "5m",
     .min = 1,
     .max = DAY_MS * 30,
     .offset = OFF(flow_timeout_ms),
     .help = "forget keys idle for DURATION"},
    {.name = "key",
     .env = "NSTATS_KEY",
     .type = OPT_KEY_FIELDS,
     .metavar = "FIELDS",
     .def = "local,remote,proto,port",
     .offset = OFF(key_fields),
     .help = "what a key holds: remote,proto always, plus local and/or port"},
    {.name = "ephemeral-min",
     .env = "NSTATS_EPHEMERAL_MIN",
     .type = OPT_UINT,
     .metavar = "PORT",
     .def = "32768",
     .min = 1,
     .max = 65535,
     .offset = OFF(ephemeral_min),
     .help = "ports from PORT up are client ports and never become keys"},
    {.name = "snaplen",
     .env = "NSTATS_SNAPLEN",
     .type = OPT_UINT,
     .metavar = "BYTES",
     .def = "128",
     .min = 64,
     .max = 262144,
     .offset = OFF(snaplen),
     .help = "bytes captured per packet (headers only; counts use the full length)"},
    {.name = "buffer-size",
     .env = "NSTATS_BUFFER_SIZE",
     .type = OPT_SIZE,
     .metavar = "SIZE",
     .def = "4MiB",
     .min = 65536,
     .max = 1ULL << 31,
     .offset = OFF(buffer_bytes),
     .help = "kernel capture ring size"},
    {.name = "host",
     .env = "NSTATS_HOST",
     .alt_env = "POD_NAME",
     .type = OPT_STRING,
     .metavar = "NAME",
     .check = check_identity,
     .offset = OFF(host),
     .help = "the host tag (default: $POD_NAME, else the hostname)"},
    {.name = "namespace",
     .env = "NSTATS_NAMESPACE",
     .alt_env = "POD_NAMESPACE",
     .type = OPT_STRING,
     .metavar = "NS",
     .check = check_identity,
     .offset = OFF(namespace_),
     .help = "the namespace tag: where nstats runs (default: $POD_NAMESPACE)"},
    {.name = "node",
     .env = "NSTATS_NODE",
     .alt_env = "NODE_NAME",
     .type = OPT_STRING,
     .metavar = "NAME",
     .check = check_identity,
     .offset = OFF(node),
     .help = "the node tag (default: $NODE_NAME)"},
    {.name = "workload",
     .env = "NSTATS_WORKLOAD",
     .type = OPT_STRING,
     .metavar = "NAME",
     .check = check_identity,
     .offset = OFF(workload),
     .help = "the workload tag: the app nstats counts for (e.g. its Deployment's name)"},
    {.name = "schema",
     .env = "NSTATS_SCHEMA",
     .type = OPT_ENUM,
     .metavar = "NAME",
     .def = "default",
     .choices = schema_names,
     .offset = OFF(schema),
     .help = "row schema: default, or legacy (the prototype's nstat measurement)"},
    {.name = "stdout",
     .env = "NSTATS_STDOUT",
     .type = OPT_BOOL,
     .def = "false",
     .offset = OFF(also_stdout),
     .help = "also write line protocol to stdout when InfluxDB is configured"},
    {.name = "listen",
     .env = "NSTATS_LISTEN",
     .type = OPT_STRING,
     .metavar = "ADDR:PORT",
     .check = check_listen,
     .offset = OFF(listen),
     .help = "serve /metrics, /healthz and / over HTTP (nstats' port is 9781: --listen :9781)"},
    {.name = "label-net",
     .env = "NSTATS_LABEL_NET",
     .type = OPT_LIST,
     .metavar = "CIDR=LABEL",
     .check = check_label_net,
     .offset = OFF(label_nets),
     .help = "name a network (repeatable): the row's net tag and a fallback name"},
    {.name = "label-file",
     .env = "NSTATS_LABEL_FILE",
     .type = OPT_STRING,
     .metavar = "FILE",
     .offset = OFF(label_file),
     .help = "read CIDR=LABEL lines from FILE"},
    {.name = "dns-snoop",
     .env = "NSTATS_DNS_SNOOP",
     .type = OPT_BOOL,
     .def = "true",
     .offset = OFF(dns_snoop),
     .help = "name addresses from DNS answers seen on the wire [true]"},
    {.name = "name-cache-size",
     .env = "NSTATS_NAME_CACHE_SIZE",
     .type = OPT_UINT,
     .metavar = "N",
     .def = "16384",
     .min = 16,
     .max = 4194304,
     .offset = OFF(name_cache_size),
     .help = "names kept at most"},
    {.name = "name-min-keep",
     .env = "NSTATS_NAME_MIN_KEEP",
     .type = OPT_DURATION,
     .metavar = "DURATION",
     .def = "1h",
     .min = 0,
     .max = DAY_MS * 30,
     .offset = OFF(name_min_keep_ms),
     .help = "keep a DNS-learned name at least this long, past its TTL"},
    {.name = "rdns",
     .env = "NSTATS_RDNS",
     .type = OPT_BOOL,
     .def = "false",
     .offset = OFF(rdns),
     .help = "name addresses by reverse DNS (PTR), asynchronously and rate-limited"},
    {.name = "dns-server",
     .env = "NSTATS_DNS_SERVER",
     .type = OPT_STRING,
     .metavar = "ADDR[:PORT]",
     .offset = OFF(dns_server),
     .help = "resolver for reverse DNS (default: /etc/resolv.conf)"},
    {.name = "rdns-rate",
     .env = "NSTATS_RDNS_RATE",
     .type = OPT_UINT,
     .metavar = "N",
     .def = "20",
     .min = 1,
     .max = 10000,
     .offset = OFF(rdns_rate),
     .help = "reverse DNS queries per second, at most"},
    {.name = "rdns-max-in-flight",
     .env = "NSTATS_RDNS_MAX_IN_FLIGHT",
     .type = OPT_UINT,
     .metavar = "N",
     .def = "32",
     .min = 1,
     .max = 4096,
     .offset = OFF(rdns_max_in_flight),
     .help = "reverse DNS queries outstanding, at most"},
    {.name = "k8s",
     .env = "NSTATS_K8S",
     .type = OPT_BOOL,
     .def = "false",
     .offset = OFF(k8s),
     .help = "name peers from the Kubernetes API (list and watch pods, services, nodes)"},
    {.name = "k8s-api",
     .env = "NSTATS_K8S_API",
     .type = OPT_STRING,
     .metavar = "URL",
     .offset = OFF(k8s_api),
     .help = "API server (default: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT)"},
    {.name = "k8s-service-host",
     .env = "KUBERNETES_SERVICE_HOST",
     .env_only = true,
     .type = OPT_STRING,
     .offset = OFF(k8s_service_host),
     .help = "the in-cluster API server's address (Kubernetes sets it in every pod)"},
    {.name = "k8s-service-port",
     .env = "KUBERNETES_SERVICE_PORT",
     .env_only = true,
     .type = OPT_STRING,
     .offset = OFF(k8s_service_port),
     .help = "the in-cluster API server's port (Kubernetes sets it in every pod)"},
    {.name = "k8s-token-file",
     .env = "NSTATS_K8S_TOKEN_FILE",
     .type = OPT_STRING,
     .metavar = "FILE",
     .def = "/var/run/secrets/kubernetes.io/serviceaccount/token",
     .offset = OFF(k8s_token_file),
     .help = "service-account token, re-read on every request"},
    {.name = "k8s-ca-file",
     .env = "NSTATS_K8S_CA_FILE",
     .type = OPT_STRING,
     .metavar = "FILE",
     .def = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
     .offset = OFF(k8s_ca_file),
     .help = "the API server's CA"},
    {.name = "k8s-namespace",
     .env = "NSTATS_K8S_NAMESPACE",
     .type = OPT_STRING,
     .metavar = "NS",
     .offset = OFF(k8s_namespace),
     .help = "watch pods, services, ReplicaSets and EndpointSlices of NS only"},
    {.name = "k8s-label-selector",
     .env = "NSTATS_K8S_LABEL_SELECTOR",
     .type = OPT_STRING,
     .metavar = "SELECTOR",
     .offset = OFF(k8s_label_selector),
     .help = "label selector for pods, services, ReplicaSets"},
    {.name = "k8s-field-selector",
     .env = "NSTATS_K8S_FIELD_SELECTOR",
     .type = OPT_STRING,
     .metavar = "SELECTOR",
     .offset = OFF(k8s_field_selector),
     .help = "field selector for pods (e.g. spec.nodeName=N)"},
    {.name = "conntrack",
     .env = "NSTATS_CONNTRACK",
     .type = OPT_BOOL,
     .def = "true",
     .offset = OFF(conntrack),
     .help = "count NAT'd packets for their true ends, from the kernel's conntrack [true]"},
    {.name = "zone",
     .env = "NSTATS_ZONE",
     .type = OPT_STRING,
     .metavar = "ZONE",
     .check = check_identity,
     .offset = OFF(zone),
     .help = "this node's zone, where nodes cannot be read (default: its node's label)"},
    {.name = "region",
     .env = "NSTATS_REGION",
     .type = OPT_STRING,
     .metavar = "REGION",
     .check = check_identity,
     .offset = OFF(region),
     .help = "this node's region (default: its node's label)"},
    {.name = "price",
     .env = "NSTATS_PRICE",
     .type = OPT_LIST,
     .metavar = "CLASS=USD",
     .check = check_price,
     .offset = OFF(price_specs),
     .help = "your USD per GB of a traffic class, or of CLASS:in or CLASS:out (repeatable)"},
    {.name = "influx-url",
     .env = "NSTATS_INFLUX_URL",
     .alt_env = "INFLUX",
     .type = OPT_STRING,
     .metavar = "URL",
     .check = check_http_url,
     .offset = OFF(influx_url),
     .help = "InfluxDB base URL (the prototype's INFLUX=host:port means http://)"},
    {.name = "influx-db",
     .env = "NSTATS_INFLUX_DB",
     .alt_env = "IDB",
     .type = OPT_STRING,
     .metavar = "DB",
     .offset = OFF(influx_db),
     .help = "v1 API: database (selects /write)"},
    {.name = "influx-rp",
     .env = "NSTATS_INFLUX_RP",
     .type = OPT_STRING,
     .metavar = "RP",
     .offset = OFF(influx_rp),
     .help = "v1 API: retention policy"},
    {.name = "influx-user",
     .env = "NSTATS_INFLUX_USER",
     .type = OPT_STRING,
     .metavar = "USER",
     .offset = OFF(influx_user),
     .help = "v1 API: user name"},
    {.name = "influx-password",
     .env = "NSTATS_INFLUX_PASSWORD",
     .type = OPT_STRING,
     .metavar = "PASSWORD",
     .secret = true,
     .offset = OFF(influx_password),
     .help = "v1 API: password"},
    {.name = "influx-password-file",
     .env = "NSTATS_INFLUX_PASSWORD_FILE",
     .type = OPT_STRING,
     .metavar = "FILE",
     .offset = OFF(influx_password_file),
     .help = "v1 API: read the password from FILE"},
    {.name = "influx-org",
     .env = "NSTATS_INFLUX_ORG",
     .type = OPT_STRING,
     .metavar = "ORG",
     .offset = OFF(influx_org),
     .help = "v2 API: organisation"},
    {.name = "influx-bucket",
     .env = "NSTATS_INFLUX_BUCKET",
     .type = OPT_STRING,
     .metavar = "BUCKET",
     .offset = OFF(influx_bucket),
     .help = "v2 API: bucket (selects /api/v2/write)"},
    {.name = "influx-token",
     .env = "NSTATS_INFLUX_TOKEN",
     .type = OPT_STRING,
     .metavar = "TOKEN",
     .secret = true,
     .offset = OFF(influx_token),
     .help = "v2 API: token"},
    {.name = "influx-token-file",
     .env = "NSTATS_INFLUX_TOKEN_FILE",
     .type = OPT_STRING,
     .metavar = "FILE",
     .offset = OFF(influx_token_file),
     .help = "v2 API: read the token from FILE"},
    {.name = "influx-ca-file",
     .env = "NSTATS_INFLUX_CA_FILE",
     .type = OPT_STRING,
     .metavar = "FILE",
     .offset = OFF(influx_ca_file),
     .help = "CA certificates for https:// URLs"},
    {.name = "influx-insecure",
     .env = "NSTATS_INFLUX_INSECURE",
     .type = OPT_BOOL,
     .def = "false",
     .offset = OFF(influx_insecure),
     .help = "do not verify the server's TLS certificate"},
    {.name = "influx-gzip",
     .env = "NSTATS_INFLUX_GZIP",
     .type = OPT_BOOL,
     .def = "true",
     .offset = OFF(influx_gzip),
     .help = "gzip request bodies (--influx-gzip=false to turn off) [true]"},
    {.name = "influx-batch-size",
     .env = "NSTATS_INFLUX_BATCH_SIZE",
     .type = OPT_SIZE,
     .metavar = "SIZE",
     .def = "1MiB",
     .min = 4096,
     .max = 1ULL << 30,
     .offset = OFF(influx_batch_bytes),
     .help = "line protocol per request, at most"},
    {.name = "influx-queue-size",
     .env = "NSTATS_INFLUX_QUEUE_SIZE",
     .type = OPT_SIZE,
     .metavar = "SIZE",
     .def = "64MiB",
     .min = 65536,
     .max = 1ULL << 34,
     .offset = OFF(influx_queue_bytes),
     .help = "pending batches, at most; the oldest are dropped (and counted) past it"},
    {.name = "influx-timeout",
     .env = "NSTATS_INFLUX_TIMEOUT",
     .type = OPT_DURATION,
     .metavar = "DURATION",
     .def = "10s",
     .min = 100,
     .max = 3600000,
     .offset = OFF(influx_timeout_ms),
     .help = "per-request timeout"},
    {.name = "influx-retry-max",
     .env = "NSTATS_INFLUX_RETRY_MAX",
     .type = OPT_DURATION,
     .metavar = "DURATION",
     .def = "60s",
     .min = 100,
     .max = 3600000,
     .offset = OFF(influx_retry_max_ms),
     .help = "longest wait between retries"},
    {.name = "remote-write-url",
     .env = "NSTATS_REMOTE_WRITE_URL",
     .type = OPT_STRING,
     .metavar = "URL",
     .check = check_remote_write_url,
     .offset = OFF(remote_write_url),
     .help = "push every /metrics series each interval by Prometheus remote write 1.0 to URL "
             "(e.g. http://prometheus:9090/api/v1/write)"},
    {.name = "remote-write-header",
     .env = "NSTATS_REMOTE_WRITE_HEADERS",
     .type = OPT_LIST,
     .metavar = "HEADER",
     .check = check_header,
     .secret = true,
     .list_sep = "\n",
     .offset = OFF(remote_write_headers),
     .help = "an HTTP header for remote write (repeatable; the variable takes one a line), "
             "e.g. 'X-Scope-OrgID: team-a'"},
    {.name = "remote-write-user",
     .env = "NSTATS_REMOTE_WRITE_USER",
     .type = OPT_STRING,
     .metavar = "USER",
     .offset = OFF(remote_write_user),
     .help = "remote write: basic auth user name"},
    {.name = "remote-write-password-file",
     .env = "NSTATS_REMOTE_WRITE_PASSWORD_FILE",
     .type = OPT_STRING,
     .metavar = "FILE",
     .offset = OFF(remote_write_password_file),
     .help = "remote write: read the basic auth password from FILE"},
    {.name = "remote-write-bearer-token-file",
     .env = "NSTATS_REMOTE_WRITE_BEARER_TOKEN_FILE",
     .type = OPT_STRING,
     .metavar = "FILE",
     .offset = OFF(remote_write_token_file),
     .help = "remote write: send 'Authorization: Bearer' with the token in FILE"},
    {.name = "remote-write-ca-file",
     .env = "NSTATS_REMOTE_WRITE_CA_FILE",
     .type = OPT_STRING,
     .metavar = "FILE",
     .offset = OFF(remote_write_ca_file),
     .help = "remote write: CA certificates for https:// URLs"},
    {.name = "remote-write-insecure",
     .env = "NSTATS_REMOTE_WRITE_INSECURE",
     .type = OPT_BOOL,
     .def = "false",
     .offset = OFF(remote_write_insecure),
     .help = "remote write: do not verify the server's TLS certificate"},
    {.name = "otlp-url",
     .env = "NSTATS_OTLP_URL",
     .type = OPT_STRING,
     .metavar = "URL",
     .check = check_otlp_url,
     .offset = OFF(otlp_url),
     .help = "push every /metrics series each interval as OTLP/HTTP metrics (counters as "
             "cumulative sums) to URL (e.g. http://collector:4318/v1/metrics)"},
    {.name = "otlp-header",
     .env = "NSTATS_OTLP_HEADERS",
     .type = OPT_LIST,
     .metavar = "HEADER",
     .check = check_header,
     .secret = true,
     .list_sep = "\n",
     .offset = OFF(otlp_headers),
     .help = "an HTTP header for OTLP (repeatable; the variable takes one a line), e.g. "
             "'Authorization: Basic ...'"},
    {.name = "otlp-ca-file",
     .env = "NSTATS_OTLP_CA_FILE",
     .type = OPT_STRING,
     .metavar = "FILE",
     .offset = OFF(otlp_ca_file),
     .help = "OTLP: CA certificates for https:// URLs"},
    {.name = "otlp-insecure",
     .env = "NSTATS_OTLP_INSECURE",
     .type = OPT_BOOL,
     .def = "false",
     .offset = OFF(otlp_insecure),
     .help = "OTLP: do not verify the server's TLS certificate"},
    {.name = "push-queue-size",
     .env = "NSTATS_PUSH_QUEUE_SIZE",
     .type = OPT_SIZE,
     .metavar = "SIZE",
     .def = "64MiB",
     .min = 65536,
     .max = 1ULL << 34,
     .offset = OFF(push_queue_bytes),
     .help = "remote write and OTLP: pending requests per sink, at most; the oldest are "
             "dropped (and counted) past it"},
    {.name = "push-timeout",
     .env = "NSTATS_PUSH_TIMEOUT",
     .type = OPT_DURATION,
     .metavar = "DURATION",
     .def = "10s",
     .min = 100,
     .max = 3600000,
     .offset = OFF(push_timeout_ms),
     .help = "remote write and OTLP: per-request timeout"},
    {.name = "push-retry-max",
     .env = "NSTATS_PUSH_RETRY_MAX",
     .type = OPT_DURATION,
     .metavar = "DURATION",
     .def = "60s",
     .min = 100,
     .max = 3600000,
     .offset = OFF(push_retry_max_ms),
     .help = "remote write and OTLP: longest wait between retries"},
    {.name = "spool-dir",
     .env = "NSTATS_SPOOL_DIR",
     .type = OPT_STRING,
     .metavar = "DIR",
     .offset = OFF(spool_dir),
     .help = "keep pending batches on disk, and send them after a restart (InfluxDB in DIR, "
             "remote write in DIR/remote-write, OTLP in DIR/otlp)"},
    {.name = "shutdown-timeout",
     .env = "NSTATS_SHUTDOWN_TIMEOUT",
     .type = OPT_DURATION,
     .metavar = "DURATION",
     .def = "10s",
     .min = 0,
     .max = 3600000,
     .offset = OFF(shutdown_timeout_ms),
     .help = "on exit, keep delivering pending batches this long"},
    {.name = "verbose",
     .short_name = 'v',
     .env = "NSTATS_VERBOSE",
     .type = OPT_BOOL,
     .def = "false",
     .offset = OFF(verbose),
     .help = "log debug messages"},
    {.name = "quiet",
     .short_name = 'q',
     .env = "NSTATS_QUIET",
     .type = OPT_BOOL,
     .def = "false",
     .offset = OFF(quiet),
     .help = "log warnings and errors only"},
    {.name = "probe",
     .type = OPT_STRING,
     .metavar = "URL",
     .offset = OFF(probe),
     .help = "GET URL (e.g. http://127.0.0.1:9781/healthz), exit 0 on a 2xx answer, else 1"},
    {.name = "check-config",
     .type = OPT_ACTION,
     .offset = OFF(check_config),
     .help = "print the effective configuration and exit"},
    {.name = "help",
     .short_name = 'h',
     .type = OPT_ACTION,
     .offset = OFF(help),
     .help = "print this help and exit"},
    {.name = "version",
     .short_name = 'V',
     .type = OPT_ACTION,
     .offset = OFF(version),
     .help = "print the version and exit"},
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

/* Stores the index of value in o->choices. */
static int parse_choice(const struct option_def *o, const char *value, int *out, char *errbuf,
                        size_t errlen)
{
    size_t n = 0, used;

    for (; o->choices[n] != NULL; n++) {
        if (strcmp(value, o->choices[n]) == 0) {
            *out = (int)n;
            return 0;
        }
    }
    /* "'x' is not a, b or c" */
    used = (size_t)snprintf(errbuf, errlen, "'%s' is not ", value);
    for (size_t i = 0; i < n && used < errlen; i++)
        used += (size_t)snprintf(errbuf + used, errlen - used, "%s%s",
                                 i == 0       ? ""
                                 : i + 1 == n ? " or "
                                              : ", ",
                                 o->choices[i]);
    return -1;
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
        if (o->check != NULL && o->check(value, errbuf, errlen) == -1)
            return -1;
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
    case OPT_ENUM:
        return parse_choice(o, value, field(cfg, o), errbuf, errlen);
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
        const char *sep = o->list_sep != NULL ? o->list_sep : ", \t";
        char *copy = xstrdup(value), *save = NULL;
        int rc = 0;

        for (char *tok = strtok_r(copy, sep, &save); tok && rc == 0;
             tok = strtok_r(NULL, sep, &save)) {
            if (l->n == CONFIG_MAX_LIST) {
                snprintf(errbuf, errlen, "more than %d values", CONFIG_MAX_LIST);
                rc = -1;
            } else if (o->check != NULL && o->check(tok, errbuf, errlen) == -1) {
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
        const char *names[2] = {options[i].env, options[i].alt_env};

        /* The first name wins over the alternative, so check it last. */
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
        if (!options[i].env_only && strlen(options[i].name) == len &&
            strncmp(options[i].name, name, len) == 0) {
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

static size_t option_index(size_t offset)
{
    size_t i = 0;

    while (i < N_OPTIONS - 1 && options[i].offset != offset)
        i++;
    return i;
}

/* Whether spool_prepare could use dir, without creating it: it exists and is writable, or its
 * parent is. Same message as spool_prepare. */
static int check_spool_dir(const char *dir, char *errbuf, size_t errlen)
{
    char parent[4096];
    const char *slash;
    struct stat st;

    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
        } else if (access(dir, W_OK | X_OK) == 0) {
            return 0;
        }
    } else if (errno == ENOENT) {
        slash = strrchr(dir, '/');
        if (slash == NULL)
            snprintf(parent, sizeof(parent), ".");
        else
            snprintf(parent, sizeof(parent), "%.*s", slash == dir ? 1 : (int)(slash - dir), dir);
        if (access(parent, W_OK | X_OK) == 0)
            return 0;
    }
    snprintf(errbuf, errlen, "spool directory %s: %s", dir, strerror(errno));
    return -1;
}

/* The InfluxDB settings as influx_sink_new takes them, with its messages. */
static int check_influx(const struct config *cfg, char *errbuf, size_t errlen)
{
    struct influx_config ic;

    if (cfg->influx_url == NULL) {
        if (cfg->influx_db != NULL || cfg->influx_bucket != NULL) {
            snprintf(errbuf, errlen, "an InfluxDB database or bucket needs --influx-url");
            return -1;
        }
        return 0;
    }
    config_influx(cfg, &ic);
    if (influx_config_check(&ic, errbuf, errlen) == -1)
        return -1;
    /* libcurl would only fail each request, and every request would be retried forever. */
    if (cfg->influx_ca_file != NULL && access(cfg->influx_ca_file, R_OK) == -1) {
        snprintf(errbuf, errlen, "--influx-ca-file: cannot read %s: %s", cfg->influx_ca_file,
                 strerror(errno));
        return -1;
    }
    if (cfg->spool_dir != NULL)
        return check_spool_dir(cfg->spool_dir, errbuf, errlen);
    return 0;
}

/* A CA file libcurl could not read would only fail each request, retried forever. */
static int check_readable(const char *path, const char *flag, char *errbuf, size_t errlen)
{
    if (path != NULL && access(path, R_OK) == -1) {
        snprintf(errbuf, errlen, "%s: cannot read %s: %s", flag, path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Remote write and OTLP: what would make every request fail. */
static int check_pushes(const struct config *cfg, char *errbuf, size_t errlen)
{
    if (cfg->remote_write_url == NULL &&
        (cfg->remote_write_headers.n > 0 || cfg->remote_write_user != NULL ||
         cfg->remote_write_password_file != NULL || cfg->remote_write_token_file != NULL ||
         cfg->remote_write_ca_file != NULL || cfg->remote_write_insecure)) {
        snprintf(errbuf, errlen, "remote write settings need --remote-write-url");
        return -1;
    }
    if (cfg->otlp_url == NULL &&
        (cfg->otlp_headers.n > 0 || cfg->otlp_ca_file != NULL || cfg->otlp_insecure)) {
        snprintf(errbuf, errlen, "OTLP settings need --otlp-url");
        return -1;
    }
    if (cfg->remote_write_password_file != NULL && cfg->remote_write_user == NULL) {
        snprintf(errbuf, errlen, "--remote-write-password-file needs --remote-write-user");
        return -1;
    }
    if (cfg->remote_write_user != NULL && cfg->remote_write_token != NULL) {
        snprintf(errbuf, errlen,
                 "remote write takes a user (basic auth) or a bearer token, not both");
        return -1;
    }
    if (check_readable(cfg->remote_write_ca_file, "--remote-write-ca-file", errbuf, errlen) ||
        check_readable(cfg->otlp_ca_file, "--otlp-ca-file", errbuf, errlen))
        return -1;
    if (cfg->spool_dir == NULL || cfg->influx_url != NULL)
        return 0;
    /* check_influx did not look at it. */
    if (cfg->remote_write_url != NULL || cfg->otlp_url != NULL)
        return check_spool_dir(cfg->spool_dir, errbuf, errlen);
    return 0;
}

/* Fills out from --label-net and --label-file: one table and its cap. Returns 0, or -1. */
static int load_labels(const struct config *cfg, struct netlabels *out, char *errbuf, size_t errlen)
{
    char reason[512];

    for (size_t i = 0; i < cfg->label_nets.n; i++) {
        if (netlabels_add(out, cfg->label_nets.items[i], reason, sizeof(reason)) == -1) {
            snprintf(errbuf, errlen, "bad value for --label-net: %s", reason);
            return -1;
        }
    }
    if (cfg->label_file != NULL &&
        netlabels_load_file(out, cfg->label_file, reason, sizeof(reason)) == -1) {
        snprintf(errbuf, errlen, "--label-file: %s", reason);
        return -1;
    }
    return 0;
}

/* A price for a class no row can have is a typo: classes are the built-in ones and the
 * --label-net labels. */
static int check_price_classes(const struct config *cfg, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < cfg->prices->n; i++) {
        const char *cls = cfg->prices->p[i].class_;
        bool known = traffic_class_parse(cls) != TC_CLASSES;

        for (size_t j = 0; j < cfg->labels->n && !known; j++)
            known = strcmp(cfg->labels->labels[j], cls) == 0;
        if (!known) {
            snprintf(errbuf, errlen,
                     "--price: no row can have class %s: the classes are same-node, same-zone, "
                     "cross-zone, cross-region, mixed, unknown, internet, private and the "
                     "--label-net labels",
                     cls);
            return -1;
        }
    }
    return 0;
}

/* The in-cluster API server, as every pod's environment names it. */
static void resolve_k8s_api(struct config *cfg)
{
    char url[512];

    if (cfg->k8s_api != NULL ||
        k8s_incluster_url(cfg->k8s_service_host, cfg->k8s_service_port, url, sizeof(url)) == -1)
        return;
    cfg->k8s_api = xstrdup(url);
    cfg->sources[option_index(OFF(k8s_api))] = "KUBERNETES_SERVICE_HOST/PORT";
}

static void resolve_host(struct config *cfg)
{
    char name[256];

    if (cfg->host != NULL)
        return;
    if (gethostname(name, sizeof(name)) == -1)
        snprintf(name, sizeof(name), "unknown");
    name[sizeof(name) - 1] = '\0';
    cfg->host = xstrdup(name);
}

/* Every check that looks at more than one value, or at the host, in one place: a run and
 * --check-config both pass through here and nowhere else. */
static int config_check(struct config *cfg, const struct config_host *host, char *errbuf,
                        size_t errlen)
{
    char reason[512];

    if (cfg->interface != NULL && cfg->read_file != NULL) {
        snprintf(errbuf, errlen, "--interface and --read cannot be used together");
        return -1;
    }
    if (cfg->verbose && cfg->quiet) {
        snprintf(errbuf, errlen, "--verbose and --quiet cannot be used together");
        return -1;
    }
    if (read_secret(&cfg->influx_password, cfg->influx_password_file, "--influx-password-file",
                    errbuf, errlen) == -1 ||
        read_secret(&cfg->influx_token, cfg->influx_token_file, "--influx-token-file", errbuf,
                    errlen) == -1 ||
        read_secret(&cfg->remote_write_password, cfg->remote_write_password_file,
                    "--remote-write-password-file", errbuf, errlen) == -1 ||
        read_secret(&cfg->remote_write_token, cfg->remote_write_token_file,
                    "--remote-write-bearer-token-file", errbuf, errlen) == -1)
        return -1;
    /* A health check GETs a URL; what the daemon would run with is not its business (a
     * HEALTHCHECK runs with the daemon's environment). */
    if (cfg->probe != NULL)
        return 0;
    if (check_influx(cfg, errbuf, errlen) == -1 || check_pushes(cfg, errbuf, errlen) == -1)
        return -1;
    cfg->labels = xcalloc(1, sizeof(*cfg->labels));
    netlabels_init(cfg->labels);
    if (load_labels(cfg, cfg->labels, errbuf, errlen) == -1)
        return -1;
    cfg->prices = xcalloc(1, sizeof(*cfg->prices));
    for (size_t i = 0; i < cfg->price_specs.n; i++) {
        char why[256];

        if (prices_add(cfg->prices, cfg->price_specs.items[i], why, sizeof(why)) == -1) {
            snprintf(errbuf, errlen, "bad value for --price: %s", why);
            return -1;
        }
    }
    if (check_price_classes(cfg, errbuf, errlen) == -1)
        return -1;
    /* Without the API nothing has a zone to compare with. */
    if (!cfg->k8s && (cfg->zone != NULL || cfg->region != NULL)) {
        snprintf(errbuf, errlen, "--zone and --region need --k8s");
        return -1;
    }
    resolve_k8s_api(cfg);
    if (cfg->k8s && cfg->k8s_api == NULL) {
        snprintf(errbuf, errlen,
                 "--k8s: no --k8s-api and no KUBERNETES_SERVICE_HOST/PORT in the environment");
        return -1;
    }
    if (cfg->rdns && cfg->dns_server != NULL &&
        rdns_check_server(cfg->dns_server, errbuf, errlen) == -1)
        return -1;
    resolve_host(cfg);
    if (cfg->read_file == NULL) {
        if (cfg->interface != NULL) {
            cfg->ifname = xstrdup(cfg->interface);
        } else if (host->default_route(reason, sizeof(reason), errbuf, errlen) == 0) {
            /* Still the default: the row shows the interface it stands for. */
            cfg->ifname = xstrdup(reason);
        } else {
            return -1;
        }
    }
    return 0;
}

int config_parse_with(struct config *cfg, int argc, char **argv, const struct config_host *host,
                      char *errbuf, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    if (apply_defaults(cfg, errbuf, errlen) == -1 || apply_env(cfg, errbuf, errlen) == -1 ||
        apply_args(cfg, argc, argv, errbuf, errlen) == -1)
        return -1;
    if (cfg->help || cfg->version)
        return 0;
    return config_check(cfg, host, errbuf, errlen);
}

int config_parse(struct config *cfg, int argc, char **argv, char *errbuf, size_t errlen)
{
    static const struct config_host real = {.default_route = iface_default_route};

    return config_parse_with(cfg, argc, argv, &real, errbuf, errlen);
}

static void free_secret(char **s)
{
    if (*s != NULL)
        explicit_bzero(*s, strlen(*s));
    free(*s);
    *s = NULL;
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
    free_secret(&cfg->remote_write_password);
    free_secret(&cfg->remote_write_token);
    free(cfg->ifname);
    cfg->ifname = NULL;
    free(cfg->labels);
    cfg->labels = NULL;
    free(cfg->prices);
    cfg->prices = NULL;
}

void config_usage(FILE *out)
{
    fprintf(out, "usage: nstats [options]\n"
                 "Counts every packet on an interface by (local, remote, protocol, service port)\n"
                 "and writes InfluxDB line protocol to stdout every interval.\n\noptions:\n");
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct option_def *o = &options[i];
        const char *mv = o->metavar ? o->metavar : "";
        char flag[64];

        if (o->env_only)
            continue;
        if (o->short_name)
            snprintf(flag, sizeof(flag), "-%c, --%s%s%s", o->short_name, o->name, *mv ? " " : "",
                     mv);
        else
            snprintf(flag, sizeof(flag), "    --%s%s%s", o->name, *mv ? " " : "", mv);
        fprintf(out, "  %-30s %s", flag, o->help);
        if (o->def != NULL && o->type != OPT_BOOL)
            fprintf(out, " [%s]", o->def);
        if (o->env != NULL)
            fprintf(out, "\n  %-30s env %s%s%s", "", o->env, o->alt_env ? ", " : "",
                    o->alt_env ? o->alt_env : "");
        fputc('\n', out);
    }
    fprintf(out, "\nenvironment only:\n");
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (options[i].env_only)
            fprintf(out, "  %-30s %s\n", options[i].env, options[i].help);
    fprintf(out, "\nFlags win over environment variables. Durations: 500ms, 10s, 5m, 1h.\n"
                 "Sizes: 65536, 64KiB, 4MiB. Documentation: docs/METRICS.md, README.md.\n");
}

static void print_value(const struct config *cfg, const struct option_def *o, FILE *out)
{
    const void *p = cfield(cfg, o);
    char text[512];

    switch (o->type) {
    case OPT_STRING: {
        const char *s = *(char *const *)p;

        /* The interface row shows the one a run captures on. */
        if (s == NULL && o->offset == OFF(interface))
            s = cfg->ifname;
        if (s == NULL) {
            fputs("(unset)", out);
        } else if (o->secret) {
            fputs("(redacted)", out);
        } else {
            url_redact(s, "(redacted)@", text, sizeof(text));
            fputs(text, out);
        }
        break;
    }
    case OPT_UINT:
        fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)p);
        break;
    case OPT_SIZE:
        fputs(parse_format_size_bytes(*(const uint64_t *)p, text, sizeof(text)), out);
        break;
    case OPT_DURATION:
        fputs(parse_format_duration_ms(*(const uint64_t *)p, text, sizeof(text)), out);
        break;
    case OPT_BOOL:
    case OPT_ACTION:
        fputs(*(const bool *)p ? "true" : "false", out);
        break;
    case OPT_ENUM:
        fputs(o->choices[*(const int *)p], out);
        break;
    case OPT_PREFIXES:
        if (cfg->n_local_nets == 0)
            fputs("(none)", out);
        for (size_t i = 0; i < cfg->n_local_nets; i++)
            fprintf(out, "%s%s", i ? "," : "",
                    netprefix_format(&cfg->local_nets[i], text, sizeof(text)));
        break;
    case OPT_LIST: {
        const struct config_list *l = p;

        if (l->n == 0)
            fputs("(none)", out);
        for (size_t i = 0; i < l->n; i++) {
            const char *colon = strchr(l->items[i], ':');

            if (o->secret && colon != NULL)
                fprintf(out, "%s%.*s: (redacted)", i ? "," : "", (int)(colon - l->items[i]),
                        l->items[i]);
            else
                fprintf(out, "%s%s", i ? "," : "", l->items[i]);
        }
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
