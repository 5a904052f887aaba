/* Interface lookups through procfs and getifaddrs(3). */
#include "iface.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Calls match on each line of text until it returns true. Returns 0 then, else -1. */
static int find_line(const char *text, bool (*match)(const char *line, char *name, size_t len),
                     char *name, size_t len)
{
    for (const char *line = text; line != NULL && *line != '\0';) {
        if (match(line, name, len))
            return 0;
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return -1;
}

static bool default_route_v4(const char *line, char *name, size_t len)
{
    char ifname[64];
    unsigned dest, gw, flags, mask;

    /* Iface Destination Gateway Flags RefCnt Use Metric Mask ... (hex, host order) */
    if (sscanf(line, "%63s %x %x %x %*d %*d %*d %x", ifname, &dest, &gw, &flags, &mask) == 5 &&
        dest == 0 && mask == 0 && (flags & 0x1) /* RTF_UP */) {
        snprintf(name, len, "%s", ifname);
        return true;
    }
    return false;
}

static bool default_route_v6(const char *line, char *name, size_t len)
{
    char dest[40], ifname[64];
    unsigned plen, flags;

    /* dest plen src splen nexthop metric refcnt use flags iface */
    if (sscanf(line, "%39s %x %*s %*x %*s %*x %*x %*x %x %63s", dest, &plen, &flags, ifname) == 4 &&
        plen == 0 && strspn(dest, "0") == 32 && strcmp(ifname, "lo") != 0 && (flags & 0x1)) {
        snprintf(name, len, "%s", ifname);
        return true;
    }
    return false;
}

int iface_parse_route_v4(const char *text, char *name, size_t len)
{
    return find_line(text, default_route_v4, name, len);
}

static int read_small_file(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (f == NULL)
        return -1;
    n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
    return 0;
}

int iface_default_route(char *name, size_t len, char *errbuf, size_t errlen)
{
    static char text[1 << 16];

    if (read_small_file("/proc/net/route", text, sizeof(text)) == 0 &&
        iface_parse_route_v4(text, name, len) == 0)
        return 0;
    if (read_small_file("/proc/net/ipv6_route", text, sizeof(text)) == 0 &&
        find_line(text, default_route_v6, name, len) == 0)
        return 0;
    snprintf(errbuf, errlen, "no default route; name an interface with -i or IFACE");
    return -1;
}

int iface_addresses(const char *ifname, struct netaddr *out, size_t max)
{
    struct ifaddrs *list;
    bool any = strcmp(ifname, "any") == 0;
    size_t n = 0;

    if (getifaddrs(&list) == -1)
        return -1;
    for (struct ifaddrs *ifa = list; ifa != NULL && n < max; ifa = ifa->ifa_next) {
        if (ifa->ifa_addr == NULL || (!any && strcmp(ifa->ifa_name, ifname) != 0))
            continue;
        memset(&out[n], 0, sizeof(out[n]));
        if (ifa->ifa_addr->sa_family == AF_INET) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)ifa->ifa_addr;

            out[n].family = 4;
            memcpy(out[n].bytes, &sin->sin_addr, 4);
            n++;
        } else if (ifa->ifa_addr->sa_family == AF_INET6) {
            const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ifa->ifa_addr;

            out[n].family = 6;
            memcpy(out[n].bytes, &sin6->sin6_addr, 16);
            n++;
        }
    }
    freeifaddrs(list);
    return (int)n;
}

static int read_counter(const char *ifname, const char *name, uint64_t *out)
{
    char path[256];
    unsigned long long v;
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, name);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    ok = fscanf(f, "%llu", &v) == 1;
    fclose(f);
    if (!ok)
        return -1;
    *out = v;
    return 0;
}

int iface_counters_read(const char *ifname, struct iface_counters *out)
{
    if (strchr(ifname, '/') != NULL || strcmp(ifname, "..") == 0)
        return -1;
    if (read_counter(ifname, "rx_bytes", &out->rx_bytes) == -1 ||
        read_counter(ifname, "tx_bytes", &out->tx_bytes) == -1 ||
        read_counter(ifname, "rx_packets", &out->rx_packets) == -1 ||
        read_counter(ifname, "tx_packets", &out->tx_packets) == -1)
        return -1;
    return 0;
}
