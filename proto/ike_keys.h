/*
 * IKE SA and CHILD SA key material (RFC 7296 2.14, 2.17, 2.18).
 *
 * A struct ike_suite names the transforms of an IKE SA.  A struct
 * ike_sa_keys contains the seven SK_* keys derived for it, in fixed arrays
 * sized for the largest supported suite (416 octets in all on x86-64), so
 * an established SA needs no further allocation.  The caller owns every
 * struct and wipes it with ike_keys_wipe_sa() / ike_keys_wipe_child()
 * before releasing its memory.
 */
#ifndef IKESHIFT_IKE_KEYS_H
#define IKESHIFT_IKE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "ike_prf.h"

#define IKE_KEYS_SPI_LEN        8   /* IKE SPI in the header, RFC 7296 3.1 */
#define IKE_KEYS_SALT_LEN       4   /* AES-GCM salt, RFC 5282 7.1 */
#define IKE_KEYS_MAX_PRF_LEN    IKE_PRF_MAX_LEN /* SK_d, SK_pi, SK_pr */
#define IKE_KEYS_MAX_INTEG_LEN  64  /* HMAC-SHA2-512-256 key */
#define IKE_KEYS_MAX_ENCR_LEN   36  /* AES-256 key and GCM salt */
#define IKE_KEYS_MAX_NONCE_LEN  256 /* RFC 7296 3.9 */

/*
 * Transforms of an IKE SA as negotiated.  Supported are AES-CBC with an
 * HMAC-SHA2 integrity transform, or AES-GCM with a 16-octet ICV and INTEG
 * NONE, each with a 128- or 256-bit key, any of the four HMAC PRFs, and
 * D-H group 14, 19, 20 or 31.
 */
struct ike_suite {
    uint16_t encr;          /* IKE_ENCR_AES_CBC or IKE_ENCR_AES_GCM_16 */
    uint16_t encr_bits;     /* Key Length attribute: 128 or 256 */
    uint16_t prf;           /* IKE_PRF_HMAC_* */
    uint16_t integ;         /* IKE_INTEG_HMAC_SHA2_*; IKE_INTEG_NONE for GCM */
    uint16_t dh;            /* IKE_DH_*; not used by the key derivation */
};

/* The keys of one IKE SA.  "i" keys protect what the original initiator
 * sends, "r" keys what the original responder sends (RFC 7296 2.14). */
struct ike_sa_keys {
    struct ike_suite suite;
    uint8_t prf_len;        /* length of SK_d, SK_pi, SK_pr */
    uint8_t integ_len;      /* length of SK_ai, SK_ar; 0 with AES-GCM */
    uint8_t encr_len;       /* length of SK_ei, SK_er, with the GCM salt */
    /* Next AES-GCM IV that ike_sk_seal() sends; RFC 5282 3.1 allows a
     * counter.  Starts at 0 for every new set of keys. */
    uint64_t gcm_iv_next;
    uint8_t sk_d[IKE_KEYS_MAX_PRF_LEN];
    uint8_t sk_ai[IKE_KEYS_MAX_INTEG_LEN];
    uint8_t sk_ar[IKE_KEYS_MAX_INTEG_LEN];
    uint8_t sk_ei[IKE_KEYS_MAX_ENCR_LEN];
    uint8_t sk_er[IKE_KEYS_MAX_ENCR_LEN];
    uint8_t sk_pi[IKE_KEYS_MAX_PRF_LEN];
    uint8_t sk_pr[IKE_KEYS_MAX_PRF_LEN];
};

/*
 * The exchange values that feed prf+: the nonce bodies (without payload
 * headers) and the SPIs from the IKE header.  All pointers are borrowed.
 * CHILD SA derivation ignores the SPIs, which may then be NULL.  With
 * prf_ctx NULL, each PRF call makes and frees its own HMAC context.
 */
struct ike_keys_seed {
    const uint8_t *ni;      /* initiator's nonce */
    size_t ni_len;
    const uint8_t *nr;      /* responder's nonce */
    size_t nr_len;
    const uint8_t *spi_i;   /* IKE_KEYS_SPI_LEN octets */
    const uint8_t *spi_r;   /* IKE_KEYS_SPI_LEN octets */
    struct ike_prf_ctx *prf_ctx;    /* HMAC contexts to reuse, or NULL */
};

/* Transforms of an ESP CHILD SA: AES-GCM-16 (integ NONE) or AES-CBC with
 * HMAC-SHA2, 128- or 256-bit keys. */
struct ike_child_suite {
    uint16_t encr;          /* IKE_ENCR_AES_CBC or IKE_ENCR_AES_GCM_16 */
    uint16_t encr_bits;     /* 128 or 256 */
    uint16_t integ;         /* IKE_INTEG_HMAC_SHA2_*; IKE_INTEG_NONE for GCM */
};

/* ESP keys of one CHILD SA in the order of RFC 7296 2.17: initiator to
 * responder encryption then integrity, then the same for the reverse. */
struct ike_child_keys {
    struct ike_child_suite suite;
    uint8_t encr_len;       /* with the 4-octet salt for AES-GCM (RFC 4106) */
    uint8_t integ_len;      /* 0 with AES-GCM */
    uint8_t encr_i[IKE_KEYS_MAX_ENCR_LEN];
    uint8_t integ_i[IKE_KEYS_MAX_INTEG_LEN];
    uint8_t encr_r[IKE_KEYS_MAX_ENCR_LEN];
    uint8_t integ_r[IKE_KEYS_MAX_INTEG_LEN];
};

/*
 * Checks that suite is supported.  Returns 0 or -ENOTSUP.
 */
int
ike_keys_check_suite(const struct ike_suite *suite);

/*
 * Computes SKEYSEED = prf(Ni | Nr, g^ir) (RFC 7296 2.14) into out, which
 * receives ike_prf_len(prf) octets.  The nonces form the HMAC key.
 * Returns 0, -EINVAL for nonces longer than IKE_KEYS_MAX_NONCE_LEN, or
 * the errors of ike_prf_computev().
 */
int
ike_keys_skeyseed(uint16_t prf, const uint8_t *ni, size_t ni_len,
                  const uint8_t *nr, size_t nr_len,
                  const uint8_t *g_ir, size_t g_ir_len,
                  uint8_t *out, size_t out_size);

/*
 * Computes the rekeyed SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
 * of RFC 7296 2.18 with the old SA's PRF `prf`.  Returns as
 * ike_prf_computev().
 */
int
ike_keys_rekey_skeyseed(uint16_t prf, const uint8_t *sk_d, size_t sk_d_len,
                        const uint8_t *g_ir, size_t g_ir_len,
                        const uint8_t *ni, size_t ni_len,
                        const uint8_t *nr, size_t nr_len,
                        uint8_t *out, size_t out_size);

/*
 * Splits SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr =
 * prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) into keys for suite (copied),
 * with lengths from the suite; AES-GCM has no SK_a* and carries the salt
 * in SK_e* (RFC 5282 7.1).  Returns 0, -ENOTSUP for an unsupported suite,
 * -EINVAL for missing SPIs, or the errors of ike_prf_plus().  keys is
 * wiped on failure.
 */
int
ike_keys_split_sa(struct ike_sa_keys *keys, const struct ike_suite *suite,
                  const uint8_t *skeyseed, size_t skeyseed_len,
                  const struct ike_keys_seed *seed);

/*
 * Derives the keys of a new IKE SA from g^ir: SKEYSEED (wiped before
 * return) then ike_keys_split_sa().  Returns as those two.
 */
int
ike_keys_derive_sa(struct ike_sa_keys *keys, const struct ike_suite *suite,
                   const uint8_t *g_ir, size_t g_ir_len,
                   const struct ike_keys_seed *seed);

/*
 * Derives the keys of the IKE SA that replaces old (RFC 7296 2.18): the
 * SKEYSEED comes from old's SK_d and PRF, the split uses the new suite,
 * the new nonces and the new SPIs.  keys and old may not overlap.
 * Returns as ike_keys_derive_sa().
 */
int
ike_keys_rekey_sa(struct ike_sa_keys *keys, const struct ike_suite *suite,
                  const struct ike_sa_keys *old,
                  const uint8_t *g_ir, size_t g_ir_len,
                  const struct ike_keys_seed *seed);

/*
 * Fills out[0..out_len) with KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr) of
 * RFC 7296 2.17, using ike's SK_d and PRF; g_ir may be NULL (no PFS).
 * Returns as ike_prf_plus().
 */
int
ike_keys_child_keymat(const struct ike_sa_keys *ike,
                      const uint8_t *g_ir, size_t g_ir_len,
                      const struct ike_keys_seed *seed,
                      uint8_t *out, size_t out_len);

/*
 * Derives the ESP keys of a CHILD SA from KEYMAT (see above) into keys,
 * with suite copied in.  Returns 0, -ENOTSUP for an unsupported suite,
 * or the errors of ike_prf_plus(); keys is wiped on failure.
 */
int
ike_keys_derive_child(struct ike_child_keys *keys,
                      const struct ike_child_suite *suite,
                      const struct ike_sa_keys *ike,
                      const uint8_t *g_ir, size_t g_ir_len,
                      const struct ike_keys_seed *seed);

/* Wipes every key in keys with OPENSSL_cleanse(); NULL is allowed. */
void
ike_keys_wipe_sa(struct ike_sa_keys *keys);

/* Wipes every key in keys with OPENSSL_cleanse(); NULL is allowed. */
void
ike_keys_wipe_child(struct ike_child_keys *keys);

#endif /* IKESHIFT_IKE_KEYS_H */
