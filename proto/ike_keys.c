/*
 * SKEYSEED, the SK_* keys, IKE SA rekeying and CHILD SA KEYMAT.
 */
#include "ike_keys.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike_const.h"

/* Key length of an integrity transform: RFC 4868 2.1.1 uses the hash
 * output length.  Returns 0 for NONE and -1 when unsupported. */
static int
integ_key_len(uint16_t integ)
{
    switch (integ) {
    case IKE_INTEG_NONE:
        return 0;
    case IKE_INTEG_HMAC_SHA2_256_128:
        return 32;
    case IKE_INTEG_HMAC_SHA2_384_192:
        return 48;
    case IKE_INTEG_HMAC_SHA2_512_256:
        return 64;
    default:
        return -1;
    }
}

/*
 * Encryption key length in octets for encr/bits/integ, including the GCM
 * salt, or -1 when the combination is not supported.  RFC 5282 8: an
 * AEAD cipher goes with INTEG NONE; AES-CBC needs a real integrity
 * transform.
 */
static int
encr_key_len(uint16_t encr, uint16_t bits, uint16_t integ)
{
    if (bits != 128 && bits != 256)
        return -1;
    switch (encr) {
    case IKE_ENCR_AES_CBC:
        if (integ_key_len(integ) <= 0)
            return -1;
        return bits / 8;
    case IKE_ENCR_AES_GCM_16:
        if (integ != IKE_INTEG_NONE)
            return -1;
        return bits / 8 + IKE_KEYS_SALT_LEN;
    default:
        return -1;
    }
}

int
ike_keys_check_suite(const struct ike_suite *suite)
{
    if (suite == NULL)
        return -ENOTSUP;
    if (encr_key_len(suite->encr, suite->encr_bits, suite->integ) < 0)
        return -ENOTSUP;
    if (ike_prf_len(suite->prf) == 0)
        return -ENOTSUP;
    switch (suite->dh) {
    case IKE_DH_MODP_2048:
    case IKE_DH_ECP_256:
    case IKE_DH_ECP_384:
    case IKE_DH_CURVE25519:
        return 0;
    default:
        return -ENOTSUP;
    }
}

/* Runs ike_prf_computev() with ctx's HMAC contexts when ctx is set. */
static int
keys_prf_computev(struct ike_prf_ctx *ctx, uint16_t prf, const uint8_t *key,
                  size_t key_len, const struct ike_prf_iov *iov,
                  size_t iov_count, uint8_t *out, size_t out_size)
{
    if (ctx != NULL)
        return ike_prf_ctx_computev(ctx, prf, key, key_len, iov, iov_count,
                                    out, out_size);
    return ike_prf_computev(prf, key, key_len, iov, iov_count, out,
                            out_size);
}

/* Runs ike_prf_plus() with ctx's HMAC contexts when ctx is set. */
static int
keys_prf_plus(struct ike_prf_ctx *ctx, uint16_t prf, const uint8_t *key,
              size_t key_len, const struct ike_prf_iov *seed,
              size_t seed_count, uint8_t *out, size_t out_len)
{
    if (ctx != NULL)
        return ike_prf_ctx_plus(ctx, prf, key, key_len, seed, seed_count,
                                out, out_len);
    return ike_prf_plus(prf, key, key_len, seed, seed_count, out, out_len);
}

static int
keys_skeyseed(struct ike_prf_ctx *ctx, uint16_t prf, const uint8_t *ni,
              size_t ni_len, const uint8_t *nr, size_t nr_len,
              const uint8_t *g_ir, size_t g_ir_len,
              uint8_t *out, size_t out_size)
{
    uint8_t key[2 * IKE_KEYS_MAX_NONCE_LEN];
    struct ike_prf_iov data = { g_ir, g_ir_len };
    int ret;

    if (ni == NULL || nr == NULL || ni_len > IKE_KEYS_MAX_NONCE_LEN ||
        nr_len > IKE_KEYS_MAX_NONCE_LEN)
        return -EINVAL;
    /* RFC 7296 2.14: for HMAC, the whole of Ni | Nr is the key. */
    memcpy(key, ni, ni_len);
    memcpy(key + ni_len, nr, nr_len);
    ret = keys_prf_computev(ctx, prf, key, ni_len + nr_len, &data, 1, out,
                            out_size);
    OPENSSL_cleanse(key, sizeof(key));
    return ret;
}

int
ike_keys_skeyseed(uint16_t prf, const uint8_t *ni, size_t ni_len,
                  const uint8_t *nr, size_t nr_len,
                  const uint8_t *g_ir, size_t g_ir_len,
                  uint8_t *out, size_t out_size)
{
    return keys_skeyseed(NULL, prf, ni, ni_len, nr, nr_len, g_ir, g_ir_len,
                         out, out_size);
}

int
ike_keys_rekey_skeyseed(uint16_t prf, const uint8_t *sk_d, size_t sk_d_len,
                        const uint8_t *g_ir, size_t g_ir_len,
                        const uint8_t *ni, size_t ni_len,
                        const uint8_t *nr, size_t nr_len,
                        uint8_t *out, size_t out_size)
{
    struct ike_prf_iov data[] = {
        { g_ir, g_ir_len },
        { ni, ni_len },
        { nr, nr_len },
    };

    return ike_prf_computev(prf, sk_d, sk_d_len, data, 3, out, out_size);
}

/* Copies len octets from *cursor into dst and advances the cursor. */
static void
take(uint8_t *dst, const uint8_t **cursor, size_t len)
{
    memcpy(dst, *cursor, len);
    *cursor += len;
}

int
ike_keys_split_sa(struct ike_sa_keys *keys, const struct ike_suite *suite,
                  const uint8_t *skeyseed, size_t skeyseed_len,
                  const struct ike_keys_seed *seed)
{
    /* Largest split: 3 PRF keys, 2 integrity keys, 2 encryption keys. */
    uint8_t keymat[3 * IKE_KEYS_MAX_PRF_LEN + 2 * IKE_KEYS_MAX_INTEG_LEN +
                   2 * IKE_KEYS_MAX_ENCR_LEN];
    const uint8_t *cursor = keymat;
    size_t prf_len, integ_len, encr_len, total;
    struct ike_suite s;
    int ret = -ENOTSUP;

    if (ike_keys_check_suite(suite) < 0)
        goto out;
    /* suite may point into keys, which is cleared next. */
    s = *suite;
    OPENSSL_cleanse(keys, sizeof(*keys));
    ret = -EINVAL;
    if (seed == NULL || seed->spi_i == NULL || seed->spi_r == NULL)
        goto out;
    prf_len = ike_prf_len(s.prf);
    integ_len = (size_t)integ_key_len(s.integ);
    encr_len = (size_t)encr_key_len(s.encr, s.encr_bits, s.integ);
    total = 3 * prf_len + 2 * integ_len + 2 * encr_len;

    struct ike_prf_iov parts[] = {
        { seed->ni, seed->ni_len },
        { seed->nr, seed->nr_len },
        { seed->spi_i, IKE_KEYS_SPI_LEN },
        { seed->spi_r, IKE_KEYS_SPI_LEN },
    };
    ret = keys_prf_plus(seed->prf_ctx, s.prf, skeyseed, skeyseed_len, parts,
                        4, keymat, total);
    if (ret < 0)
        goto out;
    keys->suite = s;
    keys->prf_len = (uint8_t)prf_len;
    keys->integ_len = (uint8_t)integ_len;
    keys->encr_len = (uint8_t)encr_len;
    keys->gcm_iv_next = 0;
    /* RFC 7296 2.14: SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr */
    take(keys->sk_d, &cursor, prf_len);
    take(keys->sk_ai, &cursor, integ_len);
    take(keys->sk_ar, &cursor, integ_len);
    take(keys->sk_ei, &cursor, encr_len);
    take(keys->sk_er, &cursor, encr_len);
    take(keys->sk_pi, &cursor, prf_len);
    take(keys->sk_pr, &cursor, prf_len);
    ret = 0;
out:
    OPENSSL_cleanse(keymat, sizeof(keymat));
    if (ret < 0)
        OPENSSL_cleanse(keys, sizeof(*keys));
    return ret;
}

int
ike_keys_derive_sa(struct ike_sa_keys *keys, const struct ike_suite *suite,
                   const uint8_t *g_ir, size_t g_ir_len,
                   const struct ike_keys_seed *seed)
{
    uint8_t skeyseed[IKE_PRF_MAX_LEN];
    struct ike_suite s;
    int ret = -ENOTSUP;

    if (ike_keys_check_suite(suite) < 0)
        goto out;
    s = *suite;
    ret = -EINVAL;
    if (seed == NULL)
        goto out;
    ret = keys_skeyseed(seed->prf_ctx, s.prf, seed->ni, seed->ni_len,
                        seed->nr, seed->nr_len, g_ir, g_ir_len, skeyseed,
                        sizeof(skeyseed));
    if (ret < 0)
        goto out;
    ret = ike_keys_split_sa(keys, &s, skeyseed, ike_prf_len(s.prf), seed);
out:
    if (ret < 0)
        OPENSSL_cleanse(keys, sizeof(*keys));
    OPENSSL_cleanse(skeyseed, sizeof(skeyseed));
    return ret;
}

int
ike_keys_rekey_sa(struct ike_sa_keys *keys, const struct ike_suite *suite,
                  const struct ike_sa_keys *old,
                  const uint8_t *g_ir, size_t g_ir_len,
                  const struct ike_keys_seed *seed)
{
    uint8_t skeyseed[IKE_PRF_MAX_LEN];
    int ret = -EINVAL;

    if (old == NULL || seed == NULL || g_ir == NULL)
        goto out;
    /* RFC 7296 2.18: the old SA's PRF makes SKEYSEED; the new one splits. */
    ret = ike_keys_rekey_skeyseed(old->suite.prf, old->sk_d, old->prf_len,
                                  g_ir, g_ir_len, seed->ni, seed->ni_len,
                                  seed->nr, seed->nr_len, skeyseed,
                                  sizeof(skeyseed));
    if (ret < 0)
        goto out;
    ret = ike_keys_split_sa(keys, suite, skeyseed,
                            ike_prf_len(old->suite.prf), seed);
out:
    OPENSSL_cleanse(skeyseed, sizeof(skeyseed));
    if (ret < 0)
        OPENSSL_cleanse(keys, sizeof(*keys));
    return ret;
}

int
ike_keys_child_keymat(const struct ike_sa_keys *ike,
                      const uint8_t *g_ir, size_t g_ir_len,
                      const struct ike_keys_seed *seed,
                      uint8_t *out, size_t out_len)
{
    if (ike == NULL || seed == NULL)
        return -EINVAL;

    struct ike_prf_iov parts[] = {
        { g_ir, g_ir != NULL ? g_ir_len : 0 },
        { seed->ni, seed->ni_len },
        { seed->nr, seed->nr_len },
    };

    return keys_prf_plus(seed->prf_ctx, ike->suite.prf, ike->sk_d,
                         ike->prf_len, parts, 3, out, out_len);
}

int
ike_keys_derive_child(struct ike_child_keys *keys,
                      const struct ike_child_suite *suite,
                      const struct ike_sa_keys *ike,
                      const uint8_t *g_ir, size_t g_ir_len,
                      const struct ike_keys_seed *seed)
{
    uint8_t keymat[2 * (IKE_KEYS_MAX_ENCR_LEN + IKE_KEYS_MAX_INTEG_LEN)];
    const uint8_t *cursor = keymat;
    struct ike_child_suite s;
    int encr_len, integ_len;
    int ret = -ENOTSUP;

    if (suite == NULL)
        goto out;
    s = *suite;
    OPENSSL_cleanse(keys, sizeof(*keys));
    encr_len = encr_key_len(s.encr, s.encr_bits, s.integ);
    integ_len = integ_key_len(s.integ);
    if (encr_len < 0 || integ_len < 0)
        goto out;
    ret = ike_keys_child_keymat(ike, g_ir, g_ir_len, seed, keymat,
                                2 * (size_t)(encr_len + integ_len));
    if (ret < 0)
        goto out;
    keys->suite = s;
    keys->encr_len = (uint8_t)encr_len;
    keys->integ_len = (uint8_t)integ_len;
    /* RFC 7296 2.17: all I->R keys first, encryption before integrity. */
    take(keys->encr_i, &cursor, (size_t)encr_len);
    take(keys->integ_i, &cursor, (size_t)integ_len);
    take(keys->encr_r, &cursor, (size_t)encr_len);
    take(keys->integ_r, &cursor, (size_t)integ_len);
    ret = 0;
out:
    OPENSSL_cleanse(keymat, sizeof(keymat));
    if (ret < 0)
        OPENSSL_cleanse(keys, sizeof(*keys));
    return ret;
}

void
ike_keys_wipe_sa(struct ike_sa_keys *keys)
{
    if (keys != NULL)
        OPENSSL_cleanse(keys, sizeof(*keys));
}

void
ike_keys_wipe_child(struct ike_child_keys *keys)
{
    if (keys != NULL)
        OPENSSL_cleanse(keys, sizeof(*keys));
}
