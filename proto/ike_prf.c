/*
 * HMAC PRFs and prf+ over the OpenSSL 3 EVP_MAC interface.
 */
#include "ike_prf.h"

#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "ike_const.h"

/* OpenSSL digest name of an HMAC PRF, or NULL when unsupported. */
static const char *
prf_digest_name(uint16_t prf)
{
    switch (prf) {
    case IKE_PRF_HMAC_SHA1:
        return "SHA1";
    case IKE_PRF_HMAC_SHA2_256:
        return "SHA2-256";
    case IKE_PRF_HMAC_SHA2_384:
        return "SHA2-384";
    case IKE_PRF_HMAC_SHA2_512:
        return "SHA2-512";
    default:
        return NULL;
    }
}

size_t
ike_prf_len(uint16_t prf)
{
    switch (prf) {
    case IKE_PRF_HMAC_SHA1:
        return 20;
    case IKE_PRF_HMAC_SHA2_256:
        return 32;
    case IKE_PRF_HMAC_SHA2_384:
        return 48;
    case IKE_PRF_HMAC_SHA2_512:
        return 64;
    default:
        return 0;
    }
}

/* Creates an HMAC context keyed with key; *out is NULL on failure. */
static int
prf_mac_new(uint16_t prf, const uint8_t *key, size_t key_len,
            EVP_MAC_CTX **out)
{
    const char *name = prf_digest_name(prf);
    EVP_MAC_CTX *ctx = NULL;
    EVP_MAC *mac = NULL;
    /* OSSL_PARAM wants a writable string; OpenSSL only reads it. */
    char digest[16];
    int ret = -ENOTSUP;

    *out = NULL;
    if (name == NULL)
        goto out;
    ret = -EINVAL;
    if (key == NULL || key_len == 0)
        goto out;
    ret = -ENOMEM;
    if ((mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL)) == NULL)
        goto out;
    if ((ctx = EVP_MAC_CTX_new(mac)) == NULL)
        goto out;
    strcpy(digest, name);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!EVP_MAC_init(ctx, key, key_len, params))
        goto out;
    *out = ctx;
    ctx = NULL;
    ret = 0;
out:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ret;
}

static int
prf_mac_update(EVP_MAC_CTX *ctx, const struct ike_prf_iov *iov,
               size_t iov_count)
{
    if (iov == NULL && iov_count > 0)
        return -EINVAL;
    for (size_t i = 0; i < iov_count; i++) {
        if (iov[i].len == 0)
            continue;
        if (iov[i].base == NULL)
            return -EINVAL;
        if (!EVP_MAC_update(ctx, iov[i].base, iov[i].len))
            return -ENOMEM;
    }
    return 0;
}

int
ike_prf_computev(uint16_t prf, const uint8_t *key, size_t key_len,
                 const struct ike_prf_iov *iov, size_t iov_count,
                 uint8_t *out, size_t out_size)
{
    size_t len = ike_prf_len(prf);
    EVP_MAC_CTX *ctx = NULL;
    size_t written = 0;
    int ret = -ENOTSUP;

    if (len == 0)
        goto out;
    ret = -ENOBUFS;
    if (out_size < len)
        goto out;
    if ((ret = prf_mac_new(prf, key, key_len, &ctx)) < 0)
        goto out;
    if ((ret = prf_mac_update(ctx, iov, iov_count)) < 0)
        goto out;
    ret = -ENOMEM;
    if (!EVP_MAC_final(ctx, out, &written, out_size) || written != len)
        goto out;
    ret = 0;
out:
    EVP_MAC_CTX_free(ctx);
    return ret;
}

int
ike_prf_compute(uint16_t prf, const uint8_t *key, size_t key_len,
                const uint8_t *data, size_t data_len,
                uint8_t *out, size_t out_size)
{
    struct ike_prf_iov iov = { data, data_len };

    return ike_prf_computev(prf, key, key_len, &iov, 1, out, out_size);
}

int
ike_prf_plus(uint16_t prf, const uint8_t *key, size_t key_len,
             const struct ike_prf_iov *seed, size_t seed_count,
             uint8_t *out, size_t out_len)
{
    size_t len = ike_prf_len(prf);
    EVP_MAC_CTX *keyed = NULL;
    EVP_MAC_CTX *ctx = NULL;
    uint8_t block[IKE_PRF_MAX_LEN];
    size_t done = 0;
    int ret = -ENOTSUP;

    if (len == 0)
        goto out;
    ret = -EINVAL;
    if (out == NULL && out_len > 0)
        goto out;
    ret = -ERANGE;
    if (out_len > (size_t)IKE_PRF_PLUS_MAX_BLOCKS * len)
        goto out;
    /* Key once; every block starts from a copy of the keyed state. */
    if ((ret = prf_mac_new(prf, key, key_len, &keyed)) < 0)
        goto out;
    for (unsigned int n = 1; done < out_len; n++) {
        uint8_t counter = (uint8_t)n;
        size_t written = 0;

        ret = -ENOMEM;
        if ((ctx = EVP_MAC_CTX_dup(keyed)) == NULL)
            goto out;
        /* Tn = prf(K, Tn-1 | S | n); T0 is empty. */
        if (n > 1 && !EVP_MAC_update(ctx, block, len))
            goto out;
        if ((ret = prf_mac_update(ctx, seed, seed_count)) < 0)
            goto out;
        ret = -ENOMEM;
        if (!EVP_MAC_update(ctx, &counter, 1))
            goto out;
        if (!EVP_MAC_final(ctx, block, &written, sizeof(block)) ||
            written != len)
            goto out;
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;

        size_t take = out_len - done < len ? out_len - done : len;
        memcpy(out + done, block, take);
        done += take;
    }
    ret = 0;
out:
    OPENSSL_cleanse(block, sizeof(block));
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_CTX_free(keyed);
    if (ret < 0 && out != NULL)
        OPENSSL_cleanse(out, out_len);
    return ret;
}
