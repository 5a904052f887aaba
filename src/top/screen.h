/* The interactive view on ncurses: draws a frame of nstats top and reads keys. */
#ifndef NSTATS_TOP_SCREEN_H
#define NSTATS_TOP_SCREEN_H

#include <stdbool.h>
#include <stddef.h>

#include "top/flows.h"
#include "top/layout.h"

/* Keys beyond plain characters, as screen_key returns them. */
enum {
    SCREEN_KEY_NONE = -1,
    SCREEN_KEY_RESIZE = 0x1000,
    SCREEN_KEY_UP,
    SCREEN_KEY_DOWN,
    SCREEN_KEY_PGUP,
    SCREEN_KEY_PGDN,
    SCREEN_KEY_HOME,
    SCREEN_KEY_END,
    SCREEN_KEY_ENTER,
    SCREEN_KEY_BACKSPACE,
};

/* Everything one frame shows. */
struct screen_frame {
    const struct layout *layout;
    const struct layout_state *state;
    const struct flows *flows; /* rows in the order shown */
    const struct flows_summary *summary;
    size_t first_row;   /* scrolled past this many rows */
    int bar_window;     /* 0, 1, 2: the 2 s, 10 s or 40 s rate the bars show */
    double scale_max;   /* the bars' log scale, as layout_scale_max gives it */
    const char *status; /* a message for the bottom line, NULL for the key hints */
    bool status_alert;  /* the message is trouble (connection lost) */
    const char *prompt; /* the filter being typed, NULL when not typing */
    bool help;          /* the help overlay */
};

/* Takes the terminal (cbreak, no echo, keypad, the alternate screen). Returns 0, or -1 with the
 * reason in errbuf (no terminal, unknown TERM). */
int screen_start(char *errbuf, size_t errlen);
/* Gives the terminal back as it was. Safe to call when not started. */
void screen_stop(void);
/* The terminal's size now. */
void screen_size(int *rows, int *cols);
/* Rows of data a frame has room for, with layout's lines per row. */
size_t screen_rows_visible(const struct layout *l);
/* The next key without waiting, SCREEN_KEY_NONE when none is there. */
int screen_key(void);
/* Draws a frame; after a resize everything is repainted. */
void screen_draw(const struct screen_frame *f, bool repaint);

#endif
