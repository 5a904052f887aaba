/* Spool files are named TS-SEQ and a suffix (InfluxDB's TS-SEQ.lp or TS-SEQ.lp.gz); names sort
 * in delivery order. */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fd.h"
#include "base/log.h"
#include "base/xalloc.h"

/* Removes the .tmp-* files of writes that never reached their rename: the process died
 * between open and rename. Only the lock holder calls this, so none is being written. */
static unsigned remove_unfinished(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    unsigned n = 0;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char path[4096];

        if (strncmp(e->d_name, ".tmp-", 5) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (unlink(path) == 0)
            n++;
        else
            log_warn("removing unfinished spool file %s", path);
    }
    closedir(d);
    return n;
}

int spool_prepare(const char *dir, unsigned *tmp_removed, char *errbuf, size_t errlen)
{
    char path[4096];
    int fd;

    *tmp_removed = 0;
    if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
        snprintf(errbuf, errlen, "spool directory %s: %s", dir, strerror(errno));
        return -1;
    }
    if (access(dir, W_OK | X_OK) == -1) {
        snprintf(errbuf, errlen, "spool directory %s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/.lock", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd == -1) {
        snprintf(errbuf, errlen, "spool directory %s: %s: %s", dir, path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
        snprintf(errbuf, errlen, "spool directory %s: %s", dir,
                 errno == EWOULDBLOCK ? "in use by another nstats" : strerror(errno));
        close(fd);
        return -1;
    }
    *tmp_removed = remove_unfinished(dir);
    return fd;
}

void spool_release(int lock)
{
    if (lock != -1)
        close(lock);
}

static const struct spool_suffixes influx_suffixes = {".lp", ".lp.gz"};

static bool ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);

    return len > n && strcmp(s + len - n, suffix) == 0;
}

char *spool_write(const char *dir, const struct spool_suffixes *sfx, uint64_t ts_ms, unsigned seq,
                  bool encoded, const void *body, size_t len)
{
    char tmp[4096], path[4096];
    int fd, saved;

    if (sfx == NULL)
        sfx = &influx_suffixes;
    snprintf(path, sizeof(path), "%s/%020llu-%06u%s", dir, (unsigned long long)ts_ms, seq,
             encoded ? sfx->encoded : sfx->plain);
    snprintf(tmp, sizeof(tmp), "%s/.tmp-%020llu-%06u", dir, (unsigned long long)ts_ms, seq);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd == -1)
        return NULL;
    if (fd_write_all(fd, body, len) == -1 || fsync(fd) == -1) {
        saved = errno;
        close(fd);
        unlink(tmp);
        errno = saved;
        return NULL;
    }
    close(fd);
    if (rename(tmp, path) == -1) {
        saved = errno;
        unlink(tmp);
        errno = saved;
        return NULL;
    }
    return xstrdup(path);
}

void spool_remove(const char *path)
{
    if (unlink(path) == -1 && errno != ENOENT)
        log_warn("removing spool file %s", path);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *read_file(const char *path, size_t max_bytes, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data;
    long size;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || (size_t)size > max_bytes) {
        fclose(f);
        return NULL;
    }
    rewind(f);
    data = xcalloc(1, (size_t)size + 1);
    if (fread(data, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        free(data);
        return NULL;
    }
    fclose(f);
    *len = (size_t)size;
    return data;
}

int spool_load(const char *dir, const struct spool_suffixes *sfx, size_t max_bytes,
               spool_load_fn *fn, void *arg, char *errbuf, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int loaded = 0;

    if (sfx == NULL)
        sfx = &influx_suffixes;
    if (d == NULL) {
        snprintf(errbuf, errlen, "spool directory %s: %s", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);

        if (e->d_name[0] == '.' ||
            (!ends_with(e->d_name, len, sfx->plain) && !ends_with(e->d_name, len, sfx->encoded)))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = xreallocarray(names, cap, sizeof(*names));
        }
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        size_t len = 0;
        char *body;

        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        body = read_file(path, max_bytes, &len);
        if (body == NULL) {
            log_warnx("skipping spool file %s: unreadable or over %zu bytes", path, max_bytes);
        } else {
            fn(arg, xstrdup(path), body, len, ends_with(names[i], strlen(names[i]), sfx->encoded),
               strtoull(names[i], NULL, 10));
            loaded++;
        }
        free(names[i]);
    }
    free(names);
    return loaded;
}
