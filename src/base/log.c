/* Logging to stderr: one line per message, so log collectors keep them whole. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/utf8.h"

static enum log_level current_level = LOG_LEVEL_INFO;

void log_set_level(enum log_level level)
{
    current_level = level;
}

enum log_level log_get_level(void)
{
    return current_level;
}

static void log_vprint(enum log_level level, const char *suffix, unsigned suppressed,
                       const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

size_t log_escape(const char *s, char *out, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(s), w = 0;

    if (len == 0)
        return 0;
    /* The line's own newline is added when it is printed. */
    while (n > 0 && s[n - 1] == '\n')
        n--;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = utf8_char_len(s + i, n - i);

        /* A C1 control (U+0080..U+009F) is as much a terminal command as ESC. */
        if (k == 0 || c < 0x20 || c == 0x7f ||
            (k == 2 && c == 0xc2 && (unsigned char)s[i + 1] < 0xa0)) {
            if (w + 4 >= len)
                break;
            out[w++] = '\\';
            out[w++] = 'x';
            out[w++] = hex[c >> 4];
            out[w++] = hex[c & 15];
            i++;
            continue;
        }
        if (w + k >= len)
            break;
        memcpy(out + w, s + i, k);
        w += k;
        i += k;
    }
    out[w] = '\0';
    return w;
}

/* suffix (strerror) may be NULL; suppressed > 0 adds a count of held-back messages. */
static void log_vprint(enum log_level level, const char *suffix, unsigned suppressed,
                       const char *fmt, va_list ap)
{
    char line[1024], note[64] = "", whole[1200], shown[4 * sizeof(whole)];

    if (level > current_level)
        return;
    vsnprintf(line, sizeof(line), fmt, ap);
    if (suppressed > 0)
        snprintf(note, sizeof(note), " (%u similar suppressed)", suppressed);
    snprintf(whole, sizeof(whole), "%s%s%s%s", line, suffix ? ": " : "", suffix ? suffix : "",
             note);
    /* Text from servers and files may hold terminal escapes or line breaks. */
    log_escape(whole, shown, sizeof(shown));
    fprintf(stderr, "nstats: %s\n", shown);
}

/* Whether a limited message may print now; counts it as suppressed if not. */
static bool limit_allows(struct log_limit *lim, uint64_t now_ms, uint64_t every_ms)
{
    if (lim->printed && now_ms - lim->last_ms < every_ms) {
        lim->suppressed++;
        return false;
    }
    lim->printed = true;
    lim->last_ms = now_ms;
    return true;
}

bool log_warn_limited(struct log_limit *lim, uint64_t now_ms, uint64_t every_ms, const char *fmt,
                      ...)
{
    va_list ap;
    int saved = errno;

    if (!limit_allows(lim, now_ms, every_ms))
        return false;
    va_start(ap, fmt);
    log_vprint(LOG_LEVEL_WARN, strerror(saved), lim->suppressed, fmt, ap);
    va_end(ap);
    lim->suppressed = 0;
    errno = saved;
    return true;
}

bool log_warnx_limited(struct log_limit *lim, uint64_t now_ms, uint64_t every_ms, const char *fmt,
                       ...)
{
    va_list ap;

    if (!limit_allows(lim, now_ms, every_ms))
        return false;
    va_start(ap, fmt);
    log_vprint(LOG_LEVEL_WARN, NULL, lim->suppressed, fmt, ap);
    va_end(ap);
    lim->suppressed = 0;
    return true;
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    int saved = errno;

    va_start(ap, fmt);
    log_vprint(LOG_LEVEL_WARN, strerror(saved), 0, fmt, ap);
    va_end(ap);
    errno = saved;
}

void log_warnx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vprint(LOG_LEVEL_WARN, NULL, 0, fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vprint(LOG_LEVEL_INFO, NULL, 0, fmt, ap);
    va_end(ap);
}

void log_debug(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vprint(LOG_LEVEL_DEBUG, NULL, 0, fmt, ap);
    va_end(ap);
}
