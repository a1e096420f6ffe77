/*
 * Inner address pool: one slot per host address, identity held in a heap
 * copy.  Lookups by identity scan the used slots.
 * TODO: identity lookup is linear in the pool size, so pools beyond a few
 * thousand addresses make each IKE_AUTH slower; hash the identities.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

struct pool_slot {
    char *id;               /* NULL when free */
    size_t id_len;
    unsigned holders;
};

struct pool {
    uint32_t first;         /* first address handed out, host order */
    uint32_t count;
    size_t used;
    struct pool_slot *slots;
};

struct pool *
pool_new(const struct config_prefix *prefix)
{
    struct pool *pool;
    uint32_t net, size;

    if (prefix->family != AF_INET || prefix->len < 16 || prefix->len > 29)
        return NULL;
    net = ntohl(prefix->addr.v4.s_addr);
    size = (uint32_t)1 << (32 - prefix->len);
    if ((pool = calloc(1, sizeof(*pool))) == NULL)
        return NULL;
    /* Skip the network address and the gateway's own first host; the
     * broadcast address is left out by count. */
    pool->first = net + 2;
    pool->count = size - 3;
    if ((pool->slots = calloc(pool->count, sizeof(*pool->slots))) == NULL) {
        free(pool);
        return NULL;
    }
    return pool;
}

void
pool_free(struct pool *pool)
{
    if (pool == NULL)
        return;
    for (uint32_t i = 0; i < pool->count; i++)
        free(pool->slots[i].id);
    free(pool->slots);
    free(pool);
}

static int
pool_take(struct pool *pool, uint32_t i, const void *id, size_t id_len)
{
    struct pool_slot *s = &pool->slots[i];

    if ((s->id = malloc(id_len + 1)) == NULL)
        return -ENOMEM;
    memcpy(s->id, id, id_len);
    s->id[id_len] = '\0';
    s->id_len = id_len;
    s->holders = 1;
    pool->used++;
    return 0;
}

int
pool_acquire(struct pool *pool, const void *id, size_t id_len,
    struct in_addr want, struct in_addr *out)
{
    uint32_t w = ntohl(want.s_addr);
    int ret;

    for (uint32_t i = 0; i < pool->count; i++) {
        struct pool_slot *s = &pool->slots[i];

        if (s->id != NULL && s->id_len == id_len &&
            memcmp(s->id, id, id_len) == 0) {
            s->holders++;
            out->s_addr = htonl(pool->first + i);
            return 0;
        }
    }
    if (w >= pool->first && w - pool->first < pool->count &&
        pool->slots[w - pool->first].id == NULL) {
        if ((ret = pool_take(pool, w - pool->first, id, id_len)) < 0)
            return ret;
        out->s_addr = want.s_addr;
        return 0;
    }
    for (uint32_t i = 0; i < pool->count; i++) {
        if (pool->slots[i].id == NULL) {
            if ((ret = pool_take(pool, i, id, id_len)) < 0)
                return ret;
            out->s_addr = htonl(pool->first + i);
            return 0;
        }
    }
    return -ENOSPC;
}

void
pool_release(struct pool *pool, struct in_addr addr)
{
    uint32_t a = ntohl(addr.s_addr);
    struct pool_slot *s;

    if (pool == NULL || a < pool->first || a - pool->first >= pool->count)
        return;
    s = &pool->slots[a - pool->first];
    if (s->id == NULL || --s->holders > 0)
        return;
    free(s->id);
    s->id = NULL;
    s->id_len = 0;
    pool->used--;
}

size_t
pool_used(const struct pool *pool)
{
    return pool->used;
}
