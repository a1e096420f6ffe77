/*
 * IKE identities as text in the cluster protocol: an agent reports the
 * IDr it presents, and the controller compares it with the identity the
 * whole cluster presents (docs/operations.md, the identity rule).
 */
#include "rt/cluster.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ike_const.h"

struct identity_type {
    uint8_t ike;            /* IKE_ID_* */
    const char *name;
};

static const struct identity_type identity_types[] = {
    { IKE_ID_FQDN, "fqdn" },
    { IKE_ID_RFC822_ADDR, "email" },
    { IKE_ID_IPV4_ADDR, "ipv4" },
    { IKE_ID_IPV6_ADDR, "ipv6" },
    { IKE_ID_KEY_ID, "key-id" },
};

#define IDENTITY_N_TYPES (sizeof(identity_types) / sizeof(identity_types[0]))

static const struct identity_type *
identity_type_by_ike(uint8_t ike)
{
    for (size_t i = 0; i < IDENTITY_N_TYPES; i++)
        if (identity_types[i].ike == ike)
            return &identity_types[i];
    return NULL;
}

/* Finds the type whose name is s[0..len). */
static const struct identity_type *
identity_type_by_name(const char *s, size_t len)
{
    for (size_t i = 0; i < IDENTITY_N_TYPES; i++)
        if (strlen(identity_types[i].name) == len &&
            memcmp(identity_types[i].name, s, len) == 0)
            return &identity_types[i];
    return NULL;
}

/* FQDN and email values: 1-255 printable ASCII characters, no space. */
static bool
identity_text_is_printable(const char *s, size_t len)
{
    if (len == 0 || len > 255)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

int
cluster_identity_format(uint8_t type, const uint8_t *data, size_t len,
    char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    const struct identity_type *t = identity_type_by_ike(type);
    char addr[INET6_ADDRSTRLEN];
    size_t n;
    int w;

    if (t == NULL || size == 0)
        return -EINVAL;
    switch (type) {
    case IKE_ID_IPV4_ADDR:
    case IKE_ID_IPV6_ADDR:
        if (len != (type == IKE_ID_IPV4_ADDR ? 4u : 16u) ||
            inet_ntop(type == IKE_ID_IPV4_ADDR ? AF_INET : AF_INET6, data,
            addr, sizeof(addr)) == NULL)
            return -EINVAL;
        w = snprintf(out, size, "%s:%s", t->name, addr);
        return w > 0 && (size_t)w < size ? 0 : -EINVAL;
    case IKE_ID_KEY_ID:
        if (len == 0 || len > 255)
            return -EINVAL;
        n = strlen(t->name) + 1;
        if (n + 2 * len >= size)
            return -EINVAL;
        memcpy(out, t->name, n - 1);
        out[n - 1] = ':';
        for (size_t i = 0; i < len; i++) {
            out[n + 2 * i] = hex[data[i] >> 4];
            out[n + 2 * i + 1] = hex[data[i] & 0x0f];
        }
        out[n + 2 * len] = '\0';
        return 0;
    default:
        if (!identity_text_is_printable((const char *)data, len))
            return -EINVAL;
        w = snprintf(out, size, "%s:%.*s", t->name, (int)len,
            (const char *)data);
        return w > 0 && (size_t)w < size ? 0 : -EINVAL;
    }
}

int
cluster_identity_from_config(const char *type, const char *value, char *out,
    size_t size)
{
    const struct identity_type *t;
    uint8_t addr[16];

    if (type == NULL || value == NULL)
        return -EINVAL;
    t = identity_type_by_name(type, strlen(type));
    if (t == NULL)
        return -EINVAL;
    if (t->ike == IKE_ID_IPV4_ADDR || t->ike == IKE_ID_IPV6_ADDR) {
        if (inet_pton(t->ike == IKE_ID_IPV4_ADDR ? AF_INET : AF_INET6, value,
            addr) != 1)
            return -EINVAL;
        return cluster_identity_format(t->ike, addr,
            t->ike == IKE_ID_IPV4_ADDR ? 4 : 16, out, size);
    }
    return cluster_identity_format(t->ike, (const uint8_t *)value,
        strlen(value), out, size);
}

bool
cluster_identity_is_valid(const char *s, size_t len, bool allow_empty)
{
    const char *colon = memchr(s, ':', len);
    const struct identity_type *t;
    char value[INET6_ADDRSTRLEN];
    uint8_t addr[16];
    size_t vlen;

    if (len == 0)
        return allow_empty;
    if (colon == NULL)
        return false;
    t = identity_type_by_name(s, (size_t)(colon - s));
    if (t == NULL)
        return false;
    colon++;
    vlen = len - (size_t)(colon - s);
    switch (t->ike) {
    case IKE_ID_IPV4_ADDR:
    case IKE_ID_IPV6_ADDR:
        if (vlen == 0 || vlen >= sizeof(value))
            return false;
        memcpy(value, colon, vlen);
        value[vlen] = '\0';
        return inet_pton(t->ike == IKE_ID_IPV4_ADDR ? AF_INET : AF_INET6,
            value, addr) == 1;
    case IKE_ID_KEY_ID:
        if (vlen == 0 || vlen % 2 != 0 || vlen > 510)
            return false;
        for (size_t i = 0; i < vlen; i++)
            if (!((colon[i] >= '0' && colon[i] <= '9') ||
                (colon[i] >= 'a' && colon[i] <= 'f')))
                return false;
        return true;
    default:
        return identity_text_is_printable(colon, vlen);
    }
}

bool
cluster_identity_equal(const char *a, const char *b)
{
    const char *ca = strchr(a, ':');
    const char *cb = strchr(b, ':');
    const struct identity_type *t;

    if (ca == NULL || cb == NULL || ca - a != cb - b ||
        memcmp(a, b, (size_t)(ca - a)) != 0)
        return false;
    t = identity_type_by_name(a, (size_t)(ca - a));
    if (t == NULL)
        return false;
    if (t->ike == IKE_ID_FQDN || t->ike == IKE_ID_RFC822_ADDR)
        return strcasecmp(ca + 1, cb + 1) == 0;
    if (t->ike == IKE_ID_IPV4_ADDR || t->ike == IKE_ID_IPV6_ADDR) {
        /* Any text form of the same address is the same identity. */
        int af = t->ike == IKE_ID_IPV4_ADDR ? AF_INET : AF_INET6;
        uint8_t x[16], y[16];

        return inet_pton(af, ca + 1, x) == 1 && inet_pton(af, cb + 1, y) ==
            1 && memcmp(x, y, af == AF_INET ? 4 : 16) == 0;
    }
    return strcmp(ca + 1, cb + 1) == 0;
}
