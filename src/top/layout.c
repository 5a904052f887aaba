/* Formatting the screen's text: pure functions of the API's values and the view. */
#include "layout.h"

#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/log.h"

/* Column widths: a rate or size right-aligned in RATE_W, groups of columns one space apart. */
#define RATE_W 8
#define PORT_W 11
#define DIR_W 4
#define NAME_MIN 14
#define NAME_MAX 56
#define NAME_LIMP 8

/* A line being written: never past its end, always terminated. */
struct line {
    char *p;
    size_t left;
};

static void line_start(struct line *ln, char *out, size_t len)
{
    ln->p = out;
    ln->left = len;
    if (len > 0)
        out[0] = '\0';
}

static void line_add(struct line *ln, const char *s, size_t n)
{
    if (ln->left == 0)
        return;
    if (n >= ln->left)
        n = ln->left - 1;
    memcpy(ln->p, s, n);
    ln->p += n;
    ln->left -= n;
    ln->p[0] = '\0';
}

static void line_pad(struct line *ln, int cols)
{
    for (int i = 0; i < cols; i++)
        line_add(ln, " ", 1);
}

/* Text from outside (names, addresses) in exactly cols columns: control characters and bytes
 * that are not UTF-8 escaped, cut to fit (counting a UTF-8 sequence as one column), padded. */
static void line_text(struct line *ln, const char *s, int cols)
{
    char safe[LAYOUT_LINE_MAX];
    const unsigned char *p;
    int used = 0;

    log_escape(s, safe, sizeof(safe));
    p = (const unsigned char *)safe;
    while (*p != '\0' && used < cols) {
        size_t n = 1;

        while ((p[n] & 0xc0) == 0x80)
            n++;
        line_add(ln, (const char *)p, n);
        p += n;
        used++;
    }
    line_pad(ln, cols - used);
}

/* Text of our own, right-aligned in cols. */
static void line_right(struct line *ln, const char *s, int cols)
{
    int n = (int)strlen(s);

    line_pad(ln, cols - n);
    line_add(ln, s, strlen(s));
}

static void line_rate(struct line *ln, const struct layout *l, double v)
{
    char text[32];

    layout_rate(v, l->v.bytes, text, sizeof(text));
    line_right(ln, text, RATE_W);
}

static void line_size(struct line *ln, uint64_t v)
{
    char text[32];

    layout_size(v, text, sizeof(text));
    line_right(ln, text, RATE_W);
}

void layout_cost(double usd, char *out, size_t len)
{
    if (usd <= 0)
        snprintf(out, len, "$0");
    else if (usd >= 999999.5)
        snprintf(out, len, "$%.0e", usd);
    else if (usd >= 1000)
        snprintf(out, len, "$%.0f", usd);
    else if (usd >= 0.995)
        snprintf(out, len, "$%.2f", usd);
    else if (usd >= 0.0001)
        snprintf(out, len, "$%.4f", usd);
    else
        snprintf(out, len, "<$0.0001");
}

/* USD right-aligned in RATE_W; negative: blank (the second line of a two-line row). */
static void line_cost(struct line *ln, double usd)
{
    char text[32];

    if (usd < 0)
        text[0] = '\0';
    else
        layout_cost(usd, text, sizeof(text));
    line_right(ln, text, RATE_W);
}

void layout_init(struct layout *l, const struct layout_view *v)
{
    int fixed;

    memset(l, 0, sizeof(*l));
    l->v = *v;
    if (l->v.width > LAYOUT_LINE_MAX - 1)
        l->v.width = LAYOUT_LINE_MAX - 1;
    l->show_r40 = l->show_total = l->show_peak = true;
    l->show_cost = v->cost;
    /* Narrow screens lose the peak, then the totals, then the cost, then the 40 s window. */
    for (int step = 0;; step++) {
        if (v->two_lines)
            fixed = PORT_W + DIR_W + RATE_W * (l->show_r40 ? 3 : 2) +
                    (l->show_total ? 1 + RATE_W : 0) + (l->show_peak ? 1 + RATE_W : 0);
        else
            fixed = PORT_W + 2 * (1 + RATE_W * (l->show_r40 ? 3 : 2)) +
                    (l->show_total ? 1 + 2 * RATE_W : 0) + (l->show_peak ? 1 + 2 * RATE_W : 0);
        fixed += l->show_cost ? 1 + RATE_W : 0;
        if (l->v.width - fixed >= NAME_MIN || step == 4)
            break;
        if (l->show_peak)
            l->show_peak = false;
        else if (l->show_total)
            l->show_total = false;
        else if (l->show_cost)
            l->show_cost = false;
        else
            l->show_r40 = false;
    }
    l->name_w = l->v.width - fixed;
    if (l->name_w > NAME_MAX)
        l->name_w = NAME_MAX;
    if (l->name_w < NAME_LIMP)
        l->name_w = NAME_LIMP;
}

int layout_row_lines(const struct layout *l)
{
    return l->v.two_lines ? 2 : 1;
}

/* iftop's readable_size: three significant digits, the unit stepping every 1000. */
static void readable(double n, const char *const units[5], char *out, size_t len)
{
    double size = 1.0;

    if (!(n > 0.0)) {
        snprintf(out, len, "0%s", units[0]);
        return;
    }
    if (n < 999.5) {
        snprintf(out, len, "%.0f%s", n, units[0]);
        return;
    }
    for (int i = 1; i < 5; i++) {
        size *= 1000.0;
        if (n < size * 9.995 || (i == 4 && n < size * 10.0))
            snprintf(out, len, "%.2f%s", n / size, units[i]);
        else if (n < size * 99.95)
            snprintf(out, len, "%.1f%s", n / size, units[i]);
        else if (n < size * 999.5 || i == 4)
            snprintf(out, len, "%.0f%s", n / size, units[i]);
        else
            continue;
        return;
    }
}

void layout_rate(double bytes_per_s, bool bytes, char *out, size_t len)
{
    static const char *const bit_units[5] = {"b", "Kb", "Mb", "Gb", "Tb"};
    static const char *const byte_units[5] = {"B", "KB", "MB", "GB", "TB"};

    readable(bytes ? bytes_per_s : bytes_per_s * 8.0, bytes ? byte_units : bit_units, out, len);
}

void layout_size(uint64_t bytes, char *out, size_t len)
{
    layout_rate((double)bytes, true, out, len);
}

const char *layout_sort_label(const char *sort, const char *order)
{
    bool asc = order != NULL && strcmp(order, "asc") == 0;

    if (sort == NULL || sort[0] == '\0' || strcmp(sort, "r10") == 0)
        return asc ? "10s asc" : "10s";
    if (strcmp(sort, "r2") == 0)
        return asc ? "2s asc" : "2s";
    if (strcmp(sort, "r40") == 0)
        return asc ? "40s asc" : "40s";
    if (strcmp(sort, "in") == 0)
        return asc ? "in 10s asc" : "in 10s";
    if (strcmp(sort, "out") == 0)
        return asc ? "out 10s asc" : "out 10s";
    if (strcmp(sort, "total") == 0)
        return asc ? "total asc" : "total";
    if (strcmp(sort, "peak") == 0)
        return asc ? "peak asc" : "peak";
    if (strcmp(sort, "name") == 0)
        return order != NULL && strcmp(order, "desc") == 0 ? "name z-a" : "name a-z";
    return sort;
}

int layout_sort_window(const char *sort)
{
    if (sort != NULL && strcmp(sort, "r2") == 0)
        return 0;
    if (sort != NULL && strcmp(sort, "r40") == 0)
        return 2;
    return 1;
}

void layout_header(const struct layout *l, const struct layout_state *st,
                   const struct flows_summary *summary, uint64_t time_ms, int line, char *out,
                   size_t len)
{
    char left[LAYOUT_LINE_MAX], right[64], a[32], b[32], c[32];
    struct line ln;

    line_start(&ln, out, len);
    if (line == 0) {
        time_t t = (time_t)(time_ms / 1000);
        struct tm tm;

        snprintf(left, sizeof(left), "nstats top - %s%s%s - %s",
                 summary != NULL && summary->source[0] ? summary->source : "(waiting)",
                 summary != NULL && summary->host[0] ? " on " : "",
                 summary != NULL ? summary->host : "", st->target);
        right[0] = '\0';
        if (time_ms > 0 && localtime_r(&t, &tm) != NULL)
            strftime(right, sizeof(right), "%Y-%m-%d %H:%M:%S", &tm);
        /* A narrow terminal keeps the source whole and drops the clock. */
        if ((int)(strlen(left) + 1 + strlen(right)) > l->v.width)
            right[0] = '\0';
        line_text(&ln, left, l->v.width - (int)strlen(right));
        line_add(&ln, right, strlen(right));
    } else if (line == 1) {
        snprintf(left, sizeof(left),
                 "group %s | sort %s | filter %s | %s | names %s | %s line%s%s%s", st->group,
                 layout_sort_label(st->sort, st->order),
                 st->filter[0] != '\0' ? st->filter : "none", l->v.bytes ? "bytes/s" : "bits/s",
                 l->v.names ? "on" : "off", l->v.two_lines ? "2" : "1", l->v.two_lines ? "s" : "",
                 st->frozen ? " | order frozen" : "", st->paused ? " | PAUSED" : "");
        line_text(&ln, left, l->v.width);
    } else if (summary != NULL) {
        const struct flows_dir_rates *dirs[2] = {&summary->in, &summary->out};
        int n = snprintf(left, sizeof(left), "total");

        for (int d = 0; d < 2; d++) {
            layout_rate(dirs[d]->r2, l->v.bytes, a, sizeof(a));
            layout_rate(dirs[d]->r10, l->v.bytes, b, sizeof(b));
            layout_rate(dirs[d]->r40, l->v.bytes, c, sizeof(c));
            n += snprintf(left + n, sizeof(left) - (size_t)n, "%s %s 2s %s 10s %s 40s %s",
                          d ? " |" : "", d ? "out" : "in", a, b, c);
        }
        n += snprintf(left + n, sizeof(left) - (size_t)n, " | drops %llu | keys %llu/%llu",
                      (unsigned long long)summary->drops +
                          (unsigned long long)summary->interface_drops,
                      (unsigned long long)summary->keys, (unsigned long long)summary->keys_max);
        if (summary->folded_packets > 0)
            snprintf(left + n, sizeof(left) - (size_t)n, " | folded %llu pkts",
                     (unsigned long long)summary->folded_packets);
        line_text(&ln, left, l->v.width);
    } else {
        line_text(&ln, "total (no summary yet)", l->v.width);
    }
}

static const char *first_title(const char *group)
{
    static const struct {
        const char *group, *title;
    } titles[] = {{"pair", "REMOTE"},  {"remote", "REMOTE"},     {"name", "NAME"},
                  {"port", "SERVICE"}, {"workload", "WORKLOAD"}, {"namespace", "NAMESPACE"},
                  {"net", "NET"},      {"class", "CLASS"}};

    for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
        if (group != NULL && strcmp(group, titles[i].group) == 0)
            return titles[i].title;
    return "REMOTE";
}

/* "---- title ----" centred in cols. */
static void line_banner(struct line *ln, const char *title, int cols)
{
    int n = (int)strlen(title) + 2;
    int left = (cols - n) / 2, right = cols - n - left;

    for (int i = 0; i < left; i++)
        line_add(ln, i == 0 ? " " : "-", 1);
    line_add(ln, " ", 1);
    line_add(ln, title, strlen(title));
    line_add(ln, " ", 1);
    for (int i = 0; i < right; i++)
        line_add(ln, "-", 1);
}

void layout_heading(const struct layout *l, const char *group, int line, char *out, size_t len)
{
    int windows = l->show_r40 ? 3 : 2;
    static const char *const wnames[3] = {"2s", "10s", "40s"};
    struct line ln;

    line_start(&ln, out, len);
    if (l->v.two_lines) {
        if (line == 0) {
            line_pad(&ln, l->name_w + PORT_W + DIR_W);
            line_banner(&ln, "rate", RATE_W * windows);
            return;
        }
        line_text(&ln,
                  group != NULL && strcmp(group, "pair") == 0 ? "REMOTE / local"
                                                              : first_title(group),
                  l->name_w);
        line_text(&ln, "PORT", PORT_W);
        line_pad(&ln, DIR_W);
        for (int w = 0; w < windows; w++)
            line_right(&ln, wnames[w], RATE_W);
        if (l->show_total) {
            line_pad(&ln, 1);
            line_right(&ln, "total", RATE_W);
        }
        if (l->show_peak) {
            line_pad(&ln, 1);
            line_right(&ln, "peak", RATE_W);
        }
        if (l->show_cost) {
            line_pad(&ln, 1);
            line_right(&ln, "cost", RATE_W);
        }
        return;
    }
    if (line == 0) {
        line_pad(&ln, l->name_w + PORT_W);
        line_banner(&ln, "in", 1 + RATE_W * windows);
        line_banner(&ln, "out", 1 + RATE_W * windows);
        if (l->show_total)
            line_banner(&ln, "total", 1 + 2 * RATE_W);
        if (l->show_peak)
            line_banner(&ln, "peak", 1 + 2 * RATE_W);
        return;
    }
    line_text(&ln, first_title(group), l->name_w);
    line_text(&ln, "PORT", PORT_W);
    for (int d = 0; d < 2; d++) {
        line_pad(&ln, 1);
        for (int w = 0; w < windows; w++)
            line_right(&ln, wnames[w], RATE_W);
    }
    if (l->show_total) {
        line_pad(&ln, 1);
        line_right(&ln, "in", RATE_W);
        line_right(&ln, "out", RATE_W);
    }
    if (l->show_peak) {
        line_pad(&ln, 1);
        line_right(&ln, "in", RATE_W);
        line_right(&ln, "out", RATE_W);
    }
    if (l->show_cost) {
        line_pad(&ln, 1);
        line_right(&ln, "cost", RATE_W);
    }
}

void layout_label(const struct flows_row *r, const char *group, bool names, char *out, size_t len)
{
    if (flows_row_is_table_row(r)) {
        snprintf(out, len, "(%s)", strcmp(r->remote, "other") == 0 ? "other" : r->proto);
    } else if (group != NULL && strcmp(group, "port") == 0) {
        /* /etc/services only: getservbyport reads a local file, never the network. */
        const struct servent *se = names && r->port > 0 && r->proto[0]
                                       ? getservbyport(htons((uint16_t)r->port), r->proto)
                                       : NULL;

        if (se != NULL)
            snprintf(out, len, "%s (%u/%s)", se->s_name, r->port, r->proto);
        else if (r->port > 0)
            snprintf(out, len, "%u/%s", r->port, r->proto);
        else
            snprintf(out, len, "%s", r->proto[0] ? r->proto : "(none)");
    } else if (group == NULL || strcmp(group, "pair") == 0 || strcmp(group, "remote") == 0) {
        snprintf(out, len, "%s", names && r->remote_name[0] ? r->remote_name : r->remote);
    } else if (strcmp(group, "name") == 0) {
        snprintf(out, len, "%s", r->remote_name[0] ? r->remote_name : "(no name)");
    } else if (strcmp(group, "workload") == 0) {
        if (r->remote_workload[0] == '\0')
            snprintf(out, len, "(no workload)");
        else
            snprintf(out, len, "%s%s%s%s%s%s", r->remote_namespace,
                     r->remote_namespace[0] ? "/" : "", r->remote_workload,
                     r->remote_kind[0] ? " (" : "", r->remote_kind, r->remote_kind[0] ? ")" : "");
    } else if (strcmp(group, "namespace") == 0) {
        snprintf(out, len, "%s", r->remote_namespace[0] ? r->remote_namespace : "(no namespace)");
    } else if (strcmp(group, "net") == 0) {
        snprintf(out, len, "%s", r->net[0] ? r->net : "(no net label)");
    } else if (strcmp(group, "class") == 0) {
        snprintf(out, len, "%s", r->class_[0] ? r->class_ : "(no class)");
    } else {
        snprintf(out, len, "%s", r->remote_name[0] ? r->remote_name : r->remote);
    }
}

/* What the second line of a two-line row names: the local end, or how many keys it sums. */
static void second_label(const struct flows_row *r, char *out, size_t len)
{
    if (r->local[0] != '\0' && strcmp(r->local, "none") != 0)
        snprintf(out, len, "  %s%s", r->local, r->keys > 1 ? " (several keys)" : "");
    else
        snprintf(out, len, "  %llu key%s", (unsigned long long)r->keys, r->keys == 1 ? "" : "s");
}

static void port_text(const struct flows_row *r, char *out, size_t len)
{
    if (strcmp(r->remote, "none") == 0 || strcmp(r->proto, "other") == 0)
        snprintf(out, len, "%s", "");
    else if (r->port > 0)
        snprintf(out, len, "%u/%s", r->port, r->proto);
    else
        snprintf(out, len, "%s", r->proto);
}

/* A row's port and numbers, after its first column. */
static void row_numbers(struct line *ln, const struct layout *l, const struct flows_row *r,
                        const char *port, int line)
{
    if (l->v.two_lines) {
        const struct flows_rates *d = line == 0 ? &r->in : &r->out;

        line_text(ln, line == 0 ? port : "", PORT_W);
        line_text(ln, line == 0 ? "in" : "out", DIR_W);
        line_rate(ln, l, d->r2);
        line_rate(ln, l, d->r10);
        if (l->show_r40)
            line_rate(ln, l, d->r40);
        if (l->show_total) {
            line_pad(ln, 1);
            line_size(ln, d->total);
        }
        if (l->show_peak) {
            line_pad(ln, 1);
            line_rate(ln, l, d->peak);
        }
        if (l->show_cost) {
            line_pad(ln, 1);
            line_cost(ln, line == 0 ? r->cost_usd : -1);
        }
        return;
    }
    line_text(ln, port, PORT_W);
    for (int dir = 0; dir < 2; dir++) {
        const struct flows_rates *d = dir == 0 ? &r->in : &r->out;

        line_pad(ln, 1);
        line_rate(ln, l, d->r2);
        line_rate(ln, l, d->r10);
        if (l->show_r40)
            line_rate(ln, l, d->r40);
    }
    if (l->show_total) {
        line_pad(ln, 1);
        line_size(ln, r->in.total);
        line_size(ln, r->out.total);
    }
    if (l->show_peak) {
        line_pad(ln, 1);
        line_rate(ln, l, r->in.peak);
        line_rate(ln, l, r->out.peak);
    }
    if (l->show_cost) {
        line_pad(ln, 1);
        line_cost(ln, r->cost_usd);
    }
}

void layout_row(const struct layout *l, const struct flows_row *r, const char *group, int line,
                char *out, size_t len)
{
    char label[FLOWS_NAME_MAX + FLOWS_LABEL_MAX], port[48];
    struct line ln;

    /* Grouped by port, the first column names the port already. */
    if (group != NULL && strcmp(group, "port") == 0)
        port[0] = '\0';
    else
        port_text(r, port, sizeof(port));
    line_start(&ln, out, len);
    if (line == 0)
        layout_label(r, group, l->v.names, label, sizeof(label));
    else
        second_label(r, label, sizeof(label));
    /* One column of air between a cut name and the port. */
    line_text(&ln, label, l->name_w - 1);
    line_pad(&ln, 1);
    row_numbers(&ln, l, r, port, line);
}

void layout_others(const struct layout *l, const struct flows_row *others, int line, char *out,
                   size_t len)
{
    char label[64];
    struct line ln;

    line_start(&ln, out, len);
    if (line == 0)
        snprintf(label, sizeof(label), "others (%llu key%s)", (unsigned long long)others->keys,
                 others->keys == 1 ? "" : "s");
    else
        label[0] = '\0';
    /* A narrow screen gets the word without a cut count. */
    if ((int)strlen(label) > l->name_w - 1)
        snprintf(label, sizeof(label), "%s", line == 0 ? "others" : "");
    line_text(&ln, label, l->name_w);
    row_numbers(&ln, l, others, "", line);
}

static double shown(const struct layout *l, double bytes_per_s)
{
    return l->v.bytes ? bytes_per_s : bytes_per_s * 8.0;
}

double layout_scale_max(const struct layout *l, double bytes_per_s)
{
    double v = shown(l, bytes_per_s), max = 1e4;

    while (max < v && max < 1e15)
        max *= 10.0;
    return max;
}

int layout_bar_len(const struct layout *l, double bytes_per_s, double scale_max, int width)
{
    double v = shown(l, bytes_per_s), frac;

    if (v < 1.0 || scale_max <= 1.0)
        return 0;
    frac = log(v) / log(scale_max);
    if (frac > 1.0)
        frac = 1.0;
    return (int)(frac * width + 0.5);
}

/* A power of ten as a short label: "10b", "100Kb", "1MB". */
static void tick_label(double tick, bool bytes, char *out, size_t len)
{
    static const char *const prefixes = " KMGTP";
    int p = 0;

    while (tick >= 1000.0 && p < 5) {
        tick /= 1000.0;
        p++;
    }
    snprintf(out, len, "%.0f%.*s%s", tick, p > 0 ? 1 : 0, prefixes + p, bytes ? "B" : "b");
}

void layout_scale_line(const struct layout *l, double scale_max, char *out, size_t len)
{
    int width = l->v.width, next_free = 0;
    char text[32];

    if (len == 0)
        return;
    if ((size_t)width >= len)
        width = (int)len - 1;
    memset(out, ' ', (size_t)width);
    out[width] = '\0';
    for (int power = 1; pow(10.0, power) <= scale_max * 1.001 && power < 16; power++) {
        double tick = pow(10.0, power);
        int x = (int)(log(tick) / log(scale_max) * width + 0.5);
        int n;

        tick_label(tick, l->v.bytes, text, sizeof(text));
        n = (int)strlen(text);
        /* The label ends at its tick; it is left out where it would not fit or overlap. */
        if (x - n < next_free || x > width)
            continue;
        memcpy(out + x - n, text, (size_t)n);
        if (x < width)
            out[x] = '|';
        next_free = x + 2;
    }
}

/* Appends a line without the padding its columns left at the end. */
static int put_line(struct buf *b, const char *text)
{
    size_t n = strlen(text);

    while (n > 0 && text[n - 1] == ' ')
        n--;
    return buf_append(b, text, n) | buf_append_char(b, '\n');
}

int layout_text_screen(struct buf *b, const struct layout *l, const struct layout_state *st,
                       const struct flows *f, const struct flows_summary *summary)
{
    char text[LAYOUT_LINE_MAX];
    int rc = 0;

    for (int i = 0; i < 3; i++) {
        layout_header(l, st, summary, f->time_ms, i, text, sizeof(text));
        rc |= put_line(b, text);
    }
    for (int i = 0; i < 2; i++) {
        layout_heading(l, f->group, i, text, sizeof(text));
        rc |= put_line(b, text);
    }
    for (size_t r = 0; r < f->n_rows; r++) {
        for (int i = 0; i < layout_row_lines(l); i++) {
            layout_row(l, &f->rows[r], f->group, i, text, sizeof(text));
            rc |= put_line(b, text);
        }
    }
    if (f->n_rows == 0)
        rc |= buf_printf(b, "(no rows%s)\n", f->filter[0] ? " match the filter" : " yet");
    for (int i = 0; i < layout_row_lines(l); i++) {
        layout_others(l, &f->others, i, text, sizeof(text));
        rc |= put_line(b, text);
    }
    return rc == 0 ? 0 : -1;
}
