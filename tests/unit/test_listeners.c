/* /proc/net parsing tests, on text shaped like the kernel's. */
#include "flow/listeners.h"
#include "test.h"

static const char *tcp_text =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 "
    "1 0000000000000000 100 0 0 10 0\n"
    "   1: 0100007F:9C41 0100007F:01BB 01 00000000:00000000 00:00000000 00000000     0        0 2 "
    "1 0000000000000000 20 4 30 10 -1\n"
    "garbage line\n";

static const char *udp6_text =
    "  sl  local_address                         remote_address                        st\n"
    "   0: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 07 0\n"
    "   1: 00000000000000000000000000000000:A000 00000000000000000000000000000000:0000 07 0\n"
    "   2: 00000000000000000000000001000000:1388 0000000000000000000000000100007F:0035 01 0\n";

static void test_parse(void)
{
    static struct listeners l;

    listeners_clear(&l);
    listeners_parse_proc(&l, tcp_text, true, 32768);
    listeners_parse_proc(&l, udp6_text, false, 32768);
    CHECK(listeners_has(&l, 6, 8080));
    CHECK(!listeners_has(&l, 6, 40001)); /* established, not listening */
    CHECK(listeners_has(&l, 17, 53));
    CHECK(!listeners_has(&l, 17, 40960)); /* unconnected but ephemeral: a client */
    CHECK(!listeners_has(&l, 17, 5000));  /* connected */
    CHECK(!listeners_has(&l, 1, 8080));
}

static void test_read_host(void)
{
    static struct listeners l;

    /* The host's own tables exist on Linux; the content varies, the call must succeed. */
    CHECK_EQ(listeners_read(&l, 32768), 0);
}

int main(void)
{
    RUN(test_parse);
    RUN(test_read_host);
    return test_report();
}
