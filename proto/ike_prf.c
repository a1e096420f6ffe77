/*
 * HMAC PRFs and prf+ over the OpenSSL 3 EVP_MAC interface.
 */
#include "ike_prf.h"

#include <errno.h>
#include <stdlib.h>
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

/* PRFs in the order of prf_index(). */
#define PRF_COUNT 4

struct ike_prf_ctx {
    EVP_MAC *hmac;                  /* fetched on first use */
    EVP_MAC_CTX *mac[PRF_COUNT];    /* digest set, re-keyed per call */
};

/* Index of prf in struct ike_prf_ctx, or -1 when unsupported. */
static int
prf_index(uint16_t prf)
{
    switch (prf) {
    case IKE_PRF_HMAC_SHA1:
        return 0;
    case IKE_PRF_HMAC_SHA2_256:
        return 1;
    case IKE_PRF_HMAC_SHA2_384:
        return 2;
    case IKE_PRF_HMAC_SHA2_512:
        return 3;
    default:
        return -1;
    }
}

struct ike_prf_ctx *
ike_prf_ctx_new(void)
{
    return calloc(1, sizeof(struct ike_prf_ctx));
}

void
ike_prf_ctx_free(struct ike_prf_ctx *ctx)
{
    if (ctx == NULL)
        return;
    /* EVP_MAC_CTX_free() wipes the keyed HMAC state. */
    for (size_t i = 0; i < PRF_COUNT; i++)
        EVP_MAC_CTX_free(ctx->mac[i]);
    EVP_MAC_free(ctx->hmac);
    free(ctx);
}

/* Returns ctx's HMAC context for prf, made on first use, or NULL. */
static EVP_MAC_CTX *
prf_ctx_mac(struct ike_prf_ctx *ctx, uint16_t prf)
{
    int i = prf_index(prf);
    EVP_MAC_CTX *mac;
    /* OSSL_PARAM wants a writable string; OpenSSL only reads it. */
    char digest[16];

    if (i < 0)
        return NULL;
    if (ctx->mac[i] != NULL)
        return ctx->mac[i];
    if (ctx->hmac == NULL &&
        (ctx->hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL)) == NULL)
        return NULL;
    if ((mac = EVP_MAC_CTX_new(ctx->hmac)) == NULL)
        return NULL;
    strcpy(digest, prf_digest_name(prf));
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    /* The digest is looked up here once, not on every EVP_MAC_init(). */
    if (!EVP_MAC_CTX_set_params(mac, params)) {
        EVP_MAC_CTX_free(mac);
        return NULL;
    }
    ctx->mac[i] = mac;
    return mac;
}

/* Keys ctx's HMAC context for prf with key; *out is NULL on failure. */
static int
prf_mac_key(struct ike_prf_ctx *ctx, uint16_t prf, const uint8_t *key,
            size_t key_len, EVP_MAC_CTX **out)
{
    EVP_MAC_CTX *mac;

    *out = NULL;
    if (prf_index(prf) < 0)
        return -ENOTSUP;
    if (key == NULL || key_len == 0)
        return -EINVAL;
    if ((mac = prf_ctx_mac(ctx, prf)) == NULL)
        return -ENOMEM;
    if (!EVP_MAC_init(mac, key, key_len, NULL))
        return -ENOMEM;
    *out = mac;
    return 0;
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
ike_prf_ctx_computev(struct ike_prf_ctx *ctx, uint16_t prf,
                     const uint8_t *key, size_t key_len,
                     const struct ike_prf_iov *iov, size_t iov_count,
                     uint8_t *out, size_t out_size)
{
    size_t len = ike_prf_len(prf);
    EVP_MAC_CTX *mac = NULL;
    size_t written = 0;
    int ret = -ENOTSUP;

    if (len == 0)
        goto out;
    ret = -ENOBUFS;
    if (out_size < len)
        goto out;
    if ((ret = prf_mac_key(ctx, prf, key, key_len, &mac)) < 0)
        goto out;
    if ((ret = prf_mac_update(mac, iov, iov_count)) < 0)
        goto out;
    ret = -ENOMEM;
    if (!EVP_MAC_final(mac, out, &written, out_size) || written != len)
        goto out;
    ret = 0;
out:
    return ret;
}

int
ike_prf_computev(uint16_t prf, const uint8_t *key, size_t key_len,
                 const struct ike_prf_iov *iov, size_t iov_count,
                 uint8_t *out, size_t out_size)
{
    struct ike_prf_ctx *ctx = ike_prf_ctx_new();
    int ret = -ENOMEM;

    if (ctx != NULL)
        ret = ike_prf_ctx_computev(ctx, prf, key, key_len, iov, iov_count,
                                   out, out_size);
    ike_prf_ctx_free(ctx);
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
ike_prf_ctx_plus(struct ike_prf_ctx *ctx, uint16_t prf,
                 const uint8_t *key, size_t key_len,
                 const struct ike_prf_iov *seed, size_t seed_count,
                 uint8_t *out, size_t out_len)
{
    size_t len = ike_prf_len(prf);
    EVP_MAC_CTX *mac = NULL;
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
    if ((ret = prf_mac_key(ctx, prf, key, key_len, &mac)) < 0)
        goto out;
    for (unsigned int n = 1; done < out_len; n++) {
        uint8_t counter = (uint8_t)n;
        size_t written = 0;

        ret = -ENOMEM;
        /* Without a key, EVP_MAC_init() restarts from the keyed state. */
        if (n > 1 && !EVP_MAC_init(mac, NULL, 0, NULL))
            goto out;
        /* Tn = prf(K, Tn-1 | S | n); T0 is empty. */
        if (n > 1 && !EVP_MAC_update(mac, block, len))
            goto out;
        if ((ret = prf_mac_update(mac, seed, seed_count)) < 0)
            goto out;
        ret = -ENOMEM;
        if (!EVP_MAC_update(mac, &counter, 1))
            goto out;
        if (!EVP_MAC_final(mac, block, &written, sizeof(block)) ||
            written != len)
            goto out;

        size_t take = out_len - done < len ? out_len - done : len;
        memcpy(out + done, block, take);
        done += take;
    }
    ret = 0;
out:
    OPENSSL_cleanse(block, sizeof(block));
    if (ret < 0 && out != NULL)
        OPENSSL_cleanse(out, out_len);
    return ret;
}

int
ike_prf_plus(uint16_t prf, const uint8_t *key, size_t key_len,
             const struct ike_prf_iov *seed, size_t seed_count,
             uint8_t *out, size_t out_len)
{
    struct ike_prf_ctx *ctx = ike_prf_ctx_new();
    int ret = -ENOMEM;

    if (ctx != NULL)
        ret = ike_prf_ctx_plus(ctx, prf, key, key_len, seed, seed_count,
                               out, out_len);
    else if (out != NULL)
        OPENSSL_cleanse(out, out_len);
    ike_prf_ctx_free(ctx);
    return ret;
}
