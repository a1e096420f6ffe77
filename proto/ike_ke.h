/*
 * IKEv2 key exchange (RFC 7296 2.14 and 3.4) over OpenSSL 3 EVP_PKEY for
 * four groups:
 *   14 MODP-2048 (RFC 3526, g = 2): KE data is y, big-endian, left-padded
 *      to 256 octets; the shared secret is left-padded to 256 octets.
 *   19 P-256, 20 P-384 (RFC 5903 7): KE data is x | y without the 0x04
 *      prefix; the shared secret is x alone.
 *   31 Curve25519 (RFC 8031 3.1): KE data and secret are the 32-octet
 *      u-coordinate of RFC 7748.
 * A struct ike_ke is one ephemeral key pair.  One struct ike_ke_ctx, and
 * one X25519 struct ike_ke in ike_ke_derive(), must not be used from
 * several threads at once.  Everything else works on caller-owned buffers.
 */
#ifndef IKESHIFT_IKE_KE_H
#define IKESHIFT_IKE_KE_H

#include <stddef.h>
#include <stdint.h>

/* Largest KE data and shared secret among the supported groups (MODP). */
#define IKE_KE_MAX_PUBLIC_LEN   256
#define IKE_KE_MAX_SECRET_LEN   256

struct ike_ke;
struct ike_ke_ctx;

/*
 * Returns the KE data length of group `group` (IKE_DH_* in ike_const.h),
 * or 0 when the group is not supported.
 */
size_t
ike_ke_public_len(uint16_t group);

/* Returns the shared secret (g^ir) length of `group`, or 0. */
size_t
ike_ke_secret_len(uint16_t group);

/*
 * Creates a cache of prepared key generation contexts, one per group,
 * filled on first use.  It saves the per-call group setup, which made a
 * P-256 key generation 40 us instead of 24 us (OpenSSL 3.0.19, AMD EPYC),
 * and for X25519 the key import context and the base point.
 * The caller owns it; use one cache per thread.  Returns NULL when out of
 * memory.
 */
struct ike_ke_ctx *
ike_ke_ctx_new(void);

/* Frees ctx; NULL is allowed.  Key pairs made with it stay valid. */
void
ike_ke_ctx_free(struct ike_ke_ctx *ctx);

/*
 * Generates a fresh key pair in `group`, using and filling ctx's cache
 * when ctx is not NULL.  The caller owns the result and frees it with
 * ike_ke_free().  Returns NULL for an unsupported group or on failure.
 */
struct ike_ke *
ike_ke_new(struct ike_ke_ctx *ctx, uint16_t group);

/*
 * Creates a key pair from a given private value, for known-answer tests:
 * MODP a big-endian exponent of 1 to 256 octets with 1 < x < p - 1,
 * ECP a big-endian scalar of exactly 32 or 48 octets with 0 < d < n,
 * Curve25519 the 32-octet scalar of RFC 7748 5.  priv is copied.
 * Returns NULL for an invalid value, an unsupported group or on failure.
 */
struct ike_ke *
ike_ke_new_from_private(uint16_t group, const uint8_t *priv,
                        size_t priv_len);

/* Frees ke and wipes its private key; NULL is allowed. */
void
ike_ke_free(struct ike_ke *ke);

/* Returns the group of ke. */
uint16_t
ike_ke_group(const struct ike_ke *ke);

/*
 * Returns ke's public value in KE payload encoding and stores its length
 * in *len.  The octets are lent; they stay valid until ike_ke_free(ke).
 */
const uint8_t *
ike_ke_public(const struct ike_ke *ke, size_t *len);

/*
 * Computes the shared secret g^ir with the peer's KE data into secret,
 * which receives exactly ike_ke_secret_len() octets.  The caller wipes
 * secret with OPENSSL_cleanse() when done.  Returns 0, -EINVAL for an
 * invalid peer value (wrong length, MODP y <= 1 or y >= p - 1, an ECP
 * point not on the curve, a Curve25519 share giving an all-zero secret),
 * -ENOBUFS when secret_size is too small, -ENOMEM when OpenSSL fails.
 */
int
ike_ke_derive(const struct ike_ke *ke, const uint8_t *peer, size_t peer_len,
              uint8_t *secret, size_t secret_size);

#endif /* IKESHIFT_IKE_KE_H */
