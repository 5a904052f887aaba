/* Logging to stderr in the OpenBSD style: warn adds strerror(errno), warnx does not. */
#ifndef NSTATS_LOG_H
#define NSTATS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Sets the most verbose level that is printed (default LOG_LEVEL_INFO). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Messages are one line each, prefixed with "nstats: ". Control characters and bytes that are
 * not UTF-8 are printed as \xHH (see log_escape), so text from a server cannot forge lines or
 * drive a terminal. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One rate limit for one kind of message, zeroed before first use (e.g. in a calloc'd struct):
 * runtime trouble that repeats is logged at most once a period, with a count of what was
 * held back, so an outage cannot flood the log. */
struct log_limit {
    uint64_t last_ms;    /* when a message was last printed */
    unsigned suppressed; /* held back since then */
    bool printed;        /* false until the first message */
};

/* Like log_warn and log_warnx, but print only if nothing went through lim in the last every_ms
 * (now_ms on any clock the caller keeps using); otherwise count the message as suppressed.
 * A printed line ends with "(N similar suppressed)" when some were. Returns true if printed. */
bool log_warn_limited(struct log_limit *lim, uint64_t now_ms, uint64_t every_ms, const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));
bool log_warnx_limited(struct log_limit *lim, uint64_t now_ms, uint64_t every_ms, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));

/* Copies s into out (always terminated, cut to fit len) with trailing newlines dropped and
 * every control character (C0, DEL, C1) and every byte that is not part of well-formed UTF-8
 * written as \xHH. Returns the length written. Pure. */
size_t log_escape(const char *s, char *out, size_t len);

#endif
