/*
 * SK and SKF payload protection with AES-CBC + HMAC-SHA2 or AES-GCM.
 */
#include "ike_sk.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ike_const.h"
#include "ike_prf.h"

#define SK_CBC_BLOCK_LEN        16
#define SK_CBC_IV_LEN           16
#define SK_GCM_IV_LEN           8
#define SK_HDR_LENGTH_OFF       24  /* IKE header Length, RFC 7296 3.1 */

/* The transforms and keys that protect one direction. */
struct sk_params {
    bool gcm;
    const EVP_CIPHER *cbc;      /* AES-CBC cipher, NULL with GCM */
    size_t key_len;             /* AES key without the salt */
    size_t iv_len;
    size_t icv_len;
    uint16_t mac_prf;           /* HMAC with the integrity hash (CBC) */
    const uint8_t *encr_key;
    const uint8_t *salt;        /* GCM only */
    const uint8_t *integ_key;   /* CBC only */
    size_t integ_len;
};

static void
store16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
store32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint16_t
load16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
load32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

/* Fills p for keys' suite and direction dir; -ENOTSUP if unsupported. */
static int
sk_params_init(const struct ike_sa_keys *keys, enum ike_sk_dir dir,
               struct sk_params *p)
{
    const struct ike_suite *s = &keys->suite;
    bool from_i = dir == IKE_SK_FROM_INITIATOR;

    memset(p, 0, sizeof(*p));
    if (s->encr_bits != 128 && s->encr_bits != 256)
        return -ENOTSUP;
    p->key_len = s->encr_bits / 8;
    p->encr_key = from_i ? keys->sk_ei : keys->sk_er;
    switch (s->encr) {
    case IKE_ENCR_AES_GCM_16:
        if (s->integ != IKE_INTEG_NONE ||
            keys->encr_len != p->key_len + IKE_KEYS_SALT_LEN)
            return -ENOTSUP;
        p->gcm = true;
        p->iv_len = SK_GCM_IV_LEN;
        p->icv_len = IKE_SK_GCM_ICV_LEN;
        /* RFC 5282 7.1: the salt is the last 4 octets of SK_e. */
        p->salt = p->encr_key + p->key_len;
        return 0;
    case IKE_ENCR_AES_CBC:
        if (keys->encr_len != p->key_len)
            return -ENOTSUP;
        p->cbc = s->encr_bits == 128 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
        p->iv_len = SK_CBC_IV_LEN;
        break;
    default:
        return -ENOTSUP;
    }
    /* RFC 4868 2.3: the ICV is the left half of the HMAC output. */
    switch (s->integ) {
    case IKE_INTEG_HMAC_SHA2_256_128:
        p->mac_prf = IKE_PRF_HMAC_SHA2_256;
        break;
    case IKE_INTEG_HMAC_SHA2_384_192:
        p->mac_prf = IKE_PRF_HMAC_SHA2_384;
        break;
    case IKE_INTEG_HMAC_SHA2_512_256:
        p->mac_prf = IKE_PRF_HMAC_SHA2_512;
        break;
    default:
        return -ENOTSUP;
    }
    p->icv_len = ike_prf_len(p->mac_prf) / 2;
    p->integ_len = ike_prf_len(p->mac_prf);
    if (keys->integ_len != p->integ_len)
        return -ENOTSUP;
    p->integ_key = from_i ? keys->sk_ai : keys->sk_ar;
    return 0;
}

/* Octets of ciphertext for plain_len octets of inner payloads. */
static size_t
sk_padded_len(const struct sk_params *p, size_t plain_len)
{
    size_t with_pad_length = plain_len + 1;

    /* RFC 5282 3 needs no alignment for GCM, so it carries no padding. */
    if (p->gcm)
        return with_pad_length;
    return (with_pad_length + SK_CBC_BLOCK_LEN - 1) / SK_CBC_BLOCK_LEN *
           SK_CBC_BLOCK_LEN;
}

size_t
ike_sk_payload_len(const struct ike_sa_keys *keys, size_t plain_len)
{
    struct sk_params p;

    if (keys == NULL || sk_params_init(keys, IKE_SK_FROM_INITIATOR, &p) < 0)
        return 0;
    return IKE_SK_HDR_LEN + p.iv_len + sk_padded_len(&p, plain_len) +
           p.icv_len;
}

static const EVP_CIPHER *
gcm_cipher(size_t key_len)
{
    if (key_len == 16)
        return EVP_aes_128_gcm();
    if (key_len == 32)
        return EVP_aes_256_gcm();
    return NULL;
}

/* Runs AES-GCM in direction enc; on decryption tag is checked. */
static int
gcm_crypt(int enc, const uint8_t *key, size_t key_len, const uint8_t *nonce,
          const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
          uint8_t *out, uint8_t tag[IKE_SK_GCM_ICV_LEN])
{
    const EVP_CIPHER *cipher = gcm_cipher(key_len);
    EVP_CIPHER_CTX *ctx = NULL;
    int outl = 0, finl = 0;
    int ret = -EINVAL;

    if (cipher == NULL || aad_len > INT_MAX || len > INT_MAX)
        goto out;
    if ((aad == NULL && aad_len > 0) || (in == NULL && len > 0))
        goto out;
    ret = -ENOMEM;
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
        goto out;
    if (!EVP_CipherInit_ex(ctx, cipher, NULL, NULL, NULL, enc))
        goto out;
    if (!EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN,
                             IKE_SK_GCM_NONCE_LEN, NULL))
        goto out;
    if (!EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc))
        goto out;
    if (aad_len > 0 && !EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len))
        goto out;
    outl = 0;
    if (len > 0 && !EVP_CipherUpdate(ctx, out, &outl, in, (int)len))
        goto out;
    if (!enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
                                     IKE_SK_GCM_ICV_LEN, tag))
        goto out;
    if (!EVP_CipherFinal_ex(ctx, out + outl, &finl)) {
        /* For decryption the only input-dependent failure is the tag. */
        ret = enc ? -ENOMEM : -EBADMSG;
        goto out;
    }
    if ((size_t)outl + (size_t)finl != len)
        goto out;
    if (enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
                                    IKE_SK_GCM_ICV_LEN, tag))
        goto out;
    ret = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    if (ret < 0 && !enc && out != NULL)
        OPENSSL_cleanse(out, len);
    return ret;
}

int
ike_sk_gcm_encrypt(const uint8_t *key, size_t key_len,
                   const uint8_t nonce[IKE_SK_GCM_NONCE_LEN],
                   const uint8_t *aad, size_t aad_len,
                   const uint8_t *in, size_t len, uint8_t *out,
                   uint8_t tag[IKE_SK_GCM_ICV_LEN])
{
    return gcm_crypt(1, key, key_len, nonce, aad, aad_len, in, len, out,
                     tag);
}

int
ike_sk_gcm_decrypt(const uint8_t *key, size_t key_len,
                   const uint8_t nonce[IKE_SK_GCM_NONCE_LEN],
                   const uint8_t *aad, size_t aad_len,
                   const uint8_t *in, size_t len, uint8_t *out,
                   const uint8_t tag[IKE_SK_GCM_ICV_LEN])
{
    /* EVP_CTRL_GCM_SET_TAG takes a writable pointer. */
    uint8_t expect[IKE_SK_GCM_ICV_LEN];

    memcpy(expect, tag, sizeof(expect));
    return gcm_crypt(0, key, key_len, nonce, aad, aad_len, in, len, out,
                     expect);
}

/* AES-CBC without EVP padding; len is a multiple of the block size. */
static int
cbc_crypt(int enc, const struct sk_params *p, const uint8_t *iv,
          const uint8_t *in, size_t len, uint8_t *out)
{
    EVP_CIPHER_CTX *ctx = NULL;
    int outl = 0, finl = 0;
    int ret = -ENOMEM;

    if (len > INT_MAX)
        return -EINVAL;
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
        goto out;
    if (!EVP_CipherInit_ex(ctx, p->cbc, NULL, p->encr_key, iv, enc))
        goto out;
    if (!EVP_CIPHER_CTX_set_padding(ctx, 0))
        goto out;
    if (!EVP_CipherUpdate(ctx, out, &outl, in, (int)len))
        goto out;
    if (!EVP_CipherFinal_ex(ctx, out + outl, &finl))
        goto out;
    if ((size_t)outl + (size_t)finl != len)
        goto out;
    ret = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    return ret;
}

/* Truncated HMAC over msg[0..len) into icv (RFC 7296 3.14). */
static int
cbc_icv(const struct sk_params *p, const uint8_t *msg, size_t len,
        uint8_t *icv)
{
    uint8_t mac[IKE_PRF_MAX_LEN];
    int ret;

    ret = ike_prf_compute(p->mac_prf, p->integ_key, p->integ_len, msg, len,
                          mac, sizeof(mac));
    if (ret == 0)
        memcpy(icv, mac, p->icv_len);
    OPENSSL_cleanse(mac, sizeof(mac));
    return ret;
}

/*
 * Seals an SK (hdr_len 4) or SKF (hdr_len 8) payload with the header
 * fields in info; SK uses only info->next_payload.  See ike_sk_seal().
 */
static int
sk_seal(struct ike_sa_keys *keys, enum ike_sk_dir dir, size_t hdr_len,
        const struct ike_skf_info *info, const uint8_t *plain,
        size_t plain_len, uint8_t *msg, size_t msg_len, size_t msg_size,
        size_t *out_len)
{
    struct sk_params p;
    size_t padded, sk_len, iv_off, ct_off, icv_off;
    uint8_t nonce[IKE_SK_GCM_NONCE_LEN];
    bool copied = false;
    int ret;

    if (keys == NULL)
        return -EINVAL;
    if ((ret = sk_params_init(keys, dir, &p)) < 0)
        return ret;
    ret = -EINVAL;
    if (msg == NULL || out_len == NULL || msg_len < IKE_HDR_LEN ||
        (plain == NULL && plain_len > 0))
        goto out;
    ret = -EMSGSIZE;
    if (plain_len > UINT16_MAX)
        goto out;
    padded = sk_padded_len(&p, plain_len);
    sk_len = hdr_len + p.iv_len + padded + p.icv_len;
    if (sk_len > UINT16_MAX || msg_len > UINT32_MAX - sk_len)
        goto out;
    ret = -ENOBUFS;
    if (msg_size < msg_len || msg_size - msg_len < sk_len)
        goto out;
    iv_off = msg_len + hdr_len;
    ct_off = iv_off + p.iv_len;
    icv_off = ct_off + padded;

    /* Plaintext first: plain may overlap the header area written next. */
    if (plain_len > 0)
        memmove(msg + ct_off, plain, plain_len);
    copied = true;
    memset(msg + ct_off + plain_len, 0, padded - plain_len - 1);
    msg[icv_off - 1] = (uint8_t)(padded - plain_len - 1);

    msg[msg_len] = info->next_payload;
    msg[msg_len + 1] = 0;                   /* not critical, RESERVED */
    store16(msg + msg_len + 2, (uint16_t)sk_len);
    if (hdr_len == IKE_SKF_HDR_LEN) {
        store16(msg + msg_len + 4, info->number);
        store16(msg + msg_len + 6, info->total);
    }
    store32(msg + SK_HDR_LENGTH_OFF, (uint32_t)(msg_len + sk_len));

    if (p.gcm) {
        uint64_t iv = keys->gcm_iv_next;

        /* A repeated nonce would expose the GCM key stream. */
        ret = -EOVERFLOW;
        if (iv == UINT64_MAX)
            goto out;
        keys->gcm_iv_next = iv + 1;
        for (size_t i = 0; i < SK_GCM_IV_LEN; i++)
            msg[iv_off + i] = (uint8_t)(iv >> (8 * (SK_GCM_IV_LEN - 1 - i)));
        memcpy(nonce, p.salt, IKE_KEYS_SALT_LEN);
        memcpy(nonce + IKE_KEYS_SALT_LEN, msg + iv_off, SK_GCM_IV_LEN);
        /* RFC 5282 5.1: AAD is the IKE header through the SK header. */
        ret = gcm_crypt(1, p.encr_key, p.key_len, nonce, msg, iv_off,
                        msg + ct_off, padded, msg + ct_off, msg + icv_off);
        if (ret < 0)
            goto out;
    } else {
        ret = -ENOMEM;
        if (RAND_bytes(msg + iv_off, (int)p.iv_len) != 1)
            goto out;
        ret = cbc_crypt(1, &p, msg + iv_off, msg + ct_off, padded,
                        msg + ct_off);
        if (ret < 0)
            goto out;
        /* RFC 7296 3.14: the ICV covers the header through the ciphertext. */
        if ((ret = cbc_icv(&p, msg, icv_off, msg + icv_off)) < 0)
            goto out;
    }
    *out_len = msg_len + sk_len;
    ret = 0;
out:
    if (ret < 0 && copied)
        OPENSSL_cleanse(msg + ct_off, padded);
    return ret;
}

int
ike_sk_seal(struct ike_sa_keys *keys, enum ike_sk_dir dir,
            uint8_t next_payload, const uint8_t *plain, size_t plain_len,
            uint8_t *msg, size_t msg_len, size_t msg_size, size_t *out_len)
{
    struct ike_skf_info info = { next_payload, 0, 0 };

    return sk_seal(keys, dir, IKE_SK_HDR_LEN, &info, plain, plain_len, msg,
                   msg_len, msg_size, out_len);
}

int
ike_sk_seal_fragment(struct ike_sa_keys *keys, enum ike_sk_dir dir,
                     const struct ike_skf_info *info,
                     const uint8_t *plain, size_t plain_len,
                     uint8_t *msg, size_t msg_len, size_t msg_size,
                     size_t *out_len)
{
    if (info == NULL || info->number == 0 || info->number > info->total)
        return -EINVAL;
    return sk_seal(keys, dir, IKE_SKF_HDR_LEN, info, plain, plain_len, msg,
                   msg_len, msg_size, out_len);
}

/*
 * Opens an SK (hdr_len 4) or SKF (hdr_len 8) payload and returns its
 * header fields in *info; see ike_sk_open().  The ICV sits at the end of
 * msg, so nothing inside the payload is read to find it.
 */
static int
sk_open(const struct ike_sa_keys *keys, enum ike_sk_dir dir, size_t hdr_len,
        const uint8_t *msg, size_t msg_len, size_t sk_off,
        uint8_t *plain, size_t plain_size, size_t *plain_len,
        struct ike_skf_info *info)
{
    struct sk_params p;
    size_t body, ct_len, iv_off, ct_off, icv_off;
    uint8_t nonce[IKE_SK_GCM_NONCE_LEN];
    bool decrypted = false;
    uint8_t pad_len;
    int ret;

    if (keys == NULL)
        return -EINVAL;
    if ((ret = sk_params_init(keys, dir, &p)) < 0)
        return ret;
    ret = -EINVAL;
    if (msg == NULL || plain_len == NULL || msg_len < IKE_HDR_LEN ||
        sk_off < IKE_HDR_LEN || sk_off > msg_len ||
        msg_len - sk_off < hdr_len)
        goto out;
    body = msg_len - sk_off - hdr_len;
    ret = -ENODATA;
    if (body < p.iv_len + p.icv_len + 1)
        goto out;
    ct_len = body - p.iv_len - p.icv_len;
    ret = -ENOBUFS;
    if (plain == NULL || plain_size < ct_len)
        goto out;
    iv_off = sk_off + hdr_len;
    ct_off = iv_off + p.iv_len;
    icv_off = msg_len - p.icv_len;

    if (p.gcm) {
        memcpy(nonce, p.salt, IKE_KEYS_SALT_LEN);
        memcpy(nonce + IKE_KEYS_SALT_LEN, msg + iv_off, SK_GCM_IV_LEN);
        ret = ike_sk_gcm_decrypt(p.encr_key, p.key_len, nonce, msg, iv_off,
                                 msg + ct_off, ct_len, plain, msg + icv_off);
        if (ret < 0)
            goto out;
        decrypted = true;
    } else {
        uint8_t icv[IKE_PRF_MAX_LEN / 2];

        if ((ret = cbc_icv(&p, msg, icv_off, icv)) < 0)
            goto out;
        ret = -EBADMSG;
        if (CRYPTO_memcmp(icv, msg + icv_off, p.icv_len) != 0)
            goto out;
    }
    /* The ICV has verified, so these length fields are what the peer sent. */
    ret = -EINVAL;
    if (load16(msg + sk_off + 2) != msg_len - sk_off ||
        load32(msg + SK_HDR_LENGTH_OFF) != msg_len)
        goto out;
    info->next_payload = msg[sk_off];
    info->number = 0;
    info->total = 0;
    if (hdr_len == IKE_SKF_HDR_LEN) {
        info->number = load16(msg + sk_off + 4);
        info->total = load16(msg + sk_off + 6);
        /* RFC 7383 2.6: 1 <= Fragment Number <= Total Fragments. */
        if (info->number == 0 || info->number > info->total)
            goto out;
    }
    if (!p.gcm) {
        ret = -EPROTO;
        if (ct_len % SK_CBC_BLOCK_LEN != 0)
            goto out;
        decrypted = true;
        ret = cbc_crypt(0, &p, msg + iv_off, msg + ct_off, ct_len, plain);
        if (ret < 0)
            goto out;
    }
    /* RFC 7296 3.14: Pad Length counts the padding before it. */
    pad_len = plain[ct_len - 1];
    ret = -ERANGE;
    if ((size_t)pad_len + 1 > ct_len)
        goto out;
    *plain_len = ct_len - pad_len - 1;
    ret = 0;
out:
    if (ret < 0 && decrypted)
        OPENSSL_cleanse(plain, ct_len);
    return ret;
}

int
ike_sk_open(const struct ike_sa_keys *keys, enum ike_sk_dir dir,
            const uint8_t *msg, size_t msg_len, size_t sk_off,
            uint8_t *plain, size_t plain_size, size_t *plain_len,
            uint8_t *next_payload)
{
    struct ike_skf_info info;
    int ret;

    ret = sk_open(keys, dir, IKE_SK_HDR_LEN, msg, msg_len, sk_off, plain,
                  plain_size, plain_len, &info);
    if (ret == 0 && next_payload != NULL)
        *next_payload = info.next_payload;
    return ret;
}

int
ike_sk_open_fragment(const struct ike_sa_keys *keys, enum ike_sk_dir dir,
                     const uint8_t *msg, size_t msg_len, size_t sk_off,
                     uint8_t *plain, size_t plain_size, size_t *plain_len,
                     struct ike_skf_info *info)
{
    struct ike_skf_info got;
    int ret;

    ret = sk_open(keys, dir, IKE_SKF_HDR_LEN, msg, msg_len, sk_off, plain,
                  plain_size, plain_len, &got);
    if (ret == 0 && info != NULL)
        *info = got;
    return ret;
}
