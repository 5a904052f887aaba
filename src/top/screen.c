/* ncurses drawing: the text comes from layout, the bars (reverse video behind each row, on
 * iftop's log scale) and the overlays are added here. */
#include "screen.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

#define HEADER_LINES 3
#define TOP_LINES 6 /* header, ruler, two heading lines */

static SCREEN *term;
static bool colors;

enum { PAIR_ALERT = 1, PAIR_TITLE, PAIR_BAR };

int screen_start(char *errbuf, size_t errlen)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(errbuf, errlen, "the interactive view needs a terminal (or use --batch)");
        return -1;
    }
    /* newterm, unlike initscr, returns NULL rather than exiting for an unknown TERM. */
    term = newterm(NULL, stdout, stdin);
    if (term == NULL) {
        snprintf(errbuf, errlen, "cannot use the terminal (TERM=%s)",
                 getenv("TERM") != NULL ? getenv("TERM") : "(unset)");
        return -1;
    }
    set_term(term);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    colors = has_colors();
    if (colors) {
        start_color();
        use_default_colors();
        init_pair(PAIR_ALERT, COLOR_RED, -1);
        init_pair(PAIR_TITLE, COLOR_CYAN, -1);
        init_pair(PAIR_BAR, COLOR_GREEN, -1);
    }
    return 0;
}

void screen_stop(void)
{
    if (term == NULL)
        return;
    curs_set(1);
    endwin();
    delscreen(term);
    term = NULL;
}

void screen_size(int *rows, int *cols)
{
    getmaxyx(stdscr, *rows, *cols);
}

static int others_lines(const struct layout *l)
{
    return layout_row_lines(l);
}

size_t screen_rows_visible(const struct layout *l)
{
    int rows, cols, free_lines;

    screen_size(&rows, &cols);
    (void)cols;
    free_lines = rows - TOP_LINES - others_lines(l) - 1;
    return free_lines > 0 ? (size_t)(free_lines / layout_row_lines(l)) : 0;
}

int screen_key(void)
{
    int ch = getch();

    switch (ch) {
    case ERR:
        return SCREEN_KEY_NONE;
    case KEY_RESIZE:
        return SCREEN_KEY_RESIZE;
    case KEY_UP:
        return SCREEN_KEY_UP;
    case KEY_DOWN:
        return SCREEN_KEY_DOWN;
    case KEY_PPAGE:
        return SCREEN_KEY_PGUP;
    case KEY_NPAGE:
        return SCREEN_KEY_PGDN;
    case KEY_HOME:
        return SCREEN_KEY_HOME;
    case KEY_END:
        return SCREEN_KEY_END;
    case KEY_ENTER:
    case '\n':
    case '\r':
        return SCREEN_KEY_ENTER;
    case KEY_BACKSPACE:
    case 127:
    case 8:
        return SCREEN_KEY_BACKSPACE;
    default:
        return ch >= 0 && ch < 256 ? ch : SCREEN_KEY_NONE;
    }
}

/* A line of text at y, cut to the screen's width. */
static void put(int y, const char *text, int cols)
{
    move(y, 0);
    addnstr(text, cols);
    clrtoeol();
}

static double bar_rate(const struct flows_rates *r, int window)
{
    return window == 0 ? r->r2 : window == 2 ? r->r40 : r->r10;
}

/* Reverse video over the first columns of line y: the rate's bar. */
static void bar(const struct screen_frame *f, int y, double bytes_per_s, int cols)
{
    int len = layout_bar_len(f->layout, bytes_per_s, f->scale_max, cols);

    if (len > 0)
        mvchgat(y, 0, len, A_REVERSE, colors ? PAIR_BAR : 0, NULL);
}

static const char *const help_text[] = {
    "nstats top - keys",
    "",
    "  1 2 3     sort by the 2 s, 10 s or 40 s rate (in + out)",
    "  < >       sort by name, a-z or z-a",
    "  g         group: pair, remote, name, port, workload, namespace, net",
    "  /         filter: a CIDR, port:N or text (Enter applies, Esc cancels)",
    "  n         names on/off (addresses instead)",
    "  b         bits/s or bytes/s",
    "  t         one or two lines per row",
    "  o         freeze the order of the rows",
    "  p         pause updates",
    "  j k       scroll (also arrows, PgUp/PgDn, Home/End)",
    "  h ?       this help",
    "  q         quit",
    "",
    "bars: the sorted window's rate on a log scale (the ruler's ticks)",
    "any key closes this help",
};

static void draw_help(int rows, int cols)
{
    int n = (int)(sizeof(help_text) / sizeof(help_text[0]));
    int w = 0, y0, x0;

    for (int i = 0; i < n; i++)
        if ((int)strlen(help_text[i]) > w)
            w = (int)strlen(help_text[i]);
    w += 4;
    if (w > cols)
        w = cols;
    y0 = (rows - n - 2) / 2 > 0 ? (rows - n - 2) / 2 : 0;
    x0 = (cols - w) / 2 > 0 ? (cols - w) / 2 : 0;
    for (int i = -1; i <= n && y0 + i + 1 < rows; i++) {
        char line[256];
        const char *t = i >= 0 && i < n ? help_text[i] : "";

        if (i == -1 || i == n) {
            memset(line, '-', (size_t)w);
            line[0] = line[w - 1] = '+';
            line[w] = '\0';
        } else {
            snprintf(line, sizeof(line), "| %-*s |", w - 4, t);
        }
        mvaddnstr(y0 + i + 1, x0, line, cols - x0);
    }
}

void screen_draw(const struct screen_frame *f, bool repaint)
{
    const struct layout *l = f->layout;
    const struct flows *fl = f->flows;
    int rows, cols, y, lines = layout_row_lines(l), bottom;
    char text[LAYOUT_LINE_MAX];

    screen_size(&rows, &cols);
    if (repaint)
        clear();
    else
        erase();
    for (y = 0; y < HEADER_LINES && y < rows; y++) {
        layout_header(l, f->state, f->summary, fl->time_ms, y, text, sizeof(text));
        if (y == 0)
            attron(A_BOLD | (colors ? COLOR_PAIR(PAIR_TITLE) : 0));
        put(y, text, cols);
        attrset(A_NORMAL);
    }
    if (y < rows) {
        layout_scale_line(l, f->scale_max, text, sizeof(text));
        attron(A_DIM);
        put(y++, text, cols);
        attrset(A_NORMAL);
    }
    for (int i = 0; i < 2 && y < rows; i++) {
        layout_heading(l, fl->group, i, text, sizeof(text));
        attron(i == 1 ? A_BOLD : A_DIM);
        put(y++, text, cols);
        attrset(A_NORMAL);
    }
    bottom = rows - 1 - others_lines(l);
    for (size_t r = f->first_row; r < fl->n_rows && y + lines <= bottom; r++) {
        const struct flows_row *row = &fl->rows[r];

        for (int i = 0; i < lines; i++, y++) {
            layout_row(l, row, fl->group, i, text, sizeof(text));
            put(y, text, cols);
            if (lines == 2)
                bar(f, y, bar_rate(i == 0 ? &row->in : &row->out, f->bar_window), cols);
            else
                bar(f, y, bar_rate(&row->in, f->bar_window) + bar_rate(&row->out, f->bar_window),
                    cols);
        }
    }
    if (fl->n_rows == 0 && y < bottom)
        put(y++, fl->filter[0] ? "(no rows match the filter)" : "(no rows yet)", cols);
    for (int i = 0; i < others_lines(l) && bottom + i < rows - 1 && bottom + i >= TOP_LINES; i++) {
        layout_others(l, &fl->others, i, text, sizeof(text));
        attron(A_DIM);
        put(bottom + i, text, cols);
        attrset(A_NORMAL);
    }
    if (rows > 0) {
        if (f->prompt != NULL) {
            char safe[512];

            log_escape(f->prompt, safe, sizeof(safe));
            snprintf(text, sizeof(text), "filter (CIDR, port:N or text; Enter, Esc): %s_", safe);
            attron(A_BOLD);
        } else if (f->status != NULL) {
            log_escape(f->status, text, sizeof(text));
            attron(A_BOLD | (f->status_alert && colors ? COLOR_PAIR(PAIR_ALERT) : 0));
        } else {
            size_t shown_end = f->first_row + screen_rows_visible(l);

            snprintf(text, sizeof(text),
                     "rows %zu-%zu of %zu | q quit  h help  1 2 3 < > sort  g group  / filter  "
                     "n names  b bytes  t lines  o freeze  p pause  j k scroll",
                     fl->n_rows ? f->first_row + 1 : 0,
                     shown_end < fl->n_rows ? shown_end : fl->n_rows, fl->n_rows);
            attron(A_REVERSE);
        }
        put(rows - 1, text, cols);
        attrset(A_NORMAL);
    }
    if (f->help)
        draw_help(rows, cols);
    refresh();
}
