/*
 * Shared key AUTH (RFC 7296 2.15) against the values strongSwan 5.9.8
 * logged for the captured handshake (vectors 18, 19, 21, 22).
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "ike_auth.h"
#include "ike_const.h"
#include "ike_prf.h"
#include "test_crypto_kat.h"

TestSuite(ike_auth);

/* One side of the logged handshake. */
struct auth_side {
    uint8_t message[KAT_MAX_MSG];   /* the IKE_SA_INIT message it sent */
    uint8_t nonce[64];              /* the other side's nonce */
    uint8_t id[128];                /* its ID payload body */
    uint8_t sk_p[32];
    uint8_t signed_octets[KAT_MAX_MSG];
    uint8_t auth[32];
    size_t message_len, nonce_len, id_len, signed_len;
    struct ike_auth_octets in;
};

/*
 * ID payload body from tshark's decode of vector <num> (RFC 7296 3.5):
 * ID Type, three RESERVED octets, then the identification data, which
 * must also be the identity the JSON file names.
 */
static size_t
id_body_from_txt(const char *num, const char *json_id, uint8_t *out)
{
    char type_text[128], data[128];
    const char *open;

    kat_txt_text_after(num, "ID type: ", type_text, sizeof(type_text));
    kat_txt_text_after(num, "Identification Data:", data, sizeof(data));
    cr_assert_str_eq(data, json_id, "vector %s identity", num);
    open = strchr(type_text, '(');
    cr_assert_not_null(open);
    out[0] = (uint8_t)strtoul(open + 1, NULL, 10);
    memset(out + 1, 0, 3);
    memcpy(out + 4, data, strlen(data));
    return 4 + strlen(data);
}

/* Loads the initiator's (initiator != 0) or the responder's side. */
static void
load_side(json_t *root, int initiator, struct auth_side *s)
{
    const char *json_id = json_string_value(json_object_get(root,
                                            initiator ? "id_i" : "id_r"));

    memset(s, 0, sizeof(*s));
    /* RealMessage1 is frame 21, RealMessage2 frame 22. */
    s->message_len = kat_read_message(initiator ? "21" : "22", s->message,
                                      sizeof(s->message));
    s->nonce_len = kat_json_hex(root, initiator ? "nr" : "ni", s->nonce,
                                sizeof(s->nonce));
    cr_assert_not_null(json_id);
    s->id_len = id_body_from_txt(initiator ? "18" : "19", json_id, s->id);
    cr_assert_eq(kat_json_hex(root, initiator ? "sk_pi" : "sk_pr", s->sk_p,
                              sizeof(s->sk_p)), 32);
    s->signed_len = kat_json_hex(root, initiator ? "signed_octets_i"
                                                 : "signed_octets_r",
                                 s->signed_octets, sizeof(s->signed_octets));
    cr_assert_eq(kat_json_hex(root, initiator ? "auth_i" : "auth_r_expected",
                              s->auth, sizeof(s->auth)), 32);
    s->in = (struct ike_auth_octets){
        s->message, s->message_len, s->nonce, s->nonce_len, s->id,
        s->id_len, s->sk_p, 32, NULL,
    };
}

static json_t *
load_handshake(void)
{
    return kat_load_json("vectors/kat-sw-gcm-handshake.json");
}

static const uint8_t *
psk_of(json_t *root, size_t *len)
{
    const char *psk = json_string_value(json_object_get(root, "psk"));

    cr_assert_not_null(psk);
    *len = strlen(psk);
    return (const uint8_t *)psk;
}

Test(ike_auth, builds_the_logged_signed_octets)
{
    json_t *root = load_handshake();

    for (int initiator = 0; initiator < 2; initiator++) {
        struct auth_side s;
        uint8_t out[KAT_MAX_MSG];
        size_t out_len = 0;

        load_side(root, initiator, &s);
        cr_assert_eq(ike_auth_signed_octets(IKE_PRF_HMAC_SHA2_256, &s.in,
                                            out, sizeof(out), &out_len), 0);
        cr_assert_eq(out_len, s.signed_len, "initiator %d", initiator);
        cr_assert_arr_eq(out, s.signed_octets, out_len, "initiator %d",
                         initiator);
    }
    json_decref(root);
}

Test(ike_auth, computes_the_logged_auth_values)
{
    json_t *root = load_handshake();
    size_t psk_len;
    const uint8_t *psk = psk_of(root, &psk_len);

    for (int initiator = 0; initiator < 2; initiator++) {
        struct auth_side s;
        uint8_t out[64], wire[64];
        size_t out_len = 0, wire_len;

        load_side(root, initiator, &s);
        cr_assert_eq(ike_auth_compute(IKE_AUTH_SHARED_KEY_MIC,
                                      IKE_PRF_HMAC_SHA2_256, psk, psk_len,
                                      &s.in, out, sizeof(out), &out_len), 0);
        cr_assert_eq(out_len, 32);
        cr_assert_arr_eq(out, s.auth, 32, "initiator %d", initiator);
        /* The AUTH payload that tshark decrypted from the capture. */
        wire_len = kat_txt_hex_after(initiator ? "18" : "19",
                                     "Authentication Data:", wire,
                                     sizeof(wire));
        cr_assert_eq(wire_len, 32);
        cr_assert_arr_eq(out, wire, 32, "initiator %d on the wire",
                         initiator);
    }
    json_decref(root);
}

Test(ike_auth, verify_rejects_any_change)
{
    json_t *root = load_handshake();
    size_t psk_len;
    const uint8_t *psk = psk_of(root, &psk_len);

    for (int initiator = 0; initiator < 2; initiator++) {
        struct auth_side s;

        load_side(root, initiator, &s);
        cr_assert_eq(ike_auth_verify(IKE_AUTH_SHARED_KEY_MIC,
                                     IKE_PRF_HMAC_SHA2_256, psk, psk_len,
                                     &s.in, s.auth, 32), 0);
        for (size_t i = 0; i < 32; i++) {
            s.auth[i] ^= 0x01;
            cr_assert_eq(ike_auth_verify(IKE_AUTH_SHARED_KEY_MIC,
                                         IKE_PRF_HMAC_SHA2_256, psk, psk_len,
                                         &s.in, s.auth, 32), -EACCES,
                         "octet %zu changed", i);
            s.auth[i] ^= 0x01;
        }
        cr_assert_eq(ike_auth_verify(IKE_AUTH_SHARED_KEY_MIC,
                                     IKE_PRF_HMAC_SHA2_256, psk, psk_len,
                                     &s.in, s.auth, 31), -EACCES, "short");
        cr_assert_eq(ike_auth_verify(IKE_AUTH_SHARED_KEY_MIC,
                                     IKE_PRF_HMAC_SHA2_256, psk, psk_len - 1,
                                     &s.in, s.auth, 32), -EACCES,
                     "other key");
        s.id[4] ^= 0x20;
        cr_assert_eq(ike_auth_verify(IKE_AUTH_SHARED_KEY_MIC,
                                     IKE_PRF_HMAC_SHA2_256, psk, psk_len,
                                     &s.in, s.auth, 32), -EACCES,
                     "other identity");
    }
    json_decref(root);
}

Test(ike_auth, leaves_signature_methods_unsupported)
{
    const uint8_t methods[] = {
        IKE_AUTH_RSA_SIG, IKE_AUTH_DSS_SIG, IKE_AUTH_DIGITAL_SIGNATURE,
    };
    json_t *root = load_handshake();
    struct auth_side s;
    uint8_t out[64];
    size_t out_len;

    load_side(root, 1, &s);
    for (size_t i = 0; i < sizeof(methods); i++) {
        cr_assert_eq(ike_auth_compute(methods[i], IKE_PRF_HMAC_SHA2_256,
                                      (const uint8_t *)"k", 1, &s.in, out,
                                      sizeof(out), &out_len), -ENOTSUP);
        cr_assert_eq(ike_auth_verify(methods[i], IKE_PRF_HMAC_SHA2_256,
                                     (const uint8_t *)"k", 1, &s.in, s.auth,
                                     32), -ENOTSUP);
    }
    json_decref(root);
}

Test(ike_auth, rejects_missing_inputs)
{
    json_t *root = load_handshake();
    struct auth_side s;
    struct ike_auth_octets no_nonce;
    uint8_t out[KAT_MAX_MSG];
    size_t out_len;

    load_side(root, 1, &s);
    cr_assert_eq(ike_auth_compute(IKE_AUTH_SHARED_KEY_MIC,
                                  IKE_PRF_HMAC_SHA2_256, (const uint8_t *)"",
                                  0, &s.in, out, sizeof(out), &out_len),
                 -EINVAL, "empty shared key");
    no_nonce = s.in;
    no_nonce.nonce = NULL;
    cr_assert_eq(ike_auth_compute(IKE_AUTH_SHARED_KEY_MIC,
                                  IKE_PRF_HMAC_SHA2_256, (const uint8_t *)"k",
                                  1, &no_nonce, out, sizeof(out), &out_len),
                 -EINVAL, "no nonce");
    cr_assert_eq(ike_auth_compute(IKE_AUTH_SHARED_KEY_MIC,
                                  IKE_PRF_HMAC_SHA2_256, (const uint8_t *)"k",
                                  1, &s.in, out, 31, &out_len), -ENOBUFS);
    cr_assert_eq(ike_auth_compute(IKE_AUTH_SHARED_KEY_MIC, 4,
                                  (const uint8_t *)"k", 1, &s.in, out,
                                  sizeof(out), &out_len), -ENOTSUP,
                 "AES-XCBC PRF");
    cr_assert_eq(ike_auth_signed_octets(IKE_PRF_HMAC_SHA2_256, &s.in, out,
                                        s.signed_len - 1, &out_len),
                 -ENOBUFS);
    json_decref(root);
}
