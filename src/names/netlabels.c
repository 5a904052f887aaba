/* Network labels: a linear longest-prefix scan, run per exported row, not per packet. */
#include "netlabels.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void netlabels_init(struct netlabels *l)
{
    l->n = 0;
}

int netlabels_parse_entry(const char *spec, struct netprefix *prefix, char *label, char *errbuf,
                          size_t errlen)
{
    const char *eq = strchr(spec, '=');
    char cidr[NETADDR_STRLEN + 8];
    size_t clen;

    if (eq == NULL || eq == spec || eq[1] == '\0') {
        snprintf(errbuf, errlen, "'%s' is not CIDR=LABEL", spec);
        return -1;
    }
    clen = (size_t)(eq - spec);
    if (clen >= sizeof(cidr) || strlen(eq + 1) >= NETLABEL_MAX) {
        snprintf(errbuf, errlen, "'%s' is too long", spec);
        return -1;
    }
    memcpy(cidr, spec, clen);
    cidr[clen] = '\0';
    if (netprefix_parse(cidr, prefix) == -1) {
        snprintf(errbuf, errlen, "'%s' is not a network (e.g. 10.0.0.0/8)", cidr);
        return -1;
    }
    snprintf(label, NETLABEL_MAX, "%s", eq + 1);
    return 0;
}

int netlabels_add(struct netlabels *l, const char *spec, char *errbuf, size_t errlen)
{
    if (l->n == NETLABELS_MAX) {
        snprintf(errbuf, errlen, "more than %d network labels", NETLABELS_MAX);
        return -1;
    }
    if (netlabels_parse_entry(spec, &l->prefixes[l->n], l->labels[l->n], errbuf, errlen) == -1)
        return -1;
    l->n++;
    return 0;
}

/* A label file is a short list: reading stops here, so a device or a huge file (--label-file
 * /dev/zero) is refused instead of read forever. */
#define LABEL_FILE_MAX_BYTES (16u << 20)

/* Reads one line into line (len bytes, terminated, newline dropped). Returns 1, 0 at the end of
 * the file, or -1 with a reason: a line longer than len - 1, a NUL byte, past max_bytes. */
static int read_line(FILE *f, char *line, size_t len, size_t *total, const char **why)
{
    size_t n = 0;
    int c;

    while ((c = getc(f)) != EOF) {
        if (++*total > LABEL_FILE_MAX_BYTES) {
            *why = "the file is over 16 MiB";
            return -1;
        }
        if (c == '\n')
            break;
        if (c == '\0') {
            *why = "a NUL byte: not a text file";
            return -1;
        }
        if (n + 1 >= len) {
            *why = "the line is longer than 511 bytes";
            return -1;
        }
        line[n++] = (char)c;
    }
    line[n] = '\0';
    return c == EOF && n == 0 ? 0 : 1;
}

int netlabels_load_file(struct netlabels *l, const char *path, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[512];
    unsigned lineno = 0;
    size_t total = 0;
    const char *why = NULL;
    int rc;

    if (f == NULL) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    while ((rc = read_line(f, line, sizeof(line), &total, &why)) == 1) {
        char *p = line, *end;
        char reason[256];

        lineno++;
        while (*p == ' ' || *p == '\t')
            p++;
        end = p + strlen(p);
        while (end > p && (end[-1] == '\r' || end[-1] == ' '))
            *--end = '\0';
        if (*p == '\0' || *p == '#')
            continue;
        if (netlabels_add(l, p, reason, sizeof(reason)) == -1) {
            snprintf(errbuf, errlen, "%s:%u: %s", path, lineno, reason);
            fclose(f);
            return -1;
        }
    }
    if (rc == -1)
        snprintf(errbuf, errlen, "%s:%u: %s", path, lineno + 1, why);
    else if (ferror(f))
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
    rc = rc == -1 || ferror(f) ? -1 : 0;
    fclose(f);
    return rc;
}

const char *netlabels_find(const struct netlabels *l, const struct netaddr *a)
{
    const char *best = NULL;
    int best_bits = -1;

    for (size_t i = 0; i < l->n; i++) {
        if (l->prefixes[i].bits > best_bits && netprefix_contains(&l->prefixes[i], a)) {
            best = l->labels[i];
            best_bits = l->prefixes[i].bits;
        }
    }
    return best;
}
