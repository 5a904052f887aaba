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

static void log_vprint(enum log_level level, const char *suffix, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void log_vprint(enum log_level level, const char *suffix, const char *fmt, va_list ap)
{
    char line[1024];

    if (level > current_level)
        return;
    vsnprintf(line, sizeof(line), fmt, ap);
    if (suffix != NULL)
        fprintf(stderr, "nstats: %s: %s\n", line, suffix);
    else
        fprintf(stderr, "nstats: %s\n", line);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    int saved = errno;

    va_start(ap, fmt);
    log_vprint(LOG_LEVEL_WARN, strerror(saved), fmt, ap);
    va_end(ap);
    errno = saved;
}

void log_warnx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vprint(LOG_LEVEL_WARN, NULL, fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vprint(LOG_LEVEL_INFO, NULL, fmt, ap);
    va_end(ap);
}

void log_debug(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vprint(LOG_LEVEL_DEBUG, NULL, fmt, ap);
    va_end(ap);
}
