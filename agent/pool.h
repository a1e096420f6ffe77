/*
 * Per-gateway pool of inner IPv4 addresses (RFC 7296 2.19).  A lease is
 * keyed by the client's identity: while an identity holds a lease, a
 * second request for it returns the same address and counts one more
 * holder, so a rekeyed or duplicate IKE SA keeps its address.  A
 * cluster-wide lease table replaces this module later behind the same
 * calls.
 */
#ifndef IKESHIFT_POOL_H
#define IKESHIFT_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "rt/config_value.h"

struct pool;

/*
 * Creates a pool over the IPv4 prefix `prefix` (copied).  The network and
 * broadcast addresses and the first host (the gateway's side) are never
 * handed out.  Returns NULL for a non-IPv4 prefix, one shorter than /16 or
 * with no usable host, or when out of memory.
 */
struct pool *
pool_new(const struct config_prefix *prefix);

/* Frees the pool and every lease; NULL is allowed. */
void
pool_free(struct pool *pool);

/*
 * Leases an address to identity id[0..id_len) (copied): the address this
 * identity holds already, else the requested one if `want` is non-zero,
 * free and in the pool, else the lowest free one.  Returns 0 with *out
 * set, or -ENOSPC when the pool is exhausted, -ENOMEM.
 */
int
pool_acquire(struct pool *pool, const void *id, size_t id_len,
    struct in_addr want, struct in_addr *out);

/*
 * Drops one holder of the lease of `addr`; the address is free again when
 * no holder is left.  Unknown addresses are ignored.
 */
void
pool_release(struct pool *pool, struct in_addr addr);

/* Returns the number of addresses leased. */
size_t
pool_used(const struct pool *pool);

#endif /* IKESHIFT_POOL_H */
