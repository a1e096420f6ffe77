/*
 * libFuzzer target for SK and SKF opening.
 *
 * Input: control octet, position octet, then a body.  The body is sealed
 * with fixed keys of the suite the control octet picks, so that opening
 * gets past the ICV.  The sealed message must open to the body again, and
 * with one bit flipped (at a place the position octet picks) it must fail
 * with -EBADMSG.  The body is also opened as a raw message under the
 * same keys, which must never crash.  Any broken expectation calls
 * abort().
 *
 * With bit 6 set the body is instead packed by hand, with a valid ICV,
 * into a payload whose length fields and Pad Length come from the input,
 * to reach the checks that run after the ICV.
 *
 * Control octet: bits 0-2 suite, bit 4 direction, bit 5 SKF, bit 6 hand
 * packing, bit 7 flip.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike_const.h"
#include "ike_keys.h"
#include "ike_prf.h"
#include "ike_sk.h"

#define FUZZ_MAX_BODY   3000
#define FUZZ_MSG_SIZE   4096

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct ike_suite fuzz_suites[8] = {
    { IKE_ENCR_AES_CBC, 128, IKE_PRF_HMAC_SHA2_256,
      IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_MODP_2048 },
    { IKE_ENCR_AES_CBC, 128, IKE_PRF_HMAC_SHA1,
      IKE_INTEG_HMAC_SHA2_384_192, IKE_DH_ECP_256 },
    { IKE_ENCR_AES_CBC, 256, IKE_PRF_HMAC_SHA2_384,
      IKE_INTEG_HMAC_SHA2_512_256, IKE_DH_ECP_384 },
    { IKE_ENCR_AES_CBC, 256, IKE_PRF_HMAC_SHA2_512,
      IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_CURVE25519 },
    { IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_256, IKE_INTEG_NONE,
      IKE_DH_CURVE25519 },
    { IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_256, IKE_INTEG_NONE,
      IKE_DH_CURVE25519 },
    { IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_512, IKE_INTEG_NONE,
      IKE_DH_MODP_2048 },
    { IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA1, IKE_INTEG_NONE,
      IKE_DH_ECP_256 },
};

/* Fixed keys, derived once; the fuzzer's own state, not the library's. */
static struct ike_sa_keys fuzz_keys[8];
static int fuzz_keys_ready;

static void
fuzz_init_keys(void)
{
    const uint8_t g_ir[32] = { 0x01 }, ni[32] = { 0x02 }, nr[32] = { 0x03 };
    const uint8_t spi_i[8] = { 0x04 }, spi_r[8] = { 0x05 };
    struct ike_keys_seed seed = { ni, 32, nr, 32, spi_i, spi_r, NULL };

    for (size_t i = 0; i < 8; i++) {
        if (ike_keys_derive_sa(&fuzz_keys[i], &fuzz_suites[i], g_ir, 32,
                               &seed) != 0)
            abort();
    }
    fuzz_keys_ready = 1;
}

static void
fuzz_header(uint8_t *msg, uint8_t first)
{
    memset(msg, 0, IKE_HDR_LEN);
    memcpy(msg, "\x0f\x0e\x0d\x0c\x0b\x0a\x09\x08", 8);
    memcpy(msg + 8, "\x10\x20\x30\x40\x50\x60\x70\x80", 8);
    msg[16] = first;
    msg[17] = IKE_VERSION_2;
    msg[18] = IKE_X_INFORMATIONAL;
}

static int
fuzz_open(struct ike_sa_keys *keys, enum ike_sk_dir dir, int skf,
          const uint8_t *msg, size_t len, size_t sk_off, uint8_t *plain,
          size_t plain_size, size_t *plain_len)
{
    struct ike_skf_info info;
    uint8_t first;

    if (skf)
        return ike_sk_open_fragment(keys, dir, msg, len, sk_off, plain,
                                    plain_size, plain_len, &info);
    return ike_sk_open(keys, dir, msg, len, sk_off, plain, plain_size,
                       plain_len, &first);
}

/* Seals body, checks the round trip and, if asked, one flipped bit. */
static void
fuzz_sealed(struct ike_sa_keys *keys, enum ike_sk_dir dir, int skf, int flip,
            uint8_t where, const uint8_t *body, size_t body_len)
{
    static uint8_t msg[FUZZ_MSG_SIZE], plain[FUZZ_MSG_SIZE];
    struct ike_skf_info info = { IKE_P_NOTIFY, (uint16_t)(1 + where % 4), 4 };
    size_t msg_len = 0, plain_len = 0, pos;
    int ret;

    fuzz_header(msg, skf ? IKE_P_SKF : IKE_P_SK);
    if (skf)
        ret = ike_sk_seal_fragment(keys, dir, &info, body, body_len, msg,
                                   IKE_HDR_LEN, sizeof(msg), &msg_len);
    else
        ret = ike_sk_seal(keys, dir, IKE_P_NOTIFY, body, body_len, msg,
                          IKE_HDR_LEN, sizeof(msg), &msg_len);
    if (ret != 0)
        abort();
    ret = fuzz_open(keys, dir, skf, msg, msg_len, IKE_HDR_LEN, plain,
                    sizeof(plain), &plain_len);
    if (ret != 0 || plain_len != body_len ||
        (body_len > 0 && memcmp(plain, body, body_len) != 0))
        abort();
    if (!flip)
        return;
    pos = ((size_t)where * 257 + body_len) % msg_len;
    msg[pos] ^= (uint8_t)(1u << (where & 7));
    ret = fuzz_open(keys, dir, skf, msg, msg_len, IKE_HDR_LEN, plain,
                    sizeof(plain), &plain_len);
    if (ret != -EBADMSG)
        abort();
}

static void
fuzz_store16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/*
 * Packs body as the ciphertext (CBC) or plaintext (GCM) of a payload with
 * a valid ICV; `where` perturbs the length fields and fragment numbers.
 */
static void
fuzz_packed(struct ike_sa_keys *keys, enum ike_sk_dir dir, int skf,
            uint8_t where, const uint8_t *body, size_t body_len)
{
    static uint8_t msg[FUZZ_MSG_SIZE], plain[FUZZ_MSG_SIZE];
    int gcm = keys->suite.encr == IKE_ENCR_AES_GCM_16;
    int from_i = dir == IKE_SK_FROM_INITIATOR;
    size_t hdr_len = skf ? IKE_SKF_HDR_LEN : IKE_SK_HDR_LEN;
    size_t iv_len = gcm ? 8 : 16;
    size_t icv_len = gcm ? 16 : keys->integ_len / 2u;
    size_t iv_off = IKE_HDR_LEN + hdr_len;
    size_t ct_off = iv_off + iv_len;
    size_t msg_len = ct_off + body_len + icv_len;
    size_t plain_len = 0;
    int ret;

    fuzz_header(msg, skf ? IKE_P_SKF : IKE_P_SK);
    msg[24] = (uint8_t)(msg_len >> 24);
    msg[25] = (uint8_t)(msg_len >> 16);
    fuzz_store16(msg + 26, msg_len + (where & 0x01));
    msg[IKE_HDR_LEN] = IKE_P_NOTIFY;
    msg[IKE_HDR_LEN + 1] = 0;
    fuzz_store16(msg + IKE_HDR_LEN + 2,
                 msg_len - IKE_HDR_LEN - ((where & 0x02) >> 1));
    if (skf) {
        fuzz_store16(msg + IKE_HDR_LEN + 4, (size_t)(where >> 4));
        fuzz_store16(msg + IKE_HDR_LEN + 6, (size_t)((where >> 2) & 3) * 5);
    }
    memset(msg + iv_off, where, iv_len);
    if (gcm) {
        const uint8_t *key = from_i ? keys->sk_ei : keys->sk_er;
        size_t key_len = keys->encr_len - IKE_KEYS_SALT_LEN;
        uint8_t nonce[IKE_SK_GCM_NONCE_LEN];

        memcpy(nonce, key + key_len, IKE_KEYS_SALT_LEN);
        memcpy(nonce + IKE_KEYS_SALT_LEN, msg + iv_off, 8);
        if (ike_sk_gcm_encrypt(key, key_len, nonce, msg, iv_off, body,
                               body_len, msg + ct_off,
                               msg + ct_off + body_len) != 0)
            abort();
    } else {
        uint16_t prf = keys->integ_len == 32 ? IKE_PRF_HMAC_SHA2_256
                       : keys->integ_len == 48 ? IKE_PRF_HMAC_SHA2_384
                                               : IKE_PRF_HMAC_SHA2_512;
        uint8_t mac[IKE_PRF_MAX_LEN];

        memcpy(msg + ct_off, body, body_len);
        if (ike_prf_compute(prf, from_i ? keys->sk_ai : keys->sk_ar,
                            keys->integ_len, msg, ct_off + body_len, mac,
                            sizeof(mac)) != 0)
            abort();
        memcpy(msg + ct_off + body_len, mac, icv_len);
    }
    ret = fuzz_open(keys, dir, skf, msg, msg_len, IKE_HDR_LEN, plain,
                    sizeof(plain), &plain_len);
    switch (ret) {
    case 0:
        /* The Pad Length octet is the last plaintext octet. */
        if (gcm && (plain_len + 1 + body[body_len - 1] != body_len ||
                    memcmp(plain, body, plain_len) != 0))
            abort();
        if (!gcm && plain_len >= body_len)
            abort();
        break;
    case -EINVAL:
    case -ENODATA:
    case -EPROTO:
    case -ERANGE:
        break;
    default:
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t plain[FUZZ_MSG_SIZE];
    size_t body_len, plain_len = 0, plain_size;
    struct ike_sa_keys *keys;
    enum ike_sk_dir dir;
    uint8_t ctl, where;
    int skf;

    if (!fuzz_keys_ready)
        fuzz_init_keys();
    if (size < 2)
        return 0;
    ctl = data[0];
    where = data[1];
    body_len = size - 2;
    if (body_len > FUZZ_MAX_BODY)
        body_len = FUZZ_MAX_BODY;
    keys = &fuzz_keys[ctl & 7];
    dir = (ctl & 0x10) ? IKE_SK_FROM_RESPONDER : IKE_SK_FROM_INITIATOR;
    skf = (ctl & 0x20) != 0;

    if (ctl & 0x40)
        fuzz_packed(keys, dir, skf, where, data + 2, body_len);
    else
        fuzz_sealed(keys, dir, skf, (ctl & 0x80) != 0, where, data + 2,
                    body_len);

    /* The body as a message, with SK after the header or at `where`. */
    plain_size = (where & 0x40) ? where % 64 : sizeof(plain);
    fuzz_open(keys, dir, skf, data + 2, body_len, IKE_HDR_LEN, plain,
              plain_size, &plain_len);
    fuzz_open(keys, dir, skf, data + 2, body_len, where, plain,
              sizeof(plain), &plain_len);
    return 0;
}
