/*
 * Shared key AUTH computation and verification (RFC 7296 2.15).
 */
#include "ike_auth.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike_const.h"
#include "ike_prf.h"

/* RFC 7296 2.15: 17 ASCII octets, no terminating NUL. */
static const char auth_key_pad[] = "Key Pad for IKEv2";
#define AUTH_KEY_PAD_LEN    (sizeof(auth_key_pad) - 1)

static int
auth_check_octets(const struct ike_auth_octets *in)
{
    if (in == NULL || in->message == NULL || in->message_len == 0 ||
        in->nonce == NULL || in->nonce_len == 0 || in->id == NULL ||
        in->id_len == 0 || in->sk_p == NULL || in->sk_p_len == 0)
        return -EINVAL;
    return 0;
}

/* Runs ike_prf_computev() with the HMAC contexts of in->prf_ctx if set. */
static int
auth_prf(const struct ike_auth_octets *in, uint16_t prf, const uint8_t *key,
         size_t key_len, const struct ike_prf_iov *iov, size_t iov_count,
         uint8_t *out, size_t out_size)
{
    if (in->prf_ctx != NULL)
        return ike_prf_ctx_computev(in->prf_ctx, prf, key, key_len, iov,
                                    iov_count, out, out_size);
    return ike_prf_computev(prf, key, key_len, iov, iov_count, out,
                            out_size);
}

int
ike_auth_signed_octets(uint16_t prf, const struct ike_auth_octets *in,
                       uint8_t *out, size_t out_size, size_t *out_len)
{
    size_t prf_len = ike_prf_len(prf);
    size_t head;
    int ret;

    if (prf_len == 0)
        return -ENOTSUP;
    if ((ret = auth_check_octets(in)) < 0 || out == NULL || out_len == NULL)
        return -EINVAL;
    head = in->message_len + in->nonce_len;
    if (head < in->message_len || out_size < head ||
        out_size - head < prf_len)
        return -ENOBUFS;
    memcpy(out, in->message, in->message_len);
    memcpy(out + in->message_len, in->nonce, in->nonce_len);
    struct ike_prf_iov id = { in->id, in->id_len };

    ret = auth_prf(in, prf, in->sk_p, in->sk_p_len, &id, 1, out + head,
                   prf_len);
    if (ret < 0)
        return ret;
    *out_len = head + prf_len;
    return 0;
}

int
ike_auth_compute(uint8_t method, uint16_t prf, const uint8_t *psk,
                 size_t psk_len, const struct ike_auth_octets *in,
                 uint8_t *out, size_t out_size, size_t *out_len)
{
    uint8_t pad_key[IKE_PRF_MAX_LEN];
    uint8_t id_mac[IKE_PRF_MAX_LEN];
    size_t prf_len = ike_prf_len(prf);
    int ret = -ENOTSUP;

    /*
     * TODO: RFC 7427 digital signatures (method 14) and the RSA/DSS/ECDSA
     * methods are not implemented, so peers that authenticate with
     * certificates are rejected.
     */
    if (method != IKE_AUTH_SHARED_KEY_MIC || prf_len == 0)
        goto out;
    ret = -EINVAL;
    if (psk == NULL || psk_len == 0 || out_len == NULL ||
        auth_check_octets(in) < 0)
        goto out;
    ret = -ENOBUFS;
    if (out == NULL || out_size < prf_len)
        goto out;
    struct ike_prf_iov key_pad = { auth_key_pad, AUTH_KEY_PAD_LEN };
    struct ike_prf_iov id = { in->id, in->id_len };

    ret = auth_prf(in, prf, psk, psk_len, &key_pad, 1, pad_key,
                   sizeof(pad_key));
    if (ret < 0)
        goto out;
    ret = auth_prf(in, prf, in->sk_p, in->sk_p_len, &id, 1, id_mac,
                   sizeof(id_mac));
    if (ret < 0)
        goto out;

    struct ike_prf_iov signed_octets[] = {
        { in->message, in->message_len },
        { in->nonce, in->nonce_len },
        { id_mac, prf_len },
    };
    ret = auth_prf(in, prf, pad_key, prf_len, signed_octets, 3, out,
                   out_size);
    if (ret < 0)
        goto out;
    *out_len = prf_len;
out:
    OPENSSL_cleanse(pad_key, sizeof(pad_key));
    OPENSSL_cleanse(id_mac, sizeof(id_mac));
    return ret;
}

int
ike_auth_verify(uint8_t method, uint16_t prf, const uint8_t *psk,
                size_t psk_len, const struct ike_auth_octets *in,
                const uint8_t *auth, size_t auth_len)
{
    uint8_t expect[IKE_PRF_MAX_LEN];
    size_t expect_len = 0;
    int ret;

    ret = ike_auth_compute(method, prf, psk, psk_len, in, expect,
                           sizeof(expect), &expect_len);
    if (ret < 0)
        goto out;
    ret = -EACCES;
    if (auth == NULL || auth_len != expect_len)
        goto out;
    if (CRYPTO_memcmp(expect, auth, expect_len) != 0)
        goto out;
    ret = 0;
out:
    OPENSSL_cleanse(expect, sizeof(expect));
    return ret;
}
