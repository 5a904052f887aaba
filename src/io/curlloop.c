/* One CURLM per owner; each transfer remembers its completion callback in CURLOPT_PRIVATE. */
#include "curlloop.h"

#include <stdlib.h>
#include <sys/epoll.h>

#include "base/log.h"
#include "base/xalloc.h"

#define MAX_TRANSFERS 16

struct transfer {
    CURL *easy;
    curlloop_done_fn *fn;
    void *arg;
};

struct curlloop {
    struct loop *loop;
    CURLM *multi;
    struct loop_timer *timer;
    struct transfer transfers[MAX_TRANSFERS];
};

static void check_done(struct curlloop *cl)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(cl->multi, &left)) != NULL) {
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_multi_remove_handle(cl->multi, easy);
        for (int i = 0; i < MAX_TRANSFERS; i++) {
            struct transfer *t = &cl->transfers[i];

            if (t->easy == easy) {
                curlloop_done_fn *fn = t->fn;
                void *arg = t->arg;

                t->easy = NULL;
                fn(arg, easy, rc);
                break;
            }
        }
    }
}

static void on_socket_event(void *arg, int fd, uint32_t events)
{
    struct curlloop *cl = arg;
    int flags = 0, running;

    if (events & EPOLLIN)
        flags |= CURL_CSELECT_IN;
    if (events & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
    if (events & (EPOLLERR | EPOLLHUP))
        flags |= CURL_CSELECT_ERR;
    curl_multi_socket_action(cl->multi, fd, flags, &running);
    check_done(cl);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct curlloop *cl = userp;
    uint32_t events = 0;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        loop_unwatch(cl->loop, fd);
        return 0;
    }
    if (what & CURL_POLL_IN)
        events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        events |= EPOLLOUT;
    if (socketp == NULL) {
        if (loop_watch(cl->loop, fd, events, on_socket_event, cl) == -1 &&
            loop_modify(cl->loop, fd, events) == -1) {
            log_warn("watching an HTTP connection");
            return -1;
        }
        curl_multi_assign(cl->multi, fd, cl);
    } else if (loop_modify(cl->loop, fd, events) == -1) {
        log_warn("watching an HTTP connection");
        return -1;
    }
    return 0;
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct curlloop *cl = userp;

    (void)multi;
    if (timeout_ms < 0)
        loop_timer_disarm(cl->timer);
    else
        loop_timer_arm(cl->timer, (uint64_t)timeout_ms);
    return 0;
}

static void on_timer(void *arg)
{
    struct curlloop *cl = arg;
    int running;

    curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(cl);
}

struct curlloop *curlloop_new(struct loop *loop)
{
    struct curlloop *cl = xcalloc(1, sizeof(*cl));

    cl->loop = loop;
    cl->multi = curl_multi_init();
    if (cl->multi == NULL) {
        free(cl);
        return NULL;
    }
    cl->timer = loop_timer_new(loop, on_timer, cl);
    curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
    curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
    return cl;
}

void curlloop_free(struct curlloop *cl)
{
    if (cl == NULL)
        return;
    for (int i = 0; i < MAX_TRANSFERS; i++)
        if (cl->transfers[i].easy != NULL)
            curl_multi_remove_handle(cl->multi, cl->transfers[i].easy);
    loop_timer_free(cl->timer);
    curl_multi_cleanup(cl->multi);
    free(cl);
}

int curlloop_add(struct curlloop *cl, CURL *easy, curlloop_done_fn *fn, void *arg)
{
    for (int i = 0; i < MAX_TRANSFERS; i++) {
        struct transfer *t = &cl->transfers[i];

        if (t->easy != NULL)
            continue;
        if (curl_multi_add_handle(cl->multi, easy) != CURLM_OK)
            return -1;
        t->easy = easy;
        t->fn = fn;
        t->arg = arg;
        return 0;
    }
    return -1;
}
