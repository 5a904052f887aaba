/* Configuration tests: precedence of flags over environment over defaults, and errors. */
#include <stdlib.h>

#include "config/config.h"
#include "flow/flowkey.h"
#include "test.h"

static char err[512];

static int parse(struct config *cfg, char **argv)
{
    int argc = 0;

    while (argv[argc] != NULL)
        argc++;
    err[0] = '\0';
    return config_parse(cfg, argc, argv, err, sizeof(err));
}

static void clear_env(void)
{
    static const char *vars[] = {
        "NSTATS_INTERFACE",  "IFACE", "NSTATS_INTERVAL",  "NSTATS_LOCAL_NET", "INFLUX",
        "NSTATS_INFLUX_URL", "IDB",   "NSTATS_MAX_FLOWS", "NSTATS_KEY"};

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
    CHECK(strstr(text, "interval             = 10000ms  (default)") != NULL);
    free(text);
    f = open_memstream(&text, &len);
    config_usage(f);
    fclose(f);
    CHECK(strstr(text, "--max-flows N") != NULL);
    CHECK(strstr(text, "env NSTATS_INTERFACE, IFACE") != NULL);
    free(text);
    config_free(&c);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_precedence);
    RUN(test_prototype_variables);
    RUN(test_errors_name_the_option);
    RUN(test_key_fields_and_print);
    return test_report();
}
