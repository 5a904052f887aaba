/* Configuration tests: precedence of flags over environment over defaults, typed values, the
 * cross-field checks a run and --check-config share, and what --check-config prints. */
#include <stdlib.h>
#include <unistd.h>

#include "base/parse.h"
#include "base/url.h"
#include "config/config.h"
#include "flow/flowkey.h"
#include "test.h"

static char err[512];

/* The host's default route, as the tests want it: eth9, or none. */
static int route_eth9(char *name, size_t len, char *errbuf, size_t errlen)
{
    (void)errbuf;
    (void)errlen;
    snprintf(name, len, "eth9");
    return 0;
}

static int route_none(char *name, size_t len, char *errbuf, size_t errlen)
{
    (void)name;
    (void)len;
    snprintf(errbuf, errlen, "no default route; name an interface with -i or IFACE");
    return -1;
}

static const struct config_host host_eth9 = {.default_route = route_eth9};
static const struct config_host host_none = {.default_route = route_none};

static int parse_on(struct config *cfg, char **argv, const struct config_host *host)
{
    int argc = 0;

    while (argv[argc] != NULL)
        argc++;
    err[0] = '\0';
    return config_parse_with(cfg, argc, argv, host, err, sizeof(err));
}

static int parse(struct config *cfg, char **argv)
{
    return parse_on(cfg, argv, &host_eth9);
}

/* The --check-config text of cfg; the caller frees it. */
static char *printed(const struct config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    config_print(cfg, f);
    fclose(f);
    return text;
}

static void clear_env(void)
{
    static const char *vars[] = {"NSTATS_INTERFACE",
                                 "IFACE",
                                 "NSTATS_INTERVAL",
                                 "NSTATS_LOCAL_NET",
                                 "INFLUX",
                                 "NSTATS_INFLUX_URL",
                                 "IDB",
                                 "NSTATS_MAX_FLOWS",
                                 "NSTATS_KEY",
                                 "NSTATS_SCHEMA",
                                 "NSTATS_LABEL_NET",
                                 "NSTATS_LABEL_FILE",
                                 "NSTATS_HOST",
                                 "NSTATS_NAMESPACE",
                                 "NSTATS_NODE",
                                 "POD_NAME",
                                 "POD_NAMESPACE",
                                 "NODE_NAME",
                                 "NSTATS_K8S",
                                 "NSTATS_K8S_API",
                                 "KUBERNETES_SERVICE_HOST",
                                 "KUBERNETES_SERVICE_PORT",
                                 "NSTATS_LISTEN",
                                 "NSTATS_RDNS",
                                 "NSTATS_DNS_SERVER",
                                 "NSTATS_INFLUX_DB",
                                 "NSTATS_INFLUX_BUCKET",
                                 "NSTATS_VERBOSE",
                                 "NSTATS_QUIET"};

    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
}

static void test_defaults(void)
{
    struct config c;
    char *argv[] = {"nstats", NULL};

    clear_env();
    CHECK_EQ(parse(&c, argv), 0);
    CHECK(c.interface == NULL);
    CHECK_EQ(c.interval_ms, 10000);
    CHECK_EQ(c.max_flows, 16384);
    CHECK_EQ(c.snaplen, 128);
    CHECK_EQ(c.key_fields, FLOW_KEY_ALL);
    CHECK_STR(c.sources[0], "default");
    config_free(&c);
}

static void test_precedence(void)
{
    struct config c;
    char *no_flags[] = {"nstats", NULL};
    char *flags[] = {"nstats", "-i", "veth9", "--interval=2s", "--local-net", "10.0.0.0/8", NULL};

    clear_env();
    setenv("IFACE", "legacy0", 1);
    CHECK_EQ(parse(&c, no_flags), 0);
    CHECK_STR(c.interface, "legacy0");
    CHECK_STR(c.sources[0], "IFACE");
    config_free(&c);

    setenv("NSTATS_INTERFACE", "new0", 1);
    setenv("NSTATS_INTERVAL", "30s", 1);
    setenv("NSTATS_LOCAL_NET", "198.18.0.0/15, 2001:db8::/32", 1);
    CHECK_EQ(parse(&c, no_flags), 0);
    CHECK_STR(c.interface, "new0");
    CHECK_EQ(c.interval_ms, 30000);
    CHECK_EQ(c.n_local_nets, 2);
    config_free(&c);

    CHECK_EQ(parse(&c, flags), 0);
    CHECK_STR(c.interface, "veth9");
    CHECK_STR(c.sources[0], "flag");
    CHECK_EQ(c.interval_ms, 2000);
    CHECK_EQ(c.n_local_nets, 1); /* the flag replaced the environment's list */
    config_free(&c);
    clear_env();
}

static void test_prototype_variables(void)
{
    struct config c;
    char *argv[] = {"nstats", NULL};

    clear_env();
    setenv("INFLUX", "influxdb:8086", 1);
    setenv("IDB", "net", 1);
    CHECK_EQ(parse(&c, argv), 0);
    CHECK_STR(c.influx_url, "http://influxdb:8086");
    CHECK_STR(c.influx_db, "net");
    config_free(&c);
    setenv("NSTATS_INFLUX_URL", "https://x:1", 1);
    CHECK_EQ(parse(&c, argv), 0);
    CHECK_STR(c.influx_url, "https://x:1");
    config_free(&c);
    clear_env();
}

static void test_errors_name_the_option(void)
{
    struct config c;
    char *bad_value[] = {"nstats", "--interval", "soon", NULL};
    char *unknown[] = {"nstats", "--frobnicate", NULL};
    char *missing[] = {"nstats", "--max-flows", NULL};
    char *range[] = {"nstats", "--max-flows", "0", NULL};
    char *both[] = {"nstats", "-i", "eth0", "-r", "x.pcap", NULL};
    char *positional[] = {"nstats", "extra", NULL};
    char *bad_net[] = {"nstats", "--local-net", "10.0.0.1/8", NULL};
    char *bad_key[] = {"nstats", "--key", "local,colour", NULL};
    char *short_joined[] = {"nstats", "-ieth1", NULL};
    char *flag_value[] = {"nstats", "--help=yes", NULL};

    clear_env();
    CHECK_EQ(parse(&c, bad_value), -1);
    CHECK(strstr(err, "--interval") != NULL && strstr(err, "soon") != NULL);
    config_free(&c);
    CHECK_EQ(parse(&c, unknown), -1);
    CHECK(strstr(err, "--frobnicate") != NULL);
    config_free(&c);
    CHECK_EQ(parse(&c, missing), -1);
    CHECK(strstr(err, "--max-flows needs a value") != NULL);
    config_free(&c);
    CHECK_EQ(parse(&c, range), -1);
    CHECK(strstr(err, "out of range") != NULL);
    config_free(&c);
    CHECK_EQ(parse(&c, both), -1);
    config_free(&c);
    CHECK_EQ(parse(&c, positional), -1);
    CHECK(strstr(err, "extra") != NULL);
    config_free(&c);
    CHECK_EQ(parse(&c, bad_net), -1);
    CHECK(strstr(err, "--local-net") != NULL);
    config_free(&c);
    CHECK_EQ(parse(&c, bad_key), -1);
    CHECK(strstr(err, "colour") != NULL);
    config_free(&c);
    CHECK_EQ(parse(&c, short_joined), 0);
    CHECK_STR(c.interface, "eth1");
    config_free(&c);
    CHECK_EQ(parse(&c, flag_value), -1);
    config_free(&c);

    setenv("NSTATS_MAX_FLOWS", "lots", 1);
    {
        char *plain[] = {"nstats", NULL};

        CHECK_EQ(parse(&c, plain), -1);
        CHECK(strstr(err, "NSTATS_MAX_FLOWS") != NULL);
        config_free(&c);
    }
    clear_env();
}

static void test_key_fields_and_print(void)
{
    struct config c;
    char *argv[] = {"nstats", "--key", "remote,proto,port", "--local-net", "2001:db8::/32", NULL};
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    clear_env();
    CHECK_EQ(parse(&c, argv), 0);
    CHECK_EQ(c.key_fields, FLOW_KEY_PORT);
    f = open_memstream(&text, &len);
    config_print(&c, f);
    fclose(f);
    CHECK(strstr(text, "key                  = remote,proto,port  (flag)") != NULL);
    CHECK(strstr(text, "local-net            = 2001:db8::/32  (flag)") != NULL);
    CHECK(strstr(text, "interval             = 10s  (default)") != NULL);
    free(text);
    f = open_memstream(&text, &len);
    config_usage(f);
    fclose(f);
    CHECK(strstr(text, "--max-flows N") != NULL);
    CHECK(strstr(text, "env NSTATS_INTERFACE, IFACE") != NULL);
    free(text);
    config_free(&c);
}

static void test_enum(void)
{
    struct config c;
    char *legacy[] = {"nstats", "--schema", "legacy", NULL};
    char *bad[] = {"nstats", "--schema=legacyy", NULL};
    char *plain[] = {"nstats", NULL};
    char *text;

    clear_env();
    CHECK_EQ(parse(&c, plain), 0);
    CHECK_EQ(c.schema, SCHEMA_DEFAULT);
    config_free(&c);
    CHECK_EQ(parse(&c, legacy), 0);
    CHECK_EQ(c.schema, SCHEMA_LEGACY);
    text = printed(&c);
    CHECK(strstr(text, "schema               = legacy  (flag)") != NULL);
    free(text);
    config_free(&c);
    CHECK_EQ(parse(&c, bad), -1);
    CHECK_STR(err, "bad value for --schema: 'legacyy' is not default or legacy");
    config_free(&c);
    setenv("NSTATS_SCHEMA", "Legacy", 1);
    CHECK_EQ(parse(&c, plain), -1);
    CHECK_STR(err, "bad value for NSTATS_SCHEMA: 'Legacy' is not default or legacy");
    config_free(&c);
    clear_env();
}

/* Prices: directions, a class from --label-net, typos refused; zones need --k8s. */
static void test_prices_and_zones(void)
{
    struct config c;
    char *good[] = {
        "nstats",  "--price",   "cross-zone=0.01", "--price",        "internet:out=0.09",
        "--price", "vpc=0.005", "--label-net",     "10.0.0.0/8=vpc", NULL};
    char *typo[] = {"nstats", "--price", "crosszone=0.01", NULL};
    char *unlabelled[] = {"nstats", "--price", "vpc=0.005", NULL};
    char *negative[] = {"nstats", "--price", "internet=-1", NULL};
    char *zone[] = {"nstats", "--zone", "a", NULL};
    char *no_conntrack[] = {"nstats", "--conntrack=false", NULL};

    clear_env();
    CHECK_EQ(parse(&c, good), 0);
    CHECK(c.prices != NULL && c.prices->n == 3);
    CHECK(prices_get(c.prices, "internet", true) == 0.09);
    CHECK(c.conntrack);
    config_free(&c);
    CHECK_EQ(parse(&c, typo), -1);
    CHECK(strstr(err, "--price: no row can have class crosszone") == err);
    config_free(&c);
    CHECK_EQ(parse(&c, unlabelled), -1);
    config_free(&c);
    CHECK_EQ(parse(&c, negative), -1);
    CHECK(strstr(err, "bad value for --price: ") == err);
    config_free(&c);
    CHECK_EQ(parse(&c, zone), -1);
    CHECK_STR(err, "--zone and --region need --k8s");
    config_free(&c);
    CHECK_EQ(parse(&c, no_conntrack), 0);
    CHECK(!c.conntrack);
    config_free(&c);
}

static void test_label_net(void)
{
    struct config c;
    struct netaddr a;
    char *good[] = {"nstats",      "--label-net",       "10.0.0.0/8=cluster",
                    "--label-net", "2001:db8::/32=vpc", NULL};
    char *no_eq[] = {"nstats", "--label-net", "10.0.0.0/8", NULL};
    char *bad_cidr[] = {"nstats", "--label-net", "10.0.0.1/8=x", NULL};
    char *no_file[] = {"nstats", "--label-file", "/nonexistent/labels", NULL};
    char *plain[] = {"nstats", NULL};
    char path[] = "/tmp/nstats-test-labels-XXXXXX";
    int fd;

    clear_env();
    CHECK_EQ(parse(&c, good), 0);
    CHECK_EQ(c.label_nets.n, 2);
    CHECK(c.labels != NULL);
    CHECK_EQ(c.labels->n, 2);
    netaddr_parse("10.1.2.3", &a);
    CHECK_STR(netlabels_find(c.labels, &a), "cluster");
    config_free(&c);

    CHECK_EQ(parse(&c, no_eq), -1);
    CHECK_STR(err, "bad value for --label-net: '10.0.0.0/8' is not CIDR=LABEL");
    config_free(&c);
    CHECK_EQ(parse(&c, bad_cidr), -1);
    CHECK(strstr(err, "bad value for --label-net: ") == err && strstr(err, "10.0.0.1/8") != NULL);
    config_free(&c);
    setenv("NSTATS_LABEL_NET", "10.0.0.0/8=a, bogus", 1);
    CHECK_EQ(parse(&c, plain), -1);
    CHECK_STR(err, "bad value for NSTATS_LABEL_NET: 'bogus' is not CIDR=LABEL");
    config_free(&c);
    unsetenv("NSTATS_LABEL_NET");

    CHECK_EQ(parse(&c, no_file), -1);
    CHECK(strstr(err, "--label-file: /nonexistent/labels") == err);
    config_free(&c);
    fd = mkstemp(path);
    CHECK(fd != -1);
    CHECK(write(fd, "# nets\n10.0.0.0/8=ok\n300.0.0.0/8=bad\n", 37) == 37);
    close(fd);
    {
        char *bad_file[] = {"nstats", "--label-file", path, NULL};

        CHECK_EQ(parse(&c, bad_file), -1);
        CHECK(strstr(err, "--label-file: ") == err && strstr(err, ":3: ") != NULL);
        config_free(&c);
    }
    unlink(path);
    clear_env();
}

static void test_identity(void)
{
    struct config c;
    char *plain[] = {"nstats", NULL};
    char *flags[] = {"nstats", "--host", "h1", "--namespace", "ns1", "--node", "n1", NULL};
    char hostname[256] = "";
    char *text;

    clear_env();
    CHECK_EQ(parse(&c, plain), 0);
    gethostname(hostname, sizeof(hostname));
    CHECK_STR(c.host, hostname);
    CHECK(c.namespace_ == NULL && c.node == NULL);
    config_free(&c);

    setenv("POD_NAME", "web-1", 1);
    setenv("POD_NAMESPACE", "shop", 1);
    setenv("NODE_NAME", "node-3", 1);
    CHECK_EQ(parse(&c, plain), 0);
    CHECK_STR(c.host, "web-1");
    CHECK_STR(c.namespace_, "shop");
    CHECK_STR(c.node, "node-3");
    text = printed(&c);
    CHECK(strstr(text, "host                 = web-1  (POD_NAME)") != NULL);
    CHECK(strstr(text, "namespace            = shop  (POD_NAMESPACE)") != NULL);
    CHECK(strstr(text, "node                 = node-3  (NODE_NAME)") != NULL);
    free(text);
    config_free(&c);

    setenv("NSTATS_HOST", "chosen", 1);
    CHECK_EQ(parse(&c, plain), 0);
    CHECK_STR(c.host, "chosen");
    config_free(&c);
    CHECK_EQ(parse(&c, flags), 0);
    CHECK_STR(c.host, "h1");
    CHECK_STR(c.namespace_, "ns1");
    CHECK_STR(c.node, "n1");
    config_free(&c);
    clear_env();
}

static void test_k8s_environment(void)
{
    struct config c;
    char *k8s[] = {"nstats", "--k8s", NULL};
    char *api[] = {"nstats", "--k8s", "--k8s-api", "http://127.0.0.1:8001", NULL};
    char *no_flag[] = {"nstats", "--k8s-service-host", "x", NULL};
    char *text;

    clear_env();
    CHECK_EQ(parse(&c, k8s), -1);
    CHECK_STR(err, "--k8s: no --k8s-api and no KUBERNETES_SERVICE_HOST/PORT in the environment");
    config_free(&c);
    CHECK_EQ(parse(&c, no_flag), -1);
    CHECK(strstr(err, "unknown option '--k8s-service-host'") != NULL);
    config_free(&c);

    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    CHECK_EQ(parse(&c, k8s), 0);
    CHECK_STR(c.k8s_api, "https://10.96.0.1:443");
    text = printed(&c);
    CHECK(strstr(text, "k8s-api              = https://10.96.0.1:443  "
                       "(KUBERNETES_SERVICE_HOST/PORT)") != NULL);
    CHECK(strstr(text, "k8s-service-host     = 10.96.0.1  (KUBERNETES_SERVICE_HOST)") != NULL);
    free(text);
    config_free(&c);
    CHECK_EQ(parse(&c, api), 0);
    CHECK_STR(c.k8s_api, "http://127.0.0.1:8001");
    config_free(&c);
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    CHECK_EQ(parse(&c, k8s), 0);
    CHECK_STR(c.k8s_api, "https://[fd00::1]:443");
    config_free(&c);
    clear_env();
}

static void test_formatting(void)
{
    static const uint64_t durations[] = {0,       1,       500,      1000,
                                         1500,    10000,   60000,    300000,
                                         3600000, 5400000, 86400000, 86400000ULL * 30 + 1};
    static const uint64_t sizes[] = {
        0, 1, 4096, 65536, 65537, 1ULL << 20, 3ULL << 20, 1ULL << 31, (1ULL << 34) + 1024};
    char text[64], why[128];
    uint64_t back;

    CHECK_STR(parse_format_duration_ms(10000, text, sizeof(text)), "10s");
    CHECK_STR(parse_format_duration_ms(300000, text, sizeof(text)), "5m");
    CHECK_STR(parse_format_duration_ms(500, text, sizeof(text)), "500ms");
    CHECK_STR(parse_format_duration_ms(1500, text, sizeof(text)), "1500ms");
    CHECK_STR(parse_format_duration_ms(86400000, text, sizeof(text)), "1d");
    CHECK_STR(parse_format_duration_ms(0, text, sizeof(text)), "0s");
    CHECK_STR(parse_format_size_bytes(4u << 20, text, sizeof(text)), "4MiB");
    CHECK_STR(parse_format_size_bytes(65536, text, sizeof(text)), "64KiB");
    CHECK_STR(parse_format_size_bytes(65537, text, sizeof(text)), "65537");
    CHECK_STR(parse_format_size_bytes(1ULL << 31, text, sizeof(text)), "2GiB");
    for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
        parse_format_duration_ms(durations[i], text, sizeof(text));
        CHECK_EQ(parse_duration_ms(text, &back, why, sizeof(why)), 0);
        CHECK_EQ(back, durations[i]);
    }
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        parse_format_size_bytes(sizes[i], text, sizeof(text));
        CHECK_EQ(parse_size_bytes(text, &back, why, sizeof(why)), 0);
        CHECK_EQ(back, sizes[i]);
    }
}

static void test_url_redaction(void)
{
    char out[128];

    url_redact("http://u:pw@h:1/x", "(redacted)@", out, sizeof(out));
    CHECK_STR(out, "http://(redacted)@h:1/x");
    url_redact("http://u:p@w@h:1/write?db=x", "", out, sizeof(out));
    CHECK_STR(out, "http://h:1/write?db=x");
    /* The last '@' before the query ends the user information, so a password may hold '/'
     * and '@' (an '@' in a path must be written %40). */
    url_redact("http://u:pa/ss@h:1/a", "", out, sizeof(out));
    CHECK_STR(out, "http://h:1/a");
    url_redact("http://h:1/a%40b", "", out, sizeof(out));
    CHECK_STR(out, "http://h:1/a%40b");
    url_redact("http://h:1?q=a@b", "", out, sizeof(out));
    CHECK_STR(out, "http://h:1?q=a@b");
    url_redact("user@host", "", out, sizeof(out));
    CHECK_STR(out, "user@host");
}

/* Every value a run rejects, config_parse rejects, with the message the run printed. */
static void test_check_rows(void)
{
    static const struct {
        char *argv[8];
        const char *message; /* the start of the message; NULL: accepted */
    } rows[] = {
        {{"-i", "eth0", "-r", "x.pcap"}, "--interface and --read cannot be used together"},
        {{"-v", "-q"}, "--verbose and --quiet cannot be used together"},
        {{"--listen", "9781"}, "bad value for --listen: '9781' is not ADDR:PORT"},
        {{"--listen", ":9781"}, NULL},
        {{"--listen", "[::1]:9781"}, NULL},
        {{"--influx-db", "net"}, "an InfluxDB database or bucket needs --influx-url"},
        {{"--influx-bucket", "net"}, "an InfluxDB database or bucket needs --influx-url"},
        {{"--influx-url", "http://x"}, "InfluxDB needs either a database"},
        {{"--influx-url", "http://x", "--influx-db", "a", "--influx-bucket", "b"},
         "InfluxDB needs either a database"},
        {{"--influx-url", "ftp://u:pw@x", "--influx-db", "a"},
         "bad value for --influx-url: InfluxDB URL 'ftp://(redacted)@x' must start with http://"},
        {{"--influx-url", "http://x", "--influx-db", "a"}, NULL},
        {{"--influx-url", "http://x", "--influx-db", "a", "--spool-dir", "/nonexistent/spool"},
         "spool directory /nonexistent/spool: "},
        {{"--influx-url", "http://x", "--influx-db", "a", "--spool-dir", "/tmp/nstats-spool"},
         NULL},
        {{"--spool-dir", "/nonexistent/spool"}, NULL}, /* unused without InfluxDB */
        {{"--influx-password-file", "/nonexistent/pw"},
         "--influx-password-file: cannot read /nonexistent/pw"},
        {{"--rdns", "--dns-server", "not an address"}, "reverse DNS via not an address: "},
        {{"--dns-server", "not an address"}, NULL}, /* unused without --rdns, as in a run */
        {{"--rdns", "--dns-server", "127.0.0.1:5353"}, NULL},
        {{"--k8s"}, "--k8s: no --k8s-api"},
        {{"--k8s", "--k8s-api", "https://k:6443"}, NULL},
        {{"--label-net", "x=y"}, "bad value for --label-net: 'x' is not a network"},
        {{"--influx-url", "http://x", "--influx-db", "a", "--influx-ca-file", "/nonexistent/ca"},
         "--influx-ca-file: cannot read /nonexistent/ca: "},
        {{"--influx-url", "http://junk value", "--influx-db", "a"},
         "bad value for --influx-url: InfluxDB URL 'http://junk value' holds a space"},
        {{"--influx-url", "http://u:p@w@x:99999", "--influx-db", "a"},
         "bad value for --influx-url: InfluxDB URL 'http://(redacted)@x:99999' has a bad port"},
        {{"--influx-url", "http://u:p@ss/w@x:8086", "--influx-db", "a"}, NULL},
        {{"--listen", "1.2.3.4:99999"}, "bad value for --listen: '1.2.3.4:99999' is not ADDR:PORT"},
        {{"--rdns", "--dns-server", "1.2.3.4:99999"},
         "reverse DNS via 1.2.3.4:99999: a port must be in 1-65535"},
        {{"--rdns", "--dns-server", "127.0.0.1:53,[::1]:70000"},
         "reverse DNS via 127.0.0.1:53,[::1]:70000: a port must be in 1-65535"},
        {{"--rdns", "--dns-server", "[::1]:5353"}, NULL},
        {{"--label-file", "/dev/zero"}, "--label-file: /dev/zero:1: a NUL byte"},
        {{"--host", "web\xff"
                    "1"},
         "bad value for --host: not UTF-8 text"},
        {{"--node", "n\x1b[2J"}, "bad value for --node: not UTF-8 text"},
        {{"--namespace", "caf\xc3\xa9"}, NULL},
    };
    char *argv[10];

    clear_env();
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct config c;
        size_t n = 0;
        int rc;

        argv[n++] = "nstats";
        for (size_t j = 0; rows[i].argv[j] != NULL; j++)
            argv[n++] = rows[i].argv[j];
        argv[n] = NULL;
        rc = parse(&c, argv);
        if (rows[i].message == NULL) {
            CHECK_EQ(rc, 0);
            if (rc != 0)
                fprintf(stderr, "  row %zu (%s): %s\n", i, rows[i].argv[0], err);
        } else {
            CHECK_EQ(rc, -1);
            CHECK(strncmp(err, rows[i].message, strlen(rows[i].message)) == 0);
            if (strncmp(err, rows[i].message, strlen(rows[i].message)) != 0)
                fprintf(stderr, "  row %zu: got \"%s\", want \"%s...\"\n", i, err, rows[i].message);
        }
        config_free(&c);
    }
    clear_env();
}

static void test_resolved_interface(void)
{
    struct config c;
    char *plain[] = {"nstats", NULL};
    char *given[] = {"nstats", "-i", "veth1", NULL};
    char *file[] = {"nstats", "-r", "x.pcap", NULL};
    char *probe[] = {"nstats", "--probe", "http://127.0.0.1:9781/healthz", NULL};
    char *text;

    clear_env();
    CHECK_EQ(parse(&c, plain), 0);
    CHECK(c.interface == NULL);
    CHECK_STR(c.ifname, "eth9");
    text = printed(&c);
    CHECK(strstr(text, "interface            = eth9  (default)") != NULL);
    CHECK(strstr(text, "buffer-size          = 4MiB  (default)") != NULL);
    CHECK(strstr(text, "flow-timeout         = 5m  (default)") != NULL);
    free(text);
    config_free(&c);
    CHECK_EQ(parse_on(&c, given, &host_none), 0);
    CHECK_STR(c.ifname, "veth1");
    config_free(&c);
    CHECK_EQ(parse_on(&c, file, &host_none), 0);
    CHECK(c.ifname == NULL);
    config_free(&c);
    CHECK_EQ(parse_on(&c, probe, &host_none), 0);
    config_free(&c);
    /* No default route: the run cannot start, so neither does --check-config. */
    CHECK_EQ(parse_on(&c, plain, &host_none), -1);
    CHECK_STR(err, "no default route; name an interface with -i or IFACE");
    config_free(&c);
}

static void test_secrets_redacted(void)
{
    struct config c;
    char *argv[] = {"nstats",
                    "--influx-url",
                    "https://u:hunter2@h:8086",
                    "--influx-db",
                    "d",
                    "--influx-password",
                    "pw-secret",
                    NULL};
    char *text;

    clear_env();
    CHECK_EQ(parse(&c, argv), 0);
    text = printed(&c);
    CHECK(strstr(text, "hunter2") == NULL && strstr(text, "pw-secret") == NULL);
    CHECK(strstr(text, "influx-url           = https://(redacted)@h:8086  (flag)") != NULL);
    CHECK(strstr(text, "influx-password      = (redacted)  (flag)") != NULL);
    free(text);
    config_free(&c);
    /* Passwords holding '@' or '/', and InfluxDB 1.x credentials in the query string. */
    argv[2] = "https://admin:s3@cr/t@h:8086/?u=admin&p=q-secret";
    CHECK_EQ(parse(&c, argv), 0);
    text = printed(&c);
    CHECK(strstr(text, "s3@cr") == NULL && strstr(text, "cr/t") == NULL &&
          strstr(text, "q-secret") == NULL);
    CHECK(strstr(text, "influx-url           = https://(redacted)@h:8086/?u=admin&p=(redacted)  "
                       "(flag)") != NULL);
    free(text);
    config_free(&c);
}

/* Identity from the Downward API is checked like the flags: a byte that is not UTF-8 in a
 * tag would make every /metrics page invalid. */
static void test_identity_text(void)
{
    struct config c;
    char *argv[] = {"nstats", "-r", "x.pcap", NULL};

    clear_env();
    setenv("POD_NAME", "web-\xc0\xaf", 1);
    CHECK_EQ(parse(&c, argv), -1);
    CHECK_STR(err, "bad value for POD_NAME: not UTF-8 text, or holds a control character");
    config_free(&c);
    clear_env();
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_precedence);
    RUN(test_prototype_variables);
    RUN(test_errors_name_the_option);
    RUN(test_key_fields_and_print);
    RUN(test_enum);
    RUN(test_label_net);
    RUN(test_prices_and_zones);
    RUN(test_identity);
    RUN(test_k8s_environment);
    RUN(test_formatting);
    RUN(test_url_redaction);
    RUN(test_check_rows);
    RUN(test_resolved_interface);
    RUN(test_secrets_redacted);
    RUN(test_identity_text);
    return test_report();
}
