/*
 * IKEv2 pseudorandom functions: the HMAC PRFs of RFC 7296 section 3.3.2
 * (RFC 2104 HMAC with SHA-1, RFC 4868 HMAC with SHA-2) and prf+ of
 * section 2.13.  All functions work on caller-owned byte buffers.  The
 * ike_prf_ctx_*() forms reuse the HMAC contexts of a caller-owned struct
 * ike_prf_ctx.  The others make and free one per call, which costs an
 * algorithm fetch each time under OpenSSL 3.
 */
#ifndef IKESHIFT_IKE_PRF_H
#define IKESHIFT_IKE_PRF_H

#include <stddef.h>
#include <stdint.h>

/* Largest PRF output: HMAC-SHA2-512. */
#define IKE_PRF_MAX_LEN         64

/* RFC 7296 2.13: the prf+ block counter is one octet, so at most 255. */
#define IKE_PRF_PLUS_MAX_BLOCKS 255

/* One piece of a PRF input that is fed in order, as with writev(2). */
struct ike_prf_iov {
    const void *base;           /* borrowed; may be NULL when len is 0 */
    size_t len;
};

struct ike_prf_ctx;

/*
 * Returns the output length in octets of PRF transform `prf` (IKE_PRF_*
 * in ike_const.h), which for HMAC is also its preferred key length, or 0
 * when the PRF is not supported.
 */
size_t
ike_prf_len(uint16_t prf);

/*
 * Creates a cache of HMAC contexts, one per PRF, each made with its
 * digest on first use and re-keyed on every call.  The caller owns it;
 * it is not thread-safe, so use one per thread.  Until the next call or
 * ike_prf_ctx_free(), it keeps the HMAC state of the last key it was
 * given.  Returns NULL when out of memory.
 */
struct ike_prf_ctx *
ike_prf_ctx_new(void);

/* Frees ctx and wipes its HMAC state; NULL is allowed. */
void
ike_prf_ctx_free(struct ike_prf_ctx *ctx);

/*
 * Computes prf(key, data) into out, which must hold ike_prf_len(prf)
 * octets.  Returns 0, -ENOTSUP for an unsupported PRF, -EINVAL for an empty
 * key, -ENOBUFS when out_size is too small, -ENOMEM when OpenSSL fails.
 */
int
ike_prf_compute(uint16_t prf, const uint8_t *key, size_t key_len,
                const uint8_t *data, size_t data_len,
                uint8_t *out, size_t out_size);

/*
 * Same as ike_prf_compute() with the data given as iov_count pieces that
 * are concatenated in order, so callers need not copy g^ir | Ni | Nr
 * into one buffer.  A piece with a NULL base and a nonzero length gives
 * -EINVAL.
 */
int
ike_prf_computev(uint16_t prf, const uint8_t *key, size_t key_len,
                 const struct ike_prf_iov *iov, size_t iov_count,
                 uint8_t *out, size_t out_size);

/*
 * Fills out[0..out_len) with prf+(key, seed) of RFC 7296 2.13, where seed
 * is the concatenation of the iov pieces:
 *   T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n), prf+ = T1 | T2 | ...
 * Returns 0, or the errors of ike_prf_computev(), or -ERANGE when out_len
 * needs more than IKE_PRF_PLUS_MAX_BLOCKS blocks.
 */
int
ike_prf_plus(uint16_t prf, const uint8_t *key, size_t key_len,
             const struct ike_prf_iov *seed, size_t seed_count,
             uint8_t *out, size_t out_len);

/*
 * Same as ike_prf_computev() and ike_prf_plus() with the HMAC contexts of
 * ctx, which must not be NULL, so that no algorithm is fetched and no
 * context allocated after ctx's first use of a PRF.
 */
int
ike_prf_ctx_computev(struct ike_prf_ctx *ctx, uint16_t prf,
                     const uint8_t *key, size_t key_len,
                     const struct ike_prf_iov *iov, size_t iov_count,
                     uint8_t *out, size_t out_size);

int
ike_prf_ctx_plus(struct ike_prf_ctx *ctx, uint16_t prf,
                 const uint8_t *key, size_t key_len,
                 const struct ike_prf_iov *seed, size_t seed_count,
                 uint8_t *out, size_t out_len);

#endif /* IKESHIFT_IKE_PRF_H */
