/* The live page: / is page.html, /assets/NAME the other files compiled in (page/assets.h).
 * The page reads /api/v1 and draws with Chart.js; every URL it uses is relative, so it works
 * behind a path prefix or a port-forward. */
#include "page.h"

#include <string.h>

#include "export/page/assets.h"

#define ASSETS_PREFIX "/assets/"
/* The server's reply body takes at most this much in one append (it passes it on in
 * slices), so a long file is appended in pieces. */
#define APPEND_BYTES ((size_t)32 << 10)

static const struct page_asset *find_asset(const char *name)
{
    for (size_t i = 0; i < page_assets_count; i++)
        if (strcmp(page_assets[i].name, name) == 0)
            return &page_assets[i];
    return NULL;
}

/* The media type by extension: only the kinds the page is made of. */
static const char *content_type_of(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
    };
    const char *dot = strrchr(name, '.');

    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

bool page_handle(const char *path, struct httpd_reply *reply)
{
    const struct page_asset *a = NULL;

    if (strcmp(path, "/") == 0)
        a = find_asset("page.html");
    else if (strncmp(path, ASSETS_PREFIX, strlen(ASSETS_PREFIX)) == 0 &&
             strcmp(path + strlen(ASSETS_PREFIX), "page.html") != 0)
        a = find_asset(path + strlen(ASSETS_PREFIX));
    if (a == NULL)
        return false;
    reply->status = 200;
    reply->content_type = content_type_of(a->name);
    reply->csp = PAGE_CSP;
    reply->cacheable = true;
    for (size_t off = 0; off < a->len && !reply->failed; off += APPEND_BYTES) {
        size_t n = a->len - off < APPEND_BYTES ? a->len - off : APPEND_BYTES;

        if (buf_append(&reply->body, a->data + off, n) == -1)
            reply->failed = true;
    }
    return true;
}
