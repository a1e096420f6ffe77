/*
 * SK and SKF payloads: GCM known answers through the sealing primitive,
 * captured strongSwan and libreswan messages opened with their keys,
 * round trips for every suite, tampering and malformed payloads.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "ike_const.h"
#include "ike_keys.h"
#include "ike_prf.h"
#include "ike_sk.h"
#include "test_crypto_kat.h"

#define SK_OFF          IKE_HDR_LEN     /* SK right after the IKE header */

TestSuite(ike_sk);

static const struct ike_suite sk_suites[] = {
    { IKE_ENCR_AES_CBC, 128, IKE_PRF_HMAC_SHA2_256,
      IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_MODP_2048 },
    { IKE_ENCR_AES_CBC, 128, IKE_PRF_HMAC_SHA2_256,
      IKE_INTEG_HMAC_SHA2_384_192, IKE_DH_MODP_2048 },
    { IKE_ENCR_AES_CBC, 128, IKE_PRF_HMAC_SHA2_256,
      IKE_INTEG_HMAC_SHA2_512_256, IKE_DH_MODP_2048 },
    { IKE_ENCR_AES_CBC, 256, IKE_PRF_HMAC_SHA2_384,
      IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_ECP_384 },
    { IKE_ENCR_AES_CBC, 256, IKE_PRF_HMAC_SHA2_384,
      IKE_INTEG_HMAC_SHA2_384_192, IKE_DH_ECP_384 },
    { IKE_ENCR_AES_CBC, 256, IKE_PRF_HMAC_SHA2_512,
      IKE_INTEG_HMAC_SHA2_512_256, IKE_DH_ECP_384 },
    { IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_256, IKE_INTEG_NONE,
      IKE_DH_CURVE25519 },
    { IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_512, IKE_INTEG_NONE,
      IKE_DH_CURVE25519 },
};

#define SK_SUITE_COUNT  (sizeof(sk_suites) / sizeof(sk_suites[0]))

/* Keys for suite from fixed inputs; any values do for round trips. */
static void
make_keys(struct ike_sa_keys *keys, const struct ike_suite *suite)
{
    const uint8_t g_ir[32] = { 0x11, 0x22 }, ni[32] = { 0x33 };
    const uint8_t nr[32] = { 0x44 }, spi_i[8] = { 0x55 }, spi_r[8] = { 6 };
    struct ike_keys_seed seed = { ni, 32, nr, 32, spi_i, spi_r, NULL };

    cr_assert_eq(ike_keys_derive_sa(keys, suite, g_ir, sizeof(g_ir), &seed),
                 0);
}

/* Writes an INFORMATIONAL request header whose first payload is SK. */
static void
write_header(uint8_t *msg, uint8_t flags)
{
    memset(msg, 0, IKE_HDR_LEN);
    memcpy(msg, "\x8c\x1f\x02\xaa\x4d\x3e\x9b\x10", 8);
    memcpy(msg + 8, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    msg[16] = IKE_P_SK;
    msg[17] = IKE_VERSION_2;
    msg[18] = IKE_X_INFORMATIONAL;
    msg[19] = flags;
    msg[23] = 7;                        /* Message ID */
}

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

ParameterizedTestParameters(ike_sk, round_trips_in_both_directions)
{
    /* Criterion takes a writable array. */
    static struct ike_suite suites[SK_SUITE_COUNT];

    memcpy(suites, sk_suites, sizeof(suites));
    return cr_make_param_array(struct ike_suite, suites, SK_SUITE_COUNT);
}

ParameterizedTest(const struct ike_suite *suite, ike_sk,
                  round_trips_in_both_directions)
{
    const size_t lengths[] = { 0, 1, 15, 16, 17, 31, 100, 1000 };
    struct ike_sa_keys keys;
    uint8_t plain[1000];

    make_keys(&keys, suite);
    for (size_t i = 0; i < sizeof(plain); i++)
        plain[i] = (uint8_t)(i * 7 + 3);
    for (int d = 0; d < 2; d++) {
        enum ike_sk_dir dir = d ? IKE_SK_FROM_RESPONDER
                                : IKE_SK_FROM_INITIATOR;
        enum ike_sk_dir other = d ? IKE_SK_FROM_INITIATOR
                                  : IKE_SK_FROM_RESPONDER;

        for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++) {
            uint8_t msg[KAT_MAX_MSG], out[KAT_MAX_MSG];
            size_t len = lengths[l], msg_len = 0, out_len = 0;
            uint8_t first = 0;

            write_header(msg, d ? 0 : IKE_FLAG_INITIATOR);
            cr_assert_eq(ike_sk_seal(&keys, dir, IKE_P_NOTIFY, plain, len,
                                     msg, IKE_HDR_LEN, sizeof(msg),
                                     &msg_len), 0);
            cr_assert_eq(msg_len, IKE_HDR_LEN + ike_sk_payload_len(&keys,
                                                                   len));
            cr_assert_eq(get32(msg + 24), msg_len, "IKE header Length");
            cr_assert_eq(get16(msg + SK_OFF + 2), msg_len - SK_OFF,
                         "SK Payload Length");
            cr_assert_eq(msg[SK_OFF], IKE_P_NOTIFY);
            cr_assert_eq(ike_sk_open(&keys, dir, msg, msg_len, SK_OFF, out,
                                     sizeof(out), &out_len, &first), 0,
                         "dir %d length %zu", d, len);
            cr_assert_eq(out_len, len);
            cr_assert_arr_eq(out, plain, len);
            cr_assert_eq(first, IKE_P_NOTIFY);
            cr_assert_eq(ike_sk_open(&keys, other, msg, msg_len, SK_OFF, out,
                                     sizeof(out), &out_len, &first),
                         -EBADMSG, "opened with the other direction's keys");
        }
    }
    ike_keys_wipe_sa(&keys);
}

/* RFC 5282 3: no alignment for GCM; CBC pads to 16 octets. */
Test(ike_sk, sizes_payloads_per_rfc)
{
    struct ike_sa_keys cbc, gcm;

    make_keys(&cbc, &sk_suites[0]);
    make_keys(&gcm, &sk_suites[6]);
    /* header 4 + IV 16 + 16 (15 octets and Pad Length) + ICV 16 */
    cr_assert_eq(ike_sk_payload_len(&cbc, 15), 52);
    cr_assert_eq(ike_sk_payload_len(&cbc, 16), 68);
    /* header 4 + IV 8 + 15 + Pad Length 1 + ICV 16 */
    cr_assert_eq(ike_sk_payload_len(&gcm, 15), 44);
    memset(&gcm.suite, 0, sizeof(gcm.suite));
    cr_assert_eq(ike_sk_payload_len(&gcm, 15), 0);
}

Test(ike_sk, seals_plaintext_already_in_place)
{
    for (size_t s = 0; s < SK_SUITE_COUNT; s++) {
        struct ike_sa_keys keys;
        uint8_t msg[256], out[256];
        size_t msg_len, out_len, ct_off;
        uint8_t first;

        make_keys(&keys, &sk_suites[s]);
        ct_off = SK_OFF + IKE_SK_HDR_LEN +
                 (sk_suites[s].encr == IKE_ENCR_AES_CBC ? 16 : 8);
        write_header(msg, 0);
        memset(msg + ct_off, 0x5c, 40);
        cr_assert_eq(ike_sk_seal(&keys, IKE_SK_FROM_RESPONDER, IKE_P_IDR,
                                 msg + ct_off, 40, msg, IKE_HDR_LEN,
                                 sizeof(msg), &msg_len), 0);
        cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_RESPONDER, msg, msg_len,
                                 SK_OFF, out, sizeof(out), &out_len, &first),
                     0);
        cr_assert_eq(out_len, 40);
        for (size_t i = 0; i < 40; i++)
            cr_assert_eq(out[i], 0x5c, "suite %zu octet %zu", s, i);
    }
}

Test(ike_sk, seals_after_other_payloads)
{
    struct ike_sa_keys keys;
    uint8_t msg[256], out[256];
    size_t msg_len, out_len;
    uint8_t first;

    make_keys(&keys, &sk_suites[6]);
    write_header(msg, 0);
    /* A Vendor ID payload in front of SK; its Next Payload names SK. */
    msg[16] = IKE_P_VENDOR;
    memcpy(msg + IKE_HDR_LEN, "\x2e\x00\x00\x08vend", 8);
    cr_assert_eq(ike_sk_seal(&keys, IKE_SK_FROM_RESPONDER, IKE_P_DELETE,
                             (const uint8_t *)"abc", 3, msg, IKE_HDR_LEN + 8,
                             sizeof(msg), &msg_len), 0);
    cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_RESPONDER, msg, msg_len,
                             IKE_HDR_LEN + 8, out, sizeof(out), &out_len,
                             &first), 0);
    cr_assert_eq(first, IKE_P_DELETE);
    cr_assert_eq(out_len, 3);
    /* The Vendor ID is covered too: AAD is everything before the IV. */
    msg[IKE_HDR_LEN + 5] ^= 0x01;
    cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_RESPONDER, msg, msg_len,
                             IKE_HDR_LEN + 8, out, sizeof(out), &out_len,
                             &first), -EBADMSG);
}

Test(ike_sk, rejects_any_flipped_bit)
{
    for (size_t s = 0; s < SK_SUITE_COUNT; s++) {
        struct ike_sa_keys keys;
        uint8_t msg[256], out[256], plain[40];
        size_t msg_len, out_len;
        uint8_t first;

        make_keys(&keys, &sk_suites[s]);
        memset(plain, 0xc3, sizeof(plain));
        write_header(msg, IKE_FLAG_INITIATOR);
        cr_assert_eq(ike_sk_seal(&keys, IKE_SK_FROM_INITIATOR, IKE_P_NOTIFY,
                                 plain, sizeof(plain), msg, IKE_HDR_LEN,
                                 sizeof(msg), &msg_len), 0);
        /* Header, SK header, IV, ciphertext and ICV: every octet. */
        for (size_t i = 0; i < msg_len; i++) {
            for (int bit = 0; bit < 8; bit++) {
                msg[i] ^= (uint8_t)(1u << bit);
                cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_INITIATOR, msg,
                                         msg_len, SK_OFF, out, sizeof(out),
                                         &out_len, &first), -EBADMSG,
                             "suite %zu octet %zu bit %d", s, i, bit);
                msg[i] ^= (uint8_t)(1u << bit);
            }
        }
        cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_INITIATOR, msg, msg_len,
                                 SK_OFF, out, sizeof(out), &out_len, &first),
                     0);
    }
}

Test(ike_sk, counts_gcm_ivs_randomises_cbc_ivs)
{
    struct ike_sa_keys gcm, cbc;
    uint8_t a[128], b[128];
    size_t la, lb;
    const uint8_t iv0[8] = { 0 }, iv1[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };

    make_keys(&gcm, &sk_suites[7]);
    write_header(a, 0);
    write_header(b, 0);
    cr_assert_eq(gcm.gcm_iv_next, 0);
    cr_assert_eq(ike_sk_seal(&gcm, IKE_SK_FROM_RESPONDER, 0, a, 0, a,
                             IKE_HDR_LEN, sizeof(a), &la), 0);
    cr_assert_eq(ike_sk_seal(&gcm, IKE_SK_FROM_RESPONDER, 0, b, 0, b,
                             IKE_HDR_LEN, sizeof(b), &lb), 0);
    cr_assert_arr_eq(a + SK_OFF + 4, iv0, 8);
    cr_assert_arr_eq(b + SK_OFF + 4, iv1, 8);
    cr_assert_eq(gcm.gcm_iv_next, 2);
    gcm.gcm_iv_next = UINT64_MAX;
    cr_assert_eq(ike_sk_seal(&gcm, IKE_SK_FROM_RESPONDER, 0, a, 0, a,
                             IKE_HDR_LEN, sizeof(a), &la), -EOVERFLOW);

    make_keys(&cbc, &sk_suites[0]);
    write_header(a, 0);
    write_header(b, 0);
    cr_assert_eq(ike_sk_seal(&cbc, IKE_SK_FROM_RESPONDER, 0, iv0, 8, a,
                             IKE_HDR_LEN, sizeof(a), &la), 0);
    cr_assert_eq(ike_sk_seal(&cbc, IKE_SK_FROM_RESPONDER, 0, iv0, 8, b,
                             IKE_HDR_LEN, sizeof(b), &lb), 0);
    cr_assert_eq(la, lb);
    cr_assert_neq(memcmp(a + SK_OFF + 4, b + SK_OFF + 4, 16), 0,
                  "two CBC IVs are equal");
}

Test(ike_sk, seal_rejects_bad_arguments)
{
    struct ike_sa_keys keys;
    uint8_t msg[128];
    size_t len;

    make_keys(&keys, &sk_suites[0]);
    write_header(msg, 0);
    cr_assert_eq(ike_sk_seal(&keys, IKE_SK_FROM_RESPONDER, 0, msg, 4, msg,
                             IKE_HDR_LEN - 1, sizeof(msg), &len), -EINVAL);
    /* 28 + 4 + 16 + 16 + 16 = 80 octets for 4 octets of plaintext. */
    cr_assert_eq(ike_sk_seal(&keys, IKE_SK_FROM_RESPONDER, 0, msg + 100, 4,
                             msg, IKE_HDR_LEN, 79, &len), -ENOBUFS);
    cr_assert_eq(ike_sk_seal(&keys, IKE_SK_FROM_RESPONDER, 0, msg + 100, 4,
                             msg, IKE_HDR_LEN, 80, &len), 0);
    keys.suite.integ = IKE_INTEG_HMAC_SHA1_96;
    cr_assert_eq(ike_sk_seal(&keys, IKE_SK_FROM_RESPONDER, 0, msg + 100, 4,
                             msg, IKE_HDR_LEN, sizeof(msg), &len), -ENOTSUP);
}

/* IV and ICV octets: RFC 3602 and RFC 4868 for CBC, RFC 5282 for GCM. */
static size_t
iv_icv_len(const struct ike_suite *suite)
{
    switch (suite->integ) {
    case IKE_INTEG_HMAC_SHA2_256_128:
        return 16 + 16;
    case IKE_INTEG_HMAC_SHA2_384_192:
        return 16 + 24;
    case IKE_INTEG_HMAC_SHA2_512_256:
        return 16 + 32;
    default:
        return 8 + 16;
    }
}

Test(ike_sk, open_rejects_short_payloads)
{
    for (size_t s = 0; s < SK_SUITE_COUNT; s++) {
        struct ike_sa_keys keys;
        uint8_t msg[256], out[256];
        size_t msg_len, out_len, iv_icv;
        uint8_t first;

        make_keys(&keys, &sk_suites[s]);
        write_header(msg, 0);
        cr_assert_eq(ike_sk_seal(&keys, IKE_SK_FROM_RESPONDER, 0, out, 20,
                                 msg, IKE_HDR_LEN, sizeof(msg), &msg_len), 0);
        iv_icv = iv_icv_len(&sk_suites[s]);
        /* Room for IV and ICV but not one octet of ciphertext. */
        cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_RESPONDER, msg,
                                 SK_OFF + IKE_SK_HDR_LEN + iv_icv, SK_OFF,
                                 out, sizeof(out), &out_len, &first),
                     -ENODATA, "suite %zu", s);
        cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_RESPONDER, msg, msg_len,
                                 SK_OFF, out,
                                 msg_len - SK_OFF - IKE_SK_HDR_LEN - iv_icv -
                                     1,
                                 &out_len, &first), -ENOBUFS, "suite %zu", s);
        cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_RESPONDER, msg, msg_len,
                                 IKE_HDR_LEN - 1, out, sizeof(out), &out_len,
                                 &first), -EINVAL, "SK inside the header");
        cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_RESPONDER, msg, msg_len,
                                 msg_len - 3, out, sizeof(out), &out_len,
                                 &first), -EINVAL, "SK header cut");
        cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_RESPONDER, msg, msg_len,
                                 msg_len + 1, out, sizeof(out), &out_len,
                                 &first), -EINVAL, "SK beyond the message");
    }
}

/*
 * Builds an AES-GCM SK message by hand from `inner` (payloads, padding
 * and Pad Length as given) with length fields off by the given deltas.
 * The tag covers those fields, so it verifies whatever they contain.
 */
static size_t
build_gcm_message(const struct ike_sa_keys *keys, const uint8_t *inner,
                  size_t inner_len, int sk_len_delta, int msg_len_delta,
                  uint8_t *msg)
{
    size_t key_len = keys->encr_len - IKE_KEYS_SALT_LEN;
    size_t msg_len = SK_OFF + 4 + 8 + inner_len + 16;
    uint8_t nonce[12];

    write_header(msg, 0);
    msg[SK_OFF] = IKE_P_NOTIFY;
    msg[SK_OFF + 1] = 0;
    msg[SK_OFF + 2] = (uint8_t)((msg_len - SK_OFF + sk_len_delta) >> 8);
    msg[SK_OFF + 3] = (uint8_t)(msg_len - SK_OFF + sk_len_delta);
    msg[24] = 0;
    msg[25] = 0;
    msg[26] = (uint8_t)((msg_len + msg_len_delta) >> 8);
    msg[27] = (uint8_t)(msg_len + msg_len_delta);
    memcpy(msg + SK_OFF + 4, "\x00\x00\x00\x00\x00\x00\x01\x00", 8);
    memcpy(nonce, keys->sk_er + key_len, 4);
    memcpy(nonce + 4, msg + SK_OFF + 4, 8);
    cr_assert_eq(ike_sk_gcm_encrypt(keys->sk_er, key_len, nonce, msg,
                                    SK_OFF + 4, inner, inner_len,
                                    msg + SK_OFF + 12,
                                    msg + SK_OFF + 12 + inner_len), 0);
    return msg_len;
}

Test(ike_sk, checks_lengths_after_icv)
{
    struct ike_sa_keys keys;
    uint8_t inner[24], msg[256], out[256];
    size_t msg_len, out_len;
    uint8_t first;

    make_keys(&keys, &sk_suites[6]);
    memset(inner, 0, sizeof(inner));
    inner[23] = 3;                      /* 20 octets, 3 of padding */
    msg_len = build_gcm_message(&keys, inner, sizeof(inner), 0, 0, msg);
    cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_RESPONDER, msg, msg_len,
                             SK_OFF, out, sizeof(out), &out_len, &first), 0);
    cr_assert_eq(out_len, 20);

    inner[23] = 23;                     /* all but Pad Length is padding */
    msg_len = build_gcm_message(&keys, inner, sizeof(inner), 0, 0, msg);
    cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_RESPONDER, msg, msg_len,
                             SK_OFF, out, sizeof(out), &out_len, &first), 0);
    cr_assert_eq(out_len, 0);

    inner[23] = 24;                     /* one more than there is */
    msg_len = build_gcm_message(&keys, inner, sizeof(inner), 0, 0, msg);
    cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_RESPONDER, msg, msg_len,
                             SK_OFF, out, sizeof(out), &out_len, &first),
                 -ERANGE);
    for (size_t i = 0; i < sizeof(inner); i++)
        cr_assert_eq(out[i], 0, "plaintext left after -ERANGE");

    inner[23] = 0;
    msg_len = build_gcm_message(&keys, inner, sizeof(inner), 1, 0, msg);
    cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_RESPONDER, msg, msg_len,
                             SK_OFF, out, sizeof(out), &out_len, &first),
                 -EINVAL, "SK Payload Length one too long");
    msg_len = build_gcm_message(&keys, inner, sizeof(inner), 0, -1, msg);
    cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_RESPONDER, msg, msg_len,
                             SK_OFF, out, sizeof(out), &out_len, &first),
                 -EINVAL, "IKE header Length one too short");
}

/* An AES-CBC SK message built with OpenSSL and an HMAC-SHA2-256 ICV. */
static size_t
build_cbc_message(const struct ike_sa_keys *keys, const uint8_t *inner,
                  size_t inner_len, uint8_t *msg)
{
    size_t msg_len = SK_OFF + 4 + 16 + inner_len + 16;
    size_t ct_off = SK_OFF + 4 + 16;
    uint8_t mac[32];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int outl = 0;

    write_header(msg, 0);
    msg[SK_OFF] = IKE_P_NOTIFY;
    msg[SK_OFF + 2] = (uint8_t)((msg_len - SK_OFF) >> 8);
    msg[SK_OFF + 3] = (uint8_t)(msg_len - SK_OFF);
    msg[26] = (uint8_t)(msg_len >> 8);
    msg[27] = (uint8_t)msg_len;
    memset(msg + SK_OFF + 4, 0x42, 16);
    cr_assert_not_null(ctx);
    cr_assert(EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, keys->sk_er,
                                 msg + SK_OFF + 4));
    cr_assert(EVP_CIPHER_CTX_set_padding(ctx, 0));
    /* Whole blocks are encrypted; a partial last block is copied raw. */
    cr_assert(EVP_EncryptUpdate(ctx, msg + ct_off, &outl, inner,
                                (int)(inner_len / 16 * 16)));
    memcpy(msg + ct_off + outl, inner + outl, inner_len - (size_t)outl);
    EVP_CIPHER_CTX_free(ctx);
    cr_assert_eq(ike_prf_compute(IKE_PRF_HMAC_SHA2_256, keys->sk_ar, 32, msg,
                                 msg_len - 16, mac, sizeof(mac)), 0);
    memcpy(msg + msg_len - 16, mac, 16);
    return msg_len;
}

Test(ike_sk, checks_cbc_alignment_after_icv)
{
    struct ike_sa_keys keys;
    uint8_t inner[33], msg[256], out[256];
    size_t msg_len, out_len;
    uint8_t first;

    make_keys(&keys, &sk_suites[0]);
    memset(inner, 0, sizeof(inner));
    inner[31] = 31;
    msg_len = build_cbc_message(&keys, inner, 32, msg);
    cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_RESPONDER, msg, msg_len,
                             SK_OFF, out, sizeof(out), &out_len, &first), 0);
    cr_assert_eq(out_len, 0);
    inner[31] = 32;
    msg_len = build_cbc_message(&keys, inner, 32, msg);
    cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_RESPONDER, msg, msg_len,
                             SK_OFF, out, sizeof(out), &out_len, &first),
                 -ERANGE);
    inner[31] = 0;
    msg_len = build_cbc_message(&keys, inner, 33, msg);
    cr_assert_eq(ike_sk_open(&keys, IKE_SK_FROM_RESPONDER, msg, msg_len,
                             SK_OFF, out, sizeof(out), &out_len, &first),
                 -EPROTO, "33 octets of ciphertext");
}

Test(ike_sk, round_trips_fragments)
{
    for (size_t s = 0; s < SK_SUITE_COUNT; s++) {
        struct ike_sa_keys keys;
        struct ike_skf_info info = { IKE_P_IDI, 1, 3 }, got;
        uint8_t msg[256], out[256], plain[50];
        size_t msg_len, out_len;

        make_keys(&keys, &sk_suites[s]);
        memset(plain, 0x77, sizeof(plain));
        write_header(msg, IKE_FLAG_INITIATOR);
        msg[16] = IKE_P_SKF;
        cr_assert_eq(ike_sk_seal_fragment(&keys, IKE_SK_FROM_INITIATOR,
                                          &info, plain, sizeof(plain), msg,
                                          IKE_HDR_LEN, sizeof(msg),
                                          &msg_len), 0);
        cr_assert_eq(msg_len, IKE_HDR_LEN + ike_sk_payload_len(&keys, 50) +
                                  IKE_SKF_HDR_LEN - IKE_SK_HDR_LEN);
        cr_assert_eq(get16(msg + SK_OFF + 4), 1);
        cr_assert_eq(get16(msg + SK_OFF + 6), 3);
        cr_assert_eq(ike_sk_open_fragment(&keys, IKE_SK_FROM_INITIATOR, msg,
                                          msg_len, SK_OFF, out, sizeof(out),
                                          &out_len, &got), 0, "suite %zu", s);
        cr_assert_eq(out_len, sizeof(plain));
        cr_assert_arr_eq(out, plain, sizeof(plain));
        cr_assert_eq(got.next_payload, IKE_P_IDI);
        cr_assert_eq(got.number, 1);
        cr_assert_eq(got.total, 3);
        /* RFC 7383 2.5: the fragment numbers are authenticated. */
        msg[SK_OFF + 5] = 2;
        cr_assert_eq(ike_sk_open_fragment(&keys, IKE_SK_FROM_INITIATOR, msg,
                                          msg_len, SK_OFF, out, sizeof(out),
                                          &out_len, &got), -EBADMSG);
    }
}

Test(ike_sk, rejects_invalid_fragment_numbers)
{
    struct ike_sa_keys keys;
    struct ike_skf_info zero = { 0, 0, 2 }, beyond = { 0, 3, 2 };
    uint8_t msg[256];
    size_t msg_len;

    make_keys(&keys, &sk_suites[6]);
    write_header(msg, 0);
    cr_assert_eq(ike_sk_seal_fragment(&keys, IKE_SK_FROM_RESPONDER, &zero,
                                      msg, 0, msg, IKE_HDR_LEN, sizeof(msg),
                                      &msg_len), -EINVAL);
    cr_assert_eq(ike_sk_seal_fragment(&keys, IKE_SK_FROM_RESPONDER, &beyond,
                                      msg, 0, msg, IKE_HDR_LEN, sizeof(msg),
                                      &msg_len), -EINVAL);
}

/* McGrew-Viega test cases 3, 4, 15 and 16 through the SK primitive. */
Test(ike_sk, matches_gcm_spec_test_cases)
{
    json_t *root = kat_load_json("kat/gcm-mcgrew-viega.json");
    json_t *cases = json_object_get(root, "cases");

    cr_assert_eq(json_array_size(cases), 4);
    for (size_t i = 0; i < json_array_size(cases); i++) {
        json_t *c = json_array_get(cases, i);
        uint8_t key[32], iv[12], aad[64], pt[64], ct[64], tag[16];
        uint8_t out[64], got_tag[16];
        size_t key_len = kat_json_hex(c, "key", key, sizeof(key));
        size_t aad_len = kat_json_hex(c, "aad", aad, sizeof(aad));
        size_t pt_len = kat_json_hex(c, "plaintext", pt, sizeof(pt));
        int num = (int)json_integer_value(json_object_get(c, "case"));

        cr_assert_eq(kat_json_hex(c, "iv", iv, sizeof(iv)), 12);
        cr_assert_eq(kat_json_hex(c, "ciphertext", ct, sizeof(ct)), pt_len);
        cr_assert_eq(kat_json_hex(c, "tag", tag, sizeof(tag)), 16);
        cr_assert_eq(ike_sk_gcm_encrypt(key, key_len, iv, aad, aad_len, pt,
                                        pt_len, out, got_tag), 0);
        cr_assert_arr_eq(out, ct, pt_len, "case %d ciphertext", num);
        cr_assert_arr_eq(got_tag, tag, 16, "case %d tag", num);
        cr_assert_eq(ike_sk_gcm_decrypt(key, key_len, iv, aad, aad_len, ct,
                                        pt_len, out, tag), 0);
        cr_assert_arr_eq(out, pt, pt_len, "case %d plaintext", num);
        tag[15] ^= 0x80;
        cr_assert_eq(ike_sk_gcm_decrypt(key, key_len, iv, aad, aad_len, ct,
                                        pt_len, out, tag), -EBADMSG,
                     "case %d bad tag", num);
        for (size_t n = 0; n < pt_len; n++)
            cr_assert_eq(out[n], 0, "case %d output not wiped", num);
    }
    cr_assert_eq(ike_sk_gcm_encrypt((const uint8_t *)"short", 5,
                                    (const uint8_t *)"123456789012", NULL, 0,
                                    NULL, 0, NULL, (uint8_t[16]){ 0 }),
                 -EINVAL, "5-octet key");
    json_decref(root);
}

/* Opens a captured vector and compares it with tshark's decode. */
static void
open_vector(const char *num, const struct ike_sa_keys *keys,
            uint8_t *plain, size_t size, size_t *plain_len, uint8_t *first)
{
    uint8_t msg[KAT_MAX_MSG];
    uint8_t got[32], want[32];
    size_t msg_len = kat_read_message(num, msg, sizeof(msg));
    enum ike_sk_dir dir;
    size_t n_got, n_want;

    cr_assert_eq(msg[16], IKE_P_SK, "vector %s: SK is not first", num);
    /* RFC 7296 3.1: the I flag marks the original initiator. */
    dir = (msg[19] & IKE_FLAG_INITIATOR) ? IKE_SK_FROM_INITIATOR
                                         : IKE_SK_FROM_RESPONDER;
    cr_assert_eq(ike_sk_open(keys, dir, msg, msg_len, SK_OFF, plain, size,
                             plain_len, first), 0, "vector %s", num);
    n_got = kat_chain_types(plain, *plain_len, *first, got, sizeof(got));
    n_want = kat_txt_inner_types(num, want, sizeof(want));
    cr_assert_eq(n_got, n_want, "vector %s payload count", num);
    cr_assert_arr_eq(got, want, n_got, "vector %s payload types", num);
}

/* Data of the first REDIRECT notify in an inner payload chain. */
static size_t
redirect_data(const uint8_t *plain, size_t len, uint8_t first,
              const uint8_t **data)
{
    size_t off = 0;
    uint8_t type = first;

    while (type != 0 && off + 4 <= len) {
        size_t plen = get16(plain + off + 2);

        if (type == IKE_P_NOTIFY && plen >= 8 &&
            get16(plain + off + 6) == IKE_N_REDIRECT) {
            size_t spi = plain[off + 5];

            *data = plain + off + 8 + spi;
            return plen - 8 - spi;
        }
        type = plain[off];
        off += plen;
    }
    cr_assert_fail("no REDIRECT notify");
    return 0;
}

/* AES-CBC-128 + HMAC-SHA2-256-128 captures with their Wireshark keys. */
Test(ike_sk, opens_captured_cbc_redirects)
{
    const char *nums[] = { "14", "16", "17" };

    for (size_t i = 0; i < 3; i++) {
        struct kat_keys_line line;
        struct ike_sa_keys keys;
        uint8_t plain[KAT_MAX_MSG], want[64];
        const uint8_t *data;
        size_t plain_len, data_len, want_len;
        uint8_t first;

        kat_read_keys(nums[i], &line);
        cr_assert_eq(line.sk_e_len, 16);
        cr_assert_eq(line.sk_a_len, 32);
        memset(&keys, 0, sizeof(keys));
        keys.suite = (struct ike_suite){
            IKE_ENCR_AES_CBC, 128, IKE_PRF_HMAC_SHA2_256,
            IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_MODP_2048,
        };
        keys.encr_len = 16;
        keys.integ_len = 32;
        memcpy(keys.sk_ei, line.sk_ei, 16);
        memcpy(keys.sk_er, line.sk_er, 16);
        memcpy(keys.sk_ai, line.sk_ai, 32);
        memcpy(keys.sk_ar, line.sk_ar, 32);
        open_vector(nums[i], &keys, plain, sizeof(plain), &plain_len,
                    &first);
        data_len = redirect_data(plain, plain_len, first, &data);
        want_len = kat_txt_hex_after(nums[i], "Notification DATA:", want,
                                     sizeof(want));
        cr_assert_eq(data_len, want_len, "vector %s", nums[i]);
        cr_assert_arr_eq(data, want, want_len, "vector %s", nums[i]);
    }
}

/* AES-GCM-16 captures, opened with keys derived from the logged g^ir. */
Test(ike_sk, opens_captured_gcm_messages)
{
    json_t *root = kat_load_json("vectors/kat-sw-gcm-handshake.json");
    uint8_t ni[64], nr[64], spi_i[8], spi_r[8], g_ir[32];
    size_t ni_len = kat_json_hex(root, "ni", ni, sizeof(ni));
    size_t nr_len = kat_json_hex(root, "nr", nr, sizeof(nr));
    struct ike_suite suite = {
        IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_256, IKE_INTEG_NONE,
        IKE_DH_CURVE25519,
    };
    struct ike_keys_seed seed = { ni, ni_len, nr, nr_len, spi_i, spi_r, NULL };
    const char *nums[] = { "18", "19", "20" };
    struct ike_sa_keys keys;

    kat_json_hex(root, "spi_i", spi_i, 8);
    kat_json_hex(root, "spi_r", spi_r, 8);
    kat_json_hex(root, "g_ir", g_ir, 32);
    cr_assert_eq(ike_keys_derive_sa(&keys, &suite, g_ir, 32, &seed), 0);
    for (size_t i = 0; i < 3; i++) {
        uint8_t plain[KAT_MAX_MSG];
        size_t plain_len;
        uint8_t first;

        open_vector(nums[i], &keys, plain, sizeof(plain), &plain_len,
                    &first);
    }
    ike_keys_wipe_sa(&keys);
    json_decref(root);
}
