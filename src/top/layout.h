/* The text of nstats top's screen, shared by the ncurses view and --batch: numbers formatted
 * like iftop's (three significant digits, SI prefixes), columns fitted to a width. */
#ifndef NSTATS_TOP_LAYOUT_H
#define NSTATS_TOP_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "top/flows.h"

/* Room for one line of any width a terminal has. */
#define LAYOUT_LINE_MAX 1024

/* What the person chose that shapes the text. */
struct layout_view {
    int width;      /* columns */
    bool bytes;     /* rates in bytes/s, else bits/s */
    bool names;     /* remote names where known, else addresses */
    bool two_lines; /* in on the first line, out (and the local end) on a second */
    bool cost;      /* the rows have a cost (nstats was given prices) */
};

/* Column widths worked out from a view. */
struct layout {
    struct layout_view v;
    int name_w;
    bool show_r40, show_total, show_peak, show_cost;
};

/* What the header says besides the numbers. */
struct layout_state {
    const char *target; /* the API's base URL */
    const char *group;
    const char *sort, *order;
    const char *filter;
    bool frozen, paused;
};

void layout_init(struct layout *l, const struct layout_view *v);
/* USD as the cost column writes it, in at most 8 columns: "$1234", "$12.35", "$0.0123",
 * "<$0.0001", "$0". Pure. */
void layout_cost(double usd, char *out, size_t len);
/* Text lines a row takes: 1 or 2. */
int layout_row_lines(const struct layout *l);

/* A rate (bytes per second) as iftop writes it: "12.5Mb", "640Kb", "980b"; with bytes
 * "1.56MB". SI prefixes (1 Kb = 1000 b). Pure. */
void layout_rate(double bytes_per_s, bool bytes, char *out, size_t len);
/* A byte count: "48.0MB", "810KB", "12B". Pure. */
void layout_size(uint64_t bytes, char *out, size_t len);
/* The sort as a person reads it: "10s", "in 10s", "name a-z". Pure. */
const char *layout_sort_label(const char *sort, const char *order);
/* Which window a sort orders by, for the bars: 0 (2 s), 1 (10 s) or 2 (40 s). Pure. */
int layout_sort_window(const char *sort);

/* The three header lines (0-2): source and time, the view's settings, the summary's totals.
 * summary may be NULL before one arrived. */
void layout_header(const struct layout *l, const struct layout_state *st,
                   const struct flows_summary *summary, uint64_t time_ms, int line, char *out,
                   size_t len);
/* The two column-heading lines (0-1) for a grouping. */
void layout_heading(const struct layout *l, const char *group, int line, char *out, size_t len);
/* Line 0 or 1 (two-line mode) of a row. */
void layout_row(const struct layout *l, const struct flows_row *r, const char *group, int line,
                char *out, size_t len);
/* The footer row summing what limit cut off. */
void layout_others(const struct layout *l, const struct flows_row *others, int line, char *out,
                   size_t len);
/* The first column's text for a row: name or address, or the grouping's label. */
void layout_label(const struct flows_row *r, const char *group, bool names, char *out, size_t len);

/* The smallest power of ten (bits or bytes, as l shows) at least value, 10 kb/s at least: the
 * top of the bars' log scale. Pure. */
double layout_scale_max(const struct layout *l, double bytes_per_s);
/* How many columns of width a bar for bytes_per_s covers on a log scale topped by scale_max
 * (iftop's: log(rate) / log(max) of the width). Pure. */
int layout_bar_len(const struct layout *l, double bytes_per_s, double scale_max, int width);
/* The ruler over the bars: tick labels at every power of ten up to scale_max. */
void layout_scale_line(const struct layout *l, double scale_max, char *out, size_t len);

/* A whole plain-text screen (header, headings, every row, others) for --batch. */
int layout_text_screen(struct buf *b, const struct layout *l, const struct layout_state *st,
                       const struct flows *f, const struct flows_summary *summary);

#endif
