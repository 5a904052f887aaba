/* nstats top: options, the three modes (attached with --connect, standalone with its own
 * capture, --batch), and the interactive loop's keys. */
#include "top.h"

#include <errno.h>
#include <jansson.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/parse.h"
#include "base/xalloc.h"
#include "top/client.h"
#include "top/daemon.h"
#include "top/flows.h"
#include "top/layout.h"
#include "top/screen.h"

/* Interactive requests give up after this, so keys are never held up for long. */
#define INTERACTIVE_TIMEOUT_MS 1000L
#define BATCH_TIMEOUT_MS 5000L
#define RETRY_MS 1000
#define STATUS_MS 5000
#define PORT_WAIT_MS 15000
#define BODY_MAX_BYTES ((size_t)32 << 20)
#define FILTER_MAX 128
#define DAEMON_LINES 6
#define BATCH_WIDTH 132

enum option_id {
    O_CONNECT,
    O_BATCH,
    O_ITERATIONS,
    O_DELAY,
    O_JSON,
    O_GROUP,
    O_SORT,
    O_ORDER,
    O_FILTER,
    O_LIMIT,
    O_BYTES,
    O_NO_NAMES,
    O_TWO_LINES,
    O_HELP,
};

/* Each option once: parsing and --help are made from this table. */
static const struct top_option {
    enum option_id id;
    const char *name;
    char short_name;
    const char *metavar; /* NULL: a flag without a value */
    const char *help;
} options[] = {
    {O_CONNECT, "connect", 0, "URL",
     "attach to an nstats --listen: http://HOST:PORT, HOST:PORT, :PORT"},
    {O_BATCH, "batch", 0, NULL, "print plain text screens instead of the interactive view"},
    {O_ITERATIONS, "iterations", 0, "N", "with --batch: screens to print, then exit [0: no end]"},
    {O_DELAY, "delay", 0, "SECONDS", "between refreshes [1 interactive, 2 with --batch]"},
    {O_JSON, "json", 0, NULL, "with --batch: print each /api/v1/flows document, one a line"},
    {O_GROUP, "group", 0, "G", "pair, remote, name, port, workload, namespace or net [pair]"},
    {O_SORT, "sort", 0, "S", "r2, r10, r40, in, out, total, peak or name [r10]"},
    {O_ORDER, "order", 0, "O", "desc or asc [desc; asc for name]"},
    {O_FILTER, "filter", 0, "F", "a CIDR, port:N, or text any address or name holds"},
    {O_LIMIT, "limit", 0, "N", "rows asked for, 1-10000 [100]"},
    {O_BYTES, "bytes", 0, NULL, "rates in bytes/s (default bits/s)"},
    {O_NO_NAMES, "no-names", 0, NULL, "addresses instead of names"},
    {O_TWO_LINES, "two-lines", 0, NULL, "two lines a row: in, then out and the local end"},
    {O_HELP, "help", 'h', NULL, "this help"},
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static const char *const groups[] = {"pair",      "remote", "name",  "port", "workload",
                                     "namespace", "net",    "class", NULL};
static const char *const sorts[] = {"r2", "r10", "r40", "in", "out", "total", "peak", "name", NULL};
static const char *const orders[] = {"desc", "asc", NULL};

struct top_opts {
    const char *connect;
    bool batch, json, bytes, no_names, two_lines, help;
    uint64_t iterations;
    double delay_s; /* 0: the mode's default */
    char group[16], sort[16], order[8];
    char filter[FILTER_MAX];
    uint64_t limit;
    char **daemon_args; /* argv slots, not owned */
    size_t n_daemon_args;
};

struct top {
    struct top_opts o;
    struct top_client *client;
    struct top_daemon *daemon;
    bool daemon_gone;
    char daemon_lines[DAEMON_LINES][512]; /* the child's last lines, oldest first */
    struct buf body;
    struct flows flows;
    struct flows_summary summary;
    bool have_summary;
    /* The interactive view. */
    struct layout_view view;
    char status[1024];
    uint64_t status_until_ms;
    char lost[1024]; /* why the last refresh failed; "" when it worked */
    char good_filter[FILTER_MAX];
    char prompt[FILTER_MAX];
    bool prompting, help, paused, frozen, quit;
    char **frozen_ids;
    size_t n_frozen;
    size_t first_row;
    double peak_bytes_per_s; /* the highest bar so far: the scale never shrinks under a row */
};

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int signo)
{
    stop_signal = signo;
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nstats top [options] [nstats capture options]\n"
            "       nstats top --connect URL [options]\n"
            "A live view of what nstats counts, like iftop: the busiest flows with their 2 s,\n"
            "10 s and 40 s rates, in and out, read from nstats' /api/v1.\n\n"
            "Without --connect, nstats top runs its own capture, like iftop: every option it\n"
            "does not know is passed to an nstats started for it (e.g. -i eth0, --local-net)\n"
            "with --listen 127.0.0.1:0; that process captures on its own (the screen never\n"
            "holds it up), its messages show on the status line, and it is stopped when\n"
            "nstats top exits. Capturing needs root or CAP_NET_RAW, as nstats does.\n\n"
            "options:\n");
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct top_option *o = &options[i];
        char flag[48];

        snprintf(flag, sizeof(flag), "%c%c%s--%s%s%s", o->short_name ? '-' : ' ',
                 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
                 o->metavar ? " " : "", o->metavar ? o->metavar : "");
        fprintf(out, "  %-21s %s\n", flag, o->help);
    }
    fprintf(out,
            "\nkeys: 1 2 3 sort by the 2 s, 10 s or 40 s rate; < > by name; g grouping;\n"
            "  / filter; n names; b bits/bytes; t one or two lines a row; o freeze the order;\n"
            "  p pause; j k (arrows, PgUp, PgDn) scroll; h or ? help; q quit.\n\n"
            "Rates are in bits/s with SI prefixes (1 Kb = 1000 b), totals in bytes. The bar\n"
            "behind a row is its rate in the sorted window on a log scale, as in iftop.\n"
            "A lost connection is retried every second. --batch prints a screen every delay\n"
            "(standalone, the first after one delay, so it has traffic to show).\n\n"
            "exit status: 0 (q, a signal, --iterations done), 1 trouble (the capture ended,\n"
            "a batch screen could not be fetched), 2 a bad option.\n\n"
            "examples:\n"
            "  nstats top -i eth0                      capture here and watch\n"
            "  nstats top --connect 127.0.0.1:9781     watch a running nstats --listen :9781\n"
            "  nstats top --connect :9781 --batch --iterations 1 --sort r40 --group remote\n");
}

static const struct top_option *find_option(const char *arg, const char **value)
{
    *value = NULL;
    if (arg[0] == '-' && arg[1] != '-' && arg[1] != '\0' && arg[2] == '\0') {
        for (size_t i = 0; i < N_OPTIONS; i++)
            if (options[i].short_name == arg[1])
                return &options[i];
        return NULL;
    }
    if (strncmp(arg, "--", 2) != 0)
        return NULL;
    for (size_t i = 0; i < N_OPTIONS; i++) {
        size_t n = strlen(options[i].name);

        if (strncmp(arg + 2, options[i].name, n) != 0)
            continue;
        if (arg[2 + n] == '\0')
            return &options[i];
        if (arg[2 + n] == '=' && options[i].metavar != NULL) {
            *value = arg + 3 + n;
            return &options[i];
        }
    }
    return NULL;
}

static int pick(const char *value, const char *const *choices, char *out, size_t len,
                const char *name, char *errbuf, size_t errlen)
{
    for (size_t i = 0; choices[i] != NULL; i++) {
        if (strcmp(value, choices[i]) == 0) {
            snprintf(out, len, "%s", value);
            return 0;
        }
    }
    snprintf(errbuf, errlen, "--%s: '%s' is not one of", name, value);
    for (size_t i = 0; choices[i] != NULL; i++)
        snprintf(errbuf + strlen(errbuf), errlen - strlen(errbuf), "%s %s", i ? "," : "",
                 choices[i]);
    return -1;
}

static int set_option(struct top_opts *o, const struct top_option *opt, const char *value,
                      char *errbuf, size_t errlen)
{
    char reason[128];
    char *end;

    switch (opt->id) {
    case O_CONNECT:
        o->connect = value;
        return 0;
    case O_BATCH:
        o->batch = true;
        return 0;
    case O_JSON:
        o->json = true;
        return 0;
    case O_BYTES:
        o->bytes = true;
        return 0;
    case O_NO_NAMES:
        o->no_names = true;
        return 0;
    case O_TWO_LINES:
        o->two_lines = true;
        return 0;
    case O_HELP:
        o->help = true;
        return 0;
    case O_ITERATIONS:
        if (parse_u64(value, 0, 1000000000, &o->iterations, reason, sizeof(reason)) == -1)
            break;
        return 0;
    case O_LIMIT:
        if (parse_u64(value, 1, 10000, &o->limit, reason, sizeof(reason)) == -1)
            break;
        return 0;
    case O_DELAY:
        errno = 0;
        o->delay_s = strtod(value, &end);
        if (errno != 0 || end == value || *end != '\0' || !(o->delay_s >= 0.1) ||
            o->delay_s > 3600) {
            snprintf(reason, sizeof(reason), "seconds from 0.1 to 3600, please");
            break;
        }
        return 0;
    case O_GROUP:
        return pick(value, groups, o->group, sizeof(o->group), opt->name, errbuf, errlen);
    case O_SORT:
        return pick(value, sorts, o->sort, sizeof(o->sort), opt->name, errbuf, errlen);
    case O_ORDER:
        return pick(value, orders, o->order, sizeof(o->order), opt->name, errbuf, errlen);
    case O_FILTER:
        if (strlen(value) >= sizeof(o->filter)) {
            snprintf(reason, sizeof(reason), "at most %zu bytes", sizeof(o->filter) - 1);
            break;
        }
        snprintf(o->filter, sizeof(o->filter), "%s", value);
        return 0;
    }
    snprintf(errbuf, errlen, "--%s '%s': %s", opt->name, value, reason);
    return -1;
}

/* Takes nstats top's own options out of argv; the rest are the daemon's, in order. */
static int parse_args(struct top_opts *o, int argc, char **argv, char *errbuf, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->group, sizeof(o->group), "pair");
    snprintf(o->sort, sizeof(o->sort), "r10");
    o->limit = 100;
    o->daemon_args = xcalloc((size_t)argc + 1, sizeof(*o->daemon_args));
    for (int i = 1; i < argc; i++) {
        const char *value;
        const struct top_option *opt = find_option(argv[i], &value);

        if (opt == NULL) {
            o->daemon_args[o->n_daemon_args++] = argv[i];
            continue;
        }
        if (opt->metavar != NULL && value == NULL) {
            if (i + 1 >= argc) {
                snprintf(errbuf, errlen, "--%s needs a value (%s)", opt->name, opt->metavar);
                return -1;
            }
            value = argv[++i];
        }
        if (set_option(o, opt, value != NULL ? value : "", errbuf, errlen) == -1)
            return -1;
    }
    if (o->help)
        return 0;
    if (o->connect != NULL && o->n_daemon_args > 0) {
        snprintf(errbuf, errlen,
                 "'%s': not an option of nstats top (capture options need standalone mode, "
                 "without --connect)",
                 o->daemon_args[0]);
        return -1;
    }
    if (!o->batch && (o->json || o->iterations > 0)) {
        snprintf(errbuf, errlen, "%s needs --batch", o->json ? "--json" : "--iterations");
        return -1;
    }
    return 0;
}

/* ---- fetching ---- */

static int flows_query(const struct top_opts *o, struct buf *q)
{
    int rc = buf_printf(q, "/api/v1/flows?group=%s&sort=%s&limit=%llu", o->group, o->sort,
                        (unsigned long long)o->limit);

    if (o->order[0] != '\0')
        rc |= buf_printf(q, "&order=%s", o->order);
    if (o->filter[0] != '\0')
        rc |= buf_append_str(q, "&filter=") | top_client_escape(q, o->filter);
    return rc == 0 ? 0 : -1;
}

/* GETs path into t->body. Returns 0 for a 200, else -1 with the reason. *status gets the HTTP
 * status (0 without an answer). */
static int get(struct top *t, const char *path, int *status, char *errbuf, size_t errlen)
{
    char text[256];

    *status = top_client_get(t->client, path, &t->body, errbuf, errlen);
    if (*status == 200)
        return 0;
    if (*status == -1) {
        *status = 0;
        return -1;
    }
    flows_error_text(t->body.data != NULL ? t->body.data : "", t->body.len, text, sizeof(text));
    if (*status == 503)
        snprintf(errbuf, errlen, "nstats is not counting yet%s%s", text[0] ? ": " : "", text);
    else if (*status == 404)
        snprintf(errbuf, errlen, "%s: not found (is this an nstats with the live API?)", path);
    else
        snprintf(errbuf, errlen, "HTTP %d%s%s", *status, text[0] ? ": " : "", text);
    return -1;
}

/* Fetches the flows (and the summary) into t. Returns 0, or -1 with the reason; *status is
 * the flows request's HTTP status (0 without an answer). */
static int fetch(struct top *t, int *status, char *errbuf, size_t errlen)
{
    struct buf q;
    int summary_status, rc;

    buf_init(&q, 4096);
    if (flows_query(&t->o, &q) == -1) {
        buf_free(&q);
        snprintf(errbuf, errlen, "query too long");
        *status = 0;
        return -1;
    }
    rc = get(t, q.data, status, errbuf, errlen);
    buf_free(&q);
    if (rc == -1)
        return -1;
    if (flows_parse(t->body.data, t->body.len, &t->flows, errbuf, errlen) == -1)
        return -1;
    flows_drop_idle_table_rows(&t->flows);
    /* The flows are what matters; a summary that fails keeps the last one. */
    if (get(t, "/api/v1/summary", &summary_status, errbuf, errlen) == 0 &&
        flows_summary_parse(t->body.data, t->body.len, &t->summary, errbuf, errlen) == 0)
        t->have_summary = true;
    errbuf[0] = '\0';
    return 0;
}

/* ---- the child's stderr ---- */

static void keep_daemon_line(struct top *t, const char *line)
{
    memmove(t->daemon_lines[0], t->daemon_lines[1],
            sizeof(t->daemon_lines) - sizeof(t->daemon_lines[0]));
    snprintf(t->daemon_lines[DAEMON_LINES - 1], sizeof(t->daemon_lines[0]), "%s", line);
}

/* Batch mode: the child's lines go to our stderr as they come. */
static void relay_line(void *arg, const char *line)
{
    char safe[1024];

    keep_daemon_line(arg, line);
    log_escape(line, safe, sizeof(safe));
    fprintf(stderr, "%s\n", safe);
}

/* Interactive: the child's lines show on the status line for a while. */
static void status_line(void *arg, const char *line)
{
    struct top *t = arg;

    keep_daemon_line(t, line);
    snprintf(t->status, sizeof(t->status), "%s", line);
    t->status_until_ms = now_ms() + STATUS_MS;
}

static void print_daemon_lines(const struct top *t)
{
    char safe[1024];

    for (int i = 0; i < DAEMON_LINES; i++) {
        if (t->daemon_lines[i][0] == '\0')
            continue;
        log_escape(t->daemon_lines[i], safe, sizeof(safe));
        fprintf(stderr, "%s\n", safe);
    }
}

/* Waits ms, passing the child's lines on. Returns -1 when a signal came or the child ended. */
static int wait_relaying(struct top *t, uint64_t ms, top_daemon_line_fn *fn)
{
    uint64_t until = now_ms() + ms;

    while (!stop_signal) {
        uint64_t now = now_ms();
        struct pollfd pfd = {.fd = t->daemon != NULL ? top_daemon_fd(t->daemon) : -1,
                             .events = POLLIN};

        if (now >= until)
            return 0;
        if (poll(&pfd, 1, (int)(until - now)) > 0 && top_daemon_read(t->daemon, fn, t) == -1) {
            t->daemon_gone = true;
            return -1;
        }
    }
    return -1;
}

/* ---- freezing the order ---- */

struct ranked_id {
    char *id;
    size_t rank;
};

static int cmp_ranked(const void *a, const void *b)
{
    return strcmp(((const struct ranked_id *)a)->id, ((const struct ranked_id *)b)->id);
}

struct placed_row {
    size_t rank; /* the frozen position, or SIZE_MAX + API order for new rows */
    size_t api;
};

static int cmp_placed(const void *a, const void *b)
{
    const struct placed_row *x = a, *y = b;

    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->api < y->api ? -1 : x->api > y->api;
}

static void forget_order(struct top *t)
{
    for (size_t i = 0; i < t->n_frozen; i++)
        free(t->frozen_ids[i]);
    free(t->frozen_ids);
    t->frozen_ids = NULL;
    t->n_frozen = 0;
}

static void remember_order(struct top *t)
{
    char id[2048];

    forget_order(t);
    t->frozen_ids = xcalloc(t->flows.n_rows + 1, sizeof(*t->frozen_ids));
    for (size_t i = 0; i < t->flows.n_rows; i++) {
        flows_row_id(&t->flows.rows[i], id, sizeof(id));
        t->frozen_ids[t->n_frozen++] = xstrdup(id);
    }
}

/* Frozen: rows seen before keep their places, new rows follow in the API's order. */
static void apply_frozen_order(struct top *t)
{
    size_t n = t->flows.n_rows;
    struct ranked_id *known;
    struct placed_row *placed;
    struct flows_row *rows;
    char id[2048];

    if (!t->frozen || n == 0)
        return;
    known = xcalloc(t->n_frozen + 1, sizeof(*known));
    for (size_t i = 0; i < t->n_frozen; i++)
        known[i] = (struct ranked_id){t->frozen_ids[i], i};
    qsort(known, t->n_frozen, sizeof(*known), cmp_ranked);
    placed = xcalloc(n, sizeof(*placed));
    for (size_t i = 0; i < n; i++) {
        struct ranked_id key = {id, 0};
        const struct ranked_id *hit;

        flows_row_id(&t->flows.rows[i], id, sizeof(id));
        hit =
            t->n_frozen > 0 ? bsearch(&key, known, t->n_frozen, sizeof(*known), cmp_ranked) : NULL;
        placed[i] = (struct placed_row){hit != NULL ? hit->rank : SIZE_MAX, i};
    }
    qsort(placed, n, sizeof(*placed), cmp_placed);
    rows = xcalloc(n, sizeof(*rows));
    for (size_t i = 0; i < n; i++)
        rows[i] = t->flows.rows[placed[i].api];
    free(t->flows.rows);
    t->flows.rows = rows;
    free(placed);
    free(known);
    remember_order(t);
}

/* ---- the interactive view ---- */

static void set_status(struct top *t, const char *text)
{
    snprintf(t->status, sizeof(t->status), "%s", text);
    t->status_until_ms = now_ms() + STATUS_MS;
}

/* One refresh: new rows, or the reason there are none, said on the status line. */
static void refresh(struct top *t)
{
    char err[512];
    int status;

    if (fetch(t, &status, err, sizeof(err)) == 0) {
        t->lost[0] = '\0';
        snprintf(t->good_filter, sizeof(t->good_filter), "%s", t->o.filter);
        apply_frozen_order(t);
        return;
    }
    if (status == 400) {
        /* A filter the daemon does not take: the last one that worked comes back. */
        char msg[700];

        snprintf(msg, sizeof(msg), "rejected: %s", err);
        set_status(t, msg);
        snprintf(t->o.filter, sizeof(t->o.filter), "%s", t->good_filter);
        return;
    }
    if (status == 503)
        snprintf(t->lost, sizeof(t->lost), "waiting: %s", err);
    else
        snprintf(t->lost, sizeof(t->lost), "%s%s: %s; retrying",
                 status == 0 ? "connection lost: " : "", top_client_base(t->client), err);
}

static double row_bar(const struct flows_row *r, int window)
{
    const struct flows_rates *in = &r->in, *out = &r->out;

    return window == 0 ? in->r2 + out->r2 : window == 2 ? in->r40 + out->r40 : in->r10 + out->r10;
}

static void draw(struct top *t, bool repaint)
{
    struct layout l;
    struct layout_state st = {
        .target = top_client_base(t->client),
        .group = t->flows.group[0] ? t->flows.group : t->o.group,
        .sort = t->o.sort,
        .order = t->o.order,
        .filter = t->o.filter,
        .frozen = t->frozen,
        .paused = t->paused,
    };
    int rows, cols, window = layout_sort_window(t->o.sort);
    struct screen_frame f;

    /* The header shows what was asked for, the rows what was answered. */
    st.group = t->o.group;
    screen_size(&rows, &cols);
    t->view.width = cols;
    t->view.cost = t->flows.has_cost;
    layout_init(&l, &t->view);
    for (size_t i = 0; i < t->flows.n_rows; i++)
        if (row_bar(&t->flows.rows[i], window) > t->peak_bytes_per_s)
            t->peak_bytes_per_s = row_bar(&t->flows.rows[i], window);
    if (t->flows.n_rows <= screen_rows_visible(&l))
        t->first_row = 0;
    else if (t->first_row > t->flows.n_rows - screen_rows_visible(&l))
        t->first_row = t->flows.n_rows - screen_rows_visible(&l);
    f = (struct screen_frame){
        .layout = &l,
        .state = &st,
        .flows = &t->flows,
        .summary = t->have_summary ? &t->summary : NULL,
        .first_row = t->first_row,
        .bar_window = window,
        .scale_max = layout_scale_max(&l, t->peak_bytes_per_s),
        .status = t->lost[0]     ? t->lost
                  : t->status[0] ? t->status
                                 : NULL,
        .status_alert = t->lost[0] != '\0',
        .prompt = t->prompting ? t->prompt : NULL,
        .help = t->help,
    };
    screen_draw(&f, repaint);
}

static void set_sort(struct top *t, const char *sort, const char *order)
{
    snprintf(t->o.sort, sizeof(t->o.sort), "%s", sort);
    snprintf(t->o.order, sizeof(t->o.order), "%s", order);
}

static void next_group(struct top *t)
{
    size_t i = 0;

    while (groups[i] != NULL && strcmp(groups[i], t->o.group) != 0)
        i++;
    i = groups[i] == NULL || groups[i + 1] == NULL ? 0 : i + 1;
    snprintf(t->o.group, sizeof(t->o.group), "%s", groups[i]);
    t->first_row = 0;
    t->peak_bytes_per_s = 0;
}

/* Typing a filter. Returns true when it is to be applied. */
static bool prompt_key(struct top *t, int key)
{
    size_t n = strlen(t->prompt);

    if (key == SCREEN_KEY_ENTER) {
        t->prompting = false;
        snprintf(t->o.filter, sizeof(t->o.filter), "%s", t->prompt);
        t->first_row = 0;
        return true;
    }
    if (key == 27) {
        t->prompting = false;
    } else if (key == SCREEN_KEY_BACKSPACE) {
        /* A whole UTF-8 sequence at a time. */
        while (n > 0 && ((unsigned char)t->prompt[n - 1] & 0xc0) == 0x80)
            n--;
        if (n > 0)
            n--;
        t->prompt[n] = '\0';
    } else if (key == 21) { /* ^U */
        t->prompt[0] = '\0';
    } else if (key >= 32 && key < 256 && key != 127 && n + 1 < sizeof(t->prompt)) {
        t->prompt[n] = (char)key;
        t->prompt[n + 1] = '\0';
    }
    return false;
}

enum key_effect { KEY_REDRAW = 1, KEY_REFETCH = 2, KEY_REPAINT = 4 };

static int handle_key(struct top *t, int key)
{
    struct layout l;
    size_t page;

    if (t->prompting)
        return prompt_key(t, key) ? KEY_REFETCH : KEY_REDRAW;
    if (key == SCREEN_KEY_RESIZE)
        return KEY_REPAINT;
    if (t->help && key != 'q' && key != 'Q') {
        t->help = false;
        return KEY_REDRAW;
    }
    layout_init(&l, &t->view);
    page = screen_rows_visible(&l) > 1 ? screen_rows_visible(&l) - 1 : 1;
    switch (key) {
    case 'q':
    case 'Q':
        t->quit = true;
        return 0;
    case '1':
        set_sort(t, "r2", "");
        return KEY_REFETCH;
    case '2':
        set_sort(t, "r10", "");
        return KEY_REFETCH;
    case '3':
        set_sort(t, "r40", "");
        return KEY_REFETCH;
    case '<':
        set_sort(t, "name", "asc");
        return KEY_REFETCH;
    case '>':
        set_sort(t, "name", "desc");
        return KEY_REFETCH;
    case 'g':
        next_group(t);
        return KEY_REFETCH;
    case '/':
        t->prompting = true;
        snprintf(t->prompt, sizeof(t->prompt), "%s", t->o.filter);
        return KEY_REDRAW;
    case 'n':
        t->view.names = !t->view.names;
        return KEY_REDRAW;
    case 'b':
        t->view.bytes = !t->view.bytes;
        return KEY_REDRAW;
    case 't':
        t->view.two_lines = !t->view.two_lines;
        return KEY_REDRAW;
    case 'o':
        t->frozen = !t->frozen;
        if (t->frozen)
            remember_order(t);
        else
            forget_order(t);
        set_status(t, t->frozen ? "order frozen: rows keep their places (o again to unfreeze)"
                                : "order follows the sort again");
        return KEY_REFETCH;
    case 'p':
        t->paused = !t->paused;
        return t->paused ? KEY_REDRAW : KEY_REFETCH;
    case 'j':
    case SCREEN_KEY_DOWN:
        t->first_row++;
        return KEY_REDRAW;
    case 'k':
    case SCREEN_KEY_UP:
        t->first_row = t->first_row > 0 ? t->first_row - 1 : 0;
        return KEY_REDRAW;
    case SCREEN_KEY_PGDN:
    case ' ':
        t->first_row += page;
        return KEY_REDRAW;
    case SCREEN_KEY_PGUP:
        t->first_row = t->first_row > page ? t->first_row - page : 0;
        return KEY_REDRAW;
    case SCREEN_KEY_HOME:
        t->first_row = 0;
        return KEY_REDRAW;
    case SCREEN_KEY_END:
        t->first_row = t->flows.n_rows;
        return KEY_REDRAW;
    case 'h':
    case '?':
        t->help = true;
        return KEY_REDRAW;
    case 12: /* ^L */
        return KEY_REPAINT;
    default:
        return 0;
    }
}

static int run_interactive(struct top *t, uint64_t delay_ms)
{
    uint64_t next_fetch = 0;
    bool dirty = true, repaint = true;
    char err[256];

    if (screen_start(err, sizeof(err)) == -1) {
        fprintf(stderr, "nstats top: %s\n", err);
        return 1;
    }
    t->view = (struct layout_view){
        .bytes = t->o.bytes, .names = !t->o.no_names, .two_lines = t->o.two_lines};
    while (!stop_signal && !t->quit && !t->daemon_gone) {
        struct pollfd pfds[2] = {
            {.fd = STDIN_FILENO, .events = POLLIN},
            {.fd = t->daemon != NULL ? top_daemon_fd(t->daemon) : -1, .events = POLLIN}};
        uint64_t now = now_ms(), wait_ms;
        int key;

        if (!t->paused && now >= next_fetch) {
            refresh(t);
            next_fetch = now_ms() + (t->lost[0] ? RETRY_MS : delay_ms);
            dirty = true;
        }
        if (t->status[0] != '\0' && now >= t->status_until_ms) {
            t->status[0] = '\0';
            dirty = true;
        }
        if (dirty) {
            draw(t, repaint);
            dirty = repaint = false;
        }
        now = now_ms();
        wait_ms = t->paused ? 1000 : next_fetch > now ? next_fetch - now : 0;
        if (t->status[0] != '\0' && t->status_until_ms > now && t->status_until_ms - now < wait_ms)
            wait_ms = t->status_until_ms - now;
        /* A resize interrupts the wait (SIGWINCH), and its key is read below. */
        poll(pfds, 2, (int)wait_ms);
        if (pfds[1].revents != 0 && top_daemon_read(t->daemon, status_line, t) == -1)
            t->daemon_gone = true;
        while ((key = screen_key()) != SCREEN_KEY_NONE && !t->quit) {
            int effect = handle_key(t, key);

            dirty |= effect != 0;
            repaint |= (effect & KEY_REPAINT) != 0;
            if (effect & KEY_REFETCH)
                next_fetch = 0;
        }
    }
    screen_stop();
    if (t->daemon_gone) {
        fprintf(stderr, "nstats top: the capture ended; its last words:\n");
        print_daemon_lines(t);
        return 1;
    }
    return 0;
}

/* ---- batch ---- */

static int batch_width(void)
{
    const char *env = getenv("COLUMNS");
    struct winsize ws;
    long n;

    if (env != NULL && (n = strtol(env, NULL, 10)) >= 40 && n < LAYOUT_LINE_MAX)
        return (int)n;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        return ws.ws_col;
    return BATCH_WIDTH;
}

/* Prints the flows document in t->body on one line. Returns -1 if stdout failed. */
static int print_json(struct top *t)
{
    json_t *doc = json_loadb(t->body.data != NULL ? t->body.data : "", t->body.len, 0, NULL);
    int rc;

    /* Compact, so each screen is one line (JSON Lines). */
    rc = doc != NULL && json_dumpf(doc, stdout, JSON_COMPACT) == 0 ? 0 : -1;
    json_decref(doc);
    return rc;
}

static int run_batch(struct top *t, uint64_t delay_ms)
{
    struct layout l;
    struct layout_view v = {.width = batch_width(),
                            .bytes = t->o.bytes,
                            .names = !t->o.no_names,
                            .two_lines = t->o.two_lines};
    struct buf screen;
    bool failed = false;
    char err[512];

    layout_init(&l, &v);
    buf_init(&screen, BODY_MAX_BYTES);
    for (uint64_t i = 0; t->o.iterations == 0 || i < t->o.iterations; i++) {
        struct layout_state st = {.target = top_client_base(t->client),
                                  .group = t->o.group,
                                  .sort = t->o.sort,
                                  .order = t->o.order,
                                  .filter = t->o.filter};
        int status;

        /* Standalone, the first screen waits too, so it has a window of traffic to show. */
        if ((i > 0 || t->daemon != NULL) && wait_relaying(t, delay_ms, relay_line) == -1)
            break;
        if (t->o.json) {
            struct buf q;

            buf_init(&q, 4096);
            status = flows_query(&t->o, &q) == 0 ? 0 : -1;
            if (status == 0 && get(t, q.data, &status, err, sizeof(err)) == 0) {
                buf_free(&q);
                if (print_json(t) == -1 || fputc('\n', stdout) == EOF || fflush(stdout) != 0)
                    break;
                continue;
            }
            buf_free(&q);
        } else if (fetch(t, &status, err, sizeof(err)) == 0) {
            buf_reset(&screen);
            v.cost = t->flows.has_cost;
            layout_init(&l, &v);
            if (i > 0)
                buf_printf(&screen, "\n");
            layout_text_screen(&screen, &l, &st, &t->flows, t->have_summary ? &t->summary : NULL);
            if (fwrite(screen.data, 1, screen.len, stdout) != screen.len || fflush(stdout) != 0)
                break;
            continue;
        }
        fprintf(stderr, "nstats top: %s: %s\n", top_client_base(t->client), err);
        failed = true;
    }
    buf_free(&screen);
    if (t->daemon_gone) {
        fprintf(stderr, "nstats top: the capture ended\n");
        return 1;
    }
    return failed ? 1 : 0;
}

/* ---- life cycle ---- */

static void catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a signal ends the wait it interrupts. */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int top_main(int argc, char **argv)
{
    struct top t;
    char err[512], url[256];
    uint64_t delay_ms;
    int rc = 1;

    memset(&t, 0, sizeof(t));
    /* Names may be UTF-8; numbers stay in the C locale's format. */
    setlocale(LC_CTYPE, "");
    if (parse_args(&t.o, argc, argv, err, sizeof(err)) == -1) {
        fprintf(stderr, "nstats top: %s (see nstats top --help)\n", err);
        free(t.o.daemon_args);
        return 2;
    }
    if (t.o.help) {
        usage(stdout);
        free(t.o.daemon_args);
        return 0;
    }
    if (!t.o.batch && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
        fprintf(stderr, "nstats top: the interactive view needs a terminal (or use --batch)\n");
        free(t.o.daemon_args);
        return 2;
    }
    delay_ms = (uint64_t)llround((t.o.delay_s > 0 ? t.o.delay_s : t.o.batch ? 2.0 : 1.0) * 1000);
    snprintf(t.good_filter, sizeof(t.good_filter), "%s", t.o.filter);
    catch_signals();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    buf_init(&t.body, BODY_MAX_BYTES);
    if (t.o.connect == NULL) {
        t.daemon = top_daemon_start(t.o.daemon_args, t.o.n_daemon_args, err, sizeof(err));
        if (t.daemon == NULL) {
            fprintf(stderr, "nstats top: %s\n", err);
            rc = 2;
            goto done;
        }
        /* Before the screen is taken, the child's complaints go straight to stderr. */
        if (top_daemon_wait_url(t.daemon, PORT_WAIT_MS, relay_line, &t, url, sizeof(url), err,
                                sizeof(err)) == -1) {
            int status = top_daemon_stop(t.daemon, relay_line, &t);

            /* Its own words were passed on already; a bad flag of its is a bad flag of ours. */
            t.daemon = NULL;
            fprintf(stderr, "nstats top: %s\n", err);
            rc = status == 2 ? 2 : 1;
            goto done;
        }
    }
    t.client =
        top_client_new(t.o.connect != NULL ? t.o.connect : url,
                       t.o.batch ? BATCH_TIMEOUT_MS : INTERACTIVE_TIMEOUT_MS, err, sizeof(err));
    if (t.client == NULL) {
        fprintf(stderr, "nstats top: %s\n", err);
        rc = 2;
        goto done;
    }
    rc = t.o.batch ? run_batch(&t, delay_ms) : run_interactive(&t, delay_ms);
done:
    if (t.daemon != NULL) {
        int status = top_daemon_stop(t.daemon, t.o.batch ? relay_line : NULL, &t);

        if (rc == 0 && status != 0 && !t.daemon_gone && status != 128 + SIGTERM)
            fprintf(stderr, "nstats top: the capture exited with status %d\n", status);
    }
    top_client_free(t.client);
    forget_order(&t);
    flows_free(&t.flows);
    buf_free(&t.body);
    free(t.o.daemon_args);
    curl_global_cleanup();
    return rc;
}
