/* Kubernetes client tests: every transition of the watch state machine, and the in-cluster URL. */
#include <stdbool.h>
#include <stdlib.h>

#include "names/k8s.h"
#include "test.h"

static struct k8s_step next(enum k8s_state state, enum k8s_event ev, bool synced, bool gone,
                            bool broken, bool quick)
{
    struct k8s_watch_flags f = {.synced = synced, .gone = gone, .broken = broken, .quick = quick};

    return k8s_next_state(state, ev, &f);
}

/* A step with nothing but a next state. */
#define CHECK_PLAIN(s, state)                                                                      \
    do {                                                                                           \
        CHECK_EQ((s).next, (state));                                                               \
        CHECK(!(s).relist && !(s).synced && !(s).clear_failures && (s).why == NULL);               \
    } while (0)

static void test_start(void)
{
    struct k8s_step s = next(K8S_IDLE, K8S_EV_START, false, false, false, false);

    CHECK_PLAIN(s, K8S_LISTING);
}

static void test_retry(void)
{
    /* Never listed: list. */
    struct k8s_step s = next(K8S_IDLE, K8S_EV_RETRY, false, false, false, false);

    CHECK_PLAIN(s, K8S_LISTING);
    /* Listed, and the version is still good: watch on from it. */
    s = next(K8S_IDLE, K8S_EV_RETRY, true, false, false, false);
    CHECK_PLAIN(s, K8S_WATCHING);
    /* The version expired (410) or the stream broke: list again. */
    s = next(K8S_IDLE, K8S_EV_RETRY, true, true, false, false);
    CHECK_PLAIN(s, K8S_LISTING);
    s = next(K8S_IDLE, K8S_EV_RETRY, true, false, true, false);
    CHECK_PLAIN(s, K8S_LISTING);
    /* How soon the request ended does not matter to the timer. */
    s = next(K8S_IDLE, K8S_EV_RETRY, true, false, false, true);
    CHECK_PLAIN(s, K8S_WATCHING);
}

static void test_failure(void)
{
    /* A failure in any request backs off with the caller's reason. */
    enum k8s_state states[] = {K8S_LISTING, K8S_WATCHING, K8S_IDLE};

    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        struct k8s_step s = next(states[i], K8S_EV_FAILED, true, true, true, true);

        CHECK_PLAIN(s, K8S_IDLE);
        s = next(states[i], K8S_EV_FAILED, false, false, false, false);
        CHECK_PLAIN(s, K8S_IDLE);
    }
}

static void test_listed(void)
{
    struct k8s_step s = next(K8S_LISTING, K8S_EV_LISTED, false, false, false, true);

    CHECK_EQ(s.next, K8S_WATCHING);
    CHECK(s.synced);
    CHECK(s.clear_failures);
    CHECK(!s.relist);
    CHECK(s.why == NULL);
    /* A 410 status on the list itself still lists fine if the body parsed: no re-list count. */
    s = next(K8S_LISTING, K8S_EV_LISTED, true, true, false, false);
    CHECK_EQ(s.next, K8S_WATCHING);
    CHECK(!s.relist);
}

static void test_watch_end(void)
{
    struct k8s_step s;

    /* The server's timeout: watch on, and the backoff starts over. */
    s = next(K8S_WATCHING, K8S_EV_WATCH_END, true, false, false, false);
    CHECK_EQ(s.next, K8S_WATCHING);
    CHECK(s.clear_failures);
    CHECK(!s.relist && !s.synced && s.why == NULL);
    /* 410 Gone after a while: re-list at once, counted. */
    s = next(K8S_WATCHING, K8S_EV_WATCH_END, true, true, false, false);
    CHECK_EQ(s.next, K8S_LISTING);
    CHECK(s.relist);
    CHECK(!s.clear_failures && !s.synced && s.why == NULL);
    /* A line that could not be read: re-list, not counted as a 410. */
    s = next(K8S_WATCHING, K8S_EV_WATCH_END, true, false, true, false);
    CHECK_PLAIN(s, K8S_LISTING);
    s = next(K8S_WATCHING, K8S_EV_WATCH_END, true, true, true, false);
    CHECK_EQ(s.next, K8S_LISTING);
    CHECK(s.relist);
    /* Ended at once: back off, so a server that ends every watch is not a busy loop. */
    s = next(K8S_WATCHING, K8S_EV_WATCH_END, true, false, false, true);
    CHECK_EQ(s.next, K8S_IDLE);
    CHECK_STR(s.why, "watch ended at once");
    CHECK(!s.relist && !s.clear_failures && !s.synced);
    s = next(K8S_WATCHING, K8S_EV_WATCH_END, true, false, true, true);
    CHECK_EQ(s.next, K8S_IDLE);
    CHECK_STR(s.why, "watch ended at once");
    /* 410 at once: back off, and the re-list that follows is counted now. */
    s = next(K8S_WATCHING, K8S_EV_WATCH_END, true, true, false, true);
    CHECK_EQ(s.next, K8S_IDLE);
    CHECK_STR(s.why, "410 Gone right after listing");
    CHECK(s.relist);
    CHECK(!s.clear_failures);
    /* ...and the retry that follows lists, since the version is gone. */
    s = next(K8S_IDLE, K8S_EV_RETRY, true, true, false, false);
    CHECK_PLAIN(s, K8S_LISTING);
}

static void test_unexpected(void)
{
    /* Events a state never sees back off with a reason instead of stalling the kind. */
    struct {
        enum k8s_state state;
        enum k8s_event ev;
    } cases[] = {
        {K8S_LISTING, K8S_EV_START},  {K8S_WATCHING, K8S_EV_START},
        {K8S_LISTING, K8S_EV_RETRY},  {K8S_WATCHING, K8S_EV_RETRY},
        {K8S_IDLE, K8S_EV_LISTED},    {K8S_WATCHING, K8S_EV_LISTED},
        {K8S_IDLE, K8S_EV_WATCH_END}, {K8S_LISTING, K8S_EV_WATCH_END},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct k8s_step s = next(cases[i].state, cases[i].ev, true, false, false, false);

        CHECK_EQ(s.next, K8S_IDLE);
        CHECK_STR(s.why, "unexpected event");
        CHECK(!s.relist && !s.synced && !s.clear_failures);
    }
}

/* A whole life: start, list, watch a few times, a 410, re-list, a failing server, recovery. */
static void test_sequence(void)
{
    enum k8s_state st = K8S_IDLE;
    bool synced = false;
    struct k8s_step s;

    s = next(st, K8S_EV_START, synced, false, false, false);
    st = s.next;
    s = next(st, K8S_EV_FAILED, synced, false, false, false); /* connection refused */
    st = s.next;
    CHECK_EQ(st, K8S_IDLE);
    s = next(st, K8S_EV_RETRY, synced, false, false, false);
    st = s.next;
    CHECK_EQ(st, K8S_LISTING);
    s = next(st, K8S_EV_LISTED, synced, false, false, false);
    st = s.next;
    synced = synced || s.synced;
    CHECK(synced);
    CHECK_EQ(st, K8S_WATCHING);
    s = next(st, K8S_EV_WATCH_END, synced, false, false, false);
    st = s.next;
    CHECK_EQ(st, K8S_WATCHING);
    s = next(st, K8S_EV_WATCH_END, synced, true, false, false);
    st = s.next;
    CHECK_EQ(st, K8S_LISTING);
    s = next(st, K8S_EV_FAILED, synced, false, false, false); /* HTTP 500 */
    st = s.next;
    s = next(st, K8S_EV_RETRY, synced, false, false, false);
    st = s.next;
    /* As the client works today: the 410 was forgotten when the failed list began, so the
     * retry watches from the expired version, and the server's next 410 brings a re-list. */
    CHECK_EQ(st, K8S_WATCHING);
}

static void test_incluster_url(void)
{
    char url[128];

    CHECK_EQ(k8s_incluster_url(NULL, NULL, url, sizeof(url)), -1);
    CHECK_EQ(k8s_incluster_url("10.0.0.1", NULL, url, sizeof(url)), -1);
    CHECK_EQ(k8s_incluster_url("10.0.0.1", "443", url, sizeof(url)), 0);
    CHECK_STR(url, "https://10.0.0.1:443");
    CHECK_EQ(k8s_incluster_url("fd00::1", "443", url, sizeof(url)), 0);
    CHECK_STR(url, "https://[fd00::1]:443");
    CHECK_EQ(k8s_incluster_url("", "443", url, sizeof(url)), -1);
}

int main(void)
{
    RUN(test_start);
    RUN(test_retry);
    RUN(test_failure);
    RUN(test_listed);
    RUN(test_watch_end);
    RUN(test_unexpected);
    RUN(test_sequence);
    RUN(test_incluster_url);
    return test_report();
}
