/* UTF-8 validation for text that leaves nstats: tags, /metrics labels, log lines. */
#ifndef NSTATS_UTF8_H
#define NSTATS_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The length of the well-formed UTF-8 character at s (1 to 4), or 0 if the bytes there are
 * not one: a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, or a
 * sequence cut by the end of the avail bytes. avail must be at least 1. Pure. */
size_t utf8_char_len(const char *s, size_t avail);
/* True if the len bytes at s are well-formed UTF-8. */
bool utf8_valid(const char *s, size_t len);
/* True if s is well-formed UTF-8 without control characters (C0, DEL, C1): fit for a tag or
 * label value. */
bool utf8_printable(const char *s);

#endif
