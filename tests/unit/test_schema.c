/* Schema tests: the exact default-schema lines for every kind of row, and the legacy schema's. */
#include "export/schema.h"
#include "test.h"

/* A row of key k, which this fills. */
static struct flow_row row(struct flow_key *k, enum flow_kind kind, const char *local,
                           const char *remote, uint8_t proto, uint16_t port)
{
    struct flow_row r;

    memset(&r, 0, sizeof(r));
    memset(k, 0, sizeof(*k));
    r.key = k;
    k->kind = (uint8_t)kind;
    if (local != NULL)
        netaddr_parse(local, &k->local);
    if (remote != NULL)
        netaddr_parse(remote, &k->remote);
    k->proto = proto;
    k->port = port;
    r.delta.bytes_in = 10;
    r.delta.bytes_out = 20;
    r.delta.packets_in = 1;
    r.delta.packets_out = 2;
    return r;
}

static void test_default_rows(void)
{
    struct flow_key keys[6];
    struct flow_row rows[6];
    struct meter_snapshot snap;
    struct export_identity id = {"pod-a", "eth0", NULL, NULL, NULL};
    struct export_capture_stats cs = {3, 4};
    struct buf b;

    rows[0] = row(&keys[0], FLOW_KIND_NORMAL, "198.18.0.1", "2001:db8::5", 6, 443);
    rows[1] = row(&keys[1], FLOW_KIND_FRAGMENT, "198.18.0.1", "198.19.0.2", 17, 0);
    rows[2] = row(&keys[2], FLOW_KIND_OTHER, "198.18.0.1", NULL, 6, 0);
    rows[3] = row(&keys[3], FLOW_KIND_OTHER, NULL, NULL, 0, 0);
    rows[4] = row(&keys[4], FLOW_KIND_NON_IP, NULL, NULL, 0, 0);
    rows[5] = row(&keys[5], FLOW_KIND_MALFORMED, NULL, NULL, 0, 0);
    memset(&snap, 0, sizeof(snap));
    snap.start_ms = 1000;
    snap.end_ms = 10000;
    snap.rows = rows;
    snap.n_rows = 6;
    snap.packets = 18;
    snap.bytes = 180;
    snap.table.keys = 9;
    buf_init(&b, 1 << 20);
    CHECK_EQ(schema_write_default(&b, &id, &snap, &cs, NULL), 0);
    CHECK_STR(
        b.data,
        "nstats,class=private,host=pod-a,interface=eth0,local=198.18.0.1,port=443,proto=tcp,"
        "remote=2001:db8::5 bytes_in=10i,bytes_out=20i,packets_in=1i,packets_out=2i "
        "10000000000\n"
        "nstats,class=private,host=pod-a,interface=eth0,local=198.18.0.1,port=frag,proto=udp,"
        "remote=198.19.0.2 bytes_in=10i,bytes_out=20i,packets_in=1i,packets_out=2i "
        "10000000000\n"
        "nstats,class=unknown,host=pod-a,interface=eth0,local=198.18.0.1,port=0,proto=tcp,remote="
        "other "
        "bytes_in=10i,bytes_out=20i,packets_in=1i,packets_out=2i 10000000000\n"
        "nstats,class=unknown,host=pod-a,interface=eth0,local=other,port=0,proto=other,remote="
        "other "
        "bytes_in=10i,bytes_out=20i,packets_in=1i,packets_out=2i 10000000000\n"
        "nstats,class=unknown,host=pod-a,interface=eth0,local=none,port=0,proto=non-ip,remote=none "
        "bytes_in=10i,bytes_out=20i,packets_in=1i,packets_out=2i 10000000000\n"
        "nstats,class=unknown,host=pod-a,interface=eth0,local=none,port=0,proto=malformed,remote="
        "none "
        "bytes_in=10i,bytes_out=20i,packets_in=1i,packets_out=2i 10000000000\n"
        "nstats_capture,host=pod-a,interface=eth0 packets=18i,bytes=180i,capture_drops=3i,"
        "interface_drops=4i,keys=9i,keys_created=0i,keys_expired=0i,folded_packets=0i,"
        "folded_bytes=0i,interval_ms=9000i 10000000000\n");
    /* Written in slices (as nstats does for large intervals), the text is the same. */
    {
        struct buf sliced;

        buf_init(&sliced, 1 << 20);
        for (size_t from = 0; from < snap.n_rows; from += 4)
            CHECK_EQ(schema_write_rows(&sliced, &id, &snap, from, from + 4, NULL), 0);
        CHECK_EQ(schema_write_capture(&sliced, &id, &snap, &cs), 0);
        CHECK_STR(sliced.data, b.data);
        buf_free(&sliced);
    }
    buf_free(&b);
}

static void test_legacy_schema(void)
{
    struct flow_key keys[4];
    struct flow_row rows[4];
    struct meter_snapshot snap;
    struct export_identity id = {"pod-a", "eth0", NULL, NULL, NULL};
    struct export_capture_stats cs = {0, 0};
    struct buf b;

    memset(rows, 0, sizeof(rows));
    memset(keys, 0, sizeof(keys));
    for (int i = 0; i < 4; i++)
        rows[i].key = &keys[i];
    for (int i = 0; i < 3; i++) {
        netaddr_parse("198.18.0.1", &keys[i].local);
        netaddr_parse(i < 2 ? "198.19.0.2" : "198.19.0.3", &keys[i].remote);
        keys[i].proto = 6;
        keys[i].port = (uint16_t)(443 + i);
        rows[i].delta.bytes_in = 1000;
        rows[i].delta.bytes_out = 250;
    }
    keys[3].kind = FLOW_KIND_NON_IP;
    rows[3].delta.bytes_in = 60;
    memset(&snap, 0, sizeof(snap));
    snap.start_ms = 0;
    snap.end_ms = 10000;
    snap.rows = rows;
    snap.n_rows = 4;
    buf_init(&b, 1 << 20);
    CHECK_EQ(schema_write_legacy(&b, &id, &snap, &cs, NULL), 0);
    /* Two ports to .2 are summed: 2000 bytes in over 10 s = 1600 bit/s. */
    CHECK_STR(b.data, "nstat,hosts=pod-a,receiver=198.19.0.2,sender=198.18.0.1 sendRate=400,"
                      "receiveRate=1600 10000000000\n"
                      "nstat,hosts=pod-a,receiver=198.19.0.3,sender=198.18.0.1 sendRate=200,"
                      "receiveRate=800 10000000000\n"
                      "nstat,hosts=pod-a,receiver=non-ip,sender=none sendRate=0,"
                      "receiveRate=48 10000000000\n"
                      "nstats_capture,host=pod-a,interface=eth0 packets=0i,bytes=0i,"
                      "capture_drops=0i,interface_drops=0i,keys=0i,keys_created=0i,"
                      "keys_expired=0i,folded_packets=0i,folded_bytes=0i,interval_ms=10000i "
                      "10000000000\n");
    buf_free(&b);
}

/* The identity tags sit in key order among the key's, the workload last; rates print in the
 * fewest digits that read back exactly. */
static void test_identity_order_and_floats(void)
{
    struct flow_key keys[1];
    struct flow_row rows[1];
    struct meter_snapshot snap;
    struct export_identity id = {"pod-a", "eth0", "shop", "node-1", "web"};
    struct buf b;

    rows[0] = row(&keys[0], FLOW_KIND_NORMAL, "198.18.0.1", "198.19.0.2", 6, 443);
    rows[0].delta.bytes_out = 10787;
    memset(&snap, 0, sizeof(snap));
    snap.end_ms = 10000;
    snap.rows = rows;
    snap.n_rows = 1;
    buf_init(&b, 1 << 20);
    CHECK_EQ(schema_write_rows(&b, &id, &snap, 0, 1, NULL), 0);
    CHECK_STR(b.data,
              "nstats,class=private,host=pod-a,interface=eth0,local=198.18.0.1,namespace=shop,"
              "node=node-1,port=443,proto=tcp,remote=198.19.0.2,workload=web "
              "bytes_in=10i,bytes_out=10787i,packets_in=1i,packets_out=2i 10000000000\n");
    buf_reset(&b);
    CHECK_EQ(schema_write_legacy(&b, &id, &snap, &(struct export_capture_stats){0, 0}, NULL), 0);
    /* 10787 bytes in 10 s: 8629.6 bit/s, not 8629.6000000000004. */
    CHECK(strstr(b.data, "sendRate=8629.6,receiveRate=8 ") != NULL);
    CHECK(strstr(b.data, "nstats_capture,host=pod-a,interface=eth0,namespace=shop,node=node-1,"
                         "workload=web ") != NULL);
    buf_free(&b);
}

/* An interval end past the year 2262 (a corrupt capture time) never becomes a timestamp
 * InfluxDB refuses: it is held at the last one it stores. */
static void test_timestamp_held_in_range(void)
{
    struct flow_key keys[1];
    struct flow_row rows[1];
    struct meter_snapshot snap;
    struct export_identity id = {"pod-a", "", NULL, NULL, NULL};
    struct export_capture_stats cs = {0, 0};
    struct push_stats st;
    struct buf b;

    rows[0] = row(&keys[0], FLOW_KIND_MALFORMED, NULL, NULL, 0, 0);
    memset(&snap, 0, sizeof(snap));
    memset(&st, 0, sizeof(st));
    snap.end_ms = UINT64_MAX / 1000u;
    snap.rows = rows;
    snap.n_rows = 1;
    buf_init(&b, 1 << 20);
    CHECK_EQ(schema_write_default(&b, &id, &snap, &cs, NULL), 0);
    CHECK_EQ(schema_write_legacy(&b, &id, &snap, &cs, NULL), 0);
    CHECK_EQ(schema_write_export(&b, &id, &st, snap.end_ms), 0);
    for (char *line = b.data; line != NULL && *line != '\0';) {
        char *nl = strchr(line, '\n'), *sp = nl;

        while (sp > line && sp[-1] != ' ')
            sp--;
        CHECK(strncmp(sp, "9223372036854775806\n", 20) == 0);
        line = nl ? nl + 1 : NULL;
    }
    buf_free(&b);
}

int main(void)
{
    RUN(test_default_rows);
    RUN(test_legacy_schema);
    RUN(test_identity_order_and_floats);
    RUN(test_timestamp_held_in_range);
    return test_report();
}
