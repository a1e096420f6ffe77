/*
 * The test initiator against the proto library and a logged strongSwan
 * 5.9.8 handshake: its requests parse, its IKE_SA_INIT and AUTH octets
 * equal strongSwan's when fed the same inputs, its keys match the KAT, and
 * it handles COOKIE, INVALID_KE_PAYLOAD, REDIRECT and damaged copies.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "ike_const.h"
#include "ike_initiator.h"
#include "ike_keys.h"
#include "ike_msg.h"
#include "ike_payload.h"
#include "ike_redirect.h"
#include "ike_sa_payload.h"
#include "ike_sk.h"
#include "test_crypto_kat.h"

TestSuite(ike_initiator);

static const uint8_t psk[] = "testsecret0123456789";
static const uint8_t id_i[] = "client@example.net";
static const uint8_t id_r[] = "gw.example.net";

static void
set_addr4(struct sockaddr_storage *ss, const char *text, uint16_t port)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;

    memset(ss, 0, sizeof(*ss));
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    cr_assert_eq(inet_pton(AF_INET, text, &sin->sin_addr), 1);
}

/* A configuration for suite with the addresses of the KAT handshake. */
static struct ike_initiator_config
config_for(const struct ike_suite *suite)
{
    struct ike_initiator_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.ike = *suite;
    cfg.redirect = IKE_INITIATOR_REDIRECT_SUPPORTED;
    cfg.psk = psk;
    cfg.psk_len = sizeof(psk) - 1;
    cfg.id_type = IKE_ID_RFC822_ADDR;
    cfg.id = id_i;
    cfg.id_len = sizeof(id_i) - 1;
    set_addr4(&cfg.local, "198.51.100.1", 500);
    set_addr4(&cfg.peer, "198.51.100.3", 500);
    return cfg;
}

static const struct ike_suite suite_gcm_x25519 = {
    IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_256, IKE_INTEG_NONE,
    IKE_DH_CURVE25519,
};

/* The values of the logged strongSwan handshake, kept for one test. */
struct kat_handshake {
    uint8_t spi_i[8], ni[64], ke_i[32], g_ir[32];
    uint8_t sk_d[32], sk_ei[20], sk_er[20], sk_pi[32], sk_pr[32];
    uint8_t auth_i[32];
    size_t ni_len;
    struct ike_initiator_fixed fixed;
    struct ike_initiator_notify notifies[2];
};

static const uint8_t sig_hash_algs[] = { 0, 2, 0, 3, 0, 4, 0, 5 };

static struct ike_initiator *
kat_initiator(struct kat_handshake *k, const uint8_t *key, size_t key_len)
{
    json_t *root = kat_load_json("vectors/kat-sw-gcm-handshake.json");
    struct ike_initiator_config cfg = config_for(&suite_gcm_x25519);

    cr_assert_eq(kat_json_hex(root, "spi_i", k->spi_i, 8), 8);
    k->ni_len = kat_json_hex(root, "ni", k->ni, sizeof(k->ni));
    cr_assert_eq(kat_json_hex(root, "ke_i", k->ke_i, 32), 32);
    cr_assert_eq(kat_json_hex(root, "g_ir", k->g_ir, 32), 32);
    cr_assert_eq(kat_json_hex(root, "sk_d", k->sk_d, 32), 32);
    cr_assert_eq(kat_json_hex(root, "sk_ei_with_salt", k->sk_ei, 20), 20);
    cr_assert_eq(kat_json_hex(root, "sk_er_with_salt", k->sk_er, 20), 20);
    cr_assert_eq(kat_json_hex(root, "sk_pi", k->sk_pi, 32), 32);
    cr_assert_eq(kat_json_hex(root, "sk_pr", k->sk_pr, 32), 32);
    cr_assert_eq(kat_json_hex(root, "auth_i", k->auth_i, 32), 32);
    json_decref(root);

    k->fixed = (struct ike_initiator_fixed) {
        .spi_i = k->spi_i, .ni = k->ni, .ni_len = k->ni_len,
        .ke_group = IKE_DH_CURVE25519, .ke_public = k->ke_i,
        .ke_public_len = 32, .g_ir = k->g_ir, .g_ir_len = 32,
    };
    /* strongSwan 5.9.8 sends these two between NAT-D and RFC 5685. */
    k->notifies[0] = (struct ike_initiator_notify) {
        IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0,
    };
    k->notifies[1] = (struct ike_initiator_notify) {
        IKE_N_SIGNATURE_HASH_ALGORITHMS, sig_hash_algs, sizeof(sig_hash_algs),
    };
    cfg.fixed = &k->fixed;
    cfg.init_notifies = k->notifies;
    cfg.n_init_notifies = 2;
    cfg.idr_type = IKE_ID_FQDN;
    cfg.idr = id_r;
    cfg.idr_len = sizeof(id_r) - 1;
    cfg.initial_contact = true;
    cfg.childless = true;
    cfg.psk = key;
    cfg.psk_len = key_len;

    struct ike_initiator *ini = ike_initiator_new(&cfg);

    cr_assert_not_null(ini);
    return ini;
}

/* Opens the SK payload of a request the initiator built, with its keys. */
static size_t
open_request(const struct ike_initiator *ini, const uint8_t *msg, size_t len,
    uint8_t *plain, size_t cap, struct ike_chain *chain)
{
    struct ike_msg m;
    struct ike_parse_error err;
    size_t plain_len;
    uint8_t first;

    cr_assert_eq(ike_msg_parse(&m, msg, len, &err), 0, "parse: %s",
        ike_error_name(err.code));

    const struct ike_payload *sk = ike_msg_encrypted(&m);

    cr_assert_not_null(sk);
    cr_assert_eq(ike_sk_open(ike_initiator_keys(ini), IKE_SK_FROM_INITIATOR,
        msg, len, sk->offset, plain, cap, &plain_len, &first), 0);
    cr_assert_eq(ike_chain_parse(chain, plain, plain_len, first, &err), 0,
        "inner chain: %s", ike_error_name(err.code));
    return plain_len;
}

Test(ike_initiator, builds_sa_init_identical_to_strongswan)
{
    struct kat_handshake k;
    struct ike_initiator *ini = kat_initiator(&k, psk, sizeof(psk) - 1);
    struct ike_initiator_out out;
    uint8_t want[KAT_MAX_MSG];
    size_t want_len = kat_read_message("21", want, sizeof(want));

    /* IKE_SA_INIT { SA, KE, Ni, N(NAT_D) x2, N(FRAG), N(SHA), N(RS) } --> */
    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    cr_assert_eq(out.event, IKE_INITIATOR_EV_INIT_SENT);
    cr_assert_eq(out.len, want_len);
    cr_assert_arr_eq(out.msg, want, want_len);
    ike_initiator_free(ini);
}

Test(ike_initiator, derives_strongswan_keys_from_sa_init_response)
{
    struct kat_handshake k;
    struct ike_initiator *ini = kat_initiator(&k, psk, sizeof(psk) - 1);
    struct ike_initiator_out out;
    uint8_t resp[KAT_MAX_MSG];
    size_t resp_len = kat_read_message("22", resp, sizeof(resp));

    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    /* <-- IKE_SA_INIT { SA, KE, Nr, N(NAT_D) x2, ... } */
    cr_assert_eq(ike_initiator_input(ini, resp, resp_len, &out), 0);
    cr_assert_eq(out.event, IKE_INITIATOR_EV_AUTH_SENT);

    const struct ike_sa_keys *keys = ike_initiator_keys(ini);

    cr_assert_not_null(keys);
    cr_assert_arr_eq(keys->sk_d, k.sk_d, 32);
    cr_assert_arr_eq(keys->sk_ei, k.sk_ei, 20);
    cr_assert_arr_eq(keys->sk_er, k.sk_er, 20);
    cr_assert_arr_eq(keys->sk_pi, k.sk_pi, 32);
    cr_assert_arr_eq(keys->sk_pr, k.sk_pr, 32);
    cr_assert_not(ike_initiator_nat_detected(ini));
    ike_initiator_free(ini);
}

Test(ike_initiator, computes_strongswan_auth_in_ike_auth_request)
{
    struct kat_handshake k;
    struct ike_initiator *ini = kat_initiator(&k, psk, sizeof(psk) - 1);
    struct ike_initiator_out out;
    uint8_t resp[KAT_MAX_MSG], plain[KAT_MAX_MSG];
    size_t resp_len = kat_read_message("22", resp, sizeof(resp));
    struct ike_chain chain;
    struct ike_auth auth;
    struct ike_id id;

    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    cr_assert_eq(ike_initiator_input(ini, resp, resp_len, &out), 0);
    /* IKE_AUTH { IDi, N(INITIAL_CONTACT), IDr, AUTH } --> */
    cr_assert_not_null(out.msg);
    open_request(ini, out.msg, out.len, plain, sizeof(plain), &chain);

    const struct ike_payload *p = ike_chain_find(&chain, IKE_P_AUTH, NULL);

    cr_assert_not_null(p);
    cr_assert_eq(ike_payload_parse_auth(p, &auth, NULL), 0);
    cr_assert_eq(auth.method, IKE_AUTH_SHARED_KEY_MIC);
    cr_assert_eq(auth.len, 32);
    cr_assert_arr_eq(auth.data, k.auth_i, 32);
    p = ike_chain_find(&chain, IKE_P_IDR, NULL);
    cr_assert_not_null(p);
    cr_assert_eq(ike_payload_parse_id(p, &id, NULL), 0);
    cr_assert_eq(id.len, sizeof(id_r) - 1);
    cr_assert_not_null(ike_chain_find_notify(&chain, IKE_N_INITIAL_CONTACT,
        NULL));
    cr_assert_null(ike_chain_find(&chain, IKE_P_SA, NULL));
    ike_initiator_free(ini);
}

Test(ike_initiator, verifies_strongswan_ike_auth_response)
{
    struct kat_handshake k;
    struct ike_initiator *ini = kat_initiator(&k, psk, sizeof(psk) - 1);
    struct ike_initiator_out out;
    uint8_t msg[KAT_MAX_MSG];
    size_t len = kat_read_message("22", msg, sizeof(msg));

    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    cr_assert_eq(ike_initiator_input(ini, msg, len, &out), 0);
    len = kat_read_message("19", msg, sizeof(msg));
    /* <-- IKE_AUTH { IDr, AUTH, N(MOBIKE_SUPPORTED), ... } */
    cr_assert_eq(ike_initiator_input(ini, msg, len, &out), 0);
    cr_assert_eq(out.event, IKE_INITIATOR_EV_ESTABLISHED);
    cr_assert(ike_initiator_established(ini));
    cr_assert_eq(ike_initiator_next_msg_id(ini), 2);
    ike_initiator_free(ini);
}

Test(ike_initiator, rejects_responder_auth_under_wrong_psk)
{
    static const uint8_t wrong[] = "testsecret0123456788";
    struct kat_handshake k;
    struct ike_initiator *ini = kat_initiator(&k, wrong, sizeof(wrong) - 1);
    struct ike_initiator_out out;
    uint8_t msg[KAT_MAX_MSG];
    size_t len = kat_read_message("22", msg, sizeof(msg));

    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    cr_assert_eq(ike_initiator_input(ini, msg, len, &out), 0);
    len = kat_read_message("19", msg, sizeof(msg));
    cr_assert_eq(ike_initiator_input(ini, msg, len, &out), 0);
    cr_assert_eq(out.event, IKE_INITIATOR_EV_AUTH_FAILED);
    cr_assert_not(ike_initiator_established(ini));
    ike_initiator_free(ini);
}

Test(ike_initiator, drops_response_replayed_after_establishment)
{
    struct kat_handshake k;
    struct ike_initiator *ini = kat_initiator(&k, psk, sizeof(psk) - 1);
    struct ike_initiator_out out;
    uint8_t msg[KAT_MAX_MSG];
    size_t len = kat_read_message("22", msg, sizeof(msg));

    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    cr_assert_eq(ike_initiator_input(ini, msg, len, &out), 0);
    len = kat_read_message("19", msg, sizeof(msg));
    cr_assert_eq(ike_initiator_input(ini, msg, len, &out), 0);
    cr_assert_eq(ike_initiator_input(ini, msg, len, &out), 0);
    cr_assert_eq(out.event, IKE_INITIATOR_EV_DROPPED);
    cr_assert_null(out.msg);
    ike_initiator_free(ini);
}

/* One suite of the exchange tests and what its KE payload must carry. */
struct suite_case {
    struct ike_suite suite;
    size_t ke_len;
    size_t n_transforms;
};

ParameterizedTestParameters(ike_initiator, sa_init_parses_for_each_suite)
{
    static struct suite_case cases[] = {
        { { IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_256, IKE_INTEG_NONE,
            IKE_DH_CURVE25519 }, 32, 3 },
        { { IKE_ENCR_AES_CBC, 256, IKE_PRF_HMAC_SHA2_256,
            IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_MODP_2048 }, 256, 4 },
        { { IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_256, IKE_INTEG_NONE,
            IKE_DH_ECP_256 }, 64, 3 },
    };

    return cr_make_param_array(struct suite_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct suite_case *c, ike_initiator,
    sa_init_parses_for_each_suite)
{
    struct ike_initiator_config cfg = config_for(&c->suite);
    struct ike_initiator *ini = ike_initiator_new(&cfg);
    struct ike_initiator_out out;
    struct ike_parse_error err;
    struct ike_msg msg;
    struct ike_ke_payload ke;
    struct ike_proposal prop;
    size_t cursor = 0;

    cr_assert_not_null(ini);
    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    cr_assert_eq(ike_msg_parse(&msg, out.msg, out.len, &err), 0, "%s",
        ike_error_name(err.code));
    cr_assert_eq(msg.hdr.exchange, IKE_X_SA_INIT);
    cr_assert_eq(msg.hdr.flags, IKE_FLAG_INITIATOR);
    cr_assert_eq(msg.hdr.msg_id, 0);

    const struct ike_payload *p = ike_chain_find(&msg.chain, IKE_P_KE, NULL);

    cr_assert_not_null(p);
    cr_assert_eq(ike_payload_parse_ke(p, &ke, NULL), 0);
    cr_assert_eq(ke.group, c->suite.dh);
    cr_assert_eq(ke.len, c->ke_len);
    p = ike_chain_find(&msg.chain, IKE_P_SA, NULL);
    cr_assert_not_null(p);
    cr_assert_eq(ike_sa_payload_next_proposal(p, &cursor, &prop, NULL), 1);
    cr_assert_eq(prop.n_transforms, c->n_transforms);
    cr_assert_not_null(ike_chain_find_notify(&msg.chain,
        IKE_N_REDIRECT_SUPPORTED, NULL));
    cr_assert_not_null(ike_chain_find_notify(&msg.chain,
        IKE_N_NAT_DETECTION_SOURCE_IP, NULL));
    ike_initiator_free(ini);
}

Test(ike_initiator, sends_redirected_from_instead_of_supported)
{
    static const uint8_t old_gw[4] = { 198, 51, 100, 2 };
    struct ike_initiator_config cfg = config_for(&suite_gcm_x25519);
    struct ike_initiator_out out;
    struct ike_redirect_gw gw;
    struct ike_notify n;
    struct ike_msg msg;

    cfg.redirect = IKE_INITIATOR_REDIRECT_FROM;
    cr_assert_eq(ike_initiator_gw_set(&cfg.from_gw, IKE_GW_IPV4, old_gw, 4),
        0);

    struct ike_initiator *ini = ike_initiator_new(&cfg);

    cr_assert_not_null(ini);
    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    cr_assert_eq(ike_msg_parse(&msg, out.msg, out.len, NULL), 0);
    cr_assert_null(ike_chain_find_notify(&msg.chain,
        IKE_N_REDIRECT_SUPPORTED, NULL));
    cr_assert_not_null(ike_chain_find_notify(&msg.chain,
        IKE_N_REDIRECTED_FROM, &n));
    cr_assert_eq(ike_redirect_parse_from(&n, &gw, NULL), 0);
    cr_assert_eq(gw.type, IKE_GW_IPV4);
    cr_assert_arr_eq(gw.value, old_gw, 4);
    ike_initiator_free(ini);
}

Test(ike_initiator, sends_no_redirect_notify_when_unsupported)
{
    struct ike_initiator_config cfg = config_for(&suite_gcm_x25519);
    struct ike_initiator_out out;
    struct ike_msg msg;

    cfg.redirect = IKE_INITIATOR_REDIRECT_NONE;

    struct ike_initiator *ini = ike_initiator_new(&cfg);

    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    cr_assert_eq(ike_msg_parse(&msg, out.msg, out.len, NULL), 0);
    cr_assert_null(ike_chain_find_notify(&msg.chain,
        IKE_N_REDIRECT_SUPPORTED, NULL));
    cr_assert_null(ike_chain_find_notify(&msg.chain, IKE_N_REDIRECTED_FROM,
        NULL));
    ike_initiator_free(ini);
}

/*
 * Builds a responder's IKE_SA_INIT answer to request that carries only
 * the notify given (COOKIE, INVALID_KE_PAYLOAD or REDIRECT with nonce).
 */
static size_t
build_notify_reply(const uint8_t *request, uint16_t type,
    const uint8_t *data, size_t len, uint8_t *buf, size_t cap)
{
    struct ike_header hdr;
    struct ike_writer w;

    memset(&hdr, 0, sizeof(hdr));
    memcpy(hdr.spi_i, request, 8);
    hdr.exchange = IKE_X_SA_INIT;
    hdr.flags = IKE_FLAG_RESPONSE;
    ike_writer_init(&w, buf, cap);
    ike_msg_begin(&w, &hdr);
    ike_payload_build_notify(&w, 0, NULL, 0, type, data, len);
    cr_assert_eq(ike_writer_error(&w), 0);
    return ike_writer_len(&w);
}

static size_t
build_redirect_reply(const uint8_t *request, const uint8_t *nonce,
    size_t nonce_len, uint8_t *buf, size_t cap)
{
    static const uint8_t target[4] = { 198, 51, 100, 4 };
    struct ike_redirect_gw gw = { IKE_GW_IPV4, target, 4 };
    struct ike_header hdr;
    struct ike_writer w;

    memset(&hdr, 0, sizeof(hdr));
    memcpy(hdr.spi_i, request, 8);
    hdr.exchange = IKE_X_SA_INIT;
    hdr.flags = IKE_FLAG_RESPONSE;
    ike_writer_init(&w, buf, cap);
    ike_msg_begin(&w, &hdr);
    ike_redirect_build(&w, &gw, nonce, nonce_len);
    cr_assert_eq(ike_writer_error(&w), 0);
    return ike_writer_len(&w);
}

Test(ike_initiator, follows_redirect_that_echoes_ni)
{
    struct ike_initiator_config cfg = config_for(&suite_gcm_x25519);
    struct ike_initiator *ini = ike_initiator_new(&cfg);
    struct ike_initiator_out out;
    uint8_t reply[512];
    size_t ni_len;

    cr_assert_eq(ike_initiator_start(ini, &out), 0);

    const uint8_t *ni = ike_initiator_ni(ini, &ni_len);
    size_t len = build_redirect_reply(out.msg, ni, ni_len, reply,
        sizeof(reply));

    /* <-- IKE_SA_INIT { N(REDIRECT, 198.51.100.4, Ni) } */
    cr_assert_eq(ike_initiator_input(ini, reply, len, &out), 0);
    cr_assert_eq(out.event, IKE_INITIATOR_EV_REDIRECT);
    cr_assert_null(out.msg);

    const struct ike_initiator_gw *gw = ike_initiator_redirect_target(ini);

    cr_assert_not_null(gw);
    cr_assert_eq(gw->type, IKE_GW_IPV4);
    cr_assert_eq(gw->len, 4);
    cr_assert_eq(gw->value[3], 4);
    ike_initiator_free(ini);
}

Test(ike_initiator, ignores_redirect_with_wrong_nonce)
{
    struct ike_initiator_config cfg = config_for(&suite_gcm_x25519);
    struct ike_initiator *ini = ike_initiator_new(&cfg);
    struct ike_initiator_out out;
    uint8_t reply[512], forged[32];
    size_t ni_len;

    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    memcpy(forged, ike_initiator_ni(ini, &ni_len), sizeof(forged));
    forged[0] ^= 1;

    size_t len = build_redirect_reply(out.msg, forged, sizeof(forged), reply,
        sizeof(reply));

    cr_assert_eq(ike_initiator_input(ini, reply, len, &out), 0);
    cr_assert_eq(out.event, IKE_INITIATOR_EV_DROPPED);
    cr_assert_null(ike_initiator_redirect_target(ini));
    ike_initiator_free(ini);
}

Test(ike_initiator, repeats_request_with_cookie_first_and_same_nonce)
{
    static const uint8_t cookie[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    struct ike_initiator_config cfg = config_for(&suite_gcm_x25519);
    struct ike_initiator *ini = ike_initiator_new(&cfg);
    struct ike_initiator_out out;
    uint8_t first[IKE_INITIATOR_MSG_MAX], reply[128];
    struct ike_msg a, b;
    struct ike_notify n;

    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    memcpy(first, out.msg, out.len);
    cr_assert_eq(ike_msg_parse(&a, first, out.len, NULL), 0);

    size_t len = build_notify_reply(first, IKE_N_COOKIE, cookie,
        sizeof(cookie), reply, sizeof(reply));

    /* <-- IKE_SA_INIT { N(COOKIE) } */
    cr_assert_eq(ike_initiator_input(ini, reply, len, &out), 0);
    cr_assert_eq(out.event, IKE_INITIATOR_EV_COOKIE);
    /* IKE_SA_INIT { N(COOKIE), SA, KE, Ni, ... } --> */
    cr_assert_eq(ike_msg_parse(&b, out.msg, out.len, NULL), 0);
    cr_assert_eq(b.chain.payloads[0].type, IKE_P_NOTIFY);
    cr_assert_not_null(ike_chain_find_notify(&b.chain, IKE_N_COOKIE, &n));
    cr_assert_eq(n.offset, IKE_HDR_LEN);
    cr_assert_eq(n.data_len, sizeof(cookie));
    cr_assert_arr_eq(n.data, cookie, sizeof(cookie));

    const struct ike_payload *na = ike_chain_find(&a.chain, IKE_P_NONCE, NULL);
    const struct ike_payload *nb = ike_chain_find(&b.chain, IKE_P_NONCE, NULL);

    cr_assert_eq(na->body_len, nb->body_len);
    cr_assert_arr_eq(na->body, nb->body, na->body_len);
    cr_assert_eq(out.len, a.len + 8 + sizeof(cookie));
    ike_initiator_free(ini);
}

Test(ike_initiator, switches_group_on_invalid_ke_and_keeps_cookie)
{
    static const uint8_t cookie[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
    static const uint8_t group14[2] = { 0, IKE_DH_MODP_2048 };
    struct ike_initiator_config cfg = config_for(&suite_gcm_x25519);
    struct ike_initiator *ini;
    struct ike_initiator_out out;
    uint8_t reply[128], request[IKE_INITIATOR_MSG_MAX];
    struct ike_msg msg;
    struct ike_ke_payload ke;

    cfg.ike.dh = IKE_DH_MODP_2048;
    cfg.ke_group = IKE_DH_CURVE25519;
    ini = ike_initiator_new(&cfg);
    cr_assert_not_null(ini);
    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    memcpy(request, out.msg, out.len);

    size_t len = build_notify_reply(request, IKE_N_COOKIE, cookie,
        sizeof(cookie), reply, sizeof(reply));

    cr_assert_eq(ike_initiator_input(ini, reply, len, &out), 0);
    cr_assert_eq(out.event, IKE_INITIATOR_EV_COOKIE);
    len = build_notify_reply(request, IKE_N_INVALID_KE_PAYLOAD, group14, 2,
        reply, sizeof(reply));
    /* <-- IKE_SA_INIT { N(INVALID_KE_PAYLOAD, 14) } */
    cr_assert_eq(ike_initiator_input(ini, reply, len, &out), 0);
    cr_assert_eq(out.event, IKE_INITIATOR_EV_INVALID_KE);
    cr_assert_eq(ike_initiator_ke_group(ini), IKE_DH_MODP_2048);
    cr_assert_eq(ike_msg_parse(&msg, out.msg, out.len, NULL), 0);
    cr_assert_not_null(ike_chain_find_notify(&msg.chain, IKE_N_COOKIE,
        NULL));

    const struct ike_payload *p = ike_chain_find(&msg.chain, IKE_P_KE, NULL);

    cr_assert_eq(ike_payload_parse_ke(p, &ke, NULL), 0);
    cr_assert_eq(ke.group, IKE_DH_MODP_2048);
    cr_assert_eq(ke.len, 256);
    ike_initiator_free(ini);
}

Test(ike_initiator, ignores_response_for_other_spi)
{
    struct ike_initiator_config cfg = config_for(&suite_gcm_x25519);
    struct ike_initiator *ini = ike_initiator_new(&cfg);
    struct ike_initiator_out out;
    uint8_t request[IKE_INITIATOR_MSG_MAX], reply[128];
    static const uint8_t cookie[8] = { 1 };

    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    memcpy(request, out.msg, out.len);
    request[0] ^= 0xff;

    size_t len = build_notify_reply(request, IKE_N_COOKIE, cookie,
        sizeof(cookie), reply, sizeof(reply));

    cr_assert_eq(ike_initiator_input(ini, reply, len, &out), 0);
    cr_assert_eq(out.event, IKE_INITIATOR_EV_DROPPED);
    cr_assert_null(ike_initiator_cookie(ini, &len));
    ike_initiator_free(ini);
}

/* One fault, and the parse error the damaged IKE_SA_INIT must cause. */
struct fault_case {
    enum ike_initiator_fault fault;
    uint32_t arg;
    int parse_code;     /* IKE_E_*, or 0 when the copy still parses */
};

ParameterizedTestParameters(ike_initiator, damaged_copy_keeps_stored_request)
{
    static struct fault_case cases[] = {
        { IKE_INITIATOR_FAULT_TRUNCATE, 20, IKE_E_HDR_TRUNCATED },
        { IKE_INITIATOR_FAULT_TRUNCATE, 100, IKE_E_HDR_LEN_BEYOND_DATAGRAM },
        { IKE_INITIATOR_FAULT_HDR_LENGTH, 1, IKE_E_HDR_LEN_BEYOND_DATAGRAM },
        { IKE_INITIATOR_FAULT_PAYLOAD_LENGTH, 400,
            IKE_E_PAYLOAD_LEN_BEYOND_MESSAGE },
        { IKE_INITIATOR_FAULT_CRITICAL, 0, IKE_E_UNSUPPORTED_CRITICAL },
        { IKE_INITIATOR_FAULT_MSG_ID, 3, 0 },
        { IKE_INITIATOR_FAULT_SPI_R, 0, 0 },
    };

    return cr_make_param_array(struct fault_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct fault_case *c, ike_initiator,
    damaged_copy_keeps_stored_request)
{
    struct ike_initiator_config cfg = config_for(&suite_gcm_x25519);
    struct ike_initiator *ini = ike_initiator_new(&cfg);
    struct ike_initiator_out out, again;
    struct ike_parse_error err;
    struct ike_msg msg;
    uint8_t damaged[IKE_INITIATOR_MSG_MAX];
    size_t damaged_len;

    ike_initiator_set_fault(ini, c->fault, c->arg);
    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    memcpy(damaged, out.msg, out.len);
    damaged_len = out.len;
    memset(&err, 0, sizeof(err));

    int ret = ike_msg_parse(&msg, damaged, damaged_len, &err);

    if (c->parse_code != 0) {
        cr_assert_lt(ret, 0);
        cr_assert_eq(err.code, c->parse_code, "got %s",
            ike_error_name(err.code));
    } else {
        cr_assert_eq(ret, 0);
    }
    cr_assert_eq(ike_initiator_retransmit(ini, &again), 0);
    cr_assert_eq(ike_msg_parse(&msg, again.msg, again.len, &err), 0);
    cr_assert_eq(msg.hdr.msg_id, 0);
    cr_assert(damaged_len != again.len ||
        memcmp(damaged, again.msg, damaged_len) != 0,
        "the fault changed nothing");
    ike_initiator_free(ini);
}

Test(ike_initiator, refuses_requests_before_establishment)
{
    struct ike_initiator_config cfg = config_for(&suite_gcm_x25519);
    struct ike_initiator *ini = ike_initiator_new(&cfg);
    struct ike_initiator_out out;

    cr_assert_eq(ike_initiator_delete(ini, &out), -ENOTCONN);
    cr_assert_eq(ike_initiator_liveness(ini, &out), -ENOTCONN);
    cr_assert_eq(ike_initiator_rekey_ike(ini, &out), -ENOTCONN);
    cr_assert_eq(ike_initiator_retransmit(ini, &out), -ENOENT);
    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    cr_assert_eq(ike_initiator_start(ini, &out), -EINVAL);
    ike_initiator_free(ini);
}
