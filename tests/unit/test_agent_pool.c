/*
 * Inner address pool: leases by identity, excluded addresses, exhaustion.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pool.h"

static struct pool *
pool_of(const char *net, unsigned len)
{
    struct config_prefix p;

    memset(&p, 0, sizeof(p));
    p.family = AF_INET;
    cr_assert_eq(inet_pton(AF_INET, net, &p.addr.v4), 1);
    p.len = len;
    return pool_new(&p);
}

static struct in_addr
ip(const char *text)
{
    struct in_addr a;

    cr_assert_eq(inet_pton(AF_INET, text, &a), 1);
    return a;
}

static const struct in_addr any = { 0 };

Test(agent_pool, skips_network_gateway_and_broadcast)
{
    struct pool *p = pool_of("203.0.113.0", 29);
    struct in_addr got[8];
    int n = 0;
    char id[8];

    cr_assert_not_null(p);
    /* A /29 has 8 addresses; .0, .1 and .7 are never leased. */
    for (int i = 0; i < 8; i++) {
        snprintf(id, sizeof(id), "c%d", i);
        if (pool_acquire(p, id, strlen(id), any, &got[n]) == 0)
            n++;
    }
    cr_assert_eq(n, 5);
    cr_assert_eq(got[0].s_addr, ip("203.0.113.2").s_addr);
    cr_assert_eq(got[4].s_addr, ip("203.0.113.6").s_addr);
    pool_free(p);
}

Test(agent_pool, returns_enospc_when_exhausted)
{
    struct pool *p = pool_of("203.0.113.0", 29);
    struct in_addr a;
    char id[8];

    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "c%d", i);
        cr_assert_eq(pool_acquire(p, id, strlen(id), any, &a), 0);
    }
    cr_assert_eq(pool_acquire(p, "late", 4, any, &a), -ENOSPC);
    pool_free(p);
}

Test(agent_pool, same_identity_gets_same_address)
{
    struct pool *p = pool_of("203.0.113.0", 24);
    struct in_addr a, b;

    cr_assert_eq(pool_acquire(p, "alice", 5, any, &a), 0);
    cr_assert_eq(pool_acquire(p, "bob", 3, any, &b), 0);
    cr_assert_neq(a.s_addr, b.s_addr);
    cr_assert_eq(pool_acquire(p, "alice", 5, any, &b), 0);
    cr_assert_eq(a.s_addr, b.s_addr);
    cr_assert_eq(pool_used(p), 2);
    pool_free(p);
}

Test(agent_pool, lease_outlives_first_of_two_holders)
{
    struct pool *p = pool_of("203.0.113.0", 24);
    struct in_addr a, b, c;

    cr_assert_eq(pool_acquire(p, "alice", 5, any, &a), 0);
    cr_assert_eq(pool_acquire(p, "alice", 5, any, &b), 0);
    pool_release(p, a);
    cr_assert_eq(pool_used(p), 1);
    /* Still held once, so another identity cannot get it. */
    cr_assert_eq(pool_acquire(p, "bob", 3, a, &c), 0);
    cr_assert_neq(c.s_addr, a.s_addr);
    pool_release(p, b);
    pool_release(p, c);
    cr_assert_eq(pool_used(p), 0);
    pool_free(p);
}

Test(agent_pool, honours_requested_free_address)
{
    struct pool *p = pool_of("203.0.113.0", 24);
    struct in_addr a;

    cr_assert_eq(pool_acquire(p, "alice", 5, ip("203.0.113.77"), &a), 0);
    cr_assert_eq(a.s_addr, ip("203.0.113.77").s_addr);
    pool_free(p);
}

Test(agent_pool, ignores_requested_address_outside_pool)
{
    struct pool *p = pool_of("203.0.113.0", 24);
    struct in_addr a;

    cr_assert_eq(pool_acquire(p, "alice", 5, ip("198.51.100.9"), &a), 0);
    cr_assert_eq(a.s_addr, ip("203.0.113.2").s_addr);
    pool_free(p);
}

Test(agent_pool, release_of_unknown_address_is_ignored)
{
    struct pool *p = pool_of("203.0.113.0", 24);

    pool_release(p, ip("203.0.113.50"));
    pool_release(p, ip("198.51.100.1"));
    cr_assert_eq(pool_used(p), 0);
    pool_free(p);
}

Test(agent_pool, rejects_prefix_shorter_than_16)
{
    cr_assert_null(pool_of("203.0.0.0", 8));
}

Test(agent_pool, free_accepts_null)
{
    pool_free(NULL);
}
