/* Listening sockets from procfs: the authoritative answer to "which side is the server". */
#include "listeners.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

#define TCP_STATE_LISTEN 0x0a
#define UDP_STATE_UNCONN 0x07

void listeners_clear(struct listeners *l)
{
    memset(l, 0, sizeof(*l));
}

static void set_port(uint8_t *map, unsigned port)
{
    map[port / 8] |= (uint8_t)(1u << (port % 8));
}

static bool all_zero_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != '0')
            return false;
    return true;
}

/* Handles one line: "  sl  local_address rem_address   st ...", addresses as HEX:PORT. */
static void parse_line(struct listeners *l, const char *line, bool tcp, uint16_t ephemeral_min)
{
    char local[64], remote[64];
    unsigned state;
    const char *colon;
    char *end;
    unsigned long port;

    if (sscanf(line, " %*[0-9]: %63s %63s %x", local, remote, &state) != 3)
        return;
    colon = strrchr(local, ':');
    if (colon == NULL)
        return;
    port = strtoul(colon + 1, &end, 16);
    if (*end != '\0' || port == 0 || port > 65535)
        return;
    if (tcp) {
        if (state == TCP_STATE_LISTEN)
            set_port(l->tcp, (unsigned)port);
        return;
    }
    colon = strrchr(remote, ':');
    if (state == UDP_STATE_UNCONN && port < ephemeral_min && colon != NULL &&
        all_zero_hex(remote, (size_t)(colon - remote)))
        set_port(l->udp, (unsigned)port);
}

void listeners_parse_proc(struct listeners *l, const char *text, bool tcp, uint16_t ephemeral_min)
{
    const char *line = strchr(text, '\n'); /* the first line is a header */

    while (line != NULL && *line != '\0') {
        char copy[512];
        const char *next = strchr(line + 1, '\n');
        size_t len = next ? (size_t)(next - line - 1) : strlen(line + 1);

        if (len < sizeof(copy)) {
            memcpy(copy, line + 1, len);
            copy[len] = '\0';
            parse_line(l, copy, tcp, ephemeral_min);
        }
        line = next;
    }
}

static int read_table(struct listeners *l, const char *path, bool tcp, uint16_t ephemeral_min)
{
    FILE *f = fopen(path, "r");
    struct buf text;
    char chunk[4096];
    size_t n;

    if (f == NULL)
        return -1;
    buf_init(&text, 64u << 20);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (buf_append(&text, chunk, n) == -1)
            break;
    fclose(f);
    if (text.data != NULL)
        listeners_parse_proc(l, text.data, tcp, ephemeral_min);
    buf_free(&text);
    return 0;
}

int listeners_read(struct listeners *l, uint16_t ephemeral_min)
{
    int ok = 0;

    listeners_clear(l);
    ok += read_table(l, "/proc/net/tcp", true, ephemeral_min) == 0;
    ok += read_table(l, "/proc/net/tcp6", true, ephemeral_min) == 0;
    ok += read_table(l, "/proc/net/udp", false, ephemeral_min) == 0;
    ok += read_table(l, "/proc/net/udp6", false, ephemeral_min) == 0;
    return ok > 0 ? 0 : -1;
}

bool listeners_has(const struct listeners *l, uint8_t proto, uint16_t port)
{
    const uint8_t *map;

    if (proto == IPPROTO_TCP)
        map = l->tcp;
    else if (proto == IPPROTO_UDP)
        map = l->udp;
    else
        return false;
    return (map[port / 8] >> (port % 8)) & 1;
}
