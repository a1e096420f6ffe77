/*
 * The AUTH payload data of RFC 7296 2.15.  Both sides sign or MAC the
 * same octets:
 *   SignedOctets = RealMessage | Nonce | prf(SK_p, ID')
 * where RealMessage is the IKE_SA_INIT message the signer sent (from the
 * first SPI octet, without the non-ESP marker), Nonce is the peer's nonce
 * body and ID' the signer's ID payload body.  For a shared key:
 *   AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), SignedOctets)
 * Only the shared key method is implemented; signature methods return
 * -ENOTSUP.
 */
#ifndef IKESHIFT_IKE_AUTH_H
#define IKESHIFT_IKE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "ike_prf.h"

/* The signer's inputs; every pointer is borrowed. */
struct ike_auth_octets {
    const uint8_t *message;     /* RealMessage1 or RealMessage2 */
    size_t message_len;
    const uint8_t *nonce;       /* Nr for the initiator, Ni for the responder */
    size_t nonce_len;
    const uint8_t *id;          /* ID Type (1) | RESERVED (3) | data */
    size_t id_len;
    const uint8_t *sk_p;        /* SK_pi for the initiator, SK_pr otherwise */
    size_t sk_p_len;
    struct ike_prf_ctx *prf_ctx;    /* HMAC contexts to reuse, or NULL */
};

/*
 * Writes the signed octets for `in` with PRF `prf` into out and their
 * length into *out_len.  Returns 0, -EINVAL for a missing input, -ENOBUFS
 * when out_size is too small, or the errors of ike_prf_compute().
 */
int
ike_auth_signed_octets(uint16_t prf, const struct ike_auth_octets *in,
                       uint8_t *out, size_t out_size, size_t *out_len);

/*
 * Computes the AUTH data for `method` (IKE_AUTH_* in ike_const.h) into
 * out and its length, ike_prf_len(prf), into *out_len.  psk is the shared
 * secret as configured, without a terminating NUL.  Returns 0, -ENOTSUP
 * for a method other than IKE_AUTH_SHARED_KEY_MIC, -EINVAL for an empty
 * psk or a missing input, -ENOBUFS, or the errors of ike_prf_compute().
 */
int
ike_auth_compute(uint8_t method, uint16_t prf, const uint8_t *psk,
                 size_t psk_len, const struct ike_auth_octets *in,
                 uint8_t *out, size_t out_size, size_t *out_len);

/*
 * Checks the peer's AUTH data auth[0..auth_len) against the value
 * computed from `in` (the peer's octets), in constant time.  Returns 0 on
 * a match, -EACCES on a mismatch or a wrong length, else as
 * ike_auth_compute().
 */
int
ike_auth_verify(uint8_t method, uint16_t prf, const uint8_t *psk,
                size_t psk_len, const struct ike_auth_octets *in,
                const uint8_t *auth, size_t auth_len);

#endif /* IKESHIFT_IKE_AUTH_H */
