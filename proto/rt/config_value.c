/*
 * Text forms of configuration values; see config_value.h.
 */
#include "rt/config_value.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Duration units, largest first; a duration lists them in this order. */
static const struct {
    const char *name;
    int64_t ms;
} duration_units[] = {
    { "h", 3600000 },
    { "m", 60000 },
    { "s", 1000 },
    { "ms", 1 },
};

#define N_DURATION_UNITS (sizeof(duration_units) / sizeof(duration_units[0]))

/* Matches the unit at s, preferring "ms" over "m"; returns its index. */
static int
duration_match_unit(const char *s, size_t *len)
{
    if (s[0] == 'm' && s[1] == 's') {
        *len = 2;
        return 3;
    }
    for (size_t i = 0; i < N_DURATION_UNITS; i++) {
        size_t n = strlen(duration_units[i].name);

        if (strncmp(s, duration_units[i].name, n) == 0) {
            *len = n;
            return (int)i;
        }
    }
    return -1;
}

int
config_value_parse_duration(const char *s, int64_t *out_ms)
{
    int64_t total = 0;
    int last_unit = -1;

    if (s == NULL || *s == '\0')
        return -EINVAL;
    while (*s != '\0') {
        int64_t n = 0;
        size_t unit_len;
        int unit;
        bool overflow = false;

        if (*s < '0' || *s > '9')
            return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++) {
            int d = *s - '0';

            if (n > (INT64_MAX - d) / 10)
                overflow = true;
            else
                n = n * 10 + d;
        }
        if ((unit = duration_match_unit(s, &unit_len)) < 0)
            return -EINVAL;
        if (unit <= last_unit)
            return -EINVAL;
        last_unit = unit;
        s += unit_len;
        if (overflow || n > INT64_MAX / duration_units[unit].ms)
            return -ERANGE;
        n *= duration_units[unit].ms;
        if (total > INT64_MAX - n)
            return -ERANGE;
        total += n;
    }
    *out_ms = total;
    return 0;
}

char *
config_value_format_duration(int64_t ms, char *buf, size_t size)
{
    for (size_t i = 0; i < N_DURATION_UNITS; i++) {
        int64_t u = duration_units[i].ms;

        if (ms != 0 && ms % u == 0) {
            snprintf(buf, size, "%lld%s", (long long)(ms / u),
                duration_units[i].name);
            return buf;
        }
    }
    snprintf(buf, size, "%lld%s", (long long)ms, ms == 0 ? "s" : "ms");
    return buf;
}

/* Parses an address of one family into the sockaddr; returns 0 or -1. */
static int
addr_parse_family(const char *s, int family, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;

        if (inet_pton(AF_INET, s, &sin->sin_addr) != 1)
            return -1;
        sin->sin_family = AF_INET;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

        if (inet_pton(AF_INET6, s, &sin6->sin6_addr) != 1)
            return -1;
        sin6->sin6_family = AF_INET6;
    }
    return 0;
}

int
config_value_parse_addr(const char *s, int family,
    struct sockaddr_storage *out)
{
    struct sockaddr_storage ss;
    int found;

    if (s == NULL)
        return -EINVAL;
    if (addr_parse_family(s, AF_INET, &ss) == 0)
        found = AF_INET;
    else if (addr_parse_family(s, AF_INET6, &ss) == 0)
        found = AF_INET6;
    else
        return -EINVAL;
    if (family != AF_UNSPEC && family != found)
        return -EAFNOSUPPORT;
    *out = ss;
    return 0;
}

/* Parses a decimal port 1-65535 from the whole of s. */
static int
port_parse(const char *s, uint16_t *port)
{
    unsigned long v = 0;

    if (*s == '\0')
        return -EINVAL;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > 65535)
            return -ERANGE;
    }
    if (v == 0)
        return -ERANGE;
    *port = (uint16_t)v;
    return 0;
}

static void
addr_set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

int
config_value_parse_addrport(const char *s, int family, uint16_t default_port,
    struct sockaddr_storage *out)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *port_text = NULL;
    struct sockaddr_storage ss;
    uint16_t port = default_port;
    size_t host_len;
    int rc;

    if (s == NULL)
        return -EINVAL;
    if (s[0] == '[') {
        /*
         * "[v6]" or "[v6]:port": brackets contain only IPv6, as in URIs
         * (RFC 3986 section 3.2.2).
         */
        const char *end = strchr(s, ']');

        if (end == NULL)
            return -EINVAL;
        host_len = (size_t)(end - s - 1);
        if (end[1] == ':')
            port_text = end + 2;
        else if (end[1] != '\0')
            return -EINVAL;
        if (host_len == 0 || host_len >= sizeof(host))
            return -EINVAL;
        memcpy(host, s + 1, host_len);
        host[host_len] = '\0';
        if (addr_parse_family(host, AF_INET6, &ss) < 0)
            return -EINVAL;
    } else {
        const char *colon = strchr(s, ':');

        if (colon != NULL && strchr(colon + 1, ':') == NULL) {
            /* One colon: IPv4 with a port. */
            host_len = (size_t)(colon - s);
            port_text = colon + 1;
        } else {
            /* No colon (IPv4) or several (IPv6 without a port). */
            host_len = strlen(s);
        }
        if (host_len == 0 || host_len >= sizeof(host))
            return -EINVAL;
        memcpy(host, s, host_len);
        host[host_len] = '\0';
        int want = colon != NULL && port_text == NULL ? AF_INET6 : AF_INET;
        if (addr_parse_family(host, want, &ss) < 0)
            return -EINVAL;
    }
    if (family != AF_UNSPEC && ss.ss_family != family)
        return -EAFNOSUPPORT;
    if (port_text != NULL) {
        if ((rc = port_parse(port_text, &port)) < 0)
            return rc;
    } else if (default_port == 0) {
        return -EINVAL;
    }
    addr_set_port(&ss, port);
    *out = ss;
    return 0;
}

int
config_value_parse_prefix(const char *s, int family, struct config_prefix *out)
{
    char host[INET6_ADDRSTRLEN + 1];
    struct sockaddr_storage ss;
    const char *slash;
    unsigned long len = 0;
    int rc;

    if (s == NULL || (slash = strchr(s, '/')) == NULL)
        return -EINVAL;
    size_t host_len = (size_t)(slash - s);
    if (host_len == 0 || host_len >= sizeof(host))
        return -EINVAL;
    memcpy(host, s, host_len);
    host[host_len] = '\0';
    if ((rc = config_value_parse_addr(host, family, &ss)) < 0)
        return rc;

    const char *p = slash + 1;
    if (*p == '\0')
        return -EINVAL;
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        len = len * 10 + (unsigned long)(*p - '0');
        if (len > 128)
            return -ERANGE;
    }

    struct config_prefix pfx;
    uint8_t *bytes;
    size_t n_bytes;

    memset(&pfx, 0, sizeof(pfx));
    pfx.family = ss.ss_family;
    if (pfx.family == AF_INET) {
        pfx.addr.v4 = ((struct sockaddr_in *)&ss)->sin_addr;
        bytes = (uint8_t *)&pfx.addr.v4;
        n_bytes = 4;
    } else {
        pfx.addr.v6 = ((struct sockaddr_in6 *)&ss)->sin6_addr;
        bytes = pfx.addr.v6.s6_addr;
        n_bytes = 16;
    }
    if (len > n_bytes * 8)
        return -ERANGE;
    pfx.len = (unsigned)len;

    /* Clear the host bits and note whether any was set. */
    bool host_bits = false;
    for (size_t i = 0; i < n_bytes; i++) {
        size_t first_bit = i * 8;
        uint8_t mask;

        if (first_bit + 8 <= len)
            continue;
        if (first_bit >= len)
            mask = 0;
        else
            mask = (uint8_t)(0xff << (8 - (len - first_bit)));
        if ((bytes[i] & (uint8_t)~mask) != 0)
            host_bits = true;
        bytes[i] &= mask;
    }
    *out = pfx;
    return host_bits ? -EDOM : 0;
}

char *
config_value_format_addr(const struct sockaddr_storage *ss, int with_port,
    char *buf, size_t size)
{
    char text[INET6_ADDRSTRLEN];

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

        inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
        if (with_port)
            snprintf(buf, size, "%s:%u", text, ntohs(sin->sin_port));
        else
            snprintf(buf, size, "%s", text);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

        inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
        if (with_port)
            snprintf(buf, size, "[%s]:%u", text, ntohs(sin6->sin6_port));
        else
            snprintf(buf, size, "%s", text);
    } else {
        snprintf(buf, size, "?");
    }
    return buf;
}

char *
config_value_format_prefix(const struct config_prefix *p, char *buf,
    size_t size)
{
    char text[INET6_ADDRSTRLEN];

    if (p->family != AF_INET && p->family != AF_INET6) {
        snprintf(buf, size, "?");
        return buf;
    }
    inet_ntop(p->family, &p->addr, text, sizeof(text));
    snprintf(buf, size, "%s/%u", text, p->len);
    return buf;
}
