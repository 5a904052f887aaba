/* URL credential redaction: one rule for --check-config and the InfluxDB sink's logs. */
#include "url.h"

#include <stdio.h>
#include <string.h>

void url_redact(const char *url, const char *mask, char *out, size_t len)
{
    const char *scheme = strstr(url, "://");
    const char *host = scheme ? scheme + 3 : NULL;
    /* The authority ends at the first '/', '?' or '#'; an '@' past it is not a credential. */
    size_t authority = host ? strcspn(host, "/?#") : 0;
    const char *at = host ? memchr(host, '@', authority) : NULL;

    if (len == 0)
        return;
    if (at == NULL) {
        snprintf(out, len, "%s", url);
        return;
    }
    /* The last '@' ends the user information: a password may itself hold one. */
    for (const char *p = at + 1; p < host + authority; p++)
        if (*p == '@')
            at = p;
    snprintf(out, len, "%.*s%s%s", (int)(host - url), url, mask, at + 1);
}
