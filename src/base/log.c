/* Logging to stderr: one line per message, so log collectors keep them whole. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

/* suffix (strerror) may be NULL; suppressed > 0 adds a count of held-back messages. */
static void log_vprint(enum log_level level, const char *suffix, unsigned suppressed,
                       const char *fmt, va_list ap)
{
    char line[1024], note[64] = "";

    if (level > current_level)
        return;
    vsnprintf(line, sizeof(line), fmt, ap);
    if (suppressed > 0)
        snprintf(note, sizeof(note), " (%u similar suppressed)", suppressed);
    fprintf(stderr, "nstats: %s%s%s%s\n", line, suffix ? ": " : "", suffix ? suffix : "", note);
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
