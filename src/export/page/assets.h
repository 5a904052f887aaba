/* The live page's files, compiled in: page_assets.c is generated at build time by
 * src/export/page/embed.cmake from page.html, page.js, page.css, icon.svg and Debian's
 * Chart.js (libjs-chart.js). */
#ifndef NSTATS_PAGE_ASSETS_H
#define NSTATS_PAGE_ASSETS_H

#include <stddef.h>

struct page_asset {
    const char *name;          /* the file's name, e.g. "chart.js" */
    const unsigned char *data; /* len bytes, then a NUL not counted */
    size_t len;
};

extern const struct page_asset page_assets[];
extern const size_t page_assets_count;

#endif
