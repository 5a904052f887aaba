/* Fuzz target for the Prometheus renderer: arbitrary label values and help text must render to
 * one well-formed sample line whose value parses back to the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/prom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Undoes the label-value escaping; returns the end of the value (the closing quote). */
static const char *unescape(const char *p, char *out)
{
    while (*p && *p != '"') {
        if (*p == '\\') {
            p++;
            if (*p == 'n')
                *out++ = '\n';
            else if (*p == '\\' || *p == '"')
                *out++ = *p;
            else
                abort(); /* no other escape may appear */
            p++;
        } else {
            if (*p == '\n')
                abort(); /* a raw newline would end the sample */
            *out++ = *p++;
        }
    }
    *out = '\0';
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *value, *back;
    struct prom_label l[2];
    struct buf b;
    const char *p, *nl;

    if (size > 4096)
        return 0;
    value = malloc(size + 1);
    back = malloc(2 * size + 2);
    memcpy(value, data, size);
    value[size] = '\0';
    buf_init(&b, 1 << 16);
    l[0] = (struct prom_label){"a", value, false};
    l[1] = (struct prom_label){"b", "x", false};
    if (prom_family(&b, "m", "counter", value) == -1 || prom_sample_u64(&b, "m", l, 2, 7) == -1)
        abort();
    /* The HELP line holds no raw newline; the sample is the third line. */
    nl = strchr(b.data, '\n');
    if (nl == NULL || strncmp(nl + 1, "# TYPE m counter\n", 17) != 0)
        abort();
    p = strstr(nl + 1, "\nm{a=\"");
    if (p == NULL)
        abort();
    p = unescape(p + 6, back);
    if (strcmp(back, value) != 0 || strcmp(p, "\",b=\"x\"} 7\n") != 0)
        abort();
    buf_free(&b);
    free(value);
    free(back);
    return 0;
}
