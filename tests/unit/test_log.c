/* Log tests: text from servers reaches stderr with its control characters and stray bytes
 * escaped, on one line. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/log.h"
#include "test.h"

static void test_escape(void)
{
    char out[128];

    CHECK_EQ(log_escape("plain text", out, sizeof(out)), 10);
    CHECK_STR(out, "plain text");
    log_escape("HTTP 400: \x1b[2J\x1b]0;owned\x07 done\n", out, sizeof(out));
    CHECK_STR(out, "HTTP 400: \\x1b[2J\\x1b]0;owned\\x07 done");
    log_escape("a\r\nfake line\tb\x7f", out, sizeof(out));
    CHECK_STR(out, "a\\x0d\\x0afake line\\x09b\\x7f");
    log_escape("caf\xc3\xa9 \xff \xc2\x9b", out, sizeof(out));
    CHECK_STR(out, "caf\xc3\xa9 \\xff \\xc2\\x9b");
    /* Cut to fit, never in the middle of an escape. */
    log_escape("\x1b\x1b\x1b", out, 9);
    CHECK_STR(out, "\\x1b\\x1b");
}

/* What log_warnx prints, read back from a file standing in for stderr. */
static void test_printed(void)
{
    char path[] = "/tmp/nstats-log-XXXXXX", text[256] = "";
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    FILE *f;

    CHECK(fd != -1 && saved != -1);
    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    log_warnx("server said: %s", "bad\x1b[31m\nnstats: forged");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    f = fdopen(fd, "r");
    rewind(f);
    text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
    fclose(f);
    unlink(path);
    CHECK_STR(text, "nstats: server said: bad\\x1b[31m\\x0anstats: forged\n");
}

int main(void)
{
    RUN(test_escape);
    RUN(test_printed);
    return test_report();
}
