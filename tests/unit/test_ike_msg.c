/*
 * Tests for the IKE header and payload chain (ike_msg).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <openssl/evp.h>

#include "ike_const.h"
#include "ike_msg.h"
#include "ike_natd.h"
#include "ike_payload.h"
#include "ike_redirect.h"
#include "test_ike_vectors.h"

TestSuite(ike_msg);

#define MAX_LIST 16

/*
 * What tshark 4.0.17 (`tshark -V`, the .txt next to each vector) shows for
 * each captured datagram.  The values below were copied from those decodes
 * by hand, not produced by this code.  Lists end at the first 0.  Criterion
 * hands parameters to a separate worker process, so they hold arrays, not
 * pointers.
 */
struct vector_case {
    char prefix[3];
    int marker;                     /* sent on port 4500 with the marker */
    char spi_i[17];
    char spi_r[17];
    uint8_t exchange;
    uint8_t flags;
    uint32_t msg_id;
    uint32_t length;
    uint8_t payloads[MAX_LIST];     /* payload types in order */
    uint16_t notifies[MAX_LIST];    /* notify types in order */
    uint16_t ke_group;              /* 0 if there is no KE payload */
    size_t nonce_len;               /* 0 if there is no Nonce payload */
    uint8_t sk_next;                /* SK Next Payload, 0 without SK */
    size_t sk_body_len;             /* SK Payload Length minus 4 */
};

#define INIT_REQ_PAYLOADS_8 { IKE_P_SA, IKE_P_KE, IKE_P_NONCE, \
    IKE_P_NOTIFY, IKE_P_NOTIFY, IKE_P_NOTIFY, IKE_P_NOTIFY, IKE_P_NOTIFY }
#define INIT_REQ_PAYLOADS_7 { IKE_P_SA, IKE_P_KE, IKE_P_NONCE, \
    IKE_P_NOTIFY, IKE_P_NOTIFY, IKE_P_NOTIFY, IKE_P_NOTIFY }

ParameterizedTestParameters(ike_msg, vector_matches_tshark)
{
    static struct vector_case cases[] = {
        { "01", 0, "cba75897853cdcda", "0000000000000000", 34, 0x08, 0, 240,
          INIT_REQ_PAYLOADS_8, { 16388, 16389, 16430, 16431, 16406 },
          31, 32, 0, 0 },
        { "02", 0, "cba75897853cdcda", "0000000000000000", 34, 0x20, 0, 74,
          { IKE_P_NOTIFY }, { 16407 }, 0, 0, 0, 0 },
        { "03", 0, "2581949d4c6d228d", "0000000000000000", 34, 0x08, 0, 246,
          INIT_REQ_PAYLOADS_8, { 16388, 16389, 16430, 16431, 16408 },
          31, 32, 0, 0 },
        { "04", 0, "e0e30c1e45b9dc73", "0000000000000000", 34, 0x20, 0, 85,
          { IKE_P_NOTIFY }, { 16407 }, 0, 0, 0, 0 },
        { "05", 0, "458cf3c45c3e85f1", "0000000000000000", 34, 0x08, 0, 246,
          INIT_REQ_PAYLOADS_8, { 16388, 16389, 16430, 16431, 16408 },
          31, 32, 0, 0 },
        { "06", 0, "407d62550dbb18eb", "0000000000000000", 34, 0x20, 0, 86,
          { IKE_P_NOTIFY }, { 16407 }, 0, 0, 0, 0 },
        { "07", 0, "7ee9354fedff105b", "0000000000000000", 34, 0x08, 0, 246,
          INIT_REQ_PAYLOADS_8, { 16388, 16389, 16430, 16431, 16408 },
          31, 32, 0, 0 },
        { "08", 0, "00dad479065331ae", "0000000000000000", 34, 0x08, 0, 240,
          INIT_REQ_PAYLOADS_8, { 16388, 16389, 16430, 16431, 16406 },
          31, 32, 0, 0 },
        { "09", 0, "00dad479065331ae", "0000000000000000", 34, 0x20, 0, 86,
          { IKE_P_NOTIFY }, { 16407 }, 0, 0, 0, 0 },
        { "10", 0, "f38cf82713de02a3", "0000000000000000", 34, 0x08, 0, 258,
          INIT_REQ_PAYLOADS_8, { 16388, 16389, 16430, 16431, 16408 },
          31, 32, 0, 0 },
        { "11", 0, "e86217286b924c94", "0000000000000000", 34, 0x08, 0, 232,
          INIT_REQ_PAYLOADS_7, { 16388, 16389, 16430, 16431 },
          31, 32, 0, 0 },
        { "12", 0, "d609439c537db9fb", "0000000000000000", 34, 0x08, 0, 224,
          INIT_REQ_PAYLOADS_7, { 16430, 16406, 16388, 16389 },
          31, 32, 0, 0 },
        { "13", 0, "07783dc9dcf8376c", "0000000000000000", 34, 0x08, 0, 230,
          INIT_REQ_PAYLOADS_7, { 16430, 16408, 16388, 16389 },
          31, 32, 0, 0 },
        { "14", 1, "a9796550cda450b8", "c3514afb715cc215", 37, 0x00, 0, 80,
          { IKE_P_SK }, { 0 }, 0, 0, IKE_P_NOTIFY, 48 },
        { "15", 0, "2fb9411ff96a2333", "0000000000000000", 34, 0x08, 0, 246,
          INIT_REQ_PAYLOADS_8, { 16388, 16389, 16430, 16431, 16408 },
          31, 32, 0, 0 },
        { "16", 1, "fd154b30a094b972", "745d2c02c2b3781b", 37, 0x00, 0, 80,
          { IKE_P_SK }, { 0 }, 0, 0, IKE_P_NOTIFY, 48 },
        { "17", 1, "2dfd960ab9d03162", "561e914bb6f5872e", 35, 0x20, 1, 144,
          { IKE_P_SK }, { 0 }, 0, 0, IKE_P_NOTIFY, 112 },
        { "18", 1, "babb2216fd29df08", "b31a15e6ad3fa631", 35, 0x08, 1, 209,
          { IKE_P_SK }, { 0 }, 0, 0, IKE_P_IDI, 177 },
        { "19", 1, "babb2216fd29df08", "b31a15e6ad3fa631", 35, 0x20, 1, 151,
          { IKE_P_SK }, { 0 }, 0, 0, IKE_P_IDR, 119 },
        { "20", 1, "babb2216fd29df08", "b31a15e6ad3fa631", 37, 0x00, 0, 71,
          { IKE_P_SK }, { 0 }, 0, 0, IKE_P_NOTIFY, 39 },
        { "21", 0, "babb2216fd29df08", "0000000000000000", 34, 0x08, 0, 232,
          INIT_REQ_PAYLOADS_8, { 16388, 16389, 16430, 16431, 16406 },
          31, 32, 0, 0 },
        { "22", 0, "babb2216fd29df08", "b31a15e6ad3fa631", 34, 0x20, 0, 240,
          { IKE_P_SA, IKE_P_KE, IKE_P_NONCE, IKE_P_NOTIFY, IKE_P_NOTIFY,
            IKE_P_NOTIFY, IKE_P_NOTIFY, IKE_P_NOTIFY, IKE_P_NOTIFY },
          { 16388, 16389, 16430, 16431, 16418, 16404 }, 31, 32, 0, 0 },
    };

    return cr_make_param_array(struct vector_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

/* Strips the non-ESP marker the way the port 4500 receive path does. */
static void
vector_message(const struct vector_case *c, const uint8_t *dgram, size_t n,
    const uint8_t **msg, size_t *len)
{
    size_t off = 0;

    if (c->marker) {
        cr_assert_eq(ike_natd_classify(dgram, n, &off), IKE_UDP_IKE,
            "vector %s", c->prefix);
        cr_assert_eq(off, IKE_NON_ESP_MARKER_LEN);
    }
    *msg = dgram + off;
    *len = n - off;
}

ParameterizedTest(struct vector_case *c, ike_msg, vector_matches_tshark)
{
    uint8_t dgram[VEC_MAX_LEN];
    size_t n = vec_load(c->prefix, dgram, sizeof(dgram));
    const uint8_t *buf;
    size_t len;
    struct ike_msg msg;
    struct ike_parse_error err;

    vector_message(c, dgram, n, &buf, &len);
    cr_assert_eq(ike_msg_parse(&msg, buf, len, &err), 0,
        "vector %s: %s at %zu", c->prefix, ike_error_name(err.code),
        err.offset);
    cr_expect(vec_equal_hex(msg.hdr.spi_i, IKE_SPI_LEN, c->spi_i),
        "vector %s SPIi", c->prefix);
    cr_expect(vec_equal_hex(msg.hdr.spi_r, IKE_SPI_LEN, c->spi_r),
        "vector %s SPIr", c->prefix);
    cr_expect_eq(msg.hdr.version, 0x20, "vector %s", c->prefix);
    cr_expect_eq(msg.hdr.exchange, c->exchange, "vector %s", c->prefix);
    cr_expect_eq(msg.hdr.flags, c->flags, "vector %s", c->prefix);
    cr_expect_eq(msg.hdr.msg_id, c->msg_id, "vector %s", c->prefix);
    cr_expect_eq(msg.hdr.length, c->length, "vector %s", c->prefix);
    cr_expect_eq(msg.len, len, "vector %s", c->prefix);

    size_t want_payloads = 0;

    while (want_payloads < MAX_LIST && c->payloads[want_payloads] != 0)
        want_payloads++;
    cr_assert_eq(msg.chain.count, want_payloads, "vector %s", c->prefix);

    size_t notify_index = 0;

    for (size_t i = 0; i < msg.chain.count; i++) {
        const struct ike_payload *p = &msg.chain.payloads[i];

        cr_expect_eq(p->type, c->payloads[i], "vector %s payload %zu",
            c->prefix, i);
        cr_expect_eq(p->critical, 0, "vector %s payload %zu", c->prefix, i);
        if (p->type == IKE_P_NOTIFY) {
            struct ike_notify nt;

            cr_assert_eq(ike_payload_parse_notify(p, &nt, NULL), 0);
            cr_expect_eq(nt.type, c->notifies[notify_index],
                "vector %s notify %zu", c->prefix, notify_index);
            notify_index++;
        } else if (p->type == IKE_P_KE) {
            struct ike_ke_payload ke;

            cr_assert_eq(ike_payload_parse_ke(p, &ke, NULL), 0);
            cr_expect_eq(ke.group, c->ke_group, "vector %s", c->prefix);
        } else if (p->type == IKE_P_NONCE) {
            struct ike_nonce nonce;

            cr_assert_eq(ike_payload_parse_nonce(p, &nonce, NULL), 0);
            cr_expect_eq(nonce.len, c->nonce_len, "vector %s", c->prefix);
        }
    }
    cr_expect_eq(c->notifies[notify_index], 0,
        "vector %s has fewer notifies than tshark shows", c->prefix);

    const struct ike_payload *sk = ike_msg_encrypted(&msg);

    if (c->sk_next == 0) {
        cr_expect_null(sk, "vector %s", c->prefix);
        return;
    }
    cr_assert_not_null(sk, "vector %s", c->prefix);

    struct ike_sk skb;

    cr_assert_eq(ike_payload_parse_sk(sk, &skb, NULL), 0);
    cr_expect_eq(skb.first_inner, c->sk_next, "vector %s", c->prefix);
    cr_expect_eq(skb.len, c->sk_body_len, "vector %s", c->prefix);
    cr_expect_eq(sk->offset, IKE_HDR_LEN, "vector %s", c->prefix);
}

/*
 * Decrypted SK payloads.  Keys come from the .keys file of each vector
 * (the peer's own log), and the inner payloads and notify types are those
 * tshark shows after decrypting.  Vectors 14 to 17 use AES-CBC-128 with
 * HMAC-SHA2-256-128, 18 to 20 AES-GCM-16 with a 128-bit key.
 */
struct inner_case {
    char prefix[3];
    int gcm;
    char key[41];                   /* SK_ei or SK_er, whichever sent it */
    uint8_t payloads[MAX_LIST];
    uint16_t notifies[MAX_LIST];
};

ParameterizedTestParameters(ike_msg, decrypted_inner_chain_matches_tshark)
{
    static struct inner_case cases[] = {
        { "14", 0, "bb5a67d9d8365bc4e3a30f562c318648",
          { IKE_P_NOTIFY }, { 16407 } },
        { "16", 0, "1373a97a5258751a0883c1b73b9e402f",
          { IKE_P_NOTIFY }, { 16407 } },
        { "17", 0, "2f46597904cfd950da2aa99d43745a53",
          { IKE_P_NOTIFY, IKE_P_IDR, IKE_P_AUTH }, { 16407 } },
        { "18", 1, "c07038f91c8e77b4616d0dabbd6f8b94f8c057b5",
          { IKE_P_IDI, IKE_P_NOTIFY, IKE_P_IDR, IKE_P_AUTH, IKE_P_NOTIFY,
            IKE_P_NOTIFY, IKE_P_NOTIFY, IKE_P_NOTIFY, IKE_P_NOTIFY },
          { 16384, 16396, 16398, 16404, 16417, 16420 } },
        { "19", 1, "48825e6c3633e6df0f09e567b8be8bfe1e904745",
          { IKE_P_IDR, IKE_P_AUTH, IKE_P_NOTIFY, IKE_P_NOTIFY },
          { 16396, 16398 } },
        { "20", 1, "48825e6c3633e6df0f09e567b8be8bfe1e904745",
          { IKE_P_NOTIFY }, { 16407 } },
    };

    return cr_make_param_array(struct inner_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

/*
 * Decrypts the SK payload of msg into out and returns the length of the
 * inner chain (padding and Pad Length removed).  Test-only code: the
 * product's SK handling lives in the crypto modules.
 */
static size_t
decrypt_sk(const struct ike_msg *msg, const struct ike_payload *sk, int gcm,
    const char *key_hex, uint8_t *out)
{
    uint8_t key[32];
    size_t key_len = vec_unhex(key_hex, key, sizeof(key));
    size_t iv_len = gcm ? 8 : 16;
    size_t icv_len = 16;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0;
    int fin = 0;

    cr_assert_not_null(ctx);
    cr_assert_gt(sk->body_len, iv_len + icv_len);

    const uint8_t *iv = sk->body;
    const uint8_t *ct = sk->body + iv_len;
    size_t ct_len = sk->body_len - iv_len - icv_len;

    if (gcm) {
        /* RFC 5282: nonce = salt (last 4 key octets) | IV.  The AAD runs
         * from the IKE header to the end of the SK generic header. */
        uint8_t nonce[12];
        size_t aad_len = sk->offset + IKE_PAYLOAD_HDR_LEN;

        memcpy(nonce, key + key_len - 4, 4);
        memcpy(nonce + 4, iv, 8);
        cr_assert_eq(EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, NULL,
            NULL), 1);
        cr_assert_eq(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12,
            NULL), 1);
        cr_assert_eq(EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce), 1);
        cr_assert_eq(EVP_DecryptUpdate(ctx, NULL, &n, msg->raw,
            (int)aad_len), 1);
        cr_assert_eq(EVP_DecryptUpdate(ctx, out, &n, ct, (int)ct_len), 1);
        cr_assert_eq(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16,
            (void *)(uintptr_t)(ct + ct_len)), 1);
        cr_assert_eq(EVP_DecryptFinal_ex(ctx, out + n, &fin), 1,
            "GCM tag mismatch");
    } else {
        cr_assert_eq(EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key,
            iv), 1);
        EVP_CIPHER_CTX_set_padding(ctx, 0);
        cr_assert_eq(EVP_DecryptUpdate(ctx, out, &n, ct, (int)ct_len), 1);
        cr_assert_eq(EVP_DecryptFinal_ex(ctx, out + n, &fin), 1);
    }
    EVP_CIPHER_CTX_free(ctx);

    size_t pt_len = (size_t)n + (size_t)fin;

    cr_assert_eq(pt_len, ct_len);
    cr_assert_gt(pt_len, (size_t)out[pt_len - 1]);
    return pt_len - 1 - out[pt_len - 1];
}

ParameterizedTest(struct inner_case *c, ike_msg,
    decrypted_inner_chain_matches_tshark)
{
    uint8_t dgram[VEC_MAX_LEN];
    uint8_t plain[VEC_MAX_LEN];
    size_t n = vec_load(c->prefix, dgram, sizeof(dgram));
    struct ike_msg msg;
    struct ike_chain inner;
    struct ike_parse_error err;

    cr_assert_eq(ike_msg_parse(&msg, dgram + 4, n - 4, &err), 0);

    const struct ike_payload *sk = ike_msg_encrypted(&msg);

    cr_assert_not_null(sk);

    size_t len = decrypt_sk(&msg, sk, c->gcm, c->key, plain);

    cr_assert_eq(ike_chain_parse(&inner, plain, len, sk->next, &err), 0,
        "vector %s: %s at %zu", c->prefix, ike_error_name(err.code),
        err.offset);

    size_t want = 0;

    while (want < MAX_LIST && c->payloads[want] != 0)
        want++;
    cr_assert_eq(inner.count, want, "vector %s", c->prefix);

    size_t ni = 0;

    for (size_t i = 0; i < inner.count; i++) {
        const struct ike_payload *p = &inner.payloads[i];

        cr_expect_eq(p->type, c->payloads[i], "vector %s inner %zu",
            c->prefix, i);
        if (p->type != IKE_P_NOTIFY)
            continue;

        struct ike_notify nt;

        cr_assert_eq(ike_payload_parse_notify(p, &nt, NULL), 0);
        cr_expect_eq(nt.type, c->notifies[ni], "vector %s notify %zu",
            c->prefix, ni);
        ni++;
    }
    cr_expect_eq(c->notifies[ni], 0, "vector %s", c->prefix);
}

/* Vector 18's IKE_AUTH request: the identities tshark decodes inside SK. */
Test(ike_msg, decrypted_ike_auth_identities_match_tshark)
{
    uint8_t dgram[VEC_MAX_LEN];
    uint8_t plain[VEC_MAX_LEN];
    size_t n = vec_load("18", dgram, sizeof(dgram));
    struct ike_msg msg;
    struct ike_chain inner;

    cr_assert_eq(ike_msg_parse(&msg, dgram + 4, n - 4, NULL), 0);

    const struct ike_payload *sk = ike_msg_encrypted(&msg);
    size_t len = decrypt_sk(&msg, sk, 1,
        "c07038f91c8e77b4616d0dabbd6f8b94f8c057b5", plain);

    cr_assert_eq(ike_chain_parse(&inner, plain, len, sk->next, NULL), 0);

    struct ike_id id;
    struct ike_auth auth;
    const struct ike_payload *p;

    p = ike_chain_find(&inner, IKE_P_IDI, NULL);
    cr_assert_not_null(p);
    cr_assert_eq(ike_payload_parse_id(p, &id, NULL), 0);
    cr_expect_eq(id.id_type, IKE_ID_RFC822_ADDR);
    cr_expect_eq(id.len, strlen("client@example.net"));
    cr_expect_eq(memcmp(id.data, "client@example.net", id.len), 0);

    p = ike_chain_find(&inner, IKE_P_IDR, NULL);
    cr_assert_not_null(p);
    cr_assert_eq(ike_payload_parse_id(p, &id, NULL), 0);
    cr_expect_eq(id.id_type, IKE_ID_FQDN);
    cr_expect_eq(id.len, strlen("gw.example.net"));
    cr_expect_eq(memcmp(id.data, "gw.example.net", id.len), 0);

    p = ike_chain_find(&inner, IKE_P_AUTH, NULL);
    cr_assert_not_null(p);
    cr_assert_eq(ike_payload_parse_auth(p, &auth, NULL), 0);
    cr_expect_eq(auth.method, IKE_AUTH_SHARED_KEY_MIC);
    cr_expect(vec_equal_hex(auth.data, auth.len,
        "124cf1e5d8d451b568bbda76e0348d369228374c9f473636452fbb029337b7c9"));

    struct ike_notify nt;

    cr_assert_not_null(ike_chain_find_notify(&inner,
        IKE_N_ADDITIONAL_IP6_ADDRESS, &nt));
    cr_expect(vec_equal_hex(nt.data, nt.data_len,
        "20010db8000100000000000000000001"));
}

/* Vector 17: the IKE_AUTH REDIRECT decodes in the protected context. */
Test(ike_msg, decrypted_ike_auth_redirect_names_gateway)
{
    uint8_t dgram[VEC_MAX_LEN];
    uint8_t plain[VEC_MAX_LEN];
    size_t n = vec_load("17", dgram, sizeof(dgram));
    struct ike_msg msg;
    struct ike_chain inner;
    struct ike_notify nt;
    struct ike_redirect rd;
    char text[IKE_REDIRECT_GW_TEXT_MAX];

    cr_assert_eq(ike_msg_parse(&msg, dgram + 4, n - 4, NULL), 0);

    const struct ike_payload *sk = ike_msg_encrypted(&msg);
    size_t len = decrypt_sk(&msg, sk, 0, "2f46597904cfd950da2aa99d43745a53",
        plain);

    cr_assert_eq(ike_chain_parse(&inner, plain, len, sk->next, NULL), 0);
    cr_assert_not_null(ike_chain_find_notify(&inner, IKE_N_REDIRECT, &nt));
    cr_assert_eq(ike_redirect_parse(&nt, IKE_REDIRECT_CTX_PROTECTED, &rd,
        NULL), 0);
    cr_expect_eq(rd.gw.type, IKE_GW_IPV4);
    cr_assert_eq(ike_redirect_gw_to_text(&rd.gw, text, sizeof(text)), 0);
    cr_expect_str_eq(text, "198.51.100.3");
    cr_expect_null(rd.nonce);
}

/* Malformed messages: each case has its own code and offset. */
typedef size_t (*make_case_fn)(uint8_t *buf, size_t cap);

struct malformed_case {
    char name[40];
    int maker;                      /* index into malformed_makers[] */
    int code;
    size_t offset;
    uint8_t payload;
};

/* Vector 01: SA at 28, KE at 76, Nonce at 116, notifies from 152.  The
 * last notify (REDIRECT_SUPPORTED, 8 octets) starts at 232. */
#define V01_LEN         240
#define V01_LAST_N      232

static size_t
make_v01(uint8_t *buf, size_t cap)
{
    size_t n = vec_load("01", buf, cap);

    cr_assert_eq(n, V01_LEN);
    return n;
}

static size_t
make_hdr_truncated(uint8_t *buf, size_t cap)
{
    make_v01(buf, cap);
    return IKE_HDR_LEN - 1;
}

static size_t
make_hdr_len_beyond_datagram(uint8_t *buf, size_t cap)
{
    return make_v01(buf, cap) - 1;
}

static size_t
make_hdr_len_below_28(uint8_t *buf, size_t cap)
{
    size_t n = make_v01(buf, cap);

    ike_store32(buf + 24, IKE_HDR_LEN - 1);
    return n;
}

static size_t
make_major_version_3(uint8_t *buf, size_t cap)
{
    size_t n = make_v01(buf, cap);

    buf[17] = 0x30;
    return n;
}

static size_t
make_major_version_1(uint8_t *buf, size_t cap)
{
    size_t n = make_v01(buf, cap);

    buf[17] = 0x10;
    return n;
}

static size_t
make_payload_len_below_4(uint8_t *buf, size_t cap)
{
    size_t n = make_v01(buf, cap);

    ike_store16(buf + IKE_HDR_LEN + 2, 3);
    return n;
}

static size_t
make_payload_len_beyond_message(uint8_t *buf, size_t cap)
{
    size_t n = make_v01(buf, cap);

    ike_store16(buf + V01_LAST_N + 2, 9);
    return n;
}

static size_t
make_chain_overrun(uint8_t *buf, size_t cap)
{
    size_t n = make_v01(buf, cap);

    buf[V01_LAST_N] = IKE_P_NOTIFY;
    return n;
}

static size_t
make_octets_after_last_payload(uint8_t *buf, size_t cap)
{
    size_t n = make_v01(buf, cap);

    memset(buf + n, 0, 4);
    ike_store32(buf + 24, (uint32_t)n + 4);
    return n + 4;
}

static const struct ike_header test_hdr = {
    .spi_i = { 1, 2, 3, 4, 5, 6, 7, 8 },
    .exchange = IKE_X_SA_INIT,
    .flags = IKE_FLAG_INITIATOR,
};

static size_t
make_sk_not_last(uint8_t *buf, size_t cap)
{
    static const uint8_t body[32];
    struct ike_writer w;

    ike_writer_init(&w, buf, cap);
    ike_msg_begin(&w, &test_hdr);
    ike_payload_build_sk(&w, IKE_P_NOTIFY, body, sizeof(body));
    cr_assert_eq(ike_writer_error(&w), 0);

    /* Shrink SK by 8 octets so that they follow it inside the message. */
    ike_store16(buf + IKE_HDR_LEN + 2, IKE_PAYLOAD_HDR_LEN + 24);
    return ike_writer_len(&w);
}

static size_t
make_skf_not_last(uint8_t *buf, size_t cap)
{
    static const uint8_t body[32];
    struct ike_writer w;

    ike_writer_init(&w, buf, cap);
    ike_msg_begin(&w, &test_hdr);
    ike_payload_build_skf(&w, IKE_P_NOTIFY, 1, 2, body, sizeof(body));
    cr_assert_eq(ike_writer_error(&w), 0);
    ike_store16(buf + IKE_HDR_LEN + 2, IKE_SKF_HDR_LEN + 24);
    return ike_writer_len(&w);
}

static size_t
make_nonce(uint8_t *buf, size_t cap, size_t nonce_len)
{
    static const uint8_t nonce[300];
    struct ike_writer w;

    ike_writer_init(&w, buf, cap);
    ike_msg_begin(&w, &test_hdr);
    ike_payload_build_notify(&w, 0, NULL, 0, IKE_N_REDIRECT_SUPPORTED, NULL,
        0);
    ike_payload_build_nonce(&w, nonce, nonce_len);
    cr_assert_eq(ike_writer_error(&w), 0);
    return ike_writer_len(&w);
}

static size_t
make_nonce_15(uint8_t *buf, size_t cap)
{
    return make_nonce(buf, cap, 15);
}

static size_t
make_nonce_257(uint8_t *buf, size_t cap)
{
    return make_nonce(buf, cap, 257);
}

static size_t
make_ke_data_empty(uint8_t *buf, size_t cap)
{
    struct ike_writer w;

    ike_writer_init(&w, buf, cap);
    ike_msg_begin(&w, &test_hdr);
    ike_payload_build_ke(&w, IKE_DH_CURVE25519, NULL, 0);
    cr_assert_eq(ike_writer_error(&w), 0);
    return ike_writer_len(&w);
}

static size_t
make_unknown_critical(uint8_t *buf, size_t cap)
{
    static const uint8_t body[4] = { 1, 2, 3, 4 };
    struct ike_writer w;

    ike_writer_init(&w, buf, cap);
    ike_msg_begin(&w, &test_hdr);
    ike_payload_build_vendor(&w, body, sizeof(body));
    ike_payload_build_raw(&w, 200, 1, body, sizeof(body));
    cr_assert_eq(ike_writer_error(&w), 0);
    return ike_writer_len(&w);
}

static size_t
make_too_many_payloads(uint8_t *buf, size_t cap)
{
    struct ike_writer w;

    ike_writer_init(&w, buf, cap);
    ike_msg_begin(&w, &test_hdr);
    for (int i = 0; i <= IKE_CHAIN_MAX_PAYLOADS; i++)
        ike_payload_build_vendor(&w, NULL, 0);
    cr_assert_eq(ike_writer_error(&w), 0);
    return ike_writer_len(&w);
}

/* Parameters cannot hold function pointers, so rows name a maker. */
enum malformed_maker {
    M_HDR_TRUNCATED,
    M_HDR_LEN_BEYOND_DATAGRAM,
    M_HDR_LEN_BELOW_28,
    M_MAJOR_VERSION_3,
    M_MAJOR_VERSION_1,
    M_PAYLOAD_LEN_BELOW_4,
    M_PAYLOAD_LEN_BEYOND_MESSAGE,
    M_CHAIN_OVERRUN,
    M_OCTETS_AFTER_LAST_PAYLOAD,
    M_SK_NOT_LAST,
    M_SKF_NOT_LAST,
    M_NONCE_15,
    M_NONCE_257,
    M_KE_DATA_EMPTY,
    M_UNKNOWN_CRITICAL,
    M_TOO_MANY_PAYLOADS,
};

static const make_case_fn malformed_makers[] = {
    [M_HDR_TRUNCATED] = make_hdr_truncated,
    [M_HDR_LEN_BEYOND_DATAGRAM] = make_hdr_len_beyond_datagram,
    [M_HDR_LEN_BELOW_28] = make_hdr_len_below_28,
    [M_MAJOR_VERSION_3] = make_major_version_3,
    [M_MAJOR_VERSION_1] = make_major_version_1,
    [M_PAYLOAD_LEN_BELOW_4] = make_payload_len_below_4,
    [M_PAYLOAD_LEN_BEYOND_MESSAGE] = make_payload_len_beyond_message,
    [M_CHAIN_OVERRUN] = make_chain_overrun,
    [M_OCTETS_AFTER_LAST_PAYLOAD] = make_octets_after_last_payload,
    [M_SK_NOT_LAST] = make_sk_not_last,
    [M_SKF_NOT_LAST] = make_skf_not_last,
    [M_NONCE_15] = make_nonce_15,
    [M_NONCE_257] = make_nonce_257,
    [M_KE_DATA_EMPTY] = make_ke_data_empty,
    [M_UNKNOWN_CRITICAL] = make_unknown_critical,
    [M_TOO_MANY_PAYLOADS] = make_too_many_payloads,
};

ParameterizedTestParameters(ike_msg, rejects_malformed_message)
{
    static struct malformed_case cases[] = {
        { "truncated header", M_HDR_TRUNCATED,
          IKE_E_HDR_TRUNCATED, 0, 0 },
        { "header length beyond datagram", M_HDR_LEN_BEYOND_DATAGRAM,
          IKE_E_HDR_LEN_BEYOND_DATAGRAM, 24, 0 },
        { "header length below 28", M_HDR_LEN_BELOW_28,
          IKE_E_HDR_LEN_TOO_SHORT, 24, 0 },
        { "major version 3", M_MAJOR_VERSION_3,
          IKE_E_MAJOR_VERSION, 17, 0 },
        { "major version 1", M_MAJOR_VERSION_1,
          IKE_E_MAJOR_VERSION, 17, 0 },
        { "payload length below 4", M_PAYLOAD_LEN_BELOW_4,
          IKE_E_PAYLOAD_LEN_TOO_SHORT, IKE_HDR_LEN, IKE_P_SA },
        { "payload length beyond message", M_PAYLOAD_LEN_BEYOND_MESSAGE,
          IKE_E_PAYLOAD_LEN_BEYOND_MESSAGE, V01_LAST_N, IKE_P_NOTIFY },
        { "chain overruns message", M_CHAIN_OVERRUN,
          IKE_E_CHAIN_OVERRUN, V01_LEN, IKE_P_NOTIFY },
        { "octets after last payload", M_OCTETS_AFTER_LAST_PAYLOAD,
          IKE_E_TRAILING_OCTETS, V01_LEN, IKE_P_NOTIFY },
        { "SK not last", M_SK_NOT_LAST,
          IKE_E_SK_NOT_LAST, IKE_HDR_LEN, IKE_P_SK },
        { "SKF not last", M_SKF_NOT_LAST,
          IKE_E_SK_NOT_LAST, IKE_HDR_LEN, IKE_P_SKF },
        { "nonce of 15 octets", M_NONCE_15,
          IKE_E_NONCE_TOO_SHORT, 40, IKE_P_NONCE },
        { "nonce of 257 octets", M_NONCE_257,
          IKE_E_NONCE_TOO_LONG, 40, IKE_P_NONCE },
        { "KE data empty", M_KE_DATA_EMPTY,
          IKE_E_KE_DATA_EMPTY, IKE_HDR_LEN + 8, IKE_P_KE },
        { "unknown critical payload", M_UNKNOWN_CRITICAL,
          IKE_E_UNSUPPORTED_CRITICAL, IKE_HDR_LEN + 8, 200 },
        { "too many payloads", M_TOO_MANY_PAYLOADS,
          IKE_E_TOO_MANY_PAYLOADS,
          IKE_HDR_LEN + 4 * IKE_CHAIN_MAX_PAYLOADS, IKE_P_VENDOR },
    };

    return cr_make_param_array(struct malformed_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct malformed_case *c, ike_msg,
    rejects_malformed_message)
{
    uint8_t buf[VEC_MAX_LEN];
    size_t len = malformed_makers[c->maker](buf, sizeof(buf));
    struct ike_msg msg;
    struct ike_parse_error err = { -1, 0, 0 };

    cr_assert_eq(ike_msg_parse(&msg, buf, len, &err), -EBADMSG, "%s",
        c->name);
    cr_expect_eq(err.code, c->code, "%s: got %s", c->name,
        ike_error_name(err.code));
    cr_expect_eq(err.offset, c->offset, "%s", c->name);
    cr_expect_eq(err.payload, c->payload, "%s", c->name);
}

Test(ike_msg, header_parse_alone_reports_spis)
{
    uint8_t buf[VEC_MAX_LEN];
    size_t n = make_v01(buf, sizeof(buf));
    struct ike_header hdr;

    cr_assert_eq(ike_msg_parse_header(&hdr, buf, n, NULL), 0);
    cr_expect(vec_equal_hex(hdr.spi_i, IKE_SPI_LEN, "cba75897853cdcda"));
    cr_expect_eq(hdr.next_payload, IKE_P_SA);
}

Test(ike_msg, ignores_minor_version)
{
    uint8_t buf[VEC_MAX_LEN];
    size_t n = make_v01(buf, sizeof(buf));
    struct ike_msg msg;

    buf[17] = 0x2f;
    cr_expect_eq(ike_msg_parse(&msg, buf, n, NULL), 0);
}

Test(ike_msg, ignores_datagram_octets_beyond_header_length)
{
    uint8_t buf[VEC_MAX_LEN];
    size_t n = make_v01(buf, sizeof(buf));
    struct ike_msg msg;

    memset(buf + n, 0xee, 8);
    cr_assert_eq(ike_msg_parse(&msg, buf, n + 8, NULL), 0);
    cr_expect_eq(msg.len, n);
}

Test(ike_msg, skips_unknown_noncritical_payload)
{
    static const uint8_t body[3] = { 9, 9, 9 };
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_msg_begin(&w, &test_hdr);
    ike_payload_build_raw(&w, 200, 0, body, sizeof(body));
    ike_redirect_build_supported(&w);
    cr_assert_eq(ike_writer_error(&w), 0);
    cr_assert_eq(ike_msg_parse(&msg, buf, ike_writer_len(&w), NULL), 0);
    cr_assert_eq(msg.chain.count, 2);
    cr_expect_eq(msg.chain.payloads[0].type, 200);
    cr_expect_eq(msg.chain.payloads[0].known, 0);
    cr_expect_eq(msg.chain.payloads[1].type, IKE_P_NOTIFY);
    cr_expect_not_null(ike_chain_find_notify(&msg.chain,
        IKE_N_REDIRECT_SUPPORTED, NULL));
}

Test(ike_msg, ignores_critical_bit_on_known_payload)
{
    static const uint8_t vid[4] = { 1, 2, 3, 4 };
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_msg_begin(&w, &test_hdr);
    ike_payload_build_raw(&w, IKE_P_VENDOR, 1, vid, sizeof(vid));
    cr_assert_eq(ike_msg_parse(&msg, buf, ike_writer_len(&w), NULL), 0);
    cr_expect_eq(msg.chain.payloads[0].critical, 1);
}

Test(ike_msg, accepts_header_without_payloads)
{
    uint8_t buf[64];
    struct ike_writer w;
    struct ike_msg msg;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_msg_begin(&w, &test_hdr);
    cr_assert_eq(ike_writer_len(&w), IKE_HDR_LEN);
    cr_assert_eq(ike_msg_parse(&msg, buf, IKE_HDR_LEN, NULL), 0);
    cr_expect_eq(msg.chain.count, 0);
    cr_expect_null(ike_msg_encrypted(&msg));
}

Test(ike_msg, header_round_trips)
{
    struct ike_header h = {
        .spi_i = { 0xcb, 0xa7, 0x58, 0x97, 0x85, 0x3c, 0xdc, 0xda },
        .spi_r = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 },
        .exchange = IKE_X_INFORMATIONAL,
        .flags = IKE_FLAG_RESPONSE | IKE_FLAG_INITIATOR,
        .msg_id = 0x01020304,
    };
    uint8_t buf[64];
    struct ike_writer w;
    struct ike_msg msg;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_msg_begin(&w, &h);
    cr_assert_eq(ike_msg_parse(&msg, buf, ike_writer_len(&w), NULL), 0);
    cr_expect_eq(memcmp(msg.hdr.spi_i, h.spi_i, IKE_SPI_LEN), 0);
    cr_expect_eq(memcmp(msg.hdr.spi_r, h.spi_r, IKE_SPI_LEN), 0);
    cr_expect_eq(msg.hdr.exchange, h.exchange);
    cr_expect_eq(msg.hdr.flags, h.flags);
    cr_expect_eq(msg.hdr.msg_id, h.msg_id);
    cr_expect_eq(msg.hdr.version, IKE_VERSION_2);
    cr_expect_eq(msg.hdr.length, IKE_HDR_LEN);
    cr_expect_eq(msg.hdr.next_payload, IKE_P_NONE);
}

Test(ike_msg, writer_patches_next_payload_and_length)
{
    static const uint8_t nonce[32] = { 7 };
    uint8_t buf[256];
    struct ike_writer w;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_msg_begin(&w, &test_hdr);
    ike_payload_build_nonce(&w, nonce, sizeof(nonce));
    cr_expect_eq(buf[16], IKE_P_NONCE);
    cr_expect_eq(ike_load32(buf + 24), IKE_HDR_LEN + 36);
    cr_expect_eq(buf[IKE_HDR_LEN], IKE_P_NONE);

    ike_redirect_build_supported(&w);
    cr_expect_eq(buf[IKE_HDR_LEN], IKE_P_NOTIFY);
    cr_expect_eq(ike_load16(buf + IKE_HDR_LEN + 2), 36);
    cr_expect_eq(buf[IKE_HDR_LEN + 36], IKE_P_NONE);
    cr_expect_eq(ike_load32(buf + 24), IKE_HDR_LEN + 36 + 8);
    cr_expect_eq(ike_writer_error(&w), 0);
    cr_expect_eq(ike_writer_first_type(&w), IKE_P_NONCE);
}

Test(ike_msg, writer_rejects_payload_after_sk)
{
    static const uint8_t body[16];
    uint8_t buf[256];
    struct ike_writer w;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_msg_begin(&w, &test_hdr);
    ike_payload_build_sk(&w, IKE_P_IDI, body, sizeof(body));
    cr_assert_eq(ike_writer_error(&w), 0);
    cr_expect_eq(buf[16], IKE_P_SK);
    cr_expect_eq(buf[IKE_HDR_LEN], IKE_P_IDI);
    ike_redirect_build_supported(&w);
    cr_expect_eq(ike_writer_error(&w), -EINVAL);
}

Test(ike_msg, writer_rejects_nested_payload_begin)
{
    uint8_t buf[256];
    struct ike_writer w;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_msg_begin(&w, &test_hdr);
    ike_msg_payload_begin(&w, IKE_P_VENDOR, 0);
    ike_msg_payload_begin(&w, IKE_P_VENDOR, 0);
    cr_expect_eq(ike_writer_error(&w), -EINVAL);
}

Test(ike_msg, writer_overflow_is_sticky)
{
    static const uint8_t nonce[32];
    uint8_t buf[IKE_HDR_LEN + 10];
    struct ike_writer w;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_msg_begin(&w, &test_hdr);
    ike_payload_build_nonce(&w, nonce, sizeof(nonce));
    cr_expect_eq(ike_writer_error(&w), -ENOBUFS);
    ike_writer_u8(&w, 1);
    cr_expect_eq(ike_writer_error(&w), -ENOBUFS);
    cr_expect_leq(ike_writer_len(&w), sizeof(buf));
}

Test(ike_msg, inner_chain_builds_and_parses)
{
    static const uint8_t id[] = "gw.example.net";
    static const uint8_t auth[32] = { 1 };
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_chain chain;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_chain_begin(&w);
    ike_payload_build_id(&w, IKE_P_IDR, IKE_ID_FQDN, id, sizeof(id) - 1);
    ike_payload_build_auth(&w, IKE_AUTH_SHARED_KEY_MIC, auth, sizeof(auth));
    cr_assert_eq(ike_writer_error(&w), 0);
    cr_assert_eq(ike_writer_first_type(&w), IKE_P_IDR);
    cr_assert_eq(ike_chain_parse(&chain, buf, ike_writer_len(&w), IKE_P_IDR,
        NULL), 0);
    cr_assert_eq(chain.count, 2);
    cr_expect_eq(chain.payloads[0].offset, 0);
    cr_expect_eq(chain.payloads[1].type, IKE_P_AUTH);
    cr_expect_eq(chain.payloads[1].offset, 4 + 4 + sizeof(id) - 1);
}

Test(ike_msg, inner_chain_may_be_empty)
{
    struct ike_chain chain;

    cr_expect_eq(ike_chain_parse(&chain, NULL, 0, IKE_P_NONE, NULL), 0);
    cr_expect_eq(chain.count, 0);
}

Test(ike_msg, inner_chain_rejects_sk)
{
    static const uint8_t body[16];
    uint8_t buf[64];
    struct ike_writer w;
    struct ike_chain chain;
    struct ike_parse_error err;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_chain_begin(&w);
    ike_redirect_build_supported(&w);
    ike_payload_build_sk(&w, IKE_P_NOTIFY, body, sizeof(body));
    cr_assert_eq(ike_writer_error(&w), 0);
    cr_assert_eq(ike_chain_parse(&chain, buf, ike_writer_len(&w),
        IKE_P_NOTIFY, &err), -EBADMSG);
    cr_expect_eq(err.code, IKE_E_SK_NESTED);
    cr_expect_eq(err.offset, 8);
    cr_expect_eq(err.payload, IKE_P_SK);
}

Test(ike_msg, inner_chain_rejects_trailing_octets)
{
    uint8_t buf[64];
    struct ike_writer w;
    struct ike_chain chain;
    struct ike_parse_error err;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_chain_begin(&w);
    ike_redirect_build_supported(&w);
    ike_writer_zero(&w, 3);
    cr_assert_eq(ike_chain_parse(&chain, buf, ike_writer_len(&w),
        IKE_P_NOTIFY, &err), -EBADMSG);
    cr_expect_eq(err.code, IKE_E_TRAILING_OCTETS);
    cr_expect_eq(err.offset, 8);
}

Test(ike_msg, inner_chain_reports_body_errors_at_inner_offsets)
{
    static const uint8_t nonce[8];
    uint8_t buf[64];
    struct ike_writer w;
    struct ike_chain chain;
    struct ike_parse_error err;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_chain_begin(&w);
    ike_redirect_build_supported(&w);
    ike_payload_build_nonce(&w, nonce, sizeof(nonce));
    cr_assert_eq(ike_chain_parse(&chain, buf, ike_writer_len(&w),
        IKE_P_NOTIFY, &err), -EBADMSG);
    cr_expect_eq(err.code, IKE_E_NONCE_TOO_SHORT);
    cr_expect_eq(err.offset, 12);
    cr_expect_eq(err.payload, IKE_P_NONCE);
}

Test(ike_msg, find_walks_payloads_of_one_type)
{
    uint8_t buf[VEC_MAX_LEN];
    size_t n = make_v01(buf, sizeof(buf));
    struct ike_msg msg;
    size_t count = 0;

    cr_assert_eq(ike_msg_parse(&msg, buf, n, NULL), 0);
    for (const struct ike_payload *p = ike_chain_find(&msg.chain,
        IKE_P_NOTIFY, NULL); p != NULL;
        p = ike_chain_find(&msg.chain, IKE_P_NOTIFY, p))
        count++;
    cr_expect_eq(count, 5);
    cr_expect_null(ike_chain_find(&msg.chain, IKE_P_AUTH, NULL));
    cr_expect_null(ike_chain_find_notify(&msg.chain, IKE_N_COOKIE, NULL));
}

Test(ike_msg, exchange_names_follow_rfc)
{
    cr_expect_str_eq(ike_msg_exchange_name(IKE_X_SA_INIT), "IKE_SA_INIT");
    cr_expect_str_eq(ike_msg_exchange_name(IKE_X_AUTH), "IKE_AUTH");
    cr_expect_str_eq(ike_msg_exchange_name(IKE_X_CREATE_CHILD_SA),
        "CREATE_CHILD_SA");
    cr_expect_str_eq(ike_msg_exchange_name(IKE_X_INFORMATIONAL),
        "INFORMATIONAL");
    cr_expect_null(ike_msg_exchange_name(33));
}
